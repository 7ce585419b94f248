import {
  DeleteLoginProfileCommand,
  GetLoginProfileCommand,
  GetUserCommand,
  GetUserPolicyCommand,
  type IAMClient,
  PutUserPolicyCommand,
} from '@aws-sdk/client-iam';
import { z } from 'zod';
import { type Containment, type ContainmentDeps, runContainment } from '../shared/action.js';
import { InvalidTaskInputError, isNotFound } from '../shared/errors.js';
import { principalArn } from '../shared/iam-arn.js';
import type { ActionInput, ActionResult, Incident } from '../shared/incident.js';
import { requirePrincipal } from '../shared/incident.js';
import { policyStatements } from '../shared/policy-document.js';

export const QUARANTINE_POLICY_NAME = 'CordonQuarantine';

/** Constant text: nothing from the finding enters it. */
export const QUARANTINE_POLICY_DOCUMENT = JSON.stringify({
  Version: '2012-10-17',
  Statement: [{ Sid: QUARANTINE_POLICY_NAME, Effect: 'Deny', Action: '*', Resource: '*' }],
});

export const PASSWORD_NOT_RESTORABLE =
  'the console password cannot be read or restored; undoing this means creating a new login profile with a new password';

export interface LoginProfileState {
  readonly createDate: string | null;
  readonly passwordResetRequired: boolean;
  readonly note: typeof PASSWORD_NOT_RESTORABLE;
}

export interface QuarantineState {
  /** True when the user holds Cordon's deny-all policy, unaltered. */
  readonly quarantinePolicy: boolean;
  /** The console login profile, or null when the user has no console password. */
  readonly loginProfile: LoginProfileState | null;
}

export interface QuarantineTarget {
  readonly userName: string;
  readonly userArn: string;
}

export interface QuarantineUserDeps extends ContainmentDeps {
  readonly iam: IAMClient;
}

export function quarantineTarget(incident: Incident): QuarantineTarget {
  const principal = requirePrincipal(incident, 'quarantine-user');
  if (principal.kind !== 'IAMUser') {
    throw new InvalidTaskInputError(
      `quarantine-user needs an IAMUser principal, got ${principal.kind}`,
    );
  }
  const userName = principalArn(incident, 'user', 'quarantine-user').name;
  return { userName, userArn: principal.arn };
}

const DenyAllStatementSchema = z.object({
  Sid: z.literal(QUARANTINE_POLICY_NAME),
  Effect: z.literal('Deny'),
  Action: z.literal('*'),
  Resource: z.literal('*'),
  Condition: z.never().optional(),
});

/**
 * True when a stored document still denies everything unconditionally. A
 * policy with our name but other content (edited by hand) does not count as
 * quarantine, and the next apply replaces it.
 */
export function isDenyAll(document: string): boolean {
  const statements = policyStatements(document) ?? [];
  return statements.some((s) => DenyAllStatementSchema.safeParse(s).success);
}

async function orUndefined<T>(call: Promise<T>): Promise<T | undefined> {
  try {
    return await call;
  } catch (error) {
    if (isNotFound(error)) return undefined;
    throw error;
  }
}

/** Deny-all inline policy first (it stops every call at once), then no console login. */
export function quarantineContainment(
  iam: IAMClient,
): Containment<QuarantineTarget, QuarantineState> {
  return {
    action: 'quarantine-user',
    target: quarantineTarget,
    targetArn: (target) => target.userArn,
    async read({ userName }) {
      const user = await orUndefined(iam.send(new GetUserCommand({ UserName: userName })));
      if (user === undefined) return undefined;
      const policy = await orUndefined(
        iam.send(
          new GetUserPolicyCommand({ UserName: userName, PolicyName: QUARANTINE_POLICY_NAME }),
        ),
      );
      const login = await orUndefined(iam.send(new GetLoginProfileCommand({ UserName: userName })));
      const profile = login?.LoginProfile;
      return {
        quarantinePolicy: policy?.PolicyDocument !== undefined && isDenyAll(policy.PolicyDocument),
        loginProfile:
          login === undefined
            ? null
            : {
                createDate: profile?.CreateDate?.toISOString() ?? null,
                passwordResetRequired: profile?.PasswordResetRequired ?? false,
                note: PASSWORD_NOT_RESTORABLE,
              },
      };
    },
    isContained: (state) => state.quarantinePolicy && state.loginProfile === null,
    describe({ userName }, state) {
      const parts = [
        ...(state.quarantinePolicy ? [] : [`attach deny-all policy ${QUARANTINE_POLICY_NAME}`]),
        ...(state.loginProfile === null ? [] : ['delete its console login profile']),
      ];
      return parts.length === 0
        ? `quarantine user ${userName} (deny-all policy ${QUARANTINE_POLICY_NAME}, no console login)`
        : `quarantine user ${userName}: ${parts.join(', ')}`;
    },
    async apply({ userName }, state) {
      if (!state.quarantinePolicy) {
        await iam.send(
          new PutUserPolicyCommand({
            UserName: userName,
            PolicyName: QUARANTINE_POLICY_NAME,
            PolicyDocument: QUARANTINE_POLICY_DOCUMENT,
          }),
        );
      }
      if (state.loginProfile !== null) {
        // Already gone (a retry, or someone else) is the state we want.
        await orUndefined(iam.send(new DeleteLoginProfileCommand({ UserName: userName })));
      }
      return { quarantinePolicy: true, loginProfile: null };
    },
  };
}

export function quarantineUser(
  input: ActionInput,
  deps: QuarantineUserDeps,
): Promise<ActionResult> {
  return runContainment(input, quarantineContainment(deps.iam), deps);
}

import {
  GetLoginProfileCommand,
  GetUserCommand,
  GetUserPolicyCommand,
  type IAMClient,
} from '@aws-sdk/client-iam';
import { z } from 'zod';
import { isNotFound } from '../../shared/errors.js';
import { policyStatements } from '../../shared/policy-document.js';

/**
 * What quarantine-user reads and records, apart from what it changes, so its
 * rollback can read the same state without holding the calls that contain.
 */

export const QUARANTINE_POLICY_NAME = 'CordonQuarantine';

/** Constant text: nothing from the finding enters it. */
export const QUARANTINE_POLICY_DOCUMENT = JSON.stringify({
  Version: '2012-10-17',
  Statement: [{ Sid: QUARANTINE_POLICY_NAME, Effect: 'Deny', Action: '*', Resource: '*' }],
});

export const PASSWORD_NOT_RESTORABLE =
  'the console password cannot be read or restored; undoing this means creating a new login profile with a new password';

export interface QuarantineTarget {
  readonly userName: string;
  readonly userArn: string;
}

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

/** Whether the user has a console password, not its details: it cannot be restored anyway. */
export interface UserQuarantineState {
  /** Cordon's deny-all policy, unaltered. */
  readonly quarantinePolicy: boolean;
  /** A policy named CordonQuarantine exists, whatever it says. */
  readonly policyPresent: boolean;
  readonly consolePassword: boolean;
}

/** A recorded QuarantineState, as the rollback reads it. */
export const UserQuarantineStateSchema = z
  .object({ quarantinePolicy: z.boolean(), loginProfile: z.object({}).loose().nullable() })
  .transform((s) => ({
    quarantinePolicy: s.quarantinePolicy,
    policyPresent: s.quarantinePolicy,
    consolePassword: s.loginProfile !== null,
  }));

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

/** Quarantined: the deny-all policy in place and no console login. */
export const isQuarantined = (state: QuarantineState) =>
  state.quarantinePolicy && state.loginProfile === null;

export async function orUndefined<T>(call: Promise<T>): Promise<T | undefined> {
  try {
    return await call;
  } catch (error) {
    if (isNotFound(error)) return undefined;
    throw error;
  }
}

/** The user's quarantine state, or undefined when the user no longer exists. */
export async function readQuarantine(
  iam: IAMClient,
  userName: string,
): Promise<QuarantineState | undefined> {
  const user = await orUndefined(iam.send(new GetUserCommand({ UserName: userName })));
  if (user === undefined) return undefined;
  const policy = await quarantinePolicyDocument(iam, userName);
  const login = await orUndefined(iam.send(new GetLoginProfileCommand({ UserName: userName })));
  const profile = login?.LoginProfile;
  return {
    quarantinePolicy: policy !== undefined && isDenyAll(policy),
    loginProfile:
      login === undefined
        ? null
        : {
            createDate: profile?.CreateDate?.toISOString() ?? null,
            passwordResetRequired: profile?.PasswordResetRequired ?? false,
            note: PASSWORD_NOT_RESTORABLE,
          },
  };
}

/** The document of the user's inline policy named QUARANTINE_POLICY_NAME, whatever it says. */
export async function quarantinePolicyDocument(
  iam: IAMClient,
  userName: string,
): Promise<string | undefined> {
  const out = await orUndefined(
    iam.send(new GetUserPolicyCommand({ UserName: userName, PolicyName: QUARANTINE_POLICY_NAME })),
  );
  return out?.PolicyDocument;
}

/** The user's state as the rollback compares it, or undefined when the user no longer exists. */
export async function readUserQuarantine(
  iam: IAMClient,
  userName: string,
): Promise<UserQuarantineState | undefined> {
  const state = await readQuarantine(iam, userName);
  if (state === undefined) return undefined;
  return {
    quarantinePolicy: state.quarantinePolicy,
    policyPresent:
      state.quarantinePolicy || (await quarantinePolicyDocument(iam, userName)) !== undefined,
    consolePassword: state.loginProfile !== null,
  };
}

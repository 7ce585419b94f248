import {
  GetLoginProfileCommand,
  GetUserCommand,
  GetUserPolicyCommand,
  type IAMClient,
  ListAttachedUserPoliciesCommand,
  type ListAttachedUserPoliciesCommandOutput,
} from '@aws-sdk/client-iam';
import { isNotFound } from '../../shared/errors.js';
import { policyStatements } from '../../shared/policy-document.js';
import { z } from '../../shared/z.js';
import { DENY_ALL_POLICY } from './iam.js';

export { DENY_ALL_POLICY };

/**
 * What quarantine-user reads and records, apart from what it changes, so its
 * rollback can read the same state without holding the calls that contain.
 */

/** The deny-all managed policy's ARN in a partition. */
export const denyAllPolicyArn = (partition: string) =>
  `arn:${partition}:iam::aws:policy/${DENY_ALL_POLICY}`;

/**
 * The deny-all inline policy Cordon put before it attached AWSDenyAll. Users
 * quarantined then still hold it: quarantine counts it, and the rollback
 * removes it.
 */
export const QUARANTINE_POLICY_NAME = 'CordonQuarantine';

export const PASSWORD_NOT_RESTORABLE =
  'the console password cannot be read or restored; undoing this means creating a new login profile with a new password';

export interface QuarantineTarget {
  readonly userName: string;
  readonly userArn: string;
  /** The user's partition: the deny-all policy's ARN is in it. */
  readonly partition: string;
}

export interface LoginProfileState {
  readonly createDate: string | null;
  readonly passwordResetRequired: boolean;
  readonly note: typeof PASSWORD_NOT_RESTORABLE;
}

export interface QuarantineState {
  /** AWSDenyAll is attached to the user. */
  readonly denyAllAttached: boolean;
  /** The user holds the earlier deny-all inline policy CordonQuarantine, unaltered. */
  readonly quarantinePolicy: boolean;
  /** The console login profile, or null when the user has no console password. */
  readonly loginProfile: LoginProfileState | null;
}

/** Whether the user has a console password, not its details: it cannot be restored anyway. */
export interface UserQuarantineState {
  /** AWSDenyAll is attached. */
  readonly denyAllAttached: boolean;
  /** The earlier inline deny-all policy, unaltered. */
  readonly quarantinePolicy: boolean;
  /** A policy named CordonQuarantine exists, whatever it says. */
  readonly policyPresent: boolean;
  readonly consolePassword: boolean;
}

/**
 * A recorded QuarantineState, as the rollback reads it. Entries written
 * before quarantine attached AWSDenyAll have no `denyAllAttached`: Cordon
 * attached nothing then.
 */
export const UserQuarantineStateSchema = z
  .object({
    denyAllAttached: z.boolean().default(false),
    quarantinePolicy: z.boolean(),
    loginProfile: z.object({}).loose().nullable(),
  })
  .transform((s) => ({
    denyAllAttached: s.denyAllAttached,
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

/** Quarantined: a deny-all policy in place (AWSDenyAll, or the earlier inline one) and no console login. */
export const isQuarantined = (state: QuarantineState) =>
  (state.denyAllAttached || state.quarantinePolicy) && state.loginProfile === null;

export async function orUndefined<T>(call: Promise<T>): Promise<T | undefined> {
  try {
    return await call;
  } catch (error) {
    if (isNotFound(error)) return undefined;
    throw error;
  }
}

/** Whether AWSDenyAll is attached to the user (every page of its attached policies). */
async function denyAllAttached(
  iam: IAMClient,
  { userName, partition }: QuarantineTarget,
): Promise<boolean> {
  const arn = denyAllPolicyArn(partition);
  let marker: string | undefined;
  do {
    const page: ListAttachedUserPoliciesCommandOutput = await iam.send(
      new ListAttachedUserPoliciesCommand({ UserName: userName, Marker: marker }),
    );
    if (page.AttachedPolicies?.some((p) => p.PolicyArn === arn)) return true;
    marker = page.IsTruncated ? page.Marker : undefined;
  } while (marker);
  return false;
}

/** The user's quarantine state, or undefined when the user no longer exists. */
export async function readQuarantine(
  iam: IAMClient,
  target: QuarantineTarget,
): Promise<QuarantineState | undefined> {
  const { userName } = target;
  const user = await orUndefined(iam.send(new GetUserCommand({ UserName: userName })));
  if (user === undefined) return undefined;
  const attached = await orUndefined(denyAllAttached(iam, target));
  if (attached === undefined) return undefined;
  const policy = await quarantinePolicyDocument(iam, userName);
  const login = await orUndefined(iam.send(new GetLoginProfileCommand({ UserName: userName })));
  const profile = login?.LoginProfile;
  return {
    denyAllAttached: attached,
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
  target: QuarantineTarget,
): Promise<UserQuarantineState | undefined> {
  const state = await readQuarantine(iam, target);
  if (state === undefined) return undefined;
  return {
    denyAllAttached: state.denyAllAttached,
    quarantinePolicy: state.quarantinePolicy,
    policyPresent:
      state.quarantinePolicy ||
      (await quarantinePolicyDocument(iam, target.userName)) !== undefined,
    consolePassword: state.loginProfile !== null,
  };
}

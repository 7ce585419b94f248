import { isDeepStrictEqual } from 'node:util';
import {
  DescribeSecretCommand,
  type DescribeSecretCommandOutput,
  GetResourcePolicyCommand,
  type SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import { CordonError, isNotFound } from '../../shared/errors.js';
import type { Secret } from '../../shared/incident.js';
import { z } from '../../shared/z.js';
import { action } from './action.js';

export const LOCK_SID = 'CordonLockSecret';

/** The secret's resource policy is not a JSON policy document, so it cannot be merged. */
export class UnreadablePolicyError extends CordonError {
  override readonly name = 'Cordon.UnreadablePolicy';
  readonly retryable = false;
}

/**
 * Secrets Manager refused a resource policy as public (BlockPublicPolicy):
 * the secret's policy grants broad access, and Cordon's roles may put only
 * policies Secrets Manager verifies are not public, so that a compromised
 * Cordon function cannot make a secret public. Terminal: nothing was
 * changed, and a person decides about the public statement.
 */
export class PublicSecretPolicyError extends CordonError {
  override readonly name = 'Cordon.PublicSecretPolicy';
  readonly retryable = false;
}

/** True when the error is Secrets Manager refusing a public policy. */
export const isPublicPolicyRefusal = (error: unknown): boolean =>
  error instanceof Error && error.name === 'PublicPolicyException';

/**
 * What the ledger records: the exact resource policy before (null when the
 * secret had none), so a rollback puts it back verbatim (or deletes the policy).
 */
export interface LockState {
  readonly policy: string | null;
  /** The policy holds Cordon's statement with exactly the current break-glass exceptions. */
  readonly locked: boolean;
}

export interface SecretTarget {
  readonly arn: string;
}

/** The secret's resource policy as text, null when it has none. */
export interface SecretPolicyState {
  readonly policy: string | null;
}

/** A recorded LockState, as the rollback reads it: the policy text only. */
export const SecretPolicyStateSchema = z.object({ policy: z.string().nullable() });

export const isLocked = (state: LockState) => state.locked;

/** Policies compared as JSON, so formatting Secrets Manager adds does not count as a change. */
export function samePolicy(a: string | null, b: string | null): boolean {
  if (a === null || b === null) return a === b;
  try {
    return isDeepStrictEqual(JSON.parse(a), JSON.parse(b));
  } catch {
    return a === b;
  }
}

const PolicySchema = z.looseObject({
  Version: z.string().optional(),
  // IAM's grammar allows one statement object as well as an array of them.
  Statement: z.union([z.array(z.unknown()), z.unknown()]).optional(),
});
export type Policy = z.infer<typeof PolicySchema>;

export function parsePolicy(text: string, secretArn: string): Policy {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (cause) {
    throw new UnreadablePolicyError(`${action.name} ${secretArn}: resource policy is not JSON`, {
      cause,
    });
  }
  const policy = PolicySchema.safeParse(json);
  if (!policy.success) {
    throw new UnreadablePolicyError(`${action.name} ${secretArn}: resource policy is not a policy`);
  }
  return policy.data;
}

export function statementsOf(policy: Policy): unknown[] {
  const { Statement } = policy;
  if (Statement === undefined) return [];
  return Array.isArray(Statement) ? Statement : [Statement];
}

export const isCordons = (statement: unknown): boolean =>
  z.looseObject({ Sid: z.literal(LOCK_SID) }).safeParse(statement).success;

const OneOrMany = z.union([z.string(), z.array(z.string())]);

/** Cordon's statement as stored; strict, so an added NotPrincipal or NotAction does not pass. */
const StoredLockSchema = z.strictObject({
  Sid: z.literal(LOCK_SID),
  Effect: z.literal('Deny'),
  Principal: z.union([z.literal('*'), z.strictObject({ AWS: OneOrMany })]),
  Action: OneOrMany,
  Resource: OneOrMany,
  Condition: z
    .strictObject({ StringNotLike: z.strictObject({ 'aws:PrincipalArn': OneOrMany }) })
    .optional(),
});

/** The distinct values of an IAM element that may be one string or a list, sorted. */
const valueSet = (value: string | readonly string[]): string[] =>
  [...new Set(typeof value === 'string' ? [value] : value)].sort();

/**
 * True when a stored statement is Cordon's lock with exactly these break-glass
 * exceptions. Compared the way IAM reads it, not as text: a one-element list
 * equals its string, order does not count, and `"*"` equals `{"AWS": "*"}`.
 */
function sameLock(stored: unknown, breakGlass: readonly string[]): boolean {
  const parsed = StoredLockSchema.safeParse(stored);
  if (!parsed.success) return false;
  const { Principal, Action, Resource, Condition } = parsed.data;
  const exceptions =
    Condition === undefined ? undefined : valueSet(Condition.StringNotLike['aws:PrincipalArn']);
  return (
    (Principal === '*' || isDeepStrictEqual(valueSet(Principal.AWS), ['*'])) &&
    isDeepStrictEqual(valueSet(Action), ['secretsmanager:GetSecretValue']) &&
    isDeepStrictEqual(valueSet(Resource), ['*']) &&
    isDeepStrictEqual(exceptions, breakGlass.length > 0 ? valueSet(breakGlass) : undefined)
  );
}

/**
 * The secret's resource policy and whether it locks the secret with exactly
 * these break-glass exceptions; undefined when the secret is gone or
 * scheduled for deletion.
 */
export async function readLock(
  secrets: SecretsManagerClient,
  target: Secret,
  breakGlass: readonly string[],
): Promise<LockState | undefined> {
  try {
    const described = await secrets.send(new DescribeSecretCommand({ SecretId: target.arn }));
    // Scheduled for deletion: nobody can read it any more; it is gone.
    if (described.DeletedDate !== undefined) return undefined;
    const out = await secrets.send(new GetResourcePolicyCommand({ SecretId: target.arn }));
    const policy = out.ResourcePolicy ?? null;
    // Locked only with exactly one Cordon statement, and that one current:
    // a second, stale one could deny a break-glass principal added since.
    const mine =
      policy === null ? [] : statementsOf(parsePolicy(policy, target.arn)).filter(isCordons);
    const locked = mine.length === 1 && sameLock(mine[0], breakGlass);
    return { policy, locked };
  } catch (error) {
    if (isNotFound(error)) return undefined;
    throw error;
  }
}

/** The secret's resource policy, for the rollback; undefined when the secret is gone or deleted. */
export async function readSecretPolicy(
  secrets: SecretsManagerClient,
  { arn }: SecretTarget,
): Promise<SecretPolicyState | undefined> {
  let described: DescribeSecretCommandOutput;
  try {
    described = await secrets.send(new DescribeSecretCommand({ SecretId: arn }));
  } catch (error) {
    if (isNotFound(error)) return undefined;
    throw error;
  }
  if (described.DeletedDate !== undefined) return undefined;
  const out = await secrets.send(new GetResourcePolicyCommand({ SecretId: arn }));
  return { policy: out.ResourcePolicy ?? null };
}

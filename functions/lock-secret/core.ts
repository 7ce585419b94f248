import { isDeepStrictEqual } from 'node:util';
import {
  DescribeSecretCommand,
  GetResourcePolicyCommand,
  PutResourcePolicyCommand,
  type SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import { z } from 'zod';
import { type Containment, type ContainmentDeps, runContainment } from '../shared/action.js';
import { CordonError, isNotFound } from '../shared/errors.js';
import type { ActionInput, ActionResult, Secret } from '../shared/incident.js';
import { secretOfIncident } from '../shared/secret-arn.js';

/** The secret's resource policy is not a JSON policy document, so it cannot be merged. */
export class UnreadablePolicyError extends CordonError {
  override readonly name = 'Cordon.UnreadablePolicy';
  readonly retryable = false;
}

/**
 * What the ledger records: the exact resource policy before (null when the
 * secret had none), so a rollback puts it back verbatim (or deletes the policy).
 */
export interface LockState {
  readonly policy: string | null;
  /** The policy holds Cordon's statement with exactly the current break-glass exceptions. */
  readonly locked: boolean;
}

export interface LockSecretDeps extends ContainmentDeps {
  readonly secrets: SecretsManagerClient;
  /** ARN patterns of the principals that may still read a locked secret; may be empty. */
  readonly breakGlass: readonly string[];
}

const ACTION = 'lock-secret';
export const LOCK_SID = 'CordonLockSecret';

/** Break-glass ARN patterns: IAM users and roles, `*` and `?` allowed, no whitespace. */
export const BreakGlassSchema = z.array(
  z
    .string()
    .max(2048)
    .regex(/^arn:[\w*?-]+:iam::[\d*?]+:(user|role)\/[\x21-\x7e]+$/, {
      message: 'must be an IAM user or role ARN pattern (arn:aws:iam::<account>:role/<name>)',
    }),
);

/**
 * Cordon's statement: deny reading the value to everyone but break-glass.
 * Only GetSecretValue is denied (BatchGetSecretValue is authorised per secret
 * as GetSecretValue): an owner must still be able to PutSecretValue a new
 * value and manage the secret. With no break-glass principals there is no
 * condition and nobody can read it until the statement is removed.
 */
export function lockStatement(breakGlass: readonly string[]): Record<string, unknown> {
  return {
    Sid: LOCK_SID,
    Effect: 'Deny',
    Principal: '*',
    Action: 'secretsmanager:GetSecretValue',
    Resource: '*',
    ...(breakGlass.length > 0
      ? { Condition: { StringNotLike: { 'aws:PrincipalArn': [...breakGlass] } } }
      : {}),
  };
}

const PolicySchema = z.looseObject({
  Version: z.string().optional(),
  // IAM's grammar allows one statement object as well as an array of them.
  Statement: z.union([z.array(z.unknown()), z.unknown()]).optional(),
});
type Policy = z.infer<typeof PolicySchema>;

function parsePolicy(text: string, secretArn: string): Policy {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (cause) {
    throw new UnreadablePolicyError(`${ACTION} ${secretArn}: resource policy is not JSON`, {
      cause,
    });
  }
  const policy = PolicySchema.safeParse(json);
  if (!policy.success) {
    throw new UnreadablePolicyError(`${ACTION} ${secretArn}: resource policy is not a policy`);
  }
  return policy.data;
}

function statementsOf(policy: Policy): unknown[] {
  const { Statement } = policy;
  if (Statement === undefined) return [];
  return Array.isArray(Statement) ? Statement : [Statement];
}

const isCordons = (statement: unknown): boolean =>
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
 * Locks a secret whose rotation is not configured: a resource policy
 * statement denies reading its value to every principal but the break-glass
 * ones. Existing statements are kept; only Cordon's own is added or replaced.
 * It never reads the value.
 */
export function lockContainment(
  secrets: SecretsManagerClient,
  breakGlass: readonly string[],
): Containment<Secret, LockState> {
  return {
    action: ACTION,
    target: (incident) => secretOfIncident(incident, ACTION),
    targetArn: (target) => target.arn,
    async read(target) {
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
    },
    isContained: (state) => state.locked,
    describe: (target) =>
      `lock secret ${target.name}: deny secretsmanager:GetSecretValue to every principal ${
        breakGlass.length > 0
          ? `except ${breakGlass.length} break-glass principal pattern(s)`
          : '(no break-glass principals are configured)'
      }, keeping its other policy statements; manual rotation required: rotating the value does not change the credential at its back end; rotate it there too`,
    async apply(target, state) {
      const existing = state.policy === null ? {} : parsePolicy(state.policy, target.arn);
      const kept = statementsOf(existing).filter((st) => !isCordons(st));
      const policy = JSON.stringify({
        ...existing,
        Version: existing.Version ?? '2012-10-17',
        Statement: [...kept, lockStatement(breakGlass)],
      });
      await secrets.send(
        new PutResourcePolicyCommand({
          SecretId: target.arn,
          ResourcePolicy: policy,
          // The check rejects policies granting broad access; Cordon's statement
          // only denies, and an owner's existing statements must not make the
          // lock fail.
          BlockPublicPolicy: false,
        }),
      );
      return { policy, locked: true };
    },
  };
}

export function lockSecret(input: ActionInput, deps: LockSecretDeps): Promise<ActionResult> {
  return runContainment(input, lockContainment(deps.secrets, deps.breakGlass), deps);
}

import {
  GetRoleCommand,
  GetRolePolicyCommand,
  type GetRolePolicyCommandOutput,
  GetUserCommand,
  GetUserPolicyCommand,
  type GetUserPolicyCommandOutput,
  type IAMClient,
} from '@aws-sdk/client-iam';
import { isNotFound } from '../../shared/errors.js';
import type { Incident } from '../../shared/incident.js';
import { policyStatements } from '../../shared/policy-document.js';
import { z } from '../../shared/z.js';

export const REVOKE_POLICY_NAME = 'CordonRevokeOlderSessions';

/** `revokedBefore` is the policy's cutoff, or null when the policy is absent (or not ours). */
export interface RevokeState {
  readonly policyName: typeof REVOKE_POLICY_NAME;
  readonly revokedBefore: string | null;
}

export interface RevokeTarget {
  readonly kind: 'user' | 'role';
  readonly name: string;
  readonly arn: string;
}

/**
 * The recorded state, plus whether a policy of that name exists at all: a
 * policy edited by hand has no cutoff Cordon trusts, but it is still there.
 */
export interface RevocationState {
  readonly policyName: typeof REVOKE_POLICY_NAME;
  readonly revokedBefore: string | null;
  readonly policyPresent: boolean;
}

export const RevocationStateSchema = z
  .object({ policyName: z.literal(REVOKE_POLICY_NAME), revokedBefore: z.iso.datetime().nullable() })
  .transform((s) => ({ ...s, policyPresent: s.revokedBefore !== null }));

/**
 * The deny policy, built only from constant text and a cutoff this function
 * generates: no text from the finding enters it. A request is denied when its
 * credentials were issued before the cutoff. Requests signed with a user's
 * long-term key carry no `aws:TokenIssueTime`, so the condition does not match
 * them: disabling the key is a separate step.
 */
export function revokePolicyDocument(cutoff: Date): string {
  return JSON.stringify({
    Version: '2012-10-17',
    Statement: [
      {
        Sid: REVOKE_POLICY_NAME,
        Effect: 'Deny',
        Action: '*',
        Resource: '*',
        Condition: { DateLessThan: { 'aws:TokenIssueTime': cutoff.toISOString() } },
      },
    ],
  });
}

const RevokeStatementSchema = z.object({
  Sid: z.literal(REVOKE_POLICY_NAME),
  Effect: z.literal('Deny'),
  Action: z.literal('*'),
  Resource: z.literal('*'),
  Condition: z.object({ DateLessThan: z.object({ 'aws:TokenIssueTime': z.iso.datetime() }) }),
});

/**
 * The cutoff of a stored policy document, or null when the document is not
 * the deny statement Cordon writes (edited by hand, say): then it is not
 * trusted to contain anything, and the next apply replaces it.
 */
export function cutoffOf(document: string): string | null {
  for (const statement of policyStatements(document) ?? []) {
    const parsed = RevokeStatementSchema.safeParse(statement);
    if (parsed.success) return parsed.data.Condition.DateLessThan['aws:TokenIssueTime'];
  }
  return null;
}

/**
 * Sessions issued before the finding's last update are the suspect ones; an
 * existing cutoff at or after that time already denies them.
 */
export function isRevoked(state: RevokeState, incident: Incident): boolean {
  if (state.revokedBefore === null) return false;
  const cutoff = Date.parse(state.revokedBefore);
  const updatedAt = Date.parse(incident.updatedAt);
  return Number.isFinite(cutoff) && Number.isFinite(updatedAt) && cutoff >= updatedAt;
}

/** The principal's inline policy named REVOKE_POLICY_NAME, whatever it says; undefined when absent. */
async function getRevokePolicy(
  iam: IAMClient,
  target: RevokeTarget,
): Promise<GetUserPolicyCommandOutput | GetRolePolicyCommandOutput | undefined> {
  try {
    return target.kind === 'user'
      ? await iam.send(
          new GetUserPolicyCommand({ UserName: target.name, PolicyName: REVOKE_POLICY_NAME }),
        )
      : await iam.send(
          new GetRolePolicyCommand({ RoleName: target.name, PolicyName: REVOKE_POLICY_NAME }),
        );
  } catch (error) {
    if (isNotFound(error)) return undefined;
    throw error;
  }
}

/** The principal's revocation cutoff, or undefined when the user or role no longer exists. */
export async function readRevokeState(
  iam: IAMClient,
  target: RevokeTarget,
): Promise<RevokeState | undefined> {
  // Get*Policy answers NoSuchEntity both for a missing policy and a missing
  // principal, so look the principal up first: only its absence is "not found".
  try {
    if (target.kind === 'user') await iam.send(new GetUserCommand({ UserName: target.name }));
    else await iam.send(new GetRoleCommand({ RoleName: target.name }));
  } catch (error) {
    if (isNotFound(error)) return undefined;
    throw error;
  }
  const document = (await getRevokePolicy(iam, target))?.PolicyDocument;
  return {
    policyName: REVOKE_POLICY_NAME,
    revokedBefore: document === undefined ? null : cutoffOf(document),
  };
}

/** The revocation state, and whether a policy of that name exists at all, for the rollback. */
export async function readRevocationState(
  iam: IAMClient,
  target: RevokeTarget,
): Promise<RevocationState | undefined> {
  const state = await readRevokeState(iam, target);
  if (state === undefined) return undefined;
  return {
    ...state,
    policyPresent:
      state.revokedBefore !== null || (await getRevokePolicy(iam, target)) !== undefined,
  };
}

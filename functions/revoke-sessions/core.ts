import {
  GetRoleCommand,
  GetRolePolicyCommand,
  GetUserCommand,
  GetUserPolicyCommand,
  type IAMClient,
  PutRolePolicyCommand,
  PutUserPolicyCommand,
} from '@aws-sdk/client-iam';
import { z } from 'zod';
import { type Containment, type ContainmentDeps, runContainment } from '../shared/action.js';
import { InvalidTaskInputError, isNotFound } from '../shared/errors.js';
import { principalArn } from '../shared/iam-arn.js';
import type { ActionInput, ActionResult, Incident } from '../shared/incident.js';
import { requirePrincipal } from '../shared/incident.js';
import { policyStatements } from '../shared/policy-document.js';

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

export interface RevokeSessionsDeps extends ContainmentDeps {
  readonly iam: IAMClient;
  readonly now: () => Date;
}

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

export function revokeTarget(incident: Incident): RevokeTarget {
  const principal = requirePrincipal(incident, 'revoke-sessions');
  if (principal.kind === 'Root') {
    throw new InvalidTaskInputError('revoke-sessions cannot act on the root user');
  }
  const kind = principal.kind === 'IAMUser' ? 'user' : 'role';
  // For an assumed role, triage sets `arn` to the role's ARN (not the session's)
  // and `name` to the role name; both must agree, or we would act on the wrong role.
  const arn = principalArn(incident, kind, 'revoke-sessions');
  return { kind, name: arn.name, arn: principal.arn };
}

export function revokeContainment(
  iam: IAMClient,
  now: () => Date,
): Containment<RevokeTarget, RevokeState> {
  const getPolicy = async (target: RevokeTarget): Promise<string | undefined> => {
    try {
      const out =
        target.kind === 'user'
          ? await iam.send(
              new GetUserPolicyCommand({ UserName: target.name, PolicyName: REVOKE_POLICY_NAME }),
            )
          : await iam.send(
              new GetRolePolicyCommand({ RoleName: target.name, PolicyName: REVOKE_POLICY_NAME }),
            );
      return out.PolicyDocument;
    } catch (error) {
      if (isNotFound(error)) return undefined;
      throw error;
    }
  };

  return {
    action: 'revoke-sessions',
    target: revokeTarget,
    targetArn: (target) => target.arn,
    async read(target) {
      // Get*Policy answers NoSuchEntity both for a missing policy and a missing
      // principal, so look the principal up first: only its absence is "not found".
      try {
        if (target.kind === 'user') await iam.send(new GetUserCommand({ UserName: target.name }));
        else await iam.send(new GetRoleCommand({ RoleName: target.name }));
      } catch (error) {
        if (isNotFound(error)) return undefined;
        throw error;
      }
      const document = await getPolicy(target);
      return {
        policyName: REVOKE_POLICY_NAME,
        revokedBefore: document === undefined ? null : cutoffOf(document),
      };
    },
    // Sessions issued before the finding's last update are the suspect ones; an
    // existing cutoff at or after that time already denies them.
    isContained(state, incident) {
      if (state.revokedBefore === null) return false;
      const cutoff = Date.parse(state.revokedBefore);
      const updatedAt = Date.parse(incident.updatedAt);
      return Number.isFinite(cutoff) && Number.isFinite(updatedAt) && cutoff >= updatedAt;
    },
    describe: (target) =>
      target.kind === 'user'
        ? `deny the temporary credentials of user ${target.name} issued before now (inline policy ${REVOKE_POLICY_NAME})`
        : `deny every session of role ${target.name} issued before now, including those of legitimate users of the role (inline policy ${REVOKE_POLICY_NAME})`,
    async apply(target) {
      const cutoff = now();
      const PolicyDocument = revokePolicyDocument(cutoff);
      if (target.kind === 'user') {
        await iam.send(
          new PutUserPolicyCommand({
            UserName: target.name,
            PolicyName: REVOKE_POLICY_NAME,
            PolicyDocument,
          }),
        );
      } else {
        await iam.send(
          new PutRolePolicyCommand({
            RoleName: target.name,
            PolicyName: REVOKE_POLICY_NAME,
            PolicyDocument,
          }),
        );
      }
      return { policyName: REVOKE_POLICY_NAME, revokedBefore: cutoff.toISOString() };
    },
  };
}

/** Used by the steps revokeUserSessions and revokeRoleSessions. */
export function revokeSessions(
  input: ActionInput,
  deps: RevokeSessionsDeps,
): Promise<ActionResult> {
  return runContainment(input, revokeContainment(deps.iam, deps.now), deps);
}

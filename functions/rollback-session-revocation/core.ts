import {
  DeleteRolePolicyCommand,
  DeleteUserPolicyCommand,
  GetRolePolicyCommand,
  GetUserPolicyCommand,
  type IAMClient,
  PutRolePolicyCommand,
  PutUserPolicyCommand,
} from '@aws-sdk/client-iam';
import { z } from 'zod';
import {
  REVOKE_POLICY_NAME,
  type RevokeTarget,
  revokeContainment,
  revokePolicyDocument,
} from '../revoke-sessions/core.js';
import { InvalidTaskInputError } from '../shared/errors.js';
import { parseIamArn } from '../shared/iam-arn.js';
import {
  differs,
  type Rollback,
  type RollbackDeps,
  type RollbackInput,
  type RollbackResult,
  runRollback,
  unlessNotFound,
} from '../shared/rollback.js';

export interface RollbackSessionRevocationDeps extends RollbackDeps {
  readonly iam: IAMClient;
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

const RevocationStateSchema = z
  .object({ policyName: z.literal(REVOKE_POLICY_NAME), revokedBefore: z.iso.datetime().nullable() })
  .transform((s) => ({ ...s, policyPresent: s.revokedBefore !== null }));

/**
 * Removes the deny policy revoke-sessions put on a user or role (or puts back
 * the older cutoff it replaced), so sessions issued before the containment
 * work again.
 */
export function revocationRollback(iam: IAMClient): Rollback<RevokeTarget, RevocationState> {
  const containment = revokeContainment(iam, () => new Date());
  const policyPresent = async (target: RevokeTarget) => {
    const input = { PolicyName: REVOKE_POLICY_NAME };
    const out =
      target.kind === 'user'
        ? await unlessNotFound(
            iam.send(new GetUserPolicyCommand({ ...input, UserName: target.name })),
          )
        : await unlessNotFound(
            iam.send(new GetRolePolicyCommand({ ...input, RoleName: target.name })),
          );
    return out !== undefined;
  };
  return {
    action: 'rollback-session-revocation',
    undoes: 'revoke-sessions',
    state: RevocationStateSchema,
    target(entry) {
      const arn = parseIamArn(entry.targetArn ?? '');
      if (!arn) {
        throw new InvalidTaskInputError(
          `rollback-session-revocation: ${JSON.stringify(entry.targetArn ?? null)} is not an IAM user or role ARN`,
        );
      }
      return { kind: arn.resourceType, name: arn.name, arn: entry.targetArn ?? '' };
    },
    async read(target) {
      const state = await containment.read(target);
      if (state === undefined) return undefined;
      return {
        ...state,
        policyPresent: state.revokedBefore !== null || (await policyPresent(target)),
      };
    },
    drift: (current, after) =>
      differs(`the ${REVOKE_POLICY_NAME} cutoff`, current.revokedBefore, after.revokedBefore),
    isRestored: (current, before) =>
      before.revokedBefore === null
        ? !current.policyPresent
        : current.revokedBefore === before.revokedBefore,
    describe: (target, before) =>
      before.revokedBefore === null
        ? `remove inline policy ${REVOKE_POLICY_NAME} from ${target.kind} ${target.name}: its sessions issued before the containment work again`
        : `set the ${REVOKE_POLICY_NAME} cutoff of ${target.kind} ${target.name} back to ${before.revokedBefore}`,
    async restore(target, before) {
      if (before.revokedBefore === null) {
        const input = { PolicyName: REVOKE_POLICY_NAME };
        await unlessNotFound(
          target.kind === 'user'
            ? iam.send(new DeleteUserPolicyCommand({ ...input, UserName: target.name }))
            : iam.send(new DeleteRolePolicyCommand({ ...input, RoleName: target.name })),
        );
        return { policyName: REVOKE_POLICY_NAME, revokedBefore: null, policyPresent: false };
      }
      const input = {
        PolicyName: REVOKE_POLICY_NAME,
        PolicyDocument: revokePolicyDocument(new Date(before.revokedBefore)),
      };
      if (target.kind === 'user') {
        await iam.send(new PutUserPolicyCommand({ ...input, UserName: target.name }));
      } else {
        await iam.send(new PutRolePolicyCommand({ ...input, RoleName: target.name }));
      }
      return { ...before, policyPresent: true };
    },
  };
}

export function rollbackSessionRevocation(
  input: RollbackInput,
  deps: RollbackSessionRevocationDeps,
): Promise<RollbackResult> {
  return runRollback(input, revocationRollback(deps.iam), deps);
}

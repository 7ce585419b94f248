import {
  DeleteRolePolicyCommand,
  DeleteUserPolicyCommand,
  IAMClient,
  PutRolePolicyCommand,
  PutUserPolicyCommand,
} from '@aws-sdk/client-iam';
import { clientOptions } from '../../shared/aws.js';
import type { Environment } from '../../shared/env.js';
import { recordedPrincipal } from '../../shared/iam-arn.js';
import type { RollbackInput, RollbackResult } from '../../shared/rollback.js';
import { type Clients, type PlaceConfig, placedClients } from '../../shared/spoke.js';
import { rollbackNameOf } from '../definition.js';
import { rollbackHandler } from '../handlers.js';
import {
  differs,
  type Rollback,
  type RollbackDeps,
  runRollback,
  unlessNotFound,
} from '../rollback.js';
import { action } from './action.js';
import {
  REVOKE_POLICY_NAME,
  type RevocationState,
  RevocationStateSchema,
  type RevokeTarget,
  readRevocationState,
  revokePolicyDocument,
} from './state.js';

export interface RollbackSessionRevocationDeps extends RollbackDeps {
  readonly iam: IAMClient;
}

const NAME = rollbackNameOf(action.name);

/**
 * Removes the deny policy revoke-sessions put on a user or role (or puts back
 * the older cutoff it replaced), so sessions issued before the containment
 * work again.
 */
export function revocationRollback(iam: IAMClient): Rollback<RevokeTarget, RevocationState> {
  return {
    action: NAME,
    undoes: action.name,
    state: RevocationStateSchema,
    target(entry) {
      const principal = recordedPrincipal(entry, ['user', 'role'], NAME);
      return { kind: principal.resourceType, name: principal.name, arn: principal.arn };
    },
    read: (target) => readRevocationState(iam, target),
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

/** The function's AWS clients where the incident's calls are made. */
const placed = (config: PlaceConfig) => ({ iam: new IAMClient({ ...clientOptions, ...config }) });

export function makeRollbackHandler(
  env: Environment,
  clients: Clients<ReturnType<typeof placed>> = placedClients(env, NAME, placed),
) {
  return rollbackHandler(env, NAME, clients, rollbackSessionRevocation);
}

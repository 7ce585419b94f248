import { DeleteUserPolicyCommand, DetachUserPolicyCommand, IAMClient } from '@aws-sdk/client-iam';
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
  DENY_ALL_POLICY,
  denyAllPolicyArn,
  PASSWORD_NOT_RESTORABLE,
  QUARANTINE_POLICY_NAME,
  type QuarantineTarget,
  readUserQuarantine,
  type UserQuarantineState,
  UserQuarantineStateSchema,
} from './state.js';

export interface RollbackUserQuarantineDeps extends RollbackDeps {
  readonly iam: IAMClient;
}

const NAME = rollbackNameOf(action.name);

export const PASSWORD_CAVEAT = `the console password Cordon deleted is NOT restored: ${PASSWORD_NOT_RESTORABLE}`;

/** The deny-all policies `state` holds, as a responder reads them. */
function denials(state: Pick<UserQuarantineState, 'denyAllAttached' | 'quarantinePolicy'>) {
  return [
    ...(state.denyAllAttached ? [DENY_ALL_POLICY] : []),
    ...(state.quarantinePolicy ? [QUARANTINE_POLICY_NAME] : []),
  ];
}

/**
 * Removes the deny-all policy quarantine added: it detaches AWSDenyAll, or,
 * for a user an earlier Cordon quarantined, deletes the inline
 * CordonQuarantine. Whatever the user had before stays. The console
 * password the quarantine deleted cannot be read or put back: every result
 * says so.
 */
export function userQuarantineRollback(
  iam: IAMClient,
): Rollback<QuarantineTarget, UserQuarantineState> {
  return {
    action: NAME,
    undoes: action.name,
    state: UserQuarantineStateSchema,
    target(entry) {
      const user = recordedPrincipal(entry, ['user'], NAME);
      return { userName: user.name, userArn: user.arn, partition: user.partition };
    },
    read: (target) => readUserQuarantine(iam, target),
    drift: (current, after) => [
      ...differs(
        `deny-all policy ${DENY_ALL_POLICY}`,
        current.denyAllAttached,
        after.denyAllAttached,
      ),
      ...differs(
        `deny-all policy ${QUARANTINE_POLICY_NAME}`,
        current.quarantinePolicy,
        after.quarantinePolicy,
      ),
      ...differs('a console password', current.consolePassword, after.consolePassword),
    ],
    isRestored: (current, before) =>
      current.denyAllAttached === before.denyAllAttached &&
      (before.quarantinePolicy ? current.quarantinePolicy : !current.policyPresent),
    describe: ({ userName }, before) => {
      const kept = denials(before);
      return `remove the deny-all policy quarantine added from user ${userName}: it can call AWS again${kept.length > 0 ? ` (it keeps ${kept.join(' and ')}, which it had before)` : ''}`;
    },
    async restore({ userName, partition }, before, current) {
      if (!before.denyAllAttached && current.denyAllAttached) {
        await unlessNotFound(
          iam.send(
            new DetachUserPolicyCommand({
              UserName: userName,
              PolicyArn: denyAllPolicyArn(partition),
            }),
          ),
        );
      }
      if (!before.quarantinePolicy && current.policyPresent) {
        await unlessNotFound(
          iam.send(
            new DeleteUserPolicyCommand({ UserName: userName, PolicyName: QUARANTINE_POLICY_NAME }),
          ),
        );
      }
      return {
        denyAllAttached: before.denyAllAttached,
        quarantinePolicy: before.quarantinePolicy,
        policyPresent: before.quarantinePolicy,
        consolePassword: current.consolePassword,
      };
    },
    caveat: (before) => (before.consolePassword ? PASSWORD_CAVEAT : undefined),
  };
}

export function rollbackUserQuarantine(
  input: RollbackInput,
  deps: RollbackUserQuarantineDeps,
): Promise<RollbackResult> {
  return runRollback(input, userQuarantineRollback(deps.iam), deps);
}

/** The function's AWS clients where the incident's calls are made. */
const placed = (config: PlaceConfig) => ({ iam: new IAMClient({ ...clientOptions, ...config }) });

export function makeRollbackHandler(
  env: Environment,
  clients: Clients<ReturnType<typeof placed>> = placedClients(env, NAME, placed),
) {
  return rollbackHandler(env, NAME, clients, rollbackUserQuarantine);
}

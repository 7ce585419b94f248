import { DeleteUserPolicyCommand, IAMClient } from '@aws-sdk/client-iam';
import { clientOptions } from '../../shared/aws.js';
import type { Environment } from '../../shared/env.js';
import { recordedPrincipal } from '../../shared/iam-arn.js';
import type { RollbackInput, RollbackResult } from '../../shared/rollback.js';
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

/**
 * Removes Cordon's deny-all policy from the user. The console password the
 * quarantine deleted cannot be read or put back: every result says so.
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
      return { userName: user.name, userArn: user.arn };
    },
    read: ({ userName }) => readUserQuarantine(iam, userName),
    drift: (current, after) => [
      ...differs(
        `deny-all policy ${QUARANTINE_POLICY_NAME}`,
        current.quarantinePolicy,
        after.quarantinePolicy,
      ),
      ...differs('a console password', current.consolePassword, after.consolePassword),
    ],
    isRestored: (current, before) =>
      before.quarantinePolicy ? current.quarantinePolicy : !current.policyPresent,
    describe: ({ userName }) =>
      `remove deny-all policy ${QUARANTINE_POLICY_NAME} from user ${userName}: it can call AWS again`,
    async restore({ userName }, before, current) {
      if (!before.quarantinePolicy) {
        await unlessNotFound(
          iam.send(
            new DeleteUserPolicyCommand({ UserName: userName, PolicyName: QUARANTINE_POLICY_NAME }),
          ),
        );
      }
      return {
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

export function makeRollbackHandler(
  env: Environment,
  clients = { iam: new IAMClient(clientOptions) },
) {
  return rollbackHandler(env, NAME, (input, deps) =>
    rollbackUserQuarantine(input, { ...deps, ...clients }),
  );
}

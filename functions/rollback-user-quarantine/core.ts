import { DeleteUserPolicyCommand, type IAMClient } from '@aws-sdk/client-iam';
import { z } from 'zod';
import {
  PASSWORD_NOT_RESTORABLE,
  QUARANTINE_POLICY_NAME,
  quarantinePolicyDocument,
  readQuarantine,
} from '../quarantine-user/read.js';
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

export interface RollbackUserQuarantineDeps extends RollbackDeps {
  readonly iam: IAMClient;
}

export interface UserTarget {
  readonly userName: string;
  readonly userArn: string;
}

/** Whether the user has a console password, not its details: it cannot be restored anyway. */
export interface UserQuarantineState {
  /** Cordon's deny-all policy, unaltered. */
  readonly quarantinePolicy: boolean;
  /** A policy named CordonQuarantine exists, whatever it says. */
  readonly policyPresent: boolean;
  readonly consolePassword: boolean;
}

const UserQuarantineStateSchema = z
  .object({ quarantinePolicy: z.boolean(), loginProfile: z.object({}).loose().nullable() })
  .transform((s) => ({
    quarantinePolicy: s.quarantinePolicy,
    policyPresent: s.quarantinePolicy,
    consolePassword: s.loginProfile !== null,
  }));

export const PASSWORD_CAVEAT = `the console password Cordon deleted is NOT restored: ${PASSWORD_NOT_RESTORABLE}`;

/**
 * Removes Cordon's deny-all policy from the user. The console password the
 * quarantine deleted cannot be read or put back: every result says so.
 */
export function userQuarantineRollback(iam: IAMClient): Rollback<UserTarget, UserQuarantineState> {
  return {
    action: 'rollback-user-quarantine',
    undoes: 'quarantine-user',
    state: UserQuarantineStateSchema,
    target(entry) {
      const arn = parseIamArn(entry.targetArn ?? '');
      if (arn?.resourceType !== 'user') {
        throw new InvalidTaskInputError(
          `rollback-user-quarantine: ${JSON.stringify(entry.targetArn ?? null)} is not an IAM user ARN`,
        );
      }
      return { userName: arn.name, userArn: entry.targetArn ?? '' };
    },
    async read({ userName }) {
      const state = await readQuarantine(iam, userName);
      if (state === undefined) return undefined;
      return {
        quarantinePolicy: state.quarantinePolicy,
        policyPresent:
          state.quarantinePolicy || (await quarantinePolicyDocument(iam, userName)) !== undefined,
        consolePassword: state.loginProfile !== null,
      };
    },
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

import {
  DeleteResourcePolicyCommand,
  PutResourcePolicyCommand,
  SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import { clientOptions } from '../../shared/aws.js';
import type { Environment } from '../../shared/env.js';
import { InvalidTaskInputError } from '../../shared/errors.js';
import { accountOf, type RollbackInput, type RollbackResult } from '../../shared/rollback.js';
import { type Clients, type PlaceConfig, placedClients } from '../../shared/spoke.js';
import { rollbackNameOf } from '../definition.js';
import { rollbackHandler } from '../handlers.js';
import { type Rollback, type RollbackDeps, runRollback } from '../rollback.js';
import { action } from './action.js';
import {
  isPublicPolicyRefusal,
  PublicSecretPolicyError,
  readSecretPolicy,
  type SecretPolicyState,
  SecretPolicyStateSchema,
  type SecretTarget,
  samePolicy,
} from './state.js';

export interface RollbackSecretLockDeps extends RollbackDeps {
  readonly secrets: SecretsManagerClient;
}

const NAME = rollbackNameOf(action.name);

const SECRET_ARN = /^arn:aws[a-z-]*:secretsmanager:[a-z0-9-]+:(\d{12}):secret:[\w/+=.@-]+$/;

/**
 * Puts back the exact resource policy the secret had before lock-secret, or
 * deletes the policy when it had none.
 */
export function secretLockRollback(
  secrets: SecretsManagerClient,
  account: string,
): Rollback<SecretTarget, SecretPolicyState> {
  return {
    action: NAME,
    undoes: action.name,
    state: SecretPolicyStateSchema,
    target(entry) {
      const arn = entry.targetArn ?? '';
      if (SECRET_ARN.exec(arn)?.[1] !== account) {
        throw new InvalidTaskInputError(
          `${NAME}: ${JSON.stringify(arn)} is not a secret ARN of account ${account}`,
        );
      }
      return { arn };
    },
    read: (target) => readSecretPolicy(secrets, target),
    drift: (current, after) =>
      samePolicy(current.policy, after.policy)
        ? []
        : [
            current.policy === null
              ? 'its resource policy was deleted since the lock'
              : 'its resource policy was changed since the lock',
          ],
    isRestored: (current, before) => samePolicy(current.policy, before.policy),
    describe: ({ arn }, before) =>
      before.policy === null
        ? `delete the resource policy of secret ${arn} (it had none before the lock): principals IAM allows can read its value again`
        : `put back the resource policy secret ${arn} had before the lock: principals it and IAM allow can read its value again`,
    async restore({ arn }, before) {
      if (before.policy === null) {
        await secrets.send(new DeleteResourcePolicyCommand({ SecretId: arn }));
      } else {
        try {
          await secrets.send(
            new PutResourcePolicyCommand({
              SecretId: arn,
              ResourcePolicy: before.policy,
              // Required by this role's IAM condition: a rollback never makes a
              // secret public either (a policy the lock accepted passed this check).
              BlockPublicPolicy: true,
            }),
          );
        } catch (error) {
          if (!isPublicPolicyRefusal(error)) throw error;
          throw new PublicSecretPolicyError(
            `cannot put back the resource policy secret ${arn} had before the lock: Secrets Manager says it allows broad (public) access, and Cordon's rollback role may only put policies it checks are not public (BlockPublicPolicy). Nothing was changed: the secret stays locked. If that access is intended, put the recorded before-policy (in this incident's ledger) back by hand`,
            { cause: error },
          );
        }
      }
      return { policy: before.policy };
    },
  };
}

export function rollbackSecretLock(
  input: RollbackInput,
  deps: RollbackSecretLockDeps,
): Promise<RollbackResult> {
  return runRollback(
    input,
    secretLockRollback(deps.secrets, deps.place?.account ?? accountOf(deps.actor)),
    deps,
  );
}

/** The function's AWS clients where the incident's calls are made. */
const placed = (config: PlaceConfig) => ({
  secrets: new SecretsManagerClient({ ...clientOptions, ...config }),
});

export function makeRollbackHandler(
  env: Environment,
  clients: Clients<ReturnType<typeof placed>> = placedClients(env, NAME, placed),
) {
  return rollbackHandler(env, NAME, clients, rollbackSecretLock);
}

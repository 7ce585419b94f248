import { isDeepStrictEqual } from 'node:util';
import {
  DeleteResourcePolicyCommand,
  DescribeSecretCommand,
  GetResourcePolicyCommand,
  PutResourcePolicyCommand,
  type SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import { z } from 'zod';
import { InvalidTaskInputError } from '../shared/errors.js';
import {
  accountOf,
  type Rollback,
  type RollbackDeps,
  type RollbackInput,
  type RollbackResult,
  runRollback,
  unlessNotFound,
} from '../shared/rollback.js';

export interface RollbackSecretLockDeps extends RollbackDeps {
  readonly secrets: SecretsManagerClient;
}

export interface SecretTarget {
  readonly arn: string;
}

/** The secret's resource policy as text, null when it has none. */
export interface SecretPolicyState {
  readonly policy: string | null;
}

const SecretPolicyStateSchema = z.object({ policy: z.string().nullable() });

const SECRET_ARN = /^arn:aws[a-z-]*:secretsmanager:[a-z0-9-]+:(\d{12}):secret:[\w/+=.@-]+$/;

/** Policies compared as JSON, so formatting Secrets Manager adds does not count as a change. */
export function samePolicy(a: string | null, b: string | null): boolean {
  if (a === null || b === null) return a === b;
  try {
    return isDeepStrictEqual(JSON.parse(a), JSON.parse(b));
  } catch {
    return a === b;
  }
}

/**
 * Puts back the exact resource policy the secret had before lock-secret, or
 * deletes the policy when it had none.
 */
export function secretLockRollback(
  secrets: SecretsManagerClient,
  account: string,
): Rollback<SecretTarget, SecretPolicyState> {
  return {
    action: 'rollback-secret-lock',
    undoes: 'lock-secret',
    state: SecretPolicyStateSchema,
    target(entry) {
      const arn = entry.targetArn ?? '';
      if (SECRET_ARN.exec(arn)?.[1] !== account) {
        throw new InvalidTaskInputError(
          `rollback-secret-lock: ${JSON.stringify(arn)} is not a secret ARN of account ${account}`,
        );
      }
      return { arn };
    },
    async read({ arn }) {
      const described = await unlessNotFound(
        secrets.send(new DescribeSecretCommand({ SecretId: arn })),
      );
      if (described === undefined || described.DeletedDate !== undefined) return undefined;
      const out = await secrets.send(new GetResourcePolicyCommand({ SecretId: arn }));
      return { policy: out.ResourcePolicy ?? null };
    },
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
        await secrets.send(
          new PutResourcePolicyCommand({
            SecretId: arn,
            ResourcePolicy: before.policy,
            // The owner's own policy as it was; the public-policy check is not Cordon's to add.
            BlockPublicPolicy: false,
          }),
        );
      }
      return { policy: before.policy };
    },
  };
}

export function rollbackSecretLock(
  input: RollbackInput,
  deps: RollbackSecretLockDeps,
): Promise<RollbackResult> {
  return runRollback(input, secretLockRollback(deps.secrets, accountOf(deps.actor)), deps);
}

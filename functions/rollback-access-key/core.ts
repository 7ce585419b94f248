import { type IAMClient, UpdateAccessKeyCommand } from '@aws-sdk/client-iam';
import { z } from 'zod';
import {
  type AccessKeyState,
  type AccessKeyTarget,
  accessKeyContainment,
} from '../disable-access-key/core.js';
import { InvalidTaskInputError } from '../shared/errors.js';
import { LONG_TERM_ACCESS_KEY_ID, parseIamArn } from '../shared/iam-arn.js';
import {
  differs,
  type Rollback,
  type RollbackDeps,
  type RollbackInput,
  type RollbackResult,
  runRollback,
} from '../shared/rollback.js';

export interface RollbackAccessKeyDeps extends RollbackDeps {
  readonly iam: IAMClient;
}

const AccessKeyStateSchema = z.object({
  accessKeyId: z.string().regex(LONG_TERM_ACCESS_KEY_ID),
  status: z.enum(['Active', 'Inactive']),
  createDate: z.string().optional(),
});

/** Sets the access key disable-access-key turned off back to its recorded status (Active). */
export function accessKeyRollback(iam: IAMClient): Rollback<AccessKeyTarget, AccessKeyState> {
  const containment = accessKeyContainment(iam);
  return {
    action: 'rollback-access-key',
    undoes: 'disable-access-key',
    state: AccessKeyStateSchema,
    target(entry, before) {
      const arn = parseIamArn(entry.targetArn ?? '');
      if (arn?.resourceType !== 'user') {
        throw new InvalidTaskInputError(
          `rollback-access-key: ${JSON.stringify(entry.targetArn ?? null)} is not an IAM user ARN`,
        );
      }
      return {
        userName: arn.name,
        userArn: entry.targetArn ?? '',
        accessKeyId: before.accessKeyId,
      };
    },
    read: (target) => containment.read(target),
    drift: (current, after) =>
      differs(`access key ${after.accessKeyId}`, current.status, after.status),
    isRestored: (current, before) => current.status === before.status,
    describe: (target, before) =>
      `set access key ${target.accessKeyId} of user ${target.userName} back to ${before.status}: it works again`,
    async restore(target, before, current) {
      await iam.send(
        new UpdateAccessKeyCommand({
          UserName: target.userName,
          AccessKeyId: target.accessKeyId,
          Status: before.status === 'Active' ? 'Active' : 'Inactive',
        }),
      );
      return { ...current, status: before.status };
    },
  };
}

export function rollbackAccessKey(
  input: RollbackInput,
  deps: RollbackAccessKeyDeps,
): Promise<RollbackResult> {
  return runRollback(input, accessKeyRollback(deps.iam), deps);
}

import {
  DeletePublicAccessBlockCommand,
  PutPublicAccessBlockCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { z } from 'zod';
import { type BlockState, blockContainment } from '../block-public-access/core.js';
import { InvalidTaskInputError } from '../shared/errors.js';
import type { Bucket } from '../shared/incident.js';
import {
  accountOf,
  differs,
  type Rollback,
  type RollbackDeps,
  type RollbackInput,
  type RollbackResult,
  runRollback,
} from '../shared/rollback.js';

export interface RollbackPublicAccessDeps extends RollbackDeps {
  readonly s3: S3Client;
}

const BlockStateSchema = z.object({
  configuration: z
    .object({
      BlockPublicAcls: z.boolean(),
      IgnorePublicAcls: z.boolean(),
      BlockPublicPolicy: z.boolean(),
      RestrictPublicBuckets: z.boolean(),
    })
    .nullable(),
});

const BUCKET_ARN = /^arn:aws[a-z-]*:s3:::([a-z0-9][a-z0-9.-]{1,61}[a-z0-9])$/;

/**
 * Puts back the bucket's recorded public access block, or deletes the block
 * when it had none. Every call carries ExpectedBucketOwner, as containment's do.
 */
export function publicAccessRollback(s3: S3Client, account: string): Rollback<Bucket, BlockState> {
  const containment = blockContainment(s3, account);
  return {
    action: 'rollback-public-access',
    undoes: 'block-public-access',
    state: BlockStateSchema,
    target(entry) {
      const arn = entry.targetArn ?? '';
      const name = BUCKET_ARN.exec(arn)?.[1];
      if (name === undefined) {
        throw new InvalidTaskInputError(
          `rollback-public-access: ${JSON.stringify(arn)} is not a bucket ARN`,
        );
      }
      return { name, arn };
    },
    read: (target) => containment.read(target),
    drift: (current, after) =>
      differs('its public access block', current.configuration, after.configuration),
    isRestored: (current, before) =>
      JSON.stringify(current.configuration) === JSON.stringify(before.configuration),
    describe: ({ name }, before) =>
      before.configuration === null
        ? `delete the public access block of bucket ${name} (it had none): public ACLs and policies apply again`
        : `put back the public access block bucket ${name} had (${Object.entries(
            before.configuration,
          )
            .map(([k, v]) => `${k}=${v}`)
            .join(', ')}): public ACLs and policies it allows apply again`,
    async restore({ name }, before) {
      if (before.configuration === null) {
        await s3.send(
          new DeletePublicAccessBlockCommand({ Bucket: name, ExpectedBucketOwner: account }),
        );
      } else {
        await s3.send(
          new PutPublicAccessBlockCommand({
            Bucket: name,
            ExpectedBucketOwner: account,
            PublicAccessBlockConfiguration: { ...before.configuration },
          }),
        );
      }
      return { configuration: before.configuration };
    },
  };
}

export function rollbackPublicAccess(
  input: RollbackInput,
  deps: RollbackPublicAccessDeps,
): Promise<RollbackResult> {
  return runRollback(input, publicAccessRollback(deps.s3, accountOf(deps.actor)), deps);
}

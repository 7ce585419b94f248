import {
  GetPublicAccessBlockCommand,
  type PublicAccessBlockConfiguration,
  type S3Client,
} from '@aws-sdk/client-s3';
import type { Bucket } from '../../shared/incident.js';
import { z } from '../../shared/z.js';

export interface PublicAccessBlock {
  readonly BlockPublicAcls: boolean;
  readonly IgnorePublicAcls: boolean;
  readonly BlockPublicPolicy: boolean;
  readonly RestrictPublicBuckets: boolean;
}

/**
 * What the ledger records: the bucket's exact public access block before
 * (null when it had none), so a rollback puts it back
 * (PutPublicAccessBlock) or removes it (DeletePublicAccessBlock).
 */
export interface BlockState {
  readonly configuration: PublicAccessBlock | null;
}

/** A recorded state a rollback can act on: all four settings, or no block at all. */
export const BlockStateSchema = z.object({
  configuration: z
    .object({
      BlockPublicAcls: z.boolean(),
      IgnorePublicAcls: z.boolean(),
      BlockPublicPolicy: z.boolean(),
      RestrictPublicBuckets: z.boolean(),
    })
    .nullable(),
});

/** A bucket ARN; its one group is the bucket's name. */
export const BUCKET_ARN = /^arn:aws[a-z-]*:s3:::([a-z0-9][a-z0-9.-]{1,61}[a-z0-9])$/;

/** All four settings are on. */
export const isBlocked = ({ configuration }: BlockState) =>
  configuration !== null && Object.values(configuration).every((v) => v);

/** The AWS error code, which S3 errors carry as their name. */
const errorName = (error: unknown): string | undefined =>
  error instanceof Error ? error.name : undefined;

const exact = (c: PublicAccessBlockConfiguration): PublicAccessBlock => ({
  BlockPublicAcls: c.BlockPublicAcls === true,
  IgnorePublicAcls: c.IgnorePublicAcls === true,
  BlockPublicPolicy: c.BlockPublicPolicy === true,
  RestrictPublicBuckets: c.RestrictPublicBuckets === true,
});

/**
 * The bucket's public access block (null when it has none); undefined when
 * the bucket is gone. The call carries ExpectedBucketOwner: a bucket of the
 * same name in another account answers AccessDenied.
 */
export async function readPublicAccessBlock(
  s3: S3Client,
  account: string,
  target: Bucket,
): Promise<BlockState | undefined> {
  try {
    const out = await s3.send(
      new GetPublicAccessBlockCommand({ Bucket: target.name, ExpectedBucketOwner: account }),
    );
    const configuration = out.PublicAccessBlockConfiguration;
    return { configuration: configuration === undefined ? null : exact(configuration) };
  } catch (error) {
    // S3's own codes, mapped here: the shared isNotFound does not know them.
    const name = errorName(error);
    if (name === 'NoSuchPublicAccessBlockConfiguration') return { configuration: null };
    if (name === 'NoSuchBucket') return undefined;
    throw error;
  }
}

import {
  GetPublicAccessBlockCommand,
  type PublicAccessBlockConfiguration,
  PutPublicAccessBlockCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { type Containment, type ContainmentDeps, runContainment } from '../shared/action.js';
import {
  type ActionInput,
  type ActionResult,
  type Bucket,
  requireResource,
} from '../shared/incident.js';

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

export interface BlockPublicAccessDeps extends ContainmentDeps {
  readonly s3: S3Client;
}

const ACTION = 'block-public-access';

const ALL_BLOCKED: PublicAccessBlock = {
  BlockPublicAcls: true,
  IgnorePublicAcls: true,
  BlockPublicPolicy: true,
  RestrictPublicBuckets: true,
};

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
 * Turns on all four bucket-level public access block settings. Every call
 * carries ExpectedBucketOwner: a bucket of the same name in another account
 * (the incident's bucket deleted and its name taken) answers AccessDenied
 * instead of being changed.
 */
export function blockContainment(s3: S3Client, account: string): Containment<Bucket, BlockState> {
  return {
    action: ACTION,
    target: (incident) => requireResource(incident, 'bucket', ACTION),
    targetArn: (target) => target.arn,
    async read(target) {
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
    },
    isContained: ({ configuration }) =>
      configuration !== null && Object.values(configuration).every((v) => v),
    describe: (target, { configuration }) => {
      const off =
        configuration === null
          ? 'none is set'
          : `off now: ${Object.entries(configuration)
              .filter(([, on]) => !on)
              .map(([setting]) => setting)
              .join(', ')}`;
      return `turn on all four public access block settings of bucket ${target.name} (${off}); account-level settings are unchanged`;
    },
    async apply(target) {
      await s3.send(
        new PutPublicAccessBlockCommand({
          Bucket: target.name,
          ExpectedBucketOwner: account,
          PublicAccessBlockConfiguration: { ...ALL_BLOCKED },
        }),
      );
      return { configuration: { ...ALL_BLOCKED } };
    },
  };
}

export function blockPublicAccess(
  input: ActionInput,
  deps: BlockPublicAccessDeps,
): Promise<ActionResult> {
  return runContainment(input, blockContainment(deps.s3, input.incident.account), deps);
}

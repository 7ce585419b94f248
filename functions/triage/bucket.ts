import { GetBucketTaggingCommand, type S3Client } from '@aws-sdk/client-s3';
import { classifyAwsError } from '../shared/errors.js';
import type { Bucket } from '../shared/incident.js';
import type { RuntimeConfig } from '../shared/runtime-config.js';
import { bucketArn } from './arn.js';
import { type Decision, otherRegionRefusal, proceedReason, refuse } from './decision.js';
import type { BucketFinding } from './finding.js';
import { exemptTagGuard, findingRefusal, protectedGuard, type ResourceTag } from './guards.js';
import { planPlaybook } from './plan.js';

/**
 * Verifies the bucket a finding names against S3. S3 ARNs carry no account,
 * so every call passes `ExpectedBucketOwner`: S3 then refuses (403) to
 * answer for a bucket of another account, and triage fails closed rather
 * than ever treating that bucket as ours. The tags read here are the
 * exempt guard's.
 */
export type BucketResolution =
  | {
      readonly status: 'verified';
      readonly bucket: Bucket;
      readonly tags: ReadonlyArray<ResourceTag>;
    }
  /** The bucket does not exist. */
  | { readonly status: 'refused'; readonly bucket: Bucket; readonly reason: string }
  /** S3 would not answer (denied, another owner, another region): guards cannot decide. */
  | { readonly status: 'unverified'; readonly bucket: Bucket; readonly reason: string };

export interface BucketDeps {
  readonly s3: S3Client;
  readonly config: RuntimeConfig;
}

export function claimedBucket(finding: BucketFinding): Bucket {
  const { name } = finding.bucket;
  return { name, arn: bucketArn(finding.partition, name) };
}

/** S3 answers a bucket without tags with this error, not an empty set. */
const NO_TAGS = 'NoSuchTagSet';
const NO_BUCKET = 'NoSuchBucket';

export async function resolveBucket(
  finding: BucketFinding,
  s3: S3Client,
  homeAccount: string,
): Promise<BucketResolution> {
  const bucket = claimedBucket(finding);
  const elsewhere = await otherRegionRefusal(s3, finding.region, `bucket ${bucket.name}`, 'S3');
  if (elsewhere !== undefined) return { status: 'refused', bucket, reason: elsewhere };
  try {
    const { TagSet = [] } = await s3.send(
      new GetBucketTaggingCommand({ Bucket: bucket.name, ExpectedBucketOwner: homeAccount }),
    );
    return { status: 'verified', bucket, tags: TagSet };
  } catch (error) {
    const name = errorName(error);
    if (name === NO_TAGS) return { status: 'verified', bucket, tags: [] };
    if (name === NO_BUCKET) {
      return { status: 'refused', bucket, reason: `bucket: bucket ${bucket.name} does not exist` };
    }
    const failure = classifyAwsError(error, `read tags of bucket ${bucket.name}`);
    if (failure.retryable) throw failure;
    return { status: 'unverified', bucket, reason: failure.message };
  }
}

function errorName(error: unknown): string | undefined {
  if (typeof error !== 'object' || error === null) return undefined;
  const name: unknown = Reflect.get(error, 'name');
  return typeof name === 'string' ? name : undefined;
}

/**
 * The bucket guards, after the finding guards: the bucket must exist, and
 * neither its ARN nor its tags may protect it. When S3 will not say (access
 * denied, or the bucket is another account's), blocking public access waits
 * for a human.
 */
export async function decideBucket(finding: BucketFinding, deps: BucketDeps): Promise<Decision> {
  const { config } = deps;
  const claimed = claimedBucket(finding);
  const early = findingRefusal(finding, config);
  if (early !== undefined) return refuse(early, claimed.arn, finding.playbook, { bucket: claimed });

  const resolution = await resolveBucket(finding, deps.s3, config.homeAccount);
  const { bucket } = resolution;
  if (resolution.status === 'refused') {
    return refuse(resolution.reason, bucket.arn, finding.playbook, { bucket });
  }
  const refusal =
    protectedGuard(bucket.arn, config) ??
    (resolution.status === 'verified'
      ? exemptTagGuard(bucket.arn, resolution.tags, config)
      : undefined);
  if (refusal !== undefined) return refuse(refusal, bucket.arn, finding.playbook, { bucket });

  const failClosedReason =
    resolution.status === 'unverified'
      ? `exempt tag could not be read: ${resolution.reason}`
      : undefined;
  const plan = planPlaybook(
    finding.playbook,
    failClosedReason === undefined ? {} : { failClosedReason },
    config,
  );
  return {
    decision: 'PROCEED',
    reason: proceedReason(failClosedReason),
    arn: bucket.arn,
    plan,
    bucket,
  };
}

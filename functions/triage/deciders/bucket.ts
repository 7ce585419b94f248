import { GetBucketTaggingCommand, type S3Client } from '@aws-sdk/client-s3';
import { classifyAwsError } from '../../shared/errors.js';
import type { Bucket } from '../../shared/incident.js';
import type { ResourceTag } from '../../shared/protection.js';
import { protectionOf } from '../guards/protection.js';
import { bucketArn } from '../parse/arn.js';
import type { BucketFinding } from '../parse/finding.js';
import { planPlaybook } from '../plan.js';
import {
  type Decider,
  type Decision,
  otherRegionRefusal,
  proceedReason,
  refuse,
} from './decision.js';

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
  account: string,
): Promise<BucketResolution> {
  const bucket = claimedBucket(finding);
  const elsewhere = await otherRegionRefusal(s3, finding.region, `bucket ${bucket.name}`, 'S3');
  if (elsewhere !== undefined) return { status: 'refused', bucket, reason: elsewhere };
  try {
    const { TagSet = [] } = await s3.send(
      new GetBucketTaggingCommand({ Bucket: bucket.name, ExpectedBucketOwner: account }),
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
 * s3-exposure: the bucket must exist, and neither its ARN nor its tags may
 * protect it. When S3 will not say (access denied, or the bucket is another
 * account's), blocking public access waits for a human.
 */
export const bucketDecider: Decider<BucketFinding> = {
  configurationChecksAct: true,
  claimed: (finding) => {
    const bucket = claimedBucket(finding);
    return { arn: bucket.arn, subject: { bucket } };
  },
  // S3 ARNs carry no account or region: triage passes ExpectedBucketOwner instead.
  location: () => undefined,
  sourceIdentifier: (finding) => finding.bucket.name,
  async decide(finding, deps): Promise<Decision> {
    const { config } = deps;
    const resolution = await resolveBucket(finding, deps.s3, finding.account);
    const { bucket } = resolution;
    const claimed = { arn: bucket.arn, subject: { bucket } };
    if (resolution.status === 'refused') {
      return refuse(resolution.reason, claimed, finding.playbook);
    }
    const { refusal, approval } = protectionOf(bucket.arn, resolution, config);
    if (refusal !== undefined) return refuse(refusal, claimed, finding.playbook);

    const failClosedReason =
      resolution.status === 'unverified'
        ? `exempt tag could not be read: ${resolution.reason}`
        : undefined;
    const plan = planPlaybook(
      finding.playbook,
      { failClosedReason, humanReason: approval },
      config,
    );
    return {
      decision: 'PROCEED',
      reason: proceedReason(failClosedReason ?? approval),
      arn: bucket.arn,
      plan,
      bucket,
    };
  },
};

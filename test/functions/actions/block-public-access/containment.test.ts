import 'aws-sdk-client-mock-vitest/extend';
import {
  GetPublicAccessBlockCommand,
  PutPublicAccessBlockCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { blockPublicAccess } from '../../../../functions/actions/block-public-access/containment.js';
import type { PublicAccessBlock } from '../../../../functions/actions/block-public-access/state.js';
import { INTENT } from '../../../../functions/shared/intents.js';
import {
  ACCOUNT,
  ACTOR,
  APPROVALS,
  actionInput,
  approved,
  awsError,
  BUCKET_ARN,
  BUCKET_NAME,
  bucketIncident,
  fakeLedger,
} from '../../shared/containment-fixtures.js';

const STEP = 'blockPublicAccess';
const ALL_ON: PublicAccessBlock = {
  BlockPublicAcls: true,
  IgnorePublicAcls: true,
  BlockPublicPolicy: true,
  RestrictPublicBuckets: true,
};
const PARTIAL: PublicAccessBlock = {
  BlockPublicAcls: true,
  IgnorePublicAcls: true,
  BlockPublicPolicy: false,
  RestrictPublicBuckets: false,
};
const s3Mock = mockClient(S3Client);
const s3 = new S3Client({ region: 'us-east-1' });

interface World {
  exists: boolean;
  configuration: PublicAccessBlock | undefined;
}

/** S3 holding the bucket with, maybe, a bucket-level public access block. */
function s3With(world: World): World {
  s3Mock.on(GetPublicAccessBlockCommand).callsFake(() => {
    if (!world.exists) throw awsError('NoSuchBucket', 404);
    if (world.configuration === undefined) {
      throw awsError('NoSuchPublicAccessBlockConfiguration', 404);
    }
    return { PublicAccessBlockConfiguration: { ...world.configuration } };
  });
  s3Mock
    .on(PutPublicAccessBlockCommand)
    .callsFake((input: { PublicAccessBlockConfiguration: PublicAccessBlock }) => {
      world.configuration = { ...input.PublicAccessBlockConfiguration };
      return {};
    });
  return world;
}

describe('block-public-access', () => {
  let fake: ReturnType<typeof fakeLedger>;
  beforeEach(() => {
    s3Mock.reset();
    fake = fakeLedger();
  });
  const deps = () => ({ s3, ledger: fake.ledger, actor: ACTOR, approvals: APPROVALS });
  const input = (mode: 'auto' | 'dry-run' | 'approve' = 'auto') =>
    actionInput(STEP, { incident: bucketIncident(), mode });

  it('turns on all four bucket-level settings', async () => {
    // Arrange
    const world = s3With({ exists: true, configuration: PARTIAL });
    // Act
    const result = await blockPublicAccess(input(), deps());
    // Assert
    expect(result).toEqual({
      step: STEP,
      action: 'block-public-access',
      outcome: 'CONTAINED',
      mode: 'auto',
      targetArn: BUCKET_ARN,
      summary: `turn on all four public access block settings of bucket ${BUCKET_NAME} (off now: BlockPublicPolicy, RestrictPublicBuckets); account-level settings are unchanged`,
    });
    expect(s3Mock).toHaveReceivedCommandWith(PutPublicAccessBlockCommand, {
      Bucket: BUCKET_NAME,
      ExpectedBucketOwner: ACCOUNT,
      PublicAccessBlockConfiguration: ALL_ON,
    });
    expect(world.configuration).toEqual(ALL_ON);
  });

  it('passes ExpectedBucketOwner on every call', async () => {
    // Arrange
    s3With({ exists: true, configuration: undefined });
    // Act
    await blockPublicAccess(input(), deps());
    // Assert
    const calls = s3Mock.calls();
    expect(calls.length).toBe(2);
    for (const call of calls) {
      expect(call.args[0].input).toMatchObject({
        Bucket: BUCKET_NAME,
        ExpectedBucketOwner: ACCOUNT,
      });
    }
  });

  it('records the exact before-configuration, for a rollback', async () => {
    // Arrange
    s3With({ exists: true, configuration: PARTIAL });
    // Act
    await blockPublicAccess(input(), deps());
    // Assert
    expect(fake.entries()).toEqual([
      expect.objectContaining({
        outcome: INTENT,
        actor: ACTOR,
        summary: expect.stringMatching(/^about to turn on all four public access block settings/),
        before: { configuration: PARTIAL },
      }),
      expect.objectContaining({
        outcome: 'CONTAINED',
        actor: ACTOR,
        before: { configuration: PARTIAL },
        after: { configuration: ALL_ON },
      }),
    ]);
    expect(fake.entries()[0]).not.toHaveProperty('after');
  });

  it('records a null before-configuration when the bucket had none', async () => {
    // Arrange
    s3With({ exists: true, configuration: undefined });
    // Act
    const result = await blockPublicAccess(input(), deps());
    // Assert
    expect(result.summary).toContain('(none is set)');
    expect(fake.entries().map((e) => e.outcome)).toEqual([INTENT, 'CONTAINED']);
    const [intent, entry] = fake.entries();
    expect(entry).toMatchObject({
      before: { configuration: null },
      after: { configuration: ALL_ON },
    });
    expect(intent?.before).toEqual(entry?.before);
  });

  it('returns ALREADY_CONTAINED and makes no Put call when all four settings are on', async () => {
    // Arrange
    s3With({ exists: true, configuration: ALL_ON });
    // Act
    const result = await blockPublicAccess(input(), deps());
    // Assert
    expect(result.outcome).toBe('ALREADY_CONTAINED');
    expect(s3Mock).not.toHaveReceivedCommand(PutPublicAccessBlockCommand);
    expect(fake.entries().map((e) => e.outcome)).toEqual(['ALREADY_CONTAINED']);
  });

  it('records DRY_RUN and makes no Put call in dry-run mode', async () => {
    // Arrange
    s3With({ exists: true, configuration: PARTIAL });
    // Act
    const result = await blockPublicAccess(input('dry-run'), deps());
    // Assert
    expect(result.outcome).toBe('DRY_RUN');
    expect(s3Mock).not.toHaveReceivedCommand(PutPublicAccessBlockCommand);
    expect(fake.entries().map((e) => e.outcome)).toEqual(['DRY_RUN']);
  });

  it('fails with Cordon.ApprovalMissing and makes no AWS call in approve mode without an approval', async () => {
    // Arrange
    s3With({ exists: true, configuration: PARTIAL });
    // Act
    const attempt = blockPublicAccess(input('approve'), deps());
    // Assert
    await expect(attempt).rejects.toMatchObject({ name: 'Cordon.ApprovalMissing' });
    expect(s3Mock).not.toHaveReceivedAnyCommand();
  });

  it('acts in approve mode with an approval for its step', async () => {
    // Arrange
    s3With({ exists: true, configuration: PARTIAL });
    // Act
    const result = await blockPublicAccess(
      actionInput(STEP, { incident: bucketIncident(), approval: approved(STEP) }),
      deps(),
    );
    // Assert
    expect(result).toMatchObject({ outcome: 'CONTAINED', mode: 'approve' });
  });

  it('returns TARGET_NOT_FOUND when the bucket does not exist', async () => {
    // Arrange
    s3With({ exists: false, configuration: undefined });
    // Act
    const result = await blockPublicAccess(input(), deps());
    // Assert
    expect(result.outcome).toBe('TARGET_NOT_FOUND');
    expect(fake.entries().map((e) => e.outcome)).toEqual(['TARGET_NOT_FOUND']);
    expect(s3Mock).not.toHaveReceivedCommand(PutPublicAccessBlockCommand);
  });

  it('surfaces throttling as retryable Cordon.Throttled without a ledger entry', async () => {
    // Arrange
    s3With({ exists: true, configuration: PARTIAL });
    s3Mock.on(GetPublicAccessBlockCommand).rejects(awsError('SlowDown', 503));
    // Act
    const attempt = blockPublicAccess(input(), deps());
    // Assert
    await expect(attempt).rejects.toMatchObject({ name: 'Cordon.Throttled', retryable: true });
    expect(fake.entries()).toEqual([]);
  });

  it('records AccessDenied (also what a bucket of another owner answers) as FAILED and throws Cordon.AccessDenied', async () => {
    // Arrange
    s3With({ exists: true, configuration: PARTIAL });
    s3Mock.on(PutPublicAccessBlockCommand).rejects(awsError('AccessDenied', 403));
    // Act
    const attempt = blockPublicAccess(input(), deps());
    // Assert
    await expect(attempt).rejects.toMatchObject({ name: 'Cordon.AccessDenied', retryable: false });
    expect(fake.entries()).toEqual([
      expect.objectContaining({
        outcome: INTENT,
        targetArn: BUCKET_ARN,
        before: { configuration: PARTIAL },
      }),
      expect.objectContaining({
        outcome: 'FAILED',
        targetArn: BUCKET_ARN,
        before: { configuration: PARTIAL },
      }),
    ]);
  });
});

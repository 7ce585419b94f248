import 'aws-sdk-client-mock-vitest/extend';
import {
  DeletePublicAccessBlockCommand,
  GetPublicAccessBlockCommand,
  PutPublicAccessBlockCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { rollbackPublicAccess } from '../../../../functions/actions/block-public-access/rollback.js';
import {
  ACCOUNT,
  APPROVALS,
  awsError,
  BUCKET_ARN,
  BUCKET_NAME,
  fakeLedger,
} from '../../shared/containment-fixtures.js';
import { containedThenApproved, ROLLBACK_ACTOR } from '../../shared/rollback-fixtures.js';

const s3Mock = mockClient(S3Client);
const s3 = new S3Client({ region: 'us-east-1' });
const ALL = {
  BlockPublicAcls: true,
  IgnorePublicAcls: true,
  BlockPublicPolicy: true,
  RestrictPublicBuckets: true,
};
const SOME = { ...ALL, BlockPublicPolicy: false, RestrictPublicBuckets: false };

const blocked = (before: typeof ALL | null) => ({
  step: 'blockPublicAccess',
  action: 'block-public-access',
  targetArn: BUCKET_ARN,
  before: { configuration: before },
  after: { configuration: ALL },
});

function blockIs(configuration: typeof ALL | null) {
  if (configuration === null) {
    s3Mock
      .on(GetPublicAccessBlockCommand)
      .rejects(awsError('NoSuchPublicAccessBlockConfiguration', 404));
  } else {
    s3Mock
      .on(GetPublicAccessBlockCommand)
      .resolves({ PublicAccessBlockConfiguration: configuration });
  }
  s3Mock.on(PutPublicAccessBlockCommand).resolves({});
  s3Mock.on(DeletePublicAccessBlockCommand).resolves({});
}

describe('rollback-block-public-access', () => {
  let fake: ReturnType<typeof fakeLedger>;
  beforeEach(() => {
    s3Mock.reset();
    fake = fakeLedger();
  });
  const deps = () => ({ s3, ledger: fake.ledger, actor: ROLLBACK_ACTOR, approvals: APPROVALS });

  it('deletes the block when the bucket had none, naming the expected owner', async () => {
    blockIs(ALL);
    const input = await containedThenApproved(fake, 'rollback-block-public-access', blocked(null));

    expect((await rollbackPublicAccess(input, deps())).outcome).toBe('ROLLED_BACK');
    expect(s3Mock).toHaveReceivedCommandWith(DeletePublicAccessBlockCommand, {
      Bucket: BUCKET_NAME,
      ExpectedBucketOwner: ACCOUNT,
    });
  });

  it('puts back the exact recorded configuration', async () => {
    blockIs(ALL);
    const input = await containedThenApproved(fake, 'rollback-block-public-access', blocked(SOME));

    expect((await rollbackPublicAccess(input, deps())).outcome).toBe('ROLLED_BACK');
    expect(s3Mock).toHaveReceivedCommandWith(PutPublicAccessBlockCommand, {
      Bucket: BUCKET_NAME,
      ExpectedBucketOwner: ACCOUNT,
      PublicAccessBlockConfiguration: SOME,
    });
    expect(s3Mock).not.toHaveReceivedCommand(DeletePublicAccessBlockCommand);
  });

  it('refuses when the block was changed since, and changes nothing', async () => {
    blockIs({ ...ALL, IgnorePublicAcls: false });
    const input = await containedThenApproved(fake, 'rollback-block-public-access', blocked(SOME));

    const result = await rollbackPublicAccess(input, deps());

    expect(result.outcome).toBe('ROLLBACK_REFUSED');
    expect(s3Mock).not.toHaveReceivedCommand(PutPublicAccessBlockCommand);
    expect(s3Mock).not.toHaveReceivedCommand(DeletePublicAccessBlockCommand);
  });
});

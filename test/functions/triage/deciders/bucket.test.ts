import 'aws-sdk-client-mock-vitest/extend';
import { GetBucketTaggingCommand } from '@aws-sdk/client-s3';
import { PutCommand } from '@aws-sdk/lib-dynamodb';
import { describe, expect, it } from 'vitest';
import { TriageResultSchema } from '../../../../functions/shared/incident.js';
import { deciderFor } from '../../../../functions/triage/deciders/index.js';
import { postureGuard } from '../../../../functions/triage/guards/finding.js';
import type { Finding } from '../../../../functions/triage/parse/finding.js';
import { parseFindingEvent } from '../../../../functions/triage/parse/index.js';
import {
  ACCOUNT,
  awsError,
  BUCKET,
  BUCKET_ARN,
  bucketTagged,
  config,
  ddbMock,
  fixture,
  s3Mock,
  setup,
  withValue,
} from '../helpers.js';
import { runTriage } from '../run.js';

const PLAYBOOK = { playbook: 's3-exposure' } as const;

describe('triage: s3-exposure', () => {
  it('reads the bucket tags as the home account only, and plans blocking public access', async () => {
    const deps = setup();
    bucketTagged([{ Key: 'team', Value: 'reports' }]);

    const result = await runTriage(fixture('guardduty-s3-public'), deps, PLAYBOOK);

    expect(TriageResultSchema.parse(result)).toEqual(result);
    expect(s3Mock).toHaveReceivedCommandWith(GetBucketTaggingCommand, {
      Bucket: BUCKET,
      ExpectedBucketOwner: ACCOUNT,
    });
    expect(result).toMatchObject({
      decision: 'PROCEED',
      reason: 'claimed',
      incident: { bucket: { name: BUCKET, arn: BUCKET_ARN } },
    });
    expect(result.incident.plan).toEqual({ blockPublicAccess: { mode: 'approve' } });
  });

  it('treats a bucket without tags (NoSuchTagSet) as not exempt', async () => {
    const deps = setup({ modes: { 's3-exposure': { blockPublicAccess: 'auto' } } });
    s3Mock.on(GetBucketTaggingCommand).rejects(awsError('NoSuchTagSet', 404));

    const result = await runTriage(fixture('securityhub-s3-public'), deps, PLAYBOOK);

    expect(result.decision).toBe('PROCEED');
    expect(result.incident.plan).toEqual({ blockPublicAccess: { mode: 'auto' } });
  });

  it('does not apply the posture guard: a public bucket check is the exposure', () => {
    const parsed = parseFindingEvent(fixture('securityhub-s3-public'), 's3-exposure');
    const key = parseFindingEvent(fixture('securityhub-iam-access-key'), 'iam-credentials');
    if (parsed.status !== 'finding' || key.status !== 'finding')
      throw new Error('expected findings');
    const checkOnly = ['Software and Configuration Checks/AWS Security Best Practices/S3.2'];
    const asCheck = <F extends Finding>(finding: F): F => ({
      ...finding,
      securityHub: { workflowStatus: 'NEW', recordState: 'ACTIVE', types: checkOnly },
    });

    const bucket = asCheck(parsed.finding);
    const credentials = asCheck(key.finding);
    expect(postureGuard(bucket, config(), deciderFor(bucket))).toBeUndefined();
    expect(postureGuard(credentials, config(), deciderFor(credentials))).toMatch(/^posture: /);
  });
});

describe('triage: bucket verification', () => {
  it('refuses a bucket that does not exist', async () => {
    const deps = setup();
    s3Mock.on(GetBucketTaggingCommand).rejects(awsError('NoSuchBucket', 404));

    const result = await runTriage(fixture('guardduty-s3-public'), deps, PLAYBOOK);

    expect(result).toMatchObject({
      decision: 'REFUSED',
      reason: `bucket: bucket ${BUCKET} does not exist`,
    });
  });

  it('blocks public access to a bucket tagged exempt (s3:PutBucketTagging) only with a responder', async () => {
    const deps = setup({ modes: { 's3-exposure': { blockPublicAccess: 'auto' } } });
    bucketTagged([{ Key: 'cordon:exempt', Value: 'true' }]);

    const result = await runTriage(fixture('guardduty-s3-public'), deps, PLAYBOOK);

    expect(result.decision).toBe('PROCEED');
    expect(result.incident.plan.blockPublicAccess).toEqual({
      mode: 'approve',
      reason: `exempt: ${BUCKET_ARN} is tagged cordon:exempt=true`,
    });
  });

  it('refuses a bucket whose ARN matches a protected pattern', async () => {
    const deps = setup({ protectedPrincipalPatterns: ['arn:aws:s3:::example-*'] });
    bucketTagged([]);

    const result = await runTriage(fixture('guardduty-s3-public'), deps, PLAYBOOK);

    expect(result.reason).toBe(`protected: ${BUCKET_ARN} matches protected arn:aws:s3:::example-*`);
  });

  it('refuses a finding for another account without asking S3', async () => {
    const deps = setup();
    const event = withValue(
      fixture('guardduty-s3-public'),
      ['detail', 'accountId'],
      '210987654321',
    );

    const result = await runTriage(event, deps, PLAYBOOK);

    expect(result.reason).toMatch(/^account: /);
    expect(s3Mock).not.toHaveReceivedAnyCommand();
  });

  it('fails closed when S3 denies the read (or the bucket has another owner)', async () => {
    const deps = setup({ modes: { 's3-exposure': { blockPublicAccess: 'auto' } } });
    s3Mock.on(GetBucketTaggingCommand).rejects(awsError('AccessDenied', 403));

    const result = await runTriage(fixture('guardduty-s3-public'), deps, PLAYBOOK);

    expect(result.decision).toBe('PROCEED');
    expect(result.incident.plan.blockPublicAccess).toEqual({
      mode: 'approve',
      reason: expect.stringMatching(/^exempt tag could not be read: /),
    });
  });

  it('throws Cordon.Throttled, claiming nothing, when S3 slows down', async () => {
    const deps = setup();
    s3Mock.on(GetBucketTaggingCommand).rejects(awsError('SlowDown', 503));

    await expect(runTriage(fixture('guardduty-s3-public'), deps, PLAYBOOK)).rejects.toMatchObject({
      name: 'Cordon.Throttled',
    });
    expect(ddbMock).not.toHaveReceivedCommand(PutCommand);
  });

  it('refuses a bucket finding below the severity threshold', async () => {
    const deps = setup();
    const event = withValue(fixture('guardduty-s3-public'), ['detail', 'severity'], 2);

    const result = await runTriage(event, deps, PLAYBOOK);

    expect(result.reason).toMatch(/^severity: /);
  });
});

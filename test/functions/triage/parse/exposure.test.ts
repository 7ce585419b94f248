import { describe, expect, it } from 'vitest';
import type { PlaybookName } from '../../../../functions/shared/catalog.js';
import { InvalidFindingError } from '../../../../functions/shared/errors.js';
import { type Finding, parseFindingEvent } from '../../../../functions/triage/parse/index.js';
import {
  ASFF_RESOURCE,
  FUNCTION_ARN,
  fixture,
  SECRET_ARN,
  without,
  withValue,
} from '../helpers.js';

function findingOf(event: unknown, playbook?: PlaybookName): Finding {
  const parsed = parseFindingEvent(event, playbook);
  if (parsed.status !== 'finding') throw new Error(`expected a finding, got ${parsed.message}`);
  return parsed.finding;
}

function rejection(event: unknown, playbook?: PlaybookName): string {
  try {
    parseFindingEvent(event, playbook);
  } catch (error) {
    if (error instanceof InvalidFindingError) return error.message;
    throw error;
  }
  throw new Error('expected InvalidFindingError');
}

const SECRET_PATH = [
  'detail',
  'service',
  'action',
  'awsApiCallAction',
  'affectedResources',
  'AWS::SecretsManager::Secret',
] as const;

describe('parseFindingEvent: an access key finding that touched a secret', () => {
  it('is the key for iam-credentials and the secret for secret-exposure', () => {
    const event = fixture('guardduty-secret-access');

    const key = findingOf(event, 'iam-credentials');
    const secret = findingOf(event, 'secret-exposure');

    expect(key).toMatchObject({
      playbook: 'iam-credentials',
      principal: { kind: 'IAMUser', name: 'compromised-user' },
    });
    expect(secret).toMatchObject({
      playbook: 'secret-exposure',
      findingId: key.findingId,
      secret: {
        secretId: SECRET_ARN,
        arn: { account: '123456789012', region: 'us-east-1', name: 'prod/payments/db-password' },
      },
    });
  });

  it('is the key without a playbook, as the resource type chooses', () => {
    expect(findingOf(fixture('guardduty-secret-access')).playbook).toBe('iam-credentials');
  });

  it('is the secret without a playbook when the principal type is not one Cordon contains', () => {
    const event = withValue(
      fixture('guardduty-secret-access'),
      ['detail', 'resource', 'accessKeyDetails', 'userType'],
      'FederatedUser',
    );

    expect(findingOf(event).playbook).toBe('secret-exposure');
  });

  it('accepts a secret named by name rather than ARN', () => {
    const event = withValue(fixture('guardduty-secret-access'), SECRET_PATH, 'prod/db-password');

    expect(findingOf(event, 'secret-exposure')).toMatchObject({
      secret: { secretId: 'prod/db-password' },
    });
  });

  it('holds nothing for secret-exposure when the call touched no secret', () => {
    expect(parseFindingEvent(fixture('guardduty-iam-user'), 'secret-exposure')).toMatchObject({
      status: 'unhandled',
      reason: 'other-playbook',
    });
  });

  it.each([
    ['a malformed ARN', 'arn:aws:secretsmanager:us-east-1:123456789012:parameter/x'],
    ['a name with forbidden characters', 'bad name!'],
  ])('fails on %s, naming the path, with or without a playbook', (_what, value) => {
    const event = withValue(fixture('guardduty-secret-access'), SECRET_PATH, value);
    const path =
      'detail.service.action.awsApiCallAction.affectedResources.AWS::SecretsManager::Secret';

    expect(rejection(event, 'secret-exposure')).toContain(`has an invalid ${path}`);
    expect(rejection(event)).toContain(`has an invalid ${path}`);
  });

  it('fails when the action is mangled, naming the path', () => {
    const event = withValue(
      fixture('guardduty-secret-access'),
      ['detail', 'service', 'action', 'awsApiCallAction', 'affectedResources'],
      'not an object',
    );

    expect(rejection(event, 'secret-exposure')).toMatch(
      /^GuardDuty finding has an invalid detail\.service\.action\.awsApiCallAction\.affectedResources/,
    );
  });
});

describe('parseFindingEvent: Security Hub secret', () => {
  it('normalises an AwsSecretsManagerSecret finding from its ARN', () => {
    expect(findingOf(fixture('securityhub-secret'), 'secret-exposure')).toMatchObject({
      playbook: 'secret-exposure',
      source: 'securityhub',
      severityLabel: 'HIGH',
      secret: { secretId: SECRET_ARN, arn: { name: 'prod/payments/db-password' } },
    });
  });

  it('accepts unknown fields on the resource and its details', () => {
    const event = withValue(fixture('securityhub-secret'), [...ASFF_RESOURCE, 'Details'], {
      AwsSecretsManagerSecret: { Name: 'prod/payments/db-password', SomethingNew: { a: 1 } },
      Other: [1, 2],
    });

    expect(findingOf(event).playbook).toBe('secret-exposure');
  });

  it('fails when the Id is not a secret ARN, naming the path', () => {
    const event = withValue(fixture('securityhub-secret'), [...ASFF_RESOURCE, 'Id'], 'db-password');

    expect(rejection(event)).toMatch(
      /^Security Hub finding has an invalid detail\.findings\[0\]\.Resources\[0\]\.Id: not a Secrets Manager secret ARN/,
    );
  });

  it('holds nothing for another playbook', () => {
    expect(parseFindingEvent(fixture('securityhub-secret'), 'iam-credentials')).toMatchObject({
      status: 'unhandled',
      reason: 'other-playbook',
    });
  });
});

describe('parseFindingEvent: Lambda functions', () => {
  it('normalises a GuardDuty Lambda finding', () => {
    expect(findingOf(fixture('guardduty-lambda'), 'integration-quarantine')).toMatchObject({
      playbook: 'integration-quarantine',
      findingType: 'CryptoCurrency:Lambda/BitcoinTool.B',
      lambdaFunction: { name: 'payments-webhook', unqualified: FUNCTION_ARN },
    });
  });

  it.each([
    ['an alias', `${FUNCTION_ARN}:live`, 'live'],
    ['a version', `${FUNCTION_ARN}:7`, '7'],
    ['$LATEST', `${FUNCTION_ARN}:$LATEST`, '$LATEST'],
  ])('reduces an ARN qualified by %s to the function', (_what, arn, qualifier) => {
    const event = withValue(
      fixture('guardduty-lambda'),
      ['detail', 'resource', 'lambdaDetails', 'functionArn'],
      arn,
    );

    expect(findingOf(event)).toMatchObject({
      lambdaFunction: { unqualified: FUNCTION_ARN, qualifier },
    });
  });

  it('accepts unknown fields in lambdaDetails', () => {
    const event = withValue(
      fixture('guardduty-lambda'),
      ['detail', 'resource', 'lambdaDetails', 'newField'],
      { nested: true },
    );

    expect(findingOf(event).playbook).toBe('integration-quarantine');
  });

  it.each([
    [
      ['detail', 'resource', 'lambdaDetails'],
      'GuardDuty finding is missing detail.resource.lambdaDetails',
    ],
    [
      ['detail', 'resource', 'lambdaDetails', 'functionArn'],
      'GuardDuty finding is missing detail.resource.lambdaDetails.functionArn',
    ],
  ])('fails when %j is missing, naming the path', (path, message) => {
    expect(rejection(without(fixture('guardduty-lambda'), path), 'integration-quarantine')).toBe(
      message,
    );
  });

  it('fails when functionName and functionArn disagree', () => {
    const event = withValue(
      fixture('guardduty-lambda'),
      ['detail', 'resource', 'lambdaDetails', 'functionName'],
      'another-function',
    );

    expect(rejection(event)).toMatch(/lambdaDetails\.functionName names a different function/);
  });

  it('normalises a Security Hub AwsLambdaFunction finding', () => {
    expect(findingOf(fixture('securityhub-lambda'), 'integration-quarantine')).toMatchObject({
      playbook: 'integration-quarantine',
      severityLabel: 'CRITICAL',
      lambdaFunction: { unqualified: FUNCTION_ARN, account: '123456789012' },
    });
  });

  it('fails when an AwsLambdaFunction Id is not a function ARN', () => {
    const event = withValue(fixture('securityhub-lambda'), [...ASFF_RESOURCE, 'Id'], 'payments');

    expect(rejection(event)).toMatch(/Resources\[0\]\.Id: not a Lambda function ARN/);
  });
});

describe('parseFindingEvent: S3 buckets', () => {
  it('normalises a GuardDuty Policy:S3 finding on one bucket', () => {
    expect(findingOf(fixture('guardduty-s3-public'), 's3-exposure')).toMatchObject({
      playbook: 's3-exposure',
      severity: 7,
      bucket: { name: 'example-reports-bucket' },
    });
  });

  it('fails closed when the finding names several buckets', () => {
    const event = withValue(
      fixture('guardduty-s3-public'),
      ['detail', 'resource', 's3BucketDetails', 1],
      { name: 'another-bucket', arn: 'arn:aws:s3:::another-bucket' },
    );

    expect(rejection(event, 's3-exposure')).toBe(
      'GuardDuty finding detail.resource.s3BucketDetails names 2 buckets; triage acts on exactly one',
    );
  });

  it('fails when the bucket name is missing, naming the path', () => {
    const event = without(fixture('guardduty-s3-public'), [
      'detail',
      'resource',
      's3BucketDetails',
      0,
      'name',
    ]);

    expect(rejection(event)).toBe(
      'GuardDuty finding is missing detail.resource.s3BucketDetails[0].name',
    );
  });

  it('reports a GuardDuty S3 finding that is not a policy finding as unhandled', () => {
    const event = withValue(
      fixture('guardduty-s3-public'),
      ['detail', 'type'],
      'Discovery:S3/AnomalousBehavior',
    );

    expect(parseFindingEvent(event)).toMatchObject({ status: 'unhandled' });
    expect(parseFindingEvent(event, 's3-exposure')).toMatchObject({ reason: 'other-playbook' });
  });

  it('normalises a Security Hub AwsS3Bucket data exposure finding', () => {
    expect(findingOf(fixture('securityhub-s3-public'), 's3-exposure')).toMatchObject({
      playbook: 's3-exposure',
      bucket: { name: 'example-reports-bucket' },
    });
  });

  it('does not treat a bucket finding of another kind as an exposure', () => {
    const event = withValue(
      fixture('securityhub-s3-public'),
      ['detail', 'findings', 0, 'Types'],
      ['Unusual Behaviors/Data/Bulk download'],
    );

    expect(parseFindingEvent(event)).toMatchObject({ status: 'unhandled' });
  });

  it('fails when an AwsS3Bucket Id is not a bucket ARN', () => {
    const event = withValue(fixture('securityhub-s3-public'), [...ASFF_RESOURCE, 'Id'], 'bucket');

    expect(rejection(event)).toMatch(/Resources\[0\]\.Id: not an S3 bucket ARN/);
  });

  it('fails closed when one finding names a bucket and a secret', () => {
    const event = withValue(fixture('securityhub-s3-public'), [...ASFF_RESOURCE.slice(0, -1), 1], {
      Type: 'AwsSecretsManagerSecret',
      Id: SECRET_ARN,
    });

    expect(rejection(event, 's3-exposure')).toBe(
      'Security Hub finding detail.findings[0] names 2 secret and S3 bucket resources; triage acts on exactly one',
    );
  });
});

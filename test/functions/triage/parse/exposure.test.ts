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
  if (parsed.status !== 'finding') throw new Error(`expected a finding, got ${parsed.status}`);
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

const FINDING = ['detail', 'findings', 0] as const;

/** The finding as its product filed it: top-level and provider types alike. */
function providerTypes(event: unknown, types: string[]): unknown {
  return withValue(
    withValue(event, [...FINDING, 'Types'], types),
    [...FINDING, 'FindingProviderFields', 'Types'],
    types,
  );
}

/** The bucket finding as a Security Hub control's result. */
function control(id: string, status: string, generator = `security-control/${id}`): unknown {
  let event = providerTypes(fixture('securityhub-s3-public'), [
    'Software and Configuration Checks/Industry and Regulatory Standards/AWS-Foundational-Security-Best-Practices',
  ]);
  event = withValue(event, [...FINDING, 'GeneratorId'], generator);
  event = withValue(
    event,
    [...FINDING, 'ProductArn'],
    'arn:aws:securityhub:us-east-1::product/aws/securityhub',
  );
  return withValue(event, [...FINDING, 'Compliance'], { Status: status, SecurityControlId: id });
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

  it("takes a GuardDuty S3 data-event finding for the caller's credentials, not the bucket", () => {
    let event = withValue(
      fixture('guardduty-s3-public'),
      ['detail', 'type'],
      'Discovery:S3/AnomalousBehavior',
    );
    event = withValue(event, ['detail', 'resource', 'resourceType'], 'S3Bucket');

    expect(findingOf(event)).toMatchObject({
      playbook: 'iam-credentials',
      principal: { kind: 'IAMUser', name: 'compromised-user' },
    });
    expect(parseFindingEvent(event, 's3-exposure')).toMatchObject({ reason: 'other-playbook' });
  });

  it('never takes a Policy:S3 posture change for the credentials of whoever made it', () => {
    // As GuardDuty emits it: resourceType AccessKey, the caller beside the bucket.
    const event = fixture('guardduty-s3-public');

    expect(findingOf(event)).toMatchObject({ playbook: 's3-exposure' });
    expect(parseFindingEvent(event, 'iam-credentials')).toMatchObject({
      status: 'unhandled',
      reason: 'other-playbook',
    });
  });

  it('takes a Policy:S3 finding on a bucket whatever its resource type says', () => {
    const event = withValue(
      fixture('guardduty-s3-public'),
      ['detail', 'resource', 'resourceType'],
      'S3Bucket',
    );

    expect(findingOf(event, 's3-exposure')).toMatchObject({
      bucket: { name: 'example-reports-bucket' },
    });
  });

  it('leaves an account-level Policy:S3 finding, which names no bucket, to no playbook', () => {
    let event = withValue(
      fixture('guardduty-s3-public'),
      ['detail', 'type'],
      'Policy:S3/AccountBlockPublicAccessDisabled',
    );
    event = without(event, ['detail', 'resource', 's3BucketDetails']);

    expect(parseFindingEvent(event)).toMatchObject({
      status: 'unhandled',
      reason: 'unhandled-resource',
    });
    expect(parseFindingEvent(event, 's3-exposure')).toMatchObject({ reason: 'other-playbook' });
    expect(parseFindingEvent(event, 'iam-credentials')).toMatchObject({ reason: 'other-playbook' });
  });

  it('normalises a Security Hub AwsS3Bucket data exposure finding', () => {
    expect(findingOf(fixture('securityhub-s3-public'), 's3-exposure')).toMatchObject({
      playbook: 's3-exposure',
      bucket: { name: 'example-reports-bucket' },
    });
  });

  it('does not treat a bucket finding of another kind as an exposure', () => {
    const event = providerTypes(fixture('securityhub-s3-public'), [
      'Unusual Behaviors/Data/Bulk download',
    ]);

    expect(parseFindingEvent(event)).toMatchObject({ status: 'unhandled' });
  });

  it("does not take a bucket finding someone edited into a data exposure: the provider's types decide", () => {
    const event = withValue(
      providerTypes(fixture('securityhub-s3-public'), ['Unusual Behaviors/Data/Bulk download']),
      [...FINDING, 'Types'],
      ['Effects/Data Exposure/Edited by BatchUpdateFindings'],
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

describe('parseFindingEvent: the public-bucket findings users have', () => {
  it.each(['S3.2', 'S3.3', 'S3.8'])(
    'takes a FAILED control %s on a bucket for s3-exposure',
    (id) => {
      const finding = findingOf(control(id, 'FAILED'), 's3-exposure');

      expect(finding).toMatchObject({
        playbook: 's3-exposure',
        bucket: { name: 'example-reports-bucket' },
      });
    },
  );

  it('reads the control from a per-standard generator id when the finding has no SecurityControlId', () => {
    let event = control('S3.2', 'FAILED', 'aws-foundational-security-best-practices/v/1.0.0/S3.2');
    event = withValue(event, [...FINDING, 'Compliance'], { Status: 'FAILED' });

    expect(findingOf(event)).toMatchObject({ playbook: 's3-exposure' });
  });

  it.each([
    ['S3.2', 'PASSED'],
    ['S3.5', 'FAILED'],
    ['S3.1', 'FAILED'],
  ])('leaves control %s %s alone: not a public bucket to block', (id, status) => {
    expect(parseFindingEvent(control(id, status))).toMatchObject({ status: 'unhandled' });
  });

  it('takes a FAILED S3.19 on an access point for its bucket, and refuses one without the bucket', () => {
    let event = control('S3.19', 'FAILED');
    event = withValue(event, [...ASFF_RESOURCE], {
      Type: 'AwsS3AccessPoint',
      Id: 'arn:aws:s3:us-east-1:123456789012:accesspoint/reports-ap',
      Details: { AwsS3AccessPoint: { Bucket: 'example-reports-bucket', Name: 'reports-ap' } },
    });

    expect(findingOf(event)).toMatchObject({ bucket: { name: 'example-reports-bucket' } });
    expect(rejection(without(event, [...ASFF_RESOURCE, 'Details']))).toMatch(
      /missing detail\.findings\[0\]\.Resources\[0\]\.Details\.AwsS3AccessPoint\.Bucket/,
    );
  });

  it.each([
    [
      'access-analyzer',
      'Software and Configuration Checks/AWS Security Best Practices/External Access Granted',
    ],
    [
      'macie',
      'Software and Configuration Checks/AWS Security Best Practices/Policy:IAMUser-S3BucketPublic',
    ],
  ])('takes %s findings that say the bucket is public', (product, type) => {
    let event = providerTypes(fixture('securityhub-s3-public'), [type]);
    event = withValue(
      event,
      [...FINDING, 'ProductArn'],
      `arn:aws:securityhub:us-east-1::product/aws/${product}`,
    );

    expect(findingOf(event)).toMatchObject({ playbook: 's3-exposure' });
  });

  it("does not take a custom product's finding for Access Analyzer's", () => {
    const event = providerTypes(fixture('securityhub-s3-public'), [
      'Software and Configuration Checks/AWS Security Best Practices/External Access Granted',
    ]);

    expect(parseFindingEvent(event)).toMatchObject({ status: 'unhandled' });
  });
});

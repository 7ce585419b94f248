import { describe, expect, it } from 'vitest';
import { InvalidFindingError } from '../../../../functions/shared/errors.js';
import type { IamFinding, InstanceFinding } from '../../../../functions/triage/parse/finding.js';
import { type Finding, parseFindingEvent } from '../../../../functions/triage/parse/index.js';
import { ASFF_RESOURCE, fixture, valueAt, without, withValue } from '../helpers.js';

const SH_FINDING = ['detail', 'findings', 0] as const;

function findingOf(event: unknown): Finding {
  const parsed = parseFindingEvent(event);
  if (parsed.status !== 'finding') throw new Error(`expected a finding, got ${parsed.status}`);
  return parsed.finding;
}

function iamFindingOf(event: unknown): IamFinding {
  const finding = findingOf(event);
  if (finding.playbook !== 'iam-credentials') throw new Error(`expected an IAM finding`);
  return finding;
}

function instanceFindingOf(event: unknown): InstanceFinding {
  const finding = findingOf(event);
  if (finding.playbook !== 'ec2-instance') throw new Error(`expected an instance finding`);
  return finding;
}

function rejection(event: unknown): string {
  try {
    parseFindingEvent(event);
  } catch (error) {
    if (error instanceof InvalidFindingError) return error.message;
    throw error;
  }
  throw new Error('expected InvalidFindingError');
}

describe('parseFindingEvent: GuardDuty', () => {
  it('normalises an IAM user finding with its long-term key', () => {
    // Act
    const finding = findingOf(fixture('guardduty-iam-user'));

    // Assert
    expect(finding).toEqual({
      playbook: 'iam-credentials',
      source: 'guardduty',
      findingId: 'a2c6f1e3b8d94f0e9c7b5a4d3e2f1a01',
      findingType: 'UnauthorizedAccess:IAMUser/MaliciousIPCaller',
      updatedAt: '2024-05-14T09:31:27.405Z',
      severity: 8,
      severityLabel: 'HIGH',
      account: '123456789012',
      envelopeAccount: '123456789012',
      region: 'us-east-1',
      partition: 'aws',
      sample: false,
      archived: false,
      detectorId: '12abc34d567e8fa901bc2d34e56789f0',
      principal: {
        kind: 'IAMUser',
        name: 'compromised-user',
        principalId: 'AIDAEXAMPLEUSERID0001',
        accessKeyId: 'AKIAIOSFODNN7EXAMPLE',
      },
    });
  });

  it('normalises an assumed-role finding, naming the role', () => {
    const finding = iamFindingOf(fixture('guardduty-assumed-role'));

    expect(finding.principal).toEqual({
      kind: 'AssumedRole',
      name: 'exfiltrated-role',
      principalId: 'AROAEXAMPLEROLEID0001:i-0abc',
      accessKeyId: 'ASIAEXAMPLETEMPKEY01',
    });
  });

  it('normalises a root finding without a name', () => {
    const finding = iamFindingOf(fixture('guardduty-root'));

    expect(finding.principal.kind).toBe('Root');
    expect(finding.principal.name).toBeUndefined();
  });

  it('marks sample findings, whether sample is a boolean or the string "true"', () => {
    const asString = withValue(
      fixture('guardduty-sample'),
      ['detail', 'service', 'additionalInfo', 'sample'],
      'true',
    );

    expect(findingOf(fixture('guardduty-sample')).sample).toBe(true);
    expect(findingOf(asString).sample).toBe(true);
  });

  it.each([
    [9, 'CRITICAL'],
    [10, 'CRITICAL'],
    [8.9, 'HIGH'],
    [7, 'HIGH'],
    [6.9, 'MEDIUM'],
    [4, 'MEDIUM'],
    [3.9, 'LOW'],
    [1, 'LOW'],
    [0.5, 'INFORMATIONAL'],
  ])('labels GuardDuty severity %s as %s', (severity, label) => {
    const event = withValue(fixture('guardduty-iam-user'), ['detail', 'severity'], severity);

    expect(findingOf(event).severityLabel).toBe(label);
  });

  it('derives the partition from the region', () => {
    const cn = withValue(fixture('guardduty-iam-user'), ['detail', 'region'], 'cn-north-1');
    const gov = withValue(fixture('guardduty-iam-user'), ['detail', 'region'], 'us-gov-west-1');

    expect(findingOf(cn).partition).toBe('aws-cn');
    expect(findingOf(gov).partition).toBe('aws-us-gov');
  });

  it.each([
    [['detail', 'resource'], 'GuardDuty finding is missing detail.resource'],
    [['detail', 'id'], 'GuardDuty finding is missing detail.id'],
    [['detail', 'updatedAt'], 'GuardDuty finding is missing detail.updatedAt'],
    [['detail', 'severity'], 'GuardDuty finding is missing detail.severity'],
    [['detail', 'accountId'], 'GuardDuty finding is missing detail.accountId'],
    [['detail', 'service'], 'GuardDuty finding is missing detail.service'],
    [
      ['detail', 'resource', 'accessKeyDetails'],
      'GuardDuty finding is missing detail.resource.accessKeyDetails',
    ],
    [
      ['detail', 'resource', 'accessKeyDetails', 'userType'],
      'GuardDuty finding is missing detail.resource.accessKeyDetails.userType',
    ],
    [['account'], 'GuardDuty finding is missing account'],
    [['detail'], 'GuardDuty finding is missing detail'],
  ])('fails when %j is missing, naming the path', (path, message) => {
    const event = without(fixture('guardduty-iam-user'), path);

    expect(rejection(event)).toBe(message);
  });

  it('fails on the fixture with no resource', () => {
    expect(rejection(fixture('guardduty-missing-resource'))).toBe(
      'GuardDuty finding is missing detail.resource',
    );
  });

  it.each([
    [['detail', 'severity'], '8', 'detail.severity'],
    [['detail', 'severity'], 11, 'detail.severity'],
    [['detail', 'accountId'], '12345', 'detail.accountId'],
    [['detail', 'region'], 'us-east-1; drop', 'detail.region'],
    [['detail', 'id'], 'x'.repeat(513), 'detail.id'],
    [
      ['detail', 'service', 'additionalInfo', 'sample'],
      { yes: true },
      'detail.service.additionalInfo.sample',
    ],
    [
      ['detail', 'resource', 'accessKeyDetails', 'userName'],
      'bad name/with slash',
      'detail.resource.accessKeyDetails.userName',
    ],
  ])('fails when %j is mangled (%j), naming the path', (path, value, where) => {
    const event = withValue(fixture('guardduty-iam-user'), path, value);

    expect(rejection(event)).toMatch(
      new RegExp(`^GuardDuty finding has an invalid ${where.replaceAll('.', '\\.')}`),
    );
  });

  it('accepts unknown fields at every level', () => {
    let event = withValue(fixture('guardduty-iam-user'), ['newEnvelopeField'], 1);
    event = withValue(event, ['detail', 'newDetailField'], { nested: [1, 2] });
    event = withValue(event, ['detail', 'resource', 'newResourceField'], 'x');
    event = withValue(event, ['detail', 'resource', 'accessKeyDetails', 'newKeyField'], true);
    event = withValue(event, ['detail', 'service', 'newServiceField'], null);
    event = withValue(event, ['detail', 'service', 'additionalInfo', 'newInfo'], 'y');

    expect(findingOf(event).findingId).toBe('a2c6f1e3b8d94f0e9c7b5a4d3e2f1a01');
  });

  it('reports a resource type no playbook handles as unhandled, not invalid', () => {
    const event = withValue(fixture('guardduty-iam-user'), ['detail', 'resource'], {
      resourceType: 'S3Bucket',
      s3BucketDetails: [{ name: 'example-bucket' }],
    });

    expect(parseFindingEvent(event)).toMatchObject({
      status: 'unhandled',
      reason: 'unhandled-resource',
    });
  });

  it('reports a principal type Cordon does not contain as unhandled', () => {
    const event = withValue(
      fixture('guardduty-iam-user'),
      ['detail', 'resource', 'accessKeyDetails', 'userType'],
      'FederatedUser',
    );

    expect(parseFindingEvent(event)).toMatchObject({
      status: 'unhandled',
      reason: 'unhandled-resource',
    });
  });
});

describe('parseFindingEvent: Security Hub', () => {
  it('normalises an AwsIamAccessKey finding', () => {
    const finding = findingOf(fixture('securityhub-iam-access-key'));

    expect(finding).toEqual({
      playbook: 'iam-credentials',
      source: 'securityhub',
      findingId: 'us-east-1/123456789012/credential-scanner/leaked-key/AKIAIOSFODNN7EXAMPLE',
      findingType: 'TTPs/Credential Access/Leaked Access Key',
      productArn: 'arn:aws:securityhub:us-east-1:123456789012:product/123456789012/default',
      updatedAt: '2024-05-14T10:05:31.118Z',
      severity: 7,
      severityLabel: 'HIGH',
      account: '123456789012',
      envelopeAccount: '123456789012',
      region: 'us-east-1',
      partition: 'aws',
      sample: false,
      archived: false,
      securityHub: {
        productName: 'Default',
        workflowStatus: 'NEW',
        recordState: 'ACTIVE',
        types: ['TTPs/Credential Access/Leaked Access Key'],
      },
      principal: {
        kind: 'IAMUser',
        name: 'compromised-user',
        principalId: 'AIDAEXAMPLEUSERID0001',
        accessKeyId: 'AKIAIOSFODNN7EXAMPLE',
      },
    });
  });

  it('reads the user from UserName on older access key findings', () => {
    const event = withValue(fixture('securityhub-iam-access-key'), [...ASFF_RESOURCE, 'Details'], {
      AwsIamAccessKey: { UserName: 'compromised-user', Status: 'Active' },
    });

    expect(iamFindingOf(event).principal).toEqual({
      kind: 'IAMUser',
      name: 'compromised-user',
      accessKeyId: 'AKIAIOSFODNN7EXAMPLE',
    });
  });

  it('normalises an AwsIamUser finding from its ARN', () => {
    const event = withValue(fixture('securityhub-iam-access-key'), [...ASFF_RESOURCE], {
      Type: 'AwsIamUser',
      Id: 'arn:aws:iam::123456789012:user/staff/compromised-user',
      Partition: 'aws',
      Region: 'us-east-1',
      Details: {
        AwsIamUser: {
          UserName: 'compromised-user',
          UserId: 'AIDAEXAMPLEUSERID0001',
          Path: '/staff/',
        },
      },
    });

    expect(iamFindingOf(event).principal).toEqual({
      kind: 'IAMUser',
      name: 'compromised-user',
      arn: 'arn:aws:iam::123456789012:user/staff/compromised-user',
      principalId: 'AIDAEXAMPLEUSERID0001',
    });
  });

  it('normalises an AwsIamRole finding as an assumed role', () => {
    const event = withValue(fixture('securityhub-iam-access-key'), [...ASFF_RESOURCE], {
      Type: 'AwsIamRole',
      Id: 'arn:aws:iam::123456789012:role/app/exfiltrated-role',
      Details: { AwsIamRole: { RoleName: 'exfiltrated-role', RoleId: 'AROAEXAMPLEROLEID0001' } },
    });

    expect(iamFindingOf(event).principal).toEqual({
      kind: 'AssumedRole',
      name: 'exfiltrated-role',
      arn: 'arn:aws:iam::123456789012:role/app/exfiltrated-role',
      principalId: 'AROAEXAMPLEROLEID0001',
    });
  });

  it('fails when Details name a different user than the resource ARN', () => {
    const event = withValue(fixture('securityhub-iam-access-key'), [...ASFF_RESOURCE], {
      Type: 'AwsIamUser',
      Id: 'arn:aws:iam::123456789012:user/compromised-user',
      Details: { AwsIamUser: { UserName: 'someone-else' } },
    });

    expect(rejection(event)).toMatch(/names a different user/);
  });

  it('fails when an AwsIamRole resource id is not a role ARN', () => {
    const event = withValue(fixture('securityhub-iam-access-key'), [...ASFF_RESOURCE], {
      Type: 'AwsIamRole',
      Id: 'arn:aws:iam::123456789012:user/compromised-user',
    });

    expect(rejection(event)).toBe(
      'Security Hub finding has an invalid detail.findings[0].Resources[0].Id: not an IAM role ARN',
    );
  });

  it('scores from Normalized when present and from the label otherwise', () => {
    const base = fixture('securityhub-iam-access-key');
    const asProduct = (severity: Record<string, unknown>) =>
      withValue(
        withValue(base, [...SH_FINDING, 'Severity'], severity),
        [...SH_FINDING, 'FindingProviderFields', 'Severity'],
        { Label: severity.Label },
      );
    const normalized = asProduct({ Label: 'CRITICAL', Normalized: 95 });
    const labelOnly = asProduct({ Label: 'MEDIUM' });

    expect(findingOf(normalized).severity).toBe(9.5);
    expect(findingOf(labelOnly).severity).toBe(4);
  });

  it("decides on the provider's severity and types, not the top-level ones anyone may edit", () => {
    // BatchUpdateFindings raised the top level; only the product sets FindingProviderFields.
    let event = withValue(fixture('securityhub-iam-access-key'), [...SH_FINDING, 'Severity'], {
      Label: 'CRITICAL',
      Normalized: 99,
    });
    event = withValue(
      event,
      [...SH_FINDING, 'Types'],
      ['TTPs/Credential Access/Leaked Access Key', 'TTPs/Initial Access/Added by someone'],
    );
    const finding = findingOf(event);

    expect(finding.severityLabel).toBe('HIGH');
    expect(finding.severity).toBe(7);
    expect(finding.securityHub?.types).toEqual(['TTPs/Credential Access/Leaked Access Key']);
    expect(finding.securityHub?.edited).toBe(
      "its severity was raised from the provider's HIGH to CRITICAL; its types were edited (TTPs/Initial Access/Added by someone added) after import",
    );
  });

  it('says a finding without provider fields cannot be told from edits, and reads its top level', () => {
    const event = without(fixture('securityhub-iam-access-key'), [
      ...SH_FINDING,
      'FindingProviderFields',
    ]);
    const finding = findingOf(event);

    expect(finding.severityLabel).toBe('HIGH');
    expect(finding.securityHub?.edited).toMatch(/no FindingProviderFields/);
  });

  it('says provider fields without a severity or types leave the top level to be edited', () => {
    const event = without(fixture('securityhub-iam-access-key'), [
      ...SH_FINDING,
      'FindingProviderFields',
      'Types',
    ]);

    expect(findingOf(event).securityHub?.edited).toBe('the provider fields give no types');
  });

  it('lowering the top-level severity is no edit that holds a finding back', () => {
    const event = withValue(fixture('securityhub-iam-access-key'), [...SH_FINDING, 'Severity'], {
      Label: 'LOW',
      Normalized: 10,
    });
    const finding = findingOf(event);

    expect(finding.severityLabel).toBe('HIGH');
    expect(finding.securityHub?.edited).toBeUndefined();
  });

  it.each([
    [95, 'CRITICAL'],
    [90, 'CRITICAL'],
    [89, 'HIGH'],
    [70, 'HIGH'],
    [69, 'MEDIUM'],
    [40, 'MEDIUM'],
    [39, 'LOW'],
    [1, 'LOW'],
    [0, 'INFORMATIONAL'],
  ])(
    'derives the label of Normalized %d as %s, by the ASFF table, when the finding gives no label',
    (normalized, label) => {
      let event = withValue(fixture('securityhub-iam-access-key'), [...SH_FINDING, 'Severity'], {
        Normalized: normalized,
      });
      event = without(event, [...SH_FINDING, 'FindingProviderFields', 'Severity']);

      expect(findingOf(event).severityLabel).toBe(label);
    },
  );

  it('refuses a finding with neither a severity label nor Normalized, naming the path', () => {
    let event = withValue(fixture('securityhub-iam-access-key'), [...SH_FINDING, 'Severity'], {});
    event = without(event, [...SH_FINDING, 'FindingProviderFields']);

    expect(rejection(event)).toBe(
      'Security Hub finding is missing detail.findings[0].Severity.Label (and Normalized, to derive it from)',
    );
  });

  it('takes the region from the resource, then the event, when the finding has none', () => {
    const noRegion = without(fixture('securityhub-iam-access-key'), [...SH_FINDING, 'Region']);
    const fromResource = withValue(noRegion, [...ASFF_RESOURCE, 'Region'], 'eu-west-1');
    const fromEvent = without(withValue(noRegion, ['region'], 'eu-central-1'), [
      ...ASFF_RESOURCE,
      'Region',
    ]);
    const nowhere = without(without(noRegion, ['region']), [...ASFF_RESOURCE, 'Region']);

    expect(findingOf(fromResource).region).toBe('eu-west-1');
    expect(findingOf(fromEvent).region).toBe('eu-central-1');
    expect(rejection(nowhere)).toBe(
      'Security Hub finding is missing detail.findings[0].Region, and neither its resource nor the event names one',
    );
  });

  it.each([
    [undefined, undefined, 'NEW'],
    [undefined, 'NEW', 'NEW'],
    [undefined, 'DEFERRED', 'SUPPRESSED'],
    [undefined, 'RESOLVED', 'RESOLVED'],
    [undefined, 'IN_PROGRESS', 'NOTIFIED'],
    [{ Status: 'NOTIFIED' }, 'NEW', 'NOTIFIED'],
  ])('reads the workflow %j, else WorkflowState %s, as %s', (workflow, state, status) => {
    let event = without(fixture('securityhub-iam-access-key'), [...SH_FINDING, 'Workflow']);
    if (workflow !== undefined) event = withValue(event, [...SH_FINDING, 'Workflow'], workflow);
    if (state !== undefined) event = withValue(event, [...SH_FINDING, 'WorkflowState'], state);

    expect(findingOf(event).securityHub?.workflowStatus).toBe(status);
  });

  it('reads a finding without RecordState as active, as Security Hub sets it on import', () => {
    const event = without(fixture('securityhub-iam-access-key'), [...SH_FINDING, 'RecordState']);

    expect(findingOf(event).securityHub?.recordState).toBe('ACTIVE');
  });

  it.each([
    ['AIDAEXAMPLEUSERID0001', 'AKIAIOSFODNN7EXAMPLE', 'IAMUser'],
    ['AROAEXAMPLEROLEID0001:session', 'ASIAEXAMPLETEMPKEY01', 'AssumedRole'],
  ])('derives a missing PrincipalType from the principal id %s', (principalId, key, kind) => {
    let event = without(fixture('securityhub-iam-access-key'), [
      ...ASFF_RESOURCE,
      'Details',
      'AwsIamAccessKey',
      'PrincipalType',
    ]);
    event = withValue(
      event,
      [...ASFF_RESOURCE, 'Details', 'AwsIamAccessKey', 'PrincipalId'],
      principalId,
    );
    event = withValue(event, [...ASFF_RESOURCE, 'Details', 'AwsIamAccessKey', 'AccessKeyId'], key);

    expect(iamFindingOf(event).principal.kind).toBe(kind);
  });

  it('never takes a temporary key (ASIA...) without a principal type for a user to contain', () => {
    let event = without(fixture('securityhub-iam-access-key'), [
      ...ASFF_RESOURCE,
      'Details',
      'AwsIamAccessKey',
    ]);
    // The oldest form: only UserName, which would otherwise mean an IAM user.
    event = withValue(event, [...ASFF_RESOURCE, 'Details', 'AwsIamAccessKey'], {
      UserName: 'compromised-user',
      AccessKeyId: 'ASIAEXAMPLETEMPKEY01',
    });

    expect(parseFindingEvent(event)).toMatchObject({
      status: 'unhandled',
      reason: 'unhandled-resource',
      message: expect.stringMatching(/PrincipalType is missing/),
    });
  });

  it('takes the partition from the product ARN', () => {
    const event = withValue(
      fixture('securityhub-iam-access-key'),
      ['detail', 'findings', 0, 'ProductArn'],
      'arn:aws-us-gov:securityhub:us-east-1:123456789012:product/123456789012/default',
    );

    expect(findingOf(event).partition).toBe('aws-us-gov');
  });

  it('picks the one IAM finding among findings on resources Cordon does not contain', () => {
    const base = fixture('securityhub-iam-access-key');
    const s3Finding = withValue(
      withValue(base, [...ASFF_RESOURCE], {
        Type: 'AwsS3Bucket',
        Id: 'arn:aws:s3:::example-bucket',
      }),
      ['detail', 'findings', 0, 'Id'],
      's3-finding',
    );
    const findings = [valueOfFinding(s3Finding), valueOfFinding(base)];
    const event = withValue(base, ['detail', 'findings'], findings);

    expect(findingOf(event).findingId).toBe(
      'us-east-1/123456789012/credential-scanner/leaked-key/AKIAIOSFODNN7EXAMPLE',
    );
  });

  it('fails closed when an event carries two IAM findings', () => {
    const base = fixture('securityhub-iam-access-key');
    const event = withValue(
      base,
      ['detail', 'findings'],
      [valueOfFinding(base), valueOfFinding(base)],
    );

    expect(rejection(event)).toBe(
      'Security Hub event carries 2 IAM findings; triage acts on exactly one per event',
    );
  });

  it('fails closed when one finding names two IAM resources', () => {
    const base = fixture('securityhub-iam-access-key');
    const resource = valueOfResource(base);
    const event = withValue(
      base,
      ['detail', 'findings', 0, 'Resources'],
      [resource, { Type: 'AwsIamUser', Id: 'arn:aws:iam::123456789012:user/compromised-user' }],
    );

    expect(rejection(event)).toMatch(/names 2 IAM resources; triage acts on exactly one$/);
  });

  it('reports an access key principal type Cordon does not contain as unhandled, naming it', () => {
    const event = withValue(
      fixture('securityhub-iam-access-key'),
      [...ASFF_RESOURCE, 'Details', 'AwsIamAccessKey', 'PrincipalType'],
      'FederatedUser',
    );

    expect(parseFindingEvent(event)).toMatchObject({
      status: 'unhandled',
      reason: 'unhandled-resource',
      message: 'Cordon does not contain Security Hub access key principal type FederatedUser',
    });
  });

  it('reports an event with no IAM finding as unhandled', () => {
    const event = withValue(fixture('securityhub-iam-access-key'), [...ASFF_RESOURCE], {
      Type: 'AwsS3Bucket',
      Id: 'arn:aws:s3:::example-bucket',
    });

    expect(parseFindingEvent(event)).toMatchObject({
      status: 'unhandled',
      reason: 'unhandled-resource',
    });
  });

  it.each([
    [['detail', 'findings'], 'Security Hub finding is missing detail.findings'],
    [
      ['detail', 'findings', 0, 'Resources'],
      'Security Hub finding is missing detail.findings[0].Resources',
    ],
    [
      ['detail', 'findings', 0, 'AwsAccountId'],
      'Security Hub finding is missing detail.findings[0].AwsAccountId',
    ],
    [
      ['detail', 'findings', 0, 'UpdatedAt'],
      'Security Hub finding is missing detail.findings[0].UpdatedAt',
    ],
    [
      [...ASFF_RESOURCE, 'Details'],
      'Security Hub finding is missing detail.findings[0].Resources[0].Details.AwsIamAccessKey',
    ],
  ])('fails when %j is missing, naming the path', (path, message) => {
    const event = without(fixture('securityhub-iam-access-key'), path);

    expect(rejection(event)).toBe(message);
  });

  it('fails when an IAM Details field is mangled, naming the path', () => {
    const event = withValue(
      fixture('securityhub-iam-access-key'),
      [...ASFF_RESOURCE, 'Details', 'AwsIamAccessKey', 'PrincipalName'],
      42,
    );

    expect(rejection(event)).toMatch(
      /^Security Hub finding has an invalid detail\.findings\[0\]\.Resources\[0\]\.Details\.AwsIamAccessKey\.PrincipalName/,
    );
  });

  it('accepts unknown fields at every level', () => {
    let event = withValue(fixture('securityhub-iam-access-key'), ['newEnvelopeField'], 1);
    event = withValue(event, ['detail', 'newDetailField'], 'x');
    event = withValue(event, ['detail', 'findings', 0, 'NewAsffField'], { a: 1 });
    event = withValue(event, ['detail', 'findings', 0, 'Severity', 'NewSeverityField'], 2);
    event = withValue(event, ['detail', 'findings', 0, 'Workflow', 'NewWorkflowField'], 3);
    event = withValue(event, [...ASFF_RESOURCE, 'NewResourceField'], []);
    event = withValue(event, [...ASFF_RESOURCE, 'Details', 'AwsIamAccessKey', 'SessionContext'], {
      x: 1,
    });

    expect(iamFindingOf(event).principal.name).toBe('compromised-user');
  });
});

const GD_INSTANCE = ['detail', 'resource', 'instanceDetails'] as const;

describe('parseFindingEvent: GuardDuty EC2 instance', () => {
  it('normalises an Instance finding for the ec2-instance playbook', () => {
    const finding = findingOf(fixture('guardduty-ec2-instance'));

    expect(finding).toEqual({
      playbook: 'ec2-instance',
      source: 'guardduty',
      findingId: 'c4e8b3a5d0f16b2a9e7d5c4b3f2a1c03',
      findingType: 'CryptoCurrency:EC2/BitcoinTool.B!DNS',
      updatedAt: '2024-05-14T11:12:08.117Z',
      severity: 8,
      severityLabel: 'HIGH',
      account: '123456789012',
      envelopeAccount: '123456789012',
      region: 'us-east-1',
      partition: 'aws',
      sample: false,
      archived: false,
      detectorId: '12abc34d567e8fa901bc2d34e56789f0',
      instance: { instanceId: 'i-0abc123def4567890', resourceRole: 'ACTOR' },
    });
  });

  it('reads the TARGET resource role', () => {
    expect(instanceFindingOf(fixture('guardduty-ec2-target')).instance).toEqual({
      instanceId: 'i-0abc123def4567890',
      resourceRole: 'TARGET',
    });
  });

  it('leaves the resource role out when the finding has none', () => {
    const event = without(fixture('guardduty-ec2-instance'), ['detail', 'service', 'resourceRole']);

    expect(instanceFindingOf(event).instance).toEqual({ instanceId: 'i-0abc123def4567890' });
  });

  it('accepts unknown fields at every level of an instance finding', () => {
    let event = withValue(fixture('guardduty-ec2-instance'), ['newEnvelopeField'], 1);
    event = withValue(event, ['detail', 'newDetailField'], { nested: [1, 2] });
    event = withValue(event, ['detail', 'resource', 'newResourceField'], 'x');
    event = withValue(event, [...GD_INSTANCE, 'newInstanceField'], { a: [true] });
    event = withValue(event, [...GD_INSTANCE, 'iamInstanceProfile', 'newProfileField'], 2);
    event = withValue(event, ['detail', 'service', 'newServiceField'], null);

    expect(instanceFindingOf(event).instance.instanceId).toBe('i-0abc123def4567890');
  });

  it.each([
    [[...GD_INSTANCE], 'GuardDuty finding is missing detail.resource.instanceDetails'],
    [
      [...GD_INSTANCE, 'instanceId'],
      'GuardDuty finding is missing detail.resource.instanceDetails.instanceId',
    ],
  ])('fails when %j is missing, naming the path', (path, message) => {
    const event = without(fixture('guardduty-ec2-instance'), path);

    expect(rejection(event)).toBe(message);
  });

  it.each([
    ['i-xyz', 'detail.resource.instanceDetails.instanceId'],
    ['i-0abc123def4567890; rm', 'detail.resource.instanceDetails.instanceId'],
    [42, 'detail.resource.instanceDetails.instanceId'],
  ])('fails when the instance id is mangled (%j), naming the path', (value, where) => {
    const event = withValue(
      fixture('guardduty-ec2-instance'),
      [...GD_INSTANCE, 'instanceId'],
      value,
    );

    expect(rejection(event)).toMatch(
      new RegExp(`^GuardDuty finding has an invalid ${where.replaceAll('.', '\\.')}`),
    );
  });

  it('fails when the resource role is not text, naming the path', () => {
    const event = withValue(
      fixture('guardduty-ec2-instance'),
      ['detail', 'service', 'resourceRole'],
      { role: 'ACTOR' },
    );

    expect(rejection(event)).toMatch(
      /^GuardDuty finding has an invalid detail\.service\.resourceRole/,
    );
  });

  it('ignores instanceDetails and resourceRole on an AccessKey finding', () => {
    let event = withValue(fixture('guardduty-assumed-role'), [...GD_INSTANCE], { instanceId: 7 });
    event = withValue(event, ['detail', 'service', 'resourceRole'], 42);

    expect(iamFindingOf(event).principal.name).toBe('exfiltrated-role');
  });
});

describe('parseFindingEvent: Security Hub EC2 instance', () => {
  it('normalises an AwsEc2Instance finding, taking the instance id from its ARN', () => {
    const finding = findingOf(fixture('securityhub-ec2-instance'));

    expect(finding).toEqual({
      playbook: 'ec2-instance',
      source: 'securityhub',
      findingId: 'us-east-1/123456789012/edr/c2-beacon/i-0abc123def4567890',
      findingType: 'TTPs/Command and Control/Beaconing to a known C2 server',
      productArn: 'arn:aws:securityhub:us-east-1:123456789012:product/123456789012/default',
      updatedAt: '2024-05-14T12:03:07.244Z',
      severity: 8,
      severityLabel: 'HIGH',
      account: '123456789012',
      envelopeAccount: '123456789012',
      region: 'us-east-1',
      partition: 'aws',
      sample: false,
      archived: false,
      securityHub: {
        productName: 'Default',
        workflowStatus: 'NEW',
        recordState: 'ACTIVE',
        types: ['TTPs/Command and Control/Beaconing to a known C2 server'],
      },
      instance: {
        instanceId: 'i-0abc123def4567890',
        arn: 'arn:aws:ec2:us-east-1:123456789012:instance/i-0abc123def4567890',
      },
    });
  });

  it('accepts unknown fields on an AwsEc2Instance resource and its details', () => {
    let event = withValue(fixture('securityhub-ec2-instance'), [...ASFF_RESOURCE, 'NewField'], 1);
    event = withValue(event, [...ASFF_RESOURCE, 'Details', 'AwsEc2Instance', 'NewDetail'], [2]);
    event = withValue(event, ['detail', 'findings', 0, 'NewFindingField'], { x: 3 });

    expect(instanceFindingOf(event).instance.instanceId).toBe('i-0abc123def4567890');
  });

  it.each([
    ['i-0abc123def4567890'],
    ['arn:aws:ec2:us-east-1:123456789012:volume/vol-0abc123def4567890'],
    ['arn:aws:ec2:us-east-1:123456789012:instance/i-nothex'],
    ['arn:aws:ec2:us-east-1:12345:instance/i-0abc123def4567890'],
    ['arn:aws:ec2:us-east-1:123456789012:instance/i-0abc123def4567890/extra'],
  ])('fails when the instance ARN is mangled (%j), naming the path', (id) => {
    const event = withValue(fixture('securityhub-ec2-instance'), [...ASFF_RESOURCE, 'Id'], id);

    expect(rejection(event)).toBe(
      'Security Hub finding has an invalid detail.findings[0].Resources[0].Id: not an EC2 instance ARN (arn:<partition>:ec2:<region>:<account>:instance/i-...)',
    );
  });

  it('fails closed when one finding names an IAM role and an instance', () => {
    const base = fixture('securityhub-ec2-instance');
    const event = withValue(
      base,
      ['detail', 'findings', 0, 'Resources'],
      [
        valueOfResource(base),
        { Type: 'AwsIamRole', Id: 'arn:aws:iam::123456789012:role/app/web-app-role' },
      ],
    );

    expect(rejection(event)).toBe(
      'Security Hub finding detail.findings[0] names 2 IAM and EC2 instance resources; triage acts on exactly one',
    );
  });

  it('fails closed when an event carries an IAM finding and an instance finding', () => {
    const event = withValue(
      fixture('securityhub-iam-access-key'),
      ['detail', 'findings'],
      [
        valueOfFinding(fixture('securityhub-iam-access-key')),
        valueOfFinding(fixture('securityhub-ec2-instance')),
      ],
    );

    expect(rejection(event)).toBe(
      'Security Hub event carries 2 IAM and EC2 instance findings; triage acts on exactly one per event',
    );
  });

  it('fails closed when an event carries two instance findings', () => {
    const base = fixture('securityhub-ec2-instance');
    const event = withValue(
      base,
      ['detail', 'findings'],
      [valueOfFinding(base), valueOfFinding(base)],
    );

    expect(rejection(event)).toBe(
      'Security Hub event carries 2 EC2 instance findings; triage acts on exactly one per event',
    );
  });

  it('picks the instance finding among findings on resources Cordon does not contain', () => {
    const base = fixture('securityhub-ec2-instance');
    const s3 = withValue(base, [...ASFF_RESOURCE], { Type: 'AwsS3Bucket', Id: 'arn:aws:s3:::b' });
    const event = withValue(
      base,
      ['detail', 'findings'],
      [valueOfFinding(s3), valueOfFinding(base)],
    );

    expect(instanceFindingOf(event).instance.instanceId).toBe('i-0abc123def4567890');
  });
});

describe('parseFindingEvent: other events', () => {
  it('reports another source as unhandled without throwing', () => {
    expect(parseFindingEvent(fixture('unrelated-event'))).toEqual({
      status: 'unhandled',
      reason: 'unhandled-source',
      source: 'aws.ec2',
      message:
        'unhandled source aws.ec2: Cordon acts on aws.guardduty and aws.securityhub findings',
    });
  });

  it('reports another detail-type of a handled source as unhandled', () => {
    const event = withValue(
      fixture('securityhub-iam-access-key'),
      ['detail-type'],
      'Security Hub Findings - Custom Action',
    );

    expect(parseFindingEvent(event)).toMatchObject({
      status: 'unhandled',
      reason: 'unhandled-detail-type',
    });
  });

  it.each([
    [null, 'event is not an EventBridge event: expected a JSON object'],
    [[1, 2], 'event is not an EventBridge event: expected a JSON object'],
    ['aws.guardduty', 'event is not an EventBridge event: expected a JSON object'],
    [{ detail: {} }, 'event is not an EventBridge event: missing source'],
    [{ source: 'aws.guardduty', detail: {} }, 'event from aws.guardduty is missing detail-type'],
  ])('fails on %j', (event, message) => {
    expect(rejection(event)).toBe(message);
  });
});

function valueOfFinding(event: unknown): unknown {
  return structuredClone(valueAt(event, ['detail', 'findings', 0]));
}

function valueOfResource(event: unknown): unknown {
  return structuredClone(valueAt(event, ASFF_RESOURCE));
}

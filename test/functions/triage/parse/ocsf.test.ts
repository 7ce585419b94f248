/**
 * Security Hub's OCSF form ("Findings Imported V2", one finding per event),
 * parsed as triage and `cordon rehearse` parse it. The events are the
 * published findings of test/fixtures/real (SOURCES.md), changed here only
 * where a test says so. Parsing calls no AWS API; the V2 APIs (which no
 * emulator serves) are covered with client mocks in source.test.ts and
 * update-finding's core.test.ts, and by the rehearsal's stand-in in the
 * state-machine tests.
 */
import { describe, expect, it } from 'vitest';
import { deciderFor } from '../../../../functions/triage/deciders/index.js';
import { findingRefusal } from '../../../../functions/triage/guards/finding.js';
import { incidentIdOf, parseFindingEvent } from '../../../../functions/triage/parse/index.js';
import {
  ACCOUNT,
  config,
  OCSF,
  ocsfBucketControl,
  ocsfEvent,
  PUBLIC_BUCKET,
  realEvent,
  valueAt,
  without,
  withValue,
} from '../helpers.js';

function findingOf(event: unknown) {
  const parsed = parseFindingEvent(event);
  if (parsed.status !== 'finding') throw new Error(`not a finding: ${parsed.status}`);
  return parsed.finding;
}

function rejection(event: unknown): string {
  try {
    parseFindingEvent(event);
  } catch (error) {
    return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
  }
  throw new Error('expected the event to be refused');
}

const runtime = config({ homeAccount: ACCOUNT, allowedRegions: ['us-east-1'] });
const refusal = (event: unknown) => {
  const finding = findingOf(event);
  return findingRefusal(finding, runtime, deciderFor(finding));
};

describe('Security Hub OCSF findings', () => {
  it('reads a detection on an access key as iam-credentials: the principal, its key, the provider and identity', () => {
    const finding = findingOf(ocsfEvent());

    expect(finding).toMatchObject({
      playbook: 'iam-credentials',
      source: 'securityhub',
      findingId:
        'arn:aws:guardduty:us-east-1:869728294630:detector/b4c71b47fb852d3fc0e99a82fa2841aa/finding/06c95f0cfdfd3b579b977e20e9da1aa4',
      findingType: 'Stealth:IAMUser/CloudTrailLoggingDisabled',
      productArn: 'arn:aws:securityhub:us-east-1::productv2/aws/securityhub',
      updatedAt: '2025-07-22T03:02:34.272Z',
      severityLabel: 'HIGH',
      account: ACCOUNT,
      region: 'us-east-1',
      principal: {
        kind: 'IAMUser',
        name: 'alice',
        principalId: 'AIDAEXAMPLEUSERID0001',
        accessKeyId: 'AKIAIOSFODNN7EXAMPLE',
      },
      securityHub: { format: 'ocsf', workflowStatus: 'NEW', recordState: 'ACTIVE' },
    });
    expect(refusal(ocsfEvent())).toBeUndefined();
  });

  it('leaves GuardDuty findings to the GuardDuty rule, as published and even when New and High', () => {
    const published = realEvent(
      'securityhub-v2-guardduty-stealth-iam-user-cloudtrail-logging-disabled',
    );
    const newAndHigh = withValue(
      withValue(
        withValue(published, [...OCSF, 'status_id'], 1),
        [...OCSF, 'vendor_attributes', 'severity_id'],
        4,
      ),
      [...OCSF, 'severity_id'],
      4,
    );

    for (const event of [published, newAndHigh]) {
      expect(parseFindingEvent(event)).toMatchObject({
        status: 'unhandled',
        reason: 'guardduty-through-security-hub',
      });
    }
  });

  it('a published control result other than a public-bucket control is no finding to act on', () => {
    expect(parseFindingEvent(realEvent('securityhub-v2-control-sqs-1'))).toMatchObject({
      status: 'unhandled',
      reason: 'unhandled-resource',
    });
  });

  it('a public-bucket control failing on a bucket is s3-exposure; the same control passing is nothing', () => {
    const sqs = realEvent('securityhub-v2-control-sqs-1');
    const s3 = withValue(
      withValue(
        withValue(sqs, [...OCSF, 'compliance', 'control'], 'S3.8'),
        [...OCSF, 'resources', 0, 'type'],
        'AWS::S3::Bucket',
      ),
      [...OCSF, 'resources', 0, 'uid'],
      'arn:aws:s3:::example-public-bucket',
    );
    const passed = withValue(s3, [...OCSF, 'compliance', 'status_id'], 1);

    expect(findingOf(s3)).toMatchObject({
      playbook: 's3-exposure',
      bucket: { name: 'example-public-bucket' },
    });
    expect(parseFindingEvent(passed)).toMatchObject({ reason: 'unhandled-resource' });
  });

  it('a control result on an instance or a key is a setting, never a compromise to contain', () => {
    const control = withValue(ocsfEvent(), [...OCSF, 'class_uid'], 2003);

    expect(parseFindingEvent(control)).toMatchObject({ reason: 'unhandled-resource' });
  });

  it('reads an instance named by id (as Inspector and GuardDuty name it) or by ARN', () => {
    const onInstance = (uid: string) =>
      withValue(
        withValue(ocsfEvent(), [...OCSF, 'resources', 0, 'type'], 'AWS::EC2::Instance'),
        [...OCSF, 'resources', 0, 'uid'],
        uid,
      );

    expect(findingOf(onInstance('i-0abcdef012345678b'))).toMatchObject({
      playbook: 'ec2-instance',
      instance: { instanceId: 'i-0abcdef012345678b' },
    });
    expect(
      findingOf(onInstance(`arn:aws:ec2:us-east-1:${ACCOUNT}:instance/i-0abcdef012345678b`)),
    ).toMatchObject({ instance: { instanceId: 'i-0abcdef012345678b' } });
    expect(rejection(onInstance('not-an-instance'))).toMatch(
      /^Cordon\.InvalidFinding: .*resources\[0\]\.uid.*EC2 instance id or ARN/,
    );
  });

  it("someone who can edit findings (BatchUpdateFindingsV2) raised the severity: read at the provider's, and marked edited", () => {
    const raised = withValue(
      withValue(ocsfEvent(), [...OCSF, 'severity_id'], 5),
      [...OCSF, 'vendor_attributes', 'severity_id'],
      2,
    );

    expect(findingOf(raised)).toMatchObject({
      severityLabel: 'LOW',
      securityHub: {
        edited: "its severity was raised from the provider's LOW to CRITICAL after import",
      },
    });
  });

  it('a finding without the provider severity cannot be told from an edit: marked edited', () => {
    const bare = without(ocsfEvent(), [...OCSF, 'vendor_attributes']);

    expect(findingOf(bare).securityHub?.edited).toMatch(/no vendor_attributes\.severity_id/);
  });

  it("refuses Cordon's own updates in triage: status_id 2 (In Progress) and 4 (Resolved) are not New", () => {
    expect(refusal(withValue(ocsfEvent(), [...OCSF, 'status_id'], 2))).toBe(
      'workflow: Security Hub workflow status is NOTIFIED, not NEW',
    );
    expect(refusal(withValue(ocsfEvent(), [...OCSF, 'status_id'], 4))).toBe(
      'workflow: Security Hub workflow status is RESOLVED, not NEW',
    );
    expect(refusal(withValue(ocsfEvent(), [...OCSF, 'activity_name'], 'Close'))).toBe(
      'workflow: Security Hub record state is ARCHIVED, not ACTIVE',
    );
  });

  it('refuses a key whose principal type it cannot tell, and one of a type it does not contain', () => {
    const untyped = without(ocsfEvent(), [...OCSF, 'resources', 0, 'data', 'user_type']);
    const federated = withValue(
      ocsfEvent(),
      [...OCSF, 'resources', 0, 'data', 'user_type'],
      'FederatedUser',
    );

    expect(parseFindingEvent(untyped)).toMatchObject({ reason: 'unhandled-resource' });
    expect(parseFindingEvent(federated)).toMatchObject({ reason: 'unhandled-resource' });
  });

  it('refuses a finding naming two resources Cordon contains, and one event carrying two findings', () => {
    const resource = valueAt(ocsfEvent(), [...OCSF, 'resources', 0]);
    const two = withValue(ocsfEvent(), [...OCSF, 'resources'], [resource, resource]);
    const finding = valueAt(ocsfEvent(), OCSF);
    const twoFindings = withValue(ocsfEvent(), ['detail', 'findings'], [finding, finding]);

    expect(rejection(two)).toMatch(/names 2 resources Cordon contains; triage acts on exactly one/);
    expect(rejection(twoFindings)).toMatch(/^Cordon\.InvalidFinding: /);
  });

  it('refuses an event missing what Cordon needs, naming the path', () => {
    expect(rejection(without(ocsfEvent(), [...OCSF, 'finding_info', 'uid']))).toBe(
      'Cordon.InvalidFinding: Security Hub OCSF finding is missing detail.findings[0].finding_info.uid',
    );
    expect(rejection(without(ocsfEvent(), [...OCSF, 'cloud', 'account', 'uid']))).toBe(
      'Cordon.InvalidFinding: Security Hub OCSF finding is missing detail.findings[0].cloud.account.uid',
    );
  });

  it('lands on the incident of the same finding in ASFF: its finding_info.uid is the ASFF Id', () => {
    const asff = findingOf(realEvent('securityhub-control-s3-8'));
    const ocsf = findingOf(
      withValue(
        withValue(
          withValue(
            withValue(
              realEvent('securityhub-v2-control-sqs-1'),
              [...OCSF, 'compliance', 'control'],
              'S3.8',
            ),
            [...OCSF, 'resources', 0, 'type'],
            'AWS::S3::Bucket',
          ),
          [...OCSF, 'resources', 0, 'uid'],
          'arn:aws:s3:::example-public-bucket',
        ),
        [...OCSF, 'finding_info', 'uid'],
        asff.findingId,
      ),
    );

    expect(ocsf.playbook).toBe(asff.playbook);
    expect(incidentIdOf(ocsf)).toBe(incidentIdOf(asff));
  });
});

/**
 * Public-bucket findings in OCSF, against what ASFF routes to s3-exposure
 * (parse/exposure.ts): the public-bucket controls, IAM Access Analyzer's
 * external access, Macie's public-bucket policy findings, S3.19 on an access
 * point. Security Hub documents the OCSF form of a control result (class
 * 2003, `compliance.control`, `compliance.status_id`: the published SQS.1
 * finding), so the controls are read; no documentation or published finding
 * shows how it carries Access Analyzer's or Macie's policy findings, or an
 * access point's bucket, so those are left unrouted rather than guessed. The
 * events below marked "written here" are not published findings: they show
 * that such a shape, whatever it turns out to be, starts nothing by accident.
 */
describe('public-bucket findings in OCSF', () => {
  it.each(['S3.2', 'S3.3', 'S3.8'])(
    'control %s failing on a bucket is s3-exposure, passing guards for its account and region',
    (control) => {
      const event = ocsfBucketControl(control);

      expect(findingOf(event)).toMatchObject({
        playbook: 's3-exposure',
        bucket: { name: PUBLIC_BUCKET },
        findingType: 'Software and Configuration Checks/Industry and Regulatory Standards',
        severityLabel: 'HIGH',
        securityHub: { format: 'ocsf', workflowStatus: 'NEW' },
      });
      expect(refusal(event)).toBeUndefined();
    },
  );

  it('refuses a control finding on a bucket in another account or outside the configured regions', () => {
    const elsewhere = withValue(
      ocsfBucketControl(),
      [...OCSF, 'cloud', 'account', 'uid'],
      '210987654321',
    );
    const otherRegion = withValue(ocsfBucketControl(), [...OCSF, 'cloud', 'region'], 'ap-south-1');

    expect(refusal(elsewhere)).toMatch(/^account: the finding is for account 210987654321/);
    expect(refusal(otherRegion)).toMatch(/^region: ap-south-1 is not an allowed region/);
  });

  it("a control's severity raised after import (BatchUpdateFindingsV2) is read at the provider's, and marked edited", () => {
    const raised = withValue(
      withValue(ocsfBucketControl(), [...OCSF, 'severity_id'], 5),
      [...OCSF, 'vendor_attributes', 'severity_id'],
      3,
    );

    expect(findingOf(raised)).toMatchObject({
      severityLabel: 'MEDIUM',
      securityHub: {
        edited: "its severity was raised from the provider's MEDIUM to CRITICAL after import",
      },
    });
  });

  it('S3.19 failing on an access point is not routed: no documented OCSF form names its bucket (written here)', () => {
    const accessPoint = withValue(
      withValue(
        ocsfBucketControl('S3.19'),
        [...OCSF, 'resources', 0, 'type'],
        'AWS::S3::AccessPoint',
      ),
      [...OCSF, 'resources', 0, 'uid'],
      `arn:aws:s3:us-east-1:${ACCOUNT}:accesspoint/public-ap`,
    );

    expect(parseFindingEvent(accessPoint)).toMatchObject({ reason: 'unhandled-resource' });
  });

  it.each([
    [
      'IAM Access Analyzer',
      'access-analyzer',
      'Software and Configuration Checks/AWS Security Best Practices/External Access Granted',
    ],
    [
      'Macie',
      'macie',
      'Software and Configuration Checks/AWS Security Best Practices/Policy:IAMUser-S3BucketPublic',
    ],
  ])(
    "%s's public-bucket finding with its ASFF types, as an OCSF detection on a bucket, is not routed (written here: no published OCSF form)",
    (name, product, type) => {
      const detection = withValue(
        withValue(
          withValue(
            withValue(ocsfBucketControl(), [...OCSF, 'class_uid'], 2004),
            [...OCSF, 'compliance'],
            undefined,
          ),
          [...OCSF, 'finding_info', 'types'],
          [type],
        ),
        [...OCSF, 'metadata', 'product'],
        { name, uid: `arn:aws:securityhub:us-east-1::productv2/aws/${product}` },
      );
      // A finding forger's import claiming the product's name, in the account's own default product.
      const forged = withValue(
        detection,
        [...OCSF, 'metadata', 'product', 'uid'],
        `arn:aws:securityhub:us-east-1:${ACCOUNT}:productv2/${ACCOUNT}/default`,
      );

      for (const event of [detection, forged]) {
        expect(parseFindingEvent(event)).toMatchObject({ reason: 'unhandled-resource' });
      }
    },
  );

  it('a Data Security Finding (class 2006, Macie sensitive data) naming a bucket is no exposure to block (written here)', () => {
    const dataSecurity = withValue(
      withValue(
        withValue(ocsfBucketControl(), [...OCSF, 'class_uid'], 2006),
        [...OCSF, 'compliance'],
        undefined,
      ),
      [...OCSF, 'finding_info', 'types'],
      ['SensitiveData:S3Object/Personal', 'Sensitive Data'],
    );

    expect(parseFindingEvent(dataSecurity)).toMatchObject({ reason: 'unhandled-resource' });
  });
});

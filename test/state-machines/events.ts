/**
 * Event builders for the playbook tests: fixtures from test/fixtures/events
 * re-aimed at principals seeded in moto. Each parses the part it patches, so a
 * fixture that changes shape fails here with a clear message, not in a guard.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import type { CompromisedInstance, CompromisedUser } from '../../demo/scenario.js';
import { REPO_ROOT } from '../../rehearsal/synth.js';
import { fixtureEvent } from './harness.js';

const GuardDutyEvent = z.looseObject({
  detail: z.looseObject({
    resource: z.looseObject({ accessKeyDetails: z.looseObject({}) }),
    service: z.looseObject({ additionalInfo: z.looseObject({}).optional() }),
  }),
});

/** The GuardDuty event with its access key details naming `user`'s leaked key. */
export function aimedAt(event: unknown, user: CompromisedUser): Record<string, unknown> {
  const parsed = GuardDutyEvent.parse(event);
  return {
    ...parsed,
    detail: {
      ...parsed.detail,
      resource: {
        ...parsed.detail.resource,
        accessKeyDetails: {
          accessKeyId: user.leakedKeyId,
          principalId: user.userId,
          userName: user.userName,
          userType: 'IAMUser',
        },
      },
    },
  };
}

/** The GuardDuty event marked as a sample finding, as CreateSampleFindings marks it. */
export function asSample(event: unknown): Record<string, unknown> {
  const parsed = GuardDutyEvent.parse(event);
  const { service } = parsed.detail;
  return {
    ...parsed,
    detail: {
      ...parsed.detail,
      service: { ...service, additionalInfo: { ...service.additionalInfo, sample: true } },
    },
  };
}

const AsffFinding = z.looseObject({
  Id: z.string(),
  ProductArn: z.string(),
  Resources: z.array(
    z.looseObject({ Details: z.looseObject({ AwsIamAccessKey: z.looseObject({}) }) }),
  ),
  Workflow: z.looseObject({ Status: z.string() }),
});
const SecurityHubEvent = z.looseObject({
  detail: z.looseObject({ findings: z.array(AsffFinding).min(1) }),
});

/**
 * The Security Hub "leaked access key" fixture (a third-party product, not
 * GuardDuty) naming `user`: triage verifies PrincipalName and PrincipalId
 * against IAM and acts on AccessKeyId, so all three come from the seeded user.
 */
export function securityHubKeyFinding(user: CompromisedUser): Record<string, unknown> {
  const event = SecurityHubEvent.parse(fixtureEvent('securityhub-iam-access-key.json'));
  const findings = event.detail.findings.map((finding) => ({
    ...finding,
    Resources: finding.Resources.map((resource) => ({
      ...resource,
      Id: `AWS::IAM::AccessKey:${user.leakedKeyId}`,
      Details: {
        ...resource.Details,
        AwsIamAccessKey: {
          ...resource.Details.AwsIamAccessKey,
          PrincipalName: user.userName,
          PrincipalId: user.userId,
          AccessKeyId: user.leakedKeyId,
        },
      },
    })),
  }));
  return { ...event, detail: { ...event.detail, findings } };
}

/** The same Security Hub event after a BatchUpdateFindings set its workflow status. */
export function withWorkflowStatus(event: unknown, status: string): Record<string, unknown> {
  const parsed = SecurityHubEvent.parse(event);
  const findings = parsed.detail.findings.map((finding) => ({
    ...finding,
    Workflow: { ...finding.Workflow, Status: status },
  }));
  return { ...parsed, detail: { ...parsed.detail, findings } };
}

const BatchUpdate = z.looseObject({
  FindingIdentifiers: z.array(z.object({ Id: z.string(), ProductArn: z.string() })),
  Workflow: z.object({ Status: z.string() }).optional(),
  Note: z.object({ Text: z.string(), UpdatedBy: z.string() }).optional(),
});

/**
 * The "Security Hub Findings - Imported" event Security Hub emits after a
 * BatchUpdateFindings call: the same findings with the update applied (the
 * workflow status, the note) and a new UpdatedAt.
 */
export function afterBatchUpdate(
  event: unknown,
  update: unknown,
  updatedAt: string,
): Record<string, unknown> {
  const parsed = SecurityHubEvent.parse(event);
  const { FindingIdentifiers, Workflow, Note } = BatchUpdate.parse(update);
  const findings = parsed.detail.findings.map((finding) => {
    const id = z.object({ Id: z.string(), ProductArn: z.string() }).parse(finding);
    const touched = FindingIdentifiers.some(
      (f) => f.Id === id.Id && f.ProductArn === id.ProductArn,
    );
    if (!touched) return finding;
    return {
      ...finding,
      UpdatedAt: updatedAt,
      ...(Workflow ? { Workflow: { ...finding.Workflow, Status: Workflow.Status } } : {}),
      ...(Note ? { Note: { ...Note, UpdatedAt: updatedAt } } : {}),
    };
  });
  return { ...parsed, time: updatedAt, detail: { ...parsed.detail, findings } };
}

const FindingIdentifier = z.object({ Id: z.string(), ProductArn: z.string() });

/** `{ Id, ProductArn }` of each finding a Security Hub event carries. */
export function findingIdentifiersOf(event: unknown): Array<z.infer<typeof FindingIdentifier>> {
  return SecurityHubEvent.parse(event).detail.findings.map((f) => ({
    Id: f.Id,
    ProductArn: f.ProductArn,
  }));
}

/** The FindingIdentifiers of a BatchUpdateFindings request, as its response echoes them. */
export function processedFindings(input: unknown): Array<z.infer<typeof FindingIdentifier>> {
  return z.object({ FindingIdentifiers: z.array(FindingIdentifier) }).parse(input)
    .FindingIdentifiers;
}

const AnyGuardDutyEvent = z.looseObject({
  detail: z.looseObject({
    service: z.looseObject({ additionalInfo: z.looseObject({}).optional() }),
  }),
});

/**
 * Any GuardDuty event (an instance finding too, which `asSample` does not
 * take: it has no access key details) marked as a sample finding.
 */
export function asSampleFinding(event: unknown): Record<string, unknown> {
  const parsed = AnyGuardDutyEvent.parse(event);
  const { service } = parsed.detail;
  return {
    ...parsed,
    detail: {
      ...parsed.detail,
      service: { ...service, additionalInfo: { ...service.additionalInfo, sample: true } },
    },
  };
}

const AsffInstanceFinding = z.looseObject({
  Resources: z.array(
    z.looseObject({ Details: z.looseObject({ AwsEc2Instance: z.looseObject({}) }) }),
  ),
});
const SecurityHubInstanceEvent = z.looseObject({
  resources: z.array(z.string()),
  detail: z.looseObject({ findings: z.array(AsffInstanceFinding).min(1) }),
});

/**
 * The Security Hub "C2 beacon" fixture (a third-party EDR product, not
 * GuardDuty) naming the seeded instance: triage reads the instance ARN from
 * the resource `Id` and verifies it against EC2; the details are aimed at the
 * same instance so the finding tells one story.
 */
export function securityHubInstanceFinding(
  instance: CompromisedInstance,
  account: string,
  region: string,
): Record<string, unknown> {
  const event = SecurityHubInstanceEvent.parse(fixtureEvent('securityhub-ec2-instance.json'));
  const arn = `arn:aws:ec2:${region}:${account}:instance/${instance.instanceId}`;
  const findings = event.detail.findings.map((finding) => ({
    ...finding,
    Resources: finding.Resources.map((resource) => ({
      ...resource,
      Id: arn,
      Details: {
        ...resource.Details,
        AwsEc2Instance: {
          ...resource.Details.AwsEc2Instance,
          IamInstanceProfileArn: instance.instanceProfileArn,
          VpcId: instance.vpcId,
          SubnetId: instance.subnetId,
        },
      },
    })),
  }));
  return { ...event, detail: { ...event.detail, findings } };
}

const OcsfFinding = z.looseObject({
  cloud: z.looseObject({ account: z.looseObject({}) }),
  metadata: z.looseObject({ product: z.looseObject({}) }),
  resources: z.array(z.looseObject({ data: z.looseObject({}) })).length(1),
});
const SecurityHubV2Event = z.looseObject({
  detail: z.looseObject({ findings: z.array(OcsfFinding).length(1) }),
});

/** An AWS product in Security Hub's OCSF form, on the default product allow-list. */
export const OCSF_AWS_PRODUCT = 'arn:aws:securityhub:us-east-1::productv2/aws/securityhub';

export interface OcsfOptions {
  /** `metadata.product.uid`. @default OCSF_AWS_PRODUCT */
  readonly product?: string;
  readonly productName?: string;
  /** `severity_id` and the provider's `vendor_attributes.severity_id`. @default 4 (High) both */
  readonly severityId?: number;
  readonly providerSeverityId?: number;
  /** `status_id`. @default 1 (New) */
  readonly statusId?: number;
}

/**
 * The published GuardDuty finding in Security Hub's OCSF form
 * (test/fixtures/real, "Findings Imported V2") re-aimed at `user`'s leaked
 * key in `account`: the product becomes a non-GuardDuty one (GuardDuty's own
 * OCSF findings are left to the GuardDuty rule), the status New and the
 * severity High unless `options` say otherwise. Every other field is as
 * published.
 */
export function ocsfKeyFinding(
  user: CompromisedUser,
  account: string,
  options: OcsfOptions = {},
): Record<string, unknown> {
  const path = join(
    REPO_ROOT,
    'test',
    'fixtures',
    'real',
    'securityhub-v2-guardduty-stealth-iam-user-cloudtrail-logging-disabled.json',
  );
  const event = SecurityHubV2Event.parse(JSON.parse(readFileSync(path, 'utf8')));
  const severity = options.severityId ?? 4;
  const findings = event.detail.findings.map((finding) => ({
    ...finding,
    status_id: options.statusId ?? 1,
    severity_id: severity,
    vendor_attributes: { severity_id: options.providerSeverityId ?? severity },
    cloud: { ...finding.cloud, account: { ...finding.cloud.account, uid: account } },
    metadata: {
      ...finding.metadata,
      product: {
        ...finding.metadata.product,
        uid: options.product ?? OCSF_AWS_PRODUCT,
        name: options.productName ?? 'Security Hub',
      },
    },
    resources: finding.resources.map((resource) => ({
      ...resource,
      uid: user.leakedKeyId,
      data: {
        ...resource.data,
        access_key_id: user.leakedKeyId,
        principal_id: user.userId,
        user_name: user.userName,
        user_type: 'IAMUser',
      },
    })),
  }));
  return { ...event, account, detail: { ...event.detail, findings } };
}

const OcsfControlFinding = z.looseObject({
  cloud: z.looseObject({}),
  compliance: z.looseObject({}),
  finding_info: z.looseObject({}),
  metadata: z.looseObject({ product: z.looseObject({}) }),
  resources: z.array(z.looseObject({})).length(1),
});
const SecurityHubV2ControlEvent = z.looseObject({
  detail: z.looseObject({ findings: z.array(OcsfControlFinding).length(1) }),
});

/**
 * The published SQS.1 control failing in Security Hub's OCSF form
 * (test/fixtures/real, "Findings Imported V2", class 2003, compliance Fail,
 * status New) made control S3.8 (bucket-level Block Public Access) failing
 * on `bucket` in `account` and us-east-1, its finding uid the control's
 * finding ARN there, High unless `options` say otherwise, from an
 * allow-listed AWS product unless they name another. No published OCSF
 * finding names a bucket; every field not named here is as published.
 */
export function ocsfBucketControlFinding(
  bucket: { readonly name: string; readonly arn: string },
  account: string,
  options: OcsfOptions = {},
): Record<string, unknown> {
  const path = join(REPO_ROOT, 'test', 'fixtures', 'real', 'securityhub-v2-control-sqs-1.json');
  const event = SecurityHubV2ControlEvent.parse(JSON.parse(readFileSync(path, 'utf8')));
  const severity = options.severityId ?? 4;
  const findings = event.detail.findings.map((finding) => ({
    ...finding,
    status_id: options.statusId ?? 1,
    severity_id: severity,
    vendor_attributes: { severity_id: options.providerSeverityId ?? severity },
    cloud: { ...finding.cloud, account: { uid: account }, region: 'us-east-1' },
    compliance: { ...finding.compliance, control: 'S3.8' },
    finding_info: {
      ...finding.finding_info,
      uid: `arn:aws:securityhub:us-east-1:${account}:security-control/S3.8/finding/7dabcdef-1234-8912-5678-5012345678904`,
    },
    metadata: {
      ...finding.metadata,
      product: {
        ...finding.metadata.product,
        uid: options.product ?? OCSF_AWS_PRODUCT,
        name: options.productName ?? 'Security Hub',
      },
    },
    resources: finding.resources.map(() => ({
      cloud_partition: 'aws',
      owner: { account: { uid: account } },
      region: 'us-east-1',
      type: 'AWS::S3::Bucket',
      uid: bucket.arn,
    })),
  }));
  return { ...event, account, region: 'us-east-1', detail: { ...event.detail, findings } };
}

const BatchUpdateV2 = z.looseObject({
  StatusId: z.number().optional(),
  Comment: z.string().optional(),
});

/**
 * The "Findings Imported V2" event Security Hub emits after a
 * BatchUpdateFindingsV2 call: the same finding with its `status_id` and
 * `comment` as the update set them.
 */
export function afterBatchUpdateV2(event: unknown, update: unknown): Record<string, unknown> {
  const parsed = SecurityHubV2Event.parse(event);
  const { StatusId, Comment } = BatchUpdateV2.parse(update);
  const findings = parsed.detail.findings.map((finding) => ({
    ...finding,
    ...(StatusId === undefined ? {} : { status_id: StatusId }),
    ...(Comment === undefined ? {} : { comment: Comment }),
  }));
  return { ...parsed, detail: { ...parsed.detail, findings } };
}

/** The OCSF event with its finding's `finding_info.uid` set to `uid`. */
export function withOcsfUid(event: unknown, uid: string): Record<string, unknown> {
  const parsed = SecurityHubV2Event.parse(event);
  const findings = parsed.detail.findings.map((finding) => ({
    ...finding,
    finding_info: { ...z.looseObject({}).parse(finding.finding_info), uid },
  }));
  return { ...parsed, detail: { ...parsed.detail, findings } };
}

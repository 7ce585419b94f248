/**
 * Event builders for the playbook tests: fixtures from test/fixtures/events
 * re-aimed at principals seeded in moto. Each parses the part it patches, so a
 * fixture that changes shape fails here with a clear message, not in a guard.
 */
import { z } from 'zod';
import type { CompromisedInstance, CompromisedUser } from '../../demo/scenario.js';
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

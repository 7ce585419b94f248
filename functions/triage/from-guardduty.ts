import { InvalidFindingError } from '../shared/errors.js';
import type { PrincipalKind } from '../shared/incident.js';
import { IAM_NAME, partitionOfRegion } from './arn.js';
import type { ClaimedInstance, ClaimedPrincipal, ParsedFindingEvent } from './finding.js';
import { invalidFinding } from './invalid.js';
import {
  type AccessKeyDetails,
  GUARDDUTY_SOURCE,
  type GuardDutyEvent,
  GuardDutyEventSchema,
  InstanceDetailsSchema,
  ResourceRoleSchema,
} from './schemas/guardduty.js';
import { labelForScore } from './severity.js';

const WHAT = 'GuardDuty finding';

/** Validates a GuardDuty finding event and normalises its IAM or instance finding. */
export function fromGuardDuty(event: unknown): ParsedFindingEvent {
  const parsed = GuardDutyEventSchema.safeParse(event);
  if (!parsed.success) throw invalidFinding(WHAT, event, parsed.error);
  const { detail } = parsed.data;
  const { resource } = detail;

  if (resource.resourceType === 'Instance') {
    return {
      status: 'finding',
      finding: {
        ...facts(parsed.data),
        playbook: 'ec2-instance',
        instance: claimedInstance(detail),
      },
    };
  }
  if (resource.resourceType !== 'AccessKey') {
    return unhandled(`no Cordon playbook handles GuardDuty resource type ${resource.resourceType}`);
  }
  if (resource.accessKeyDetails === undefined) {
    throw new InvalidFindingError(`${WHAT} is missing detail.resource.accessKeyDetails`);
  }
  const principal = claimedPrincipal(resource.accessKeyDetails);
  if (principal === undefined) {
    return unhandled(
      `Cordon does not contain GuardDuty principal type ${resource.accessKeyDetails.userType}`,
    );
  }
  return {
    status: 'finding',
    finding: { ...facts(parsed.data), playbook: 'iam-credentials', principal },
  };
}

/** What every GuardDuty finding says, whatever its resource. */
function facts({ detail, account: envelopeAccount }: GuardDutyEvent) {
  const sample = detail.service.additionalInfo?.sample;
  return {
    source: 'guardduty',
    findingId: detail.id,
    findingType: detail.type,
    updatedAt: detail.updatedAt,
    severity: detail.severity,
    severityLabel: labelForScore(detail.severity),
    account: detail.accountId,
    envelopeAccount,
    region: detail.region,
    partition: partitionOfRegion(detail.region),
    sample: sample === true || (typeof sample === 'string' && sample.toLowerCase() === 'true'),
    archived: detail.service.archived === true,
  } as const;
}

/** An Instance finding names its instance in `resource.instanceDetails.instanceId`. */
function claimedInstance(detail: GuardDutyEvent['detail']): ClaimedInstance {
  const prefix = ['detail', 'resource', 'instanceDetails'];
  const raw = detail.resource.instanceDetails;
  if (raw === undefined || raw === null) {
    throw new InvalidFindingError(`${WHAT} is missing detail.resource.instanceDetails`);
  }
  const details = InstanceDetailsSchema.safeParse(raw);
  if (!details.success) throw invalidFinding(WHAT, raw, details.error, prefix);
  const role = ResourceRoleSchema.safeParse(detail.service.resourceRole);
  if (!role.success) {
    throw invalidFinding(WHAT, detail.service.resourceRole, role.error, [
      'detail',
      'service',
      'resourceRole',
    ]);
  }
  return {
    instanceId: details.data.instanceId,
    ...(role.data === undefined || role.data === null ? {} : { resourceRole: role.data }),
  };
}

const KINDS: Readonly<Record<string, PrincipalKind>> = {
  IAMUser: 'IAMUser',
  AssumedRole: 'AssumedRole',
  Root: 'Root',
};

function claimedPrincipal(details: AccessKeyDetails): ClaimedPrincipal | undefined {
  const kind = Object.hasOwn(KINDS, details.userType) ? KINDS[details.userType] : undefined;
  if (kind === undefined) return undefined;
  const common = {
    kind,
    ...(details.principalId === undefined ? {} : { principalId: details.principalId }),
    ...(details.accessKeyId === undefined ? {} : { accessKeyId: details.accessKeyId }),
  };
  if (kind === 'Root') return common;
  // For an assumed role GuardDuty puts the role's name in userName.
  if (!IAM_NAME.test(details.userName)) {
    throw new InvalidFindingError(
      `${WHAT} has an invalid detail.resource.accessKeyDetails.userName: not an IAM name`,
    );
  }
  return { ...common, name: details.userName };
}

function unhandled(message: string): ParsedFindingEvent {
  return { status: 'unhandled', reason: 'unhandled-resource', source: GUARDDUTY_SOURCE, message };
}

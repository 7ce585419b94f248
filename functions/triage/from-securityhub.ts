import type { z } from 'zod';
import { InvalidFindingError } from '../shared/errors.js';
import type { PrincipalKind } from '../shared/incident.js';
import {
  accessKeyIdIn,
  IAM_NAME,
  parseIamPrincipalArn,
  parseInstanceArn,
  partitionOf,
} from './arn.js';
import type { ClaimedInstance, ClaimedPrincipal, ParsedFindingEvent } from './finding.js';
import { formatPath, invalidFinding } from './invalid.js';
import {
  type AsffFinding,
  type AsffResource,
  AwsIamAccessKeyDetailsSchema,
  AwsIamRoleDetailsSchema,
  AwsIamUserDetailsSchema,
  EC2_INSTANCE_RESOURCE_TYPE,
  IAM_RESOURCE_TYPES,
  type IamResourceType,
  SECURITYHUB_SOURCE,
  SecurityHubEventSchema,
} from './schemas/asff.js';
import { scoreForAsff } from './severity.js';

const WHAT = 'Security Hub finding';

type Path = ReadonlyArray<PropertyKey>;

/** Resource types Cordon contains, each with the playbook that acts on it. */
type EligibleType = IamResourceType | typeof EC2_INSTANCE_RESOURCE_TYPE;

const ELIGIBLE_TYPES: ReadonlyArray<string> = [...IAM_RESOURCE_TYPES, EC2_INSTANCE_RESOURCE_TYPE];

/**
 * Validates a Security Hub event and normalises its one IAM or EC2 instance
 * finding; the resource type chooses the playbook. An event carrying several
 * such findings (or one finding naming several such resources, an IAM role
 * and an instance alike) is refused as ambiguous: triage acts on exactly one
 * principal or instance per execution.
 */
export function fromSecurityHub(event: unknown): ParsedFindingEvent {
  const parsed = SecurityHubEventSchema.safeParse(event);
  if (!parsed.success) throw invalidFinding(WHAT, event, parsed.error);
  const { detail, account: envelopeAccount } = parsed.data;

  const eligible = detail.findings.flatMap((finding, index) => {
    const resources = finding.Resources.flatMap((resource, r) =>
      isEligibleType(resource.Type) ? [{ resource, type: resource.Type, index: r }] : [],
    );
    return resources.length > 0 ? [{ finding, index, resources }] : [];
  });
  const [chosen, ...others] = eligible;
  if (chosen === undefined) {
    return {
      status: 'unhandled',
      reason: 'unhandled-resource',
      source: SECURITYHUB_SOURCE,
      message: `no finding in the event names a resource Cordon contains (${ELIGIBLE_TYPES.join(', ')})`,
    };
  }
  if (others.length > 0) {
    const kinds = kindOf(eligible.flatMap((e) => e.resources.map((r) => r.type)));
    throw new InvalidFindingError(
      `Security Hub event carries ${eligible.length} ${kinds} findings; triage acts on exactly one per event`,
    );
  }
  const [named, ...moreNamed] = chosen.resources;
  if (named === undefined || moreNamed.length > 0) {
    const kinds = kindOf(chosen.resources.map((r) => r.type));
    throw new InvalidFindingError(
      `${WHAT} detail.findings[${chosen.index}] names ${chosen.resources.length} ${kinds} resources; triage acts on exactly one`,
    );
  }
  const { finding } = chosen;
  const path: Path = ['detail', 'findings', chosen.index, 'Resources', named.index];
  const facts = {
    source: 'securityhub',
    findingId: finding.Id,
    findingType: finding.Types[0] ?? finding.GeneratorId,
    productArn: finding.ProductArn,
    updatedAt: finding.UpdatedAt,
    severity: scoreForAsff(finding.Severity.Label, finding.Severity.Normalized),
    severityLabel: finding.Severity.Label,
    account: finding.AwsAccountId,
    envelopeAccount,
    region: finding.Region,
    partition: partitionOf(finding.ProductArn, finding.Region),
    sample: finding.Sample === true,
    archived: false,
    securityHub: securityHubFacts(finding),
  } as const;
  if (named.type === EC2_INSTANCE_RESOURCE_TYPE) {
    return {
      status: 'finding',
      finding: {
        ...facts,
        playbook: 'ec2-instance',
        instance: claimedInstance(named.resource, path),
      },
    };
  }
  const principal = claimedPrincipal(named.type, named.resource, path);
  if ('unsupportedType' in principal) {
    return {
      status: 'unhandled',
      reason: 'unhandled-resource',
      source: SECURITYHUB_SOURCE,
      message: `Cordon does not contain Security Hub access key principal type ${principal.unsupportedType}`,
    };
  }
  return { status: 'finding', finding: { ...facts, playbook: 'iam-credentials', principal } };
}

/** "IAM", "EC2 instance", or both, for the ambiguity messages. */
function kindOf(types: ReadonlyArray<EligibleType>): string {
  const iam = types.some((t) => t !== EC2_INSTANCE_RESOURCE_TYPE);
  const ec2 = types.some((t) => t === EC2_INSTANCE_RESOURCE_TYPE);
  if (iam && ec2) return 'IAM and EC2 instance';
  return ec2 ? 'EC2 instance' : 'IAM';
}

/** An `AwsEc2Instance` resource names its instance by ARN in `Id`. */
function claimedInstance(resource: AsffResource, path: Path): ClaimedInstance {
  const arn = parseInstanceArn(resource.Id);
  if (arn === undefined) {
    throw new InvalidFindingError(
      `${WHAT} has an invalid ${formatPath([...path, 'Id'])}: not an EC2 instance ARN (arn:<partition>:ec2:<region>:<account>:instance/i-...)`,
    );
  }
  return { instanceId: arn.instanceId, arn: resource.Id };
}

function securityHubFacts(finding: AsffFinding) {
  return {
    ...(finding.ProductName === undefined ? {} : { productName: finding.ProductName }),
    workflowStatus: finding.Workflow.Status,
    recordState: finding.RecordState,
    types: finding.Types,
  };
}

function isEligibleType(type: string): type is EligibleType {
  return ELIGIBLE_TYPES.includes(type);
}

function claimedPrincipal(
  type: IamResourceType,
  resource: AsffResource,
  path: Path,
): ClaimedPrincipal | Unsupported {
  switch (type) {
    case 'AwsIamAccessKey':
      return fromAccessKey(resource, path);
    case 'AwsIamUser': {
      const details = parseDetails(resource, 'AwsIamUser', AwsIamUserDetailsSchema, path);
      return fromArn(resource, path, 'user', 'AwsIamUser', details?.UserName, details?.UserId);
    }
    case 'AwsIamRole': {
      const details = parseDetails(resource, 'AwsIamRole', AwsIamRoleDetailsSchema, path);
      return fromArn(resource, path, 'role', 'AwsIamRole', details?.RoleName, details?.RoleId);
    }
  }
}

const KINDS: Readonly<Record<string, PrincipalKind>> = {
  IAMUser: 'IAMUser',
  AssumedRole: 'AssumedRole',
  Root: 'Root',
};

/** A principal type (`FederatedUser`, ...) Cordon has no containment for. */
interface Unsupported {
  readonly unsupportedType: string;
}

function fromAccessKey(resource: AsffResource, path: Path): ClaimedPrincipal | Unsupported {
  const detailsPath = [...path, 'Details', 'AwsIamAccessKey'];
  const details = parseDetails(resource, 'AwsIamAccessKey', AwsIamAccessKeyDetailsSchema, path);
  if (details === undefined) {
    throw new InvalidFindingError(`${WHAT} is missing ${formatPath(detailsPath)}`);
  }
  const name = details.PrincipalName ?? details.UserName;
  // Findings from before PrincipalType existed name only a user, in UserName.
  const type =
    details.PrincipalType ?? (details.PrincipalName === undefined ? 'IAMUser' : undefined);
  if (name === undefined) {
    throw new InvalidFindingError(
      `${WHAT} is missing ${formatPath([...detailsPath, 'PrincipalName'])}`,
    );
  }
  if (type === undefined) {
    throw new InvalidFindingError(
      `${WHAT} is missing ${formatPath([...detailsPath, 'PrincipalType'])}`,
    );
  }
  const kind = Object.hasOwn(KINDS, type) ? KINDS[type] : undefined;
  if (kind === undefined) return { unsupportedType: type };
  const accessKeyId = details.AccessKeyId ?? accessKeyIdIn(resource.Id);
  const common = {
    kind,
    ...(details.PrincipalId === undefined ? {} : { principalId: details.PrincipalId }),
    ...(accessKeyId === undefined ? {} : { accessKeyId }),
  };
  if (kind === 'Root') return common;
  if (!IAM_NAME.test(name)) {
    const field = details.PrincipalName === undefined ? 'UserName' : 'PrincipalName';
    throw new InvalidFindingError(
      `${WHAT} has an invalid ${formatPath([...detailsPath, field])}: not an IAM name`,
    );
  }
  return { ...common, name };
}

/** User and role resources name the principal by ARN; `Details`, when present, must agree. */
function fromArn(
  resource: AsffResource,
  path: Path,
  resourceType: 'user' | 'role',
  detailsKey: 'AwsIamUser' | 'AwsIamRole',
  detailsName: string | undefined,
  detailsId: string | undefined,
): ClaimedPrincipal {
  const arn = parseIamPrincipalArn(resource.Id);
  if (arn === undefined || arn.resourceType !== resourceType) {
    throw new InvalidFindingError(
      `${WHAT} has an invalid ${formatPath([...path, 'Id'])}: not an IAM ${resourceType} ARN`,
    );
  }
  if (detailsName !== undefined && detailsName !== arn.name) {
    throw new InvalidFindingError(
      `${WHAT} ${formatPath([...path, 'Details', detailsKey])} names a different ${resourceType} than ${formatPath([...path, 'Id'])}`,
    );
  }
  return {
    kind: resourceType === 'user' ? 'IAMUser' : 'AssumedRole',
    name: arn.name,
    arn: resource.Id,
    ...(detailsId === undefined ? {} : { principalId: detailsId }),
  };
}

/** `Details[key]` parsed with its schema; undefined when the finding has none. */
function parseDetails<T>(
  resource: AsffResource,
  key: string,
  schema: z.ZodType<T>,
  path: Path,
): T | undefined {
  const raw = resource.Details?.[key];
  if (raw === undefined) return undefined;
  const parsed = schema.safeParse(raw);
  if (!parsed.success) {
    throw invalidFinding(WHAT, raw, parsed.error, [...path, 'Details', key]);
  }
  return parsed.data;
}

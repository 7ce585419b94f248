import type { z } from 'zod';
import { InvalidFindingError } from '../shared/errors.js';
import type { PrincipalKind } from '../shared/incident.js';
import { accessKeyIdIn, IAM_NAME, parseIamPrincipalArn, partitionOf } from './arn.js';
import type { ClaimedPrincipal, ParsedFindingEvent } from './finding.js';
import { formatPath, invalidFinding } from './invalid.js';
import {
  type AsffFinding,
  type AsffResource,
  AwsIamAccessKeyDetailsSchema,
  AwsIamRoleDetailsSchema,
  AwsIamUserDetailsSchema,
  IAM_RESOURCE_TYPES,
  type IamResourceType,
  SECURITYHUB_SOURCE,
  SecurityHubEventSchema,
} from './schemas/asff.js';
import { scoreForAsff } from './severity.js';

const WHAT = 'Security Hub finding';

type Path = ReadonlyArray<PropertyKey>;

/**
 * Validates a Security Hub event and normalises its one IAM finding. An event
 * carrying several IAM findings (or one finding naming several IAM resources)
 * is refused as ambiguous: triage acts on exactly one principal per execution.
 */
export function fromSecurityHub(event: unknown): ParsedFindingEvent {
  const parsed = SecurityHubEventSchema.safeParse(event);
  if (!parsed.success) throw invalidFinding(WHAT, event, parsed.error);
  const { detail, account: envelopeAccount } = parsed.data;

  const eligible = detail.findings.flatMap((finding, index) => {
    const resources = finding.Resources.flatMap((resource, r) =>
      isIamType(resource.Type) ? [{ resource, type: resource.Type, index: r }] : [],
    );
    return resources.length > 0 ? [{ finding, index, resources }] : [];
  });
  const [chosen, ...others] = eligible;
  if (chosen === undefined) {
    return {
      status: 'unhandled',
      reason: 'unhandled-resource',
      source: SECURITYHUB_SOURCE,
      message: `no finding in the event names an IAM resource (${IAM_RESOURCE_TYPES.join(', ')})`,
    };
  }
  if (others.length > 0) {
    throw new InvalidFindingError(
      `Security Hub event carries ${eligible.length} IAM findings; triage acts on exactly one per event`,
    );
  }
  const [named, ...moreNamed] = chosen.resources;
  if (named === undefined || moreNamed.length > 0) {
    throw new InvalidFindingError(
      `${WHAT} detail.findings[${chosen.index}] names ${chosen.resources.length} IAM resources; triage acts on exactly one`,
    );
  }
  const { finding } = chosen;
  const path: Path = ['detail', 'findings', chosen.index, 'Resources', named.index];
  const principal = claimedPrincipal(named.type, named.resource, path);
  if ('unsupportedType' in principal) {
    return {
      status: 'unhandled',
      reason: 'unhandled-resource',
      source: SECURITYHUB_SOURCE,
      message: `Cordon does not contain Security Hub access key principal type ${principal.unsupportedType}`,
    };
  }
  return {
    status: 'finding',
    finding: {
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
      principal,
    },
  };
}

function securityHubFacts(finding: AsffFinding) {
  return {
    ...(finding.ProductName === undefined ? {} : { productName: finding.ProductName }),
    workflowStatus: finding.Workflow.Status,
    recordState: finding.RecordState,
    types: finding.Types,
  };
}

function isIamType(type: string): type is IamResourceType {
  return (IAM_RESOURCE_TYPES as ReadonlyArray<string>).includes(type);
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

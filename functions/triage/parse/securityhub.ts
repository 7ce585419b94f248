import type { PlaybookName } from '../../shared/catalog.js';
import { InvalidFindingError } from '../../shared/errors.js';
import type { PrincipalKind } from '../../shared/incident.js';
import type { z } from '../../shared/z.js';
import {
  accessKeyIdIn,
  BUCKET_NAME,
  IAM_NAME,
  parseBucketArn,
  parseFunctionArn,
  parseIamPrincipalArn,
  parseInstanceArn,
  parseSecretArn,
  partitionOf,
} from './arn.js';
import { accessPointExposure, bucketExposure } from './exposure.js';
import type {
  ClaimedInstance,
  ClaimedPrincipal,
  Finding,
  FindingFacts,
  ParsedFindingEvent,
} from './finding.js';
import { formatPath, invalidFinding } from './invalid.js';
import { type ProviderClaim, providerClaim, workflowStatusOf } from './provider.js';
import {
  type AsffFinding,
  type AsffResource,
  AwsIamAccessKeyDetailsSchema,
  AwsIamRoleDetailsSchema,
  AwsIamUserDetailsSchema,
  AwsS3AccessPointDetailsSchema,
  EC2_INSTANCE_RESOURCE_TYPE,
  IAM_RESOURCE_TYPES,
  type IamResourceType,
  LAMBDA_FUNCTION_RESOURCE_TYPE,
  S3_ACCESS_POINT_RESOURCE_TYPE,
  S3_BUCKET_RESOURCE_TYPE,
  SECRET_RESOURCE_TYPE,
  SECURITYHUB_SOURCE,
  type SecurityHubEvent,
  SecurityHubEventSchema,
} from './schemas/asff.js';
import { securityHubSequence } from './securityhub-sequence.js';

const WHAT = 'Security Hub finding';

type Path = ReadonlyArray<PropertyKey>;

/** Resource types Cordon contains, each with the playbook that acts on it and a word for messages. */
const ELIGIBLE: Readonly<Record<string, { playbook: PlaybookName; kind: string }>> = {
  AwsIamAccessKey: { playbook: 'iam-credentials', kind: 'IAM' },
  AwsIamUser: { playbook: 'iam-credentials', kind: 'IAM' },
  AwsIamRole: { playbook: 'iam-credentials', kind: 'IAM' },
  [EC2_INSTANCE_RESOURCE_TYPE]: { playbook: 'ec2-instance', kind: 'EC2 instance' },
  [SECRET_RESOURCE_TYPE]: { playbook: 'secret-exposure', kind: 'secret' },
  [LAMBDA_FUNCTION_RESOURCE_TYPE]: { playbook: 'integration-quarantine', kind: 'Lambda function' },
  [S3_BUCKET_RESOURCE_TYPE]: { playbook: 's3-exposure', kind: 'S3 bucket' },
  [S3_ACCESS_POINT_RESOURCE_TYPE]: { playbook: 's3-exposure', kind: 'S3 bucket' },
};
const KIND_ORDER = ['IAM', 'EC2 instance', 'secret', 'Lambda function', 'S3 bucket'];

/**
 * Validates a Security Hub event and normalises its one finding on a
 * resource Cordon contains; the resource type chooses the playbook. An event
 * carrying several such findings (or one finding naming several such
 * resources, an IAM role and an instance alike) is refused as ambiguous, for
 * every playbook: triage acts on exactly one resource per execution. Parsed
 * for a playbook, a finding on another playbook's resource holds nothing
 * for it (`other-playbook`).
 */
export function fromSecurityHub(event: unknown, playbook?: PlaybookName): ParsedFindingEvent {
  const parsed = SecurityHubEventSchema.safeParse(event);
  if (!parsed.success) throw invalidFinding(WHAT, event, parsed.error);
  const { findings } = parsed.data.detail;
  const sequence = securityHubSequence(event, parsed.data, isGuardDutyProduct);
  if (sequence !== undefined) return sequence;
  try {
    return fromFindings(parsed.data, playbook);
  } catch (error) {
    // GuardDuty's own findings, as Security Hub imports them, are acted on
    // through the GuardDuty rule only (triage's product guard refuses them
    // here): one Cordon cannot read as one resource (GuardDuty's S3 policy
    // findings name the caller's key and the bucket) is no invalid event.
    if (!(error instanceof InvalidFindingError) || !findings.every(isGuardDutyProduct)) throw error;
    return {
      status: 'unhandled',
      reason: 'guardduty-through-security-hub',
      source: SECURITYHUB_SOURCE,
      message: `a GuardDuty finding as Security Hub imported it, which Cordon acts on through the GuardDuty rule (${error.message})`,
    };
  }
}

const GUARDDUTY_PRODUCT = /::product\/aws\/guardduty$/;

export function isGuardDutyProduct(finding: AsffFinding): boolean {
  return GUARDDUTY_PRODUCT.test(finding.ProductArn) || finding.ProductName === 'GuardDuty';
}

function fromFindings(
  { detail, account: envelopeAccount, region: envelopeRegion }: SecurityHubEvent,
  playbook: PlaybookName | undefined,
): ParsedFindingEvent {
  const eligible = detail.findings.flatMap((finding, index) => {
    const claim = providerClaim(finding, ['detail', 'findings', index]);
    const resources = finding.Resources.flatMap((resource, r) =>
      isEligible(finding, claim, resource.Type)
        ? [{ resource, type: resource.Type, index: r }]
        : [],
    );
    return resources.length > 0 ? [{ finding, claim, index, resources }] : [];
  });
  const [chosen, ...others] = eligible;
  if (chosen === undefined) {
    return {
      status: 'unhandled',
      reason: 'unhandled-resource',
      source: SECURITYHUB_SOURCE,
      message: `no finding in the event names a resource Cordon contains (${Object.keys(ELIGIBLE).join(', ')}; buckets and access points only on findings that say they are public)`,
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
  const owner = ELIGIBLE[named.type]?.playbook;
  if (playbook !== undefined && owner !== playbook) {
    return {
      status: 'unhandled',
      reason: 'other-playbook',
      source: SECURITYHUB_SOURCE,
      message: `the ${playbook} playbook does not act on a Security Hub finding on ${named.type}`,
    };
  }
  const { finding, claim } = chosen;
  const at: Path = ['detail', 'findings', chosen.index];
  const path: Path = [...at, 'Resources', named.index];
  const region = finding.Region ?? named.resource.Region ?? envelopeRegion;
  if (region === undefined) {
    throw new InvalidFindingError(
      `${WHAT} is missing ${formatPath([...at, 'Region'])}, and neither its resource nor the event names one`,
    );
  }
  const facts = {
    source: 'securityhub',
    findingId: finding.Id,
    findingType: claim.types[0] ?? finding.GeneratorId,
    productArn: finding.ProductArn,
    updatedAt: finding.UpdatedAt,
    severity: claim.severity,
    severityLabel: claim.severityLabel,
    account: finding.AwsAccountId,
    envelopeAccount,
    region,
    partition: partitionOf(finding.ProductArn, region),
    sample: finding.Sample === true,
    archived: false,
    securityHub: securityHubFacts(finding, claim),
  } as const;
  const resourceFinding = claimedResource(named.type, named.resource, path, facts);
  if (resourceFinding !== undefined) return { status: 'finding', finding: resourceFinding };
  if (!isIamType(named.type)) {
    // Unreachable: every eligible type is an IAM type or a resource handled above.
    throw new InvalidFindingError(`${WHAT} names a resource type triage has no parser for`);
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

/** The finding on a non-IAM resource, named by its ARN in `Id`; undefined for IAM types. */
function claimedResource(
  type: string,
  resource: AsffResource,
  path: Path,
  facts: FindingFacts,
): Finding | undefined {
  const invalidId = (expected: string) =>
    new InvalidFindingError(
      `${WHAT} has an invalid ${formatPath([...path, 'Id'])}: not ${expected}`,
    );
  switch (type) {
    case EC2_INSTANCE_RESOURCE_TYPE:
      return { ...facts, playbook: 'ec2-instance', instance: claimedInstance(resource, path) };
    case SECRET_RESOURCE_TYPE: {
      const arn = parseSecretArn(resource.Id);
      if (arn === undefined) {
        throw invalidId(
          'a Secrets Manager secret ARN (arn:<partition>:secretsmanager:<region>:<account>:secret:<name>-<6 characters>)',
        );
      }
      return { ...facts, playbook: 'secret-exposure', secret: { secretId: resource.Id, arn } };
    }
    case LAMBDA_FUNCTION_RESOURCE_TYPE: {
      const arn = parseFunctionArn(resource.Id);
      if (arn === undefined) {
        throw invalidId(
          'a Lambda function ARN (arn:<partition>:lambda:<region>:<account>:function:<name>)',
        );
      }
      return { ...facts, playbook: 'integration-quarantine', lambdaFunction: arn };
    }
    case S3_BUCKET_RESOURCE_TYPE: {
      const arn = parseBucketArn(resource.Id);
      if (arn === undefined) throw invalidId('an S3 bucket ARN (arn:<partition>:s3:::<bucket>)');
      return { ...facts, playbook: 's3-exposure', bucket: { name: arn.name } };
    }
    case S3_ACCESS_POINT_RESOURCE_TYPE: {
      // Block Public Access on the bucket covers its access points too.
      const details = parseDetails(
        resource,
        'AwsS3AccessPoint',
        AwsS3AccessPointDetailsSchema,
        path,
      );
      const name = details?.Bucket;
      if (name === undefined) {
        throw new InvalidFindingError(
          `${WHAT} is missing ${formatPath([...path, 'Details', 'AwsS3AccessPoint', 'Bucket'])}: the access point's bucket`,
        );
      }
      if (!BUCKET_NAME.test(name)) {
        throw new InvalidFindingError(
          `${WHAT} has an invalid ${formatPath([...path, 'Details', 'AwsS3AccessPoint', 'Bucket'])}: not an S3 bucket name`,
        );
      }
      return { ...facts, playbook: 's3-exposure', bucket: { name } };
    }
    default:
      return undefined;
  }
}

/** "IAM", "EC2 instance", "IAM and EC2 instance", ... for the ambiguity messages. */
function kindOf(types: ReadonlyArray<string>): string {
  const kinds = new Set(types.map((t) => ELIGIBLE[t]?.kind));
  return KIND_ORDER.filter((k) => kinds.has(k)).join(' and ');
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

function securityHubFacts(finding: AsffFinding, claim: ProviderClaim) {
  return {
    ...(finding.ProductName === undefined ? {} : { productName: finding.ProductName }),
    workflowStatus: workflowStatusOf(finding),
    recordState: finding.RecordState ?? 'ACTIVE',
    types: claim.types,
    ...(claim.edited === undefined ? {} : { edited: claim.edited }),
  };
}

/**
 * A bucket or access point is eligible only on a finding that says it is
 * public (exposure.ts), anything else only on a detection; the rules filter
 * the same way.
 */
function isEligible(finding: AsffFinding, claim: ProviderClaim, type: string): boolean {
  if (!Object.hasOwn(ELIGIBLE, type)) return false;
  if (type === S3_BUCKET_RESOURCE_TYPE) return bucketExposure(finding, claim.types) !== undefined;
  if (type === S3_ACCESS_POINT_RESOURCE_TYPE) return accessPointExposure(finding) !== undefined;
  // A control's result (an EC2.8 on an instance) is a setting, never a compromise to contain.
  return finding.Compliance?.Status === undefined;
}

const IAM_TYPES: ReadonlyArray<string> = IAM_RESOURCE_TYPES;

function isIamType(type: string): type is IamResourceType {
  return IAM_TYPES.includes(type);
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
  const accessKeyId = details.AccessKeyId ?? accessKeyIdIn(resource.Id);
  const type = details.PrincipalType ?? typeFromIds(details, accessKeyId);
  if (name === undefined) {
    throw new InvalidFindingError(
      `${WHAT} is missing ${formatPath([...detailsPath, 'PrincipalName'])}`,
    );
  }
  if (type === undefined) {
    // A temporary key may be a role's session or a user's: never guess a user to contain.
    return {
      unsupportedType: `unknown (${formatPath([...detailsPath, 'PrincipalType'])} is missing, and neither PrincipalId nor a long-term key says whose the key is)`,
    };
  }
  const kind = Object.hasOwn(KINDS, type) ? KINDS[type] : undefined;
  if (kind === undefined) return { unsupportedType: type };
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

/**
 * The principal type of a key whose finding omits `PrincipalType`: its
 * unique id's prefix says (AIDA: a user, AROA: a role); failing that, a
 * long-term key (or none) in a finding from before `PrincipalType` existed
 * is a user's, named in `UserName`. A temporary key (ASIA...) says nothing.
 */
function typeFromIds(
  details: z.infer<typeof AwsIamAccessKeyDetailsSchema>,
  accessKeyId: string | undefined,
): string | undefined {
  if (details.PrincipalId?.startsWith('AIDA')) return 'IAMUser';
  if (details.PrincipalId?.startsWith('AROA')) return 'AssumedRole';
  if (accessKeyId?.startsWith('ASIA')) return undefined;
  return details.PrincipalName === undefined ? 'IAMUser' : undefined;
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

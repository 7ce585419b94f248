import type { PlaybookName } from '../../shared/catalog.js';
import { InvalidFindingError } from '../../shared/errors.js';
import type { PrincipalKind } from '../../shared/incident.js';
import {
  BUCKET_NAME,
  IAM_NAME,
  INSTANCE_ID,
  parseBucketArn,
  parseFunctionArn,
  parseIamPrincipalArn,
  parseInstanceArn,
  parseSecretArn,
  partitionOf,
} from './arn.js';
import { PUBLIC_BUCKET_CONTROLS } from './exposure.js';
import type {
  ClaimedPrincipal,
  Finding,
  FindingFacts,
  ParsedFindingEvent,
  SeverityLabel,
} from './finding.js';
import { formatPath, invalidFinding } from './invalid.js';
import { DATA_EXPOSURE_TYPE, SECURITYHUB_SOURCE } from './schemas/asff.js';
import {
  COMPLIANCE_FINDING_CLASS,
  DETECTION_FINDING_CLASS,
  OCSF_COMPLIANCE_FAIL,
  OCSF_EC2_INSTANCE_TYPE,
  OCSF_LAMBDA_FUNCTION_TYPE,
  OCSF_S3_BUCKET_TYPE,
  OCSF_SECRET_TYPE,
  OcsfAccessKeyDataSchema,
  type OcsfFinding,
  type OcsfResource,
  SecurityHubV2EventSchema,
} from './schemas/ocsf.js';
import { scoreForAsff, severityRank } from './severity.js';

const WHAT = 'Security Hub OCSF finding';

type Path = ReadonlyArray<PropertyKey>;

/** Resource types Cordon contains, by their CloudFormation names, with the playbook that acts. */
const ELIGIBLE: Readonly<Record<string, PlaybookName>> = {
  'AWS::IAM::AccessKey': 'iam-credentials',
  'AWS::IAM::User': 'iam-credentials',
  'AWS::IAM::Role': 'iam-credentials',
  [OCSF_EC2_INSTANCE_TYPE]: 'ec2-instance',
  [OCSF_SECRET_TYPE]: 'secret-exposure',
  [OCSF_LAMBDA_FUNCTION_TYPE]: 'integration-quarantine',
  [OCSF_S3_BUCKET_TYPE]: 's3-exposure',
};

/** OCSF `severity_id` as Security Hub's labels; Unknown (0) and Other (99) act on nothing. */
const LABELS: Readonly<Record<number, SeverityLabel>> = {
  1: 'INFORMATIONAL',
  2: 'LOW',
  3: 'MEDIUM',
  4: 'HIGH',
  5: 'CRITICAL',
  6: 'CRITICAL',
};

/** The `severity_id` values of each label, for the rules' patterns. */
export function severityIdsFor(labels: readonly SeverityLabel[]): number[] {
  return Object.entries(LABELS)
    .filter(([, label]) => labels.includes(label))
    .map(([id]) => Number(id));
}

function labelOf(severityId: number): SeverityLabel {
  return LABELS[severityId] ?? 'INFORMATIONAL';
}

/** OCSF `status_id` in the words of ASFF's `Workflow.Status`, which triage's guards read. */
const STATUSES: Readonly<Record<number, string>> = {
  1: 'NEW',
  2: 'NOTIFIED',
  3: 'SUPPRESSED',
  4: 'RESOLVED',
};

/** The product that filed GuardDuty's findings in Security Hub, either form. */
const GUARDDUTY_PRODUCT = /::product(v2)?\/aws\/guardduty$/;

/**
 * Validates a Security Hub OCSF event ("Findings Imported V2", one finding
 * per event) and normalises its finding on a resource Cordon contains, as
 * `fromSecurityHub` does for ASFF: the resource type chooses the playbook,
 * a finding naming two such resources is refused as ambiguous, and the
 * finding is the same one whichever form carried it (its `finding_info.uid`
 * is the ASFF `Id`, so both forms land on one incident). GuardDuty's own
 * findings are acted on through the GuardDuty rule only.
 */
export function fromSecurityHubV2(event: unknown, playbook?: PlaybookName): ParsedFindingEvent {
  const parsed = SecurityHubV2EventSchema.safeParse(event);
  if (!parsed.success) throw invalidFinding(WHAT, event, parsed.error);
  const { account: envelopeAccount } = parsed.data;
  const [finding] = parsed.data.detail.findings;
  if (finding === undefined) throw new InvalidFindingError(`${WHAT} event carries no finding`);
  if (GUARDDUTY_PRODUCT.test(finding.metadata.product.uid)) {
    return {
      status: 'unhandled',
      reason: 'guardduty-through-security-hub',
      source: SECURITYHUB_SOURCE,
      message:
        'a GuardDuty finding as Security Hub (OCSF) carries it, which Cordon acts on through the GuardDuty rule',
    };
  }
  const at: Path = ['detail', 'findings', 0];
  const eligible = finding.resources.flatMap((resource, index) =>
    isEligible(finding, resource.type) ? [{ resource, index }] : [],
  );
  const [named, ...others] = eligible;
  if (named === undefined) {
    return {
      status: 'unhandled',
      reason: 'unhandled-resource',
      source: SECURITYHUB_SOURCE,
      message: `the OCSF finding names no resource Cordon contains (${Object.keys(ELIGIBLE).join(', ')}: detections only; buckets also on a failed public-bucket control)`,
    };
  }
  if (others.length > 0) {
    throw new InvalidFindingError(
      `${WHAT} ${formatPath([...at, 'resources'])} names ${eligible.length} resources Cordon contains; triage acts on exactly one`,
    );
  }
  const owner = ELIGIBLE[named.resource.type];
  if (playbook !== undefined && owner !== playbook) {
    return {
      status: 'unhandled',
      reason: 'other-playbook',
      source: SECURITYHUB_SOURCE,
      message: `the ${playbook} playbook does not act on a Security Hub OCSF finding on ${named.resource.type}`,
    };
  }
  const facts = factsOf(finding, envelopeAccount, at);
  const path: Path = [...at, 'resources', named.index];
  const found = claimedResource(named.resource, path, facts);
  if ('unsupportedType' in found) {
    return {
      status: 'unhandled',
      reason: 'unhandled-resource',
      source: SECURITYHUB_SOURCE,
      message: `Cordon does not contain Security Hub access key principal type ${found.unsupportedType}`,
    };
  }
  return { status: 'finding', finding: found };
}

/**
 * A detection on any resource Cordon contains; a compliance finding only
 * when a public-bucket control failed on a bucket (every other control is a
 * setting, never a compromise). The rules filter the same way.
 */
function isEligible(finding: OcsfFinding, type: string): boolean {
  if (!Object.hasOwn(ELIGIBLE, type)) return false;
  if (type === OCSF_S3_BUCKET_TYPE) return bucketExposure(finding) !== undefined;
  return finding.class_uid === DETECTION_FINDING_CLASS;
}

/** Why an OCSF finding on a bucket says it is public, or undefined. */
export function bucketExposure(finding: OcsfFinding): string | undefined {
  if (finding.class_uid === COMPLIANCE_FINDING_CLASS) {
    const control = finding.compliance?.control;
    const failed = finding.compliance?.status_id === OCSF_COMPLIANCE_FAIL;
    return failed &&
      control !== undefined &&
      (PUBLIC_BUCKET_CONTROLS as readonly string[]).includes(control)
      ? `Security Hub control ${control} failed`
      : undefined;
  }
  if (finding.class_uid !== DETECTION_FINDING_CLASS) return undefined;
  return (finding.finding_info.types ?? []).some((t) => DATA_EXPOSURE_TYPE.test(t))
    ? 'a data-exposure finding'
    : undefined;
}

/**
 * The provider's severity (`vendor_attributes.severity_id`) and whether the
 * top-level one claims more, or cannot be told from an edit.
 */
function severityOf(finding: OcsfFinding): { label: SeverityLabel; edited?: string } {
  const top = labelOf(finding.severity_id);
  const provider = finding.vendor_attributes?.severity_id;
  if (provider === undefined) {
    return {
      label: top,
      edited:
        'the finding has no vendor_attributes.severity_id, so its severity cannot be told from edits',
    };
  }
  const label = labelOf(provider);
  return severityRank(top) > severityRank(label)
    ? {
        label,
        edited: `its severity was raised from the provider's ${label} to ${top} after import`,
      }
    : { label };
}

function factsOf(finding: OcsfFinding, envelopeAccount: string, at: Path): FindingFacts {
  const updatedAt = finding.finding_info.modified_time_dt ?? finding.time_dt;
  if (updatedAt === undefined) {
    throw new InvalidFindingError(
      `${WHAT} is missing ${formatPath([...at, 'finding_info', 'modified_time_dt'])} (and time_dt)`,
    );
  }
  const severity = severityOf(finding);
  const types = finding.finding_info.types ?? [];
  const region = finding.cloud.region;
  return {
    source: 'securityhub',
    findingId: finding.finding_info.uid,
    findingType: types[0] ?? finding.finding_info.uid,
    productArn: finding.metadata.product.uid,
    updatedAt,
    severity: scoreForAsff(severity.label, undefined),
    severityLabel: severity.label,
    account: finding.cloud.account.uid,
    envelopeAccount,
    region,
    partition: partitionOf(finding.metadata.product.uid, region),
    sample: false,
    archived: false,
    securityHub: {
      format: 'ocsf',
      ...(finding.metadata.product.name === undefined
        ? {}
        : { productName: finding.metadata.product.name }),
      workflowStatus: STATUSES[finding.status_id] ?? `status_id ${finding.status_id}`,
      // Security Hub keeps a finding whose activity is Close as closed, not active.
      recordState: finding.activity_name === 'Close' ? 'ARCHIVED' : 'ACTIVE',
      types,
      ...(severity.edited === undefined ? {} : { edited: severity.edited }),
    },
  };
}

/** A principal type Cordon has no containment for. */
interface Unsupported {
  readonly unsupportedType: string;
}

/** The ARN among a resource's `uid` and `uid_alt` that `parse` accepts. */
function arnOf<T>(resource: OcsfResource, parse: (arn: string) => T | undefined): T | undefined {
  for (const id of [resource.uid, resource.uid_alt]) {
    const parsed = id === undefined ? undefined : parse(id);
    if (parsed !== undefined) return parsed;
  }
  return undefined;
}

function claimedResource(
  resource: OcsfResource,
  path: Path,
  facts: FindingFacts,
): Finding | Unsupported {
  const invalid = (expected: string) =>
    new InvalidFindingError(
      `${WHAT} has an invalid ${formatPath([...path, 'uid'])}: neither it nor uid_alt is ${expected}`,
    );
  switch (resource.type) {
    case OCSF_EC2_INSTANCE_TYPE: {
      // Inspector and GuardDuty name the instance by id; an ARN is read too.
      const ids = [resource.uid, resource.uid_alt];
      const instanceId = ids.find((v) => v !== undefined && INSTANCE_ID.test(v));
      if (instanceId !== undefined) {
        return { ...facts, playbook: 'ec2-instance', instance: { instanceId } };
      }
      const arn = ids.find((v) => v !== undefined && parseInstanceArn(v) !== undefined);
      const parsed = arn === undefined ? undefined : parseInstanceArn(arn);
      if (arn === undefined || parsed === undefined) throw invalid('an EC2 instance id or ARN');
      return {
        ...facts,
        playbook: 'ec2-instance',
        instance: { instanceId: parsed.instanceId, arn },
      };
    }
    case OCSF_SECRET_TYPE: {
      const id = [resource.uid, resource.uid_alt].find((v) => v !== undefined && parseSecretArn(v));
      const arn = id === undefined ? undefined : parseSecretArn(id);
      if (id === undefined || arn === undefined) throw invalid('a Secrets Manager secret ARN');
      return { ...facts, playbook: 'secret-exposure', secret: { secretId: id, arn } };
    }
    case OCSF_LAMBDA_FUNCTION_TYPE: {
      const arn = arnOf(resource, parseFunctionArn);
      if (arn === undefined) throw invalid('a Lambda function ARN');
      return { ...facts, playbook: 'integration-quarantine', lambdaFunction: arn };
    }
    case OCSF_S3_BUCKET_TYPE: {
      const name =
        arnOf(resource, parseBucketArn)?.name ??
        [resource.uid, resource.uid_alt].find((v) => v !== undefined && BUCKET_NAME.test(v));
      if (name === undefined) throw invalid('an S3 bucket ARN or name');
      return { ...facts, playbook: 's3-exposure', bucket: { name } };
    }
    case 'AWS::IAM::AccessKey': {
      const principal = fromAccessKey(resource, path);
      return 'unsupportedType' in principal
        ? principal
        : { ...facts, playbook: 'iam-credentials', principal };
    }
    case 'AWS::IAM::User':
    case 'AWS::IAM::Role': {
      const kind = resource.type === 'AWS::IAM::User' ? 'user' : 'role';
      const id = [resource.uid, resource.uid_alt].find(
        (v) => v !== undefined && parseIamPrincipalArn(v)?.resourceType === kind,
      );
      const arn = id === undefined ? undefined : parseIamPrincipalArn(id);
      if (id === undefined || arn === undefined) throw invalid(`an IAM ${kind} ARN`);
      return {
        ...facts,
        playbook: 'iam-credentials',
        principal: { kind: kind === 'user' ? 'IAMUser' : 'AssumedRole', name: arn.name, arn: id },
      };
    }
    default:
      // Unreachable: every eligible type is handled above.
      throw new InvalidFindingError(`${WHAT} names a resource type triage has no parser for`);
  }
}

const KINDS: Readonly<Record<string, PrincipalKind>> = {
  IAMUser: 'IAMUser',
  AssumedRole: 'AssumedRole',
  Root: 'Root',
};

/** An access key resource: GuardDuty puts the key, its principal and the principal's type in `data`. */
function fromAccessKey(resource: OcsfResource, path: Path): ClaimedPrincipal | Unsupported {
  const dataPath = [...path, 'data'];
  const parsed = OcsfAccessKeyDataSchema.safeParse(resource.data ?? {});
  if (!parsed.success) throw invalidFinding(WHAT, resource.data, parsed.error, dataPath);
  const data = parsed.data;
  if (data.user_type === undefined) {
    // A key alone may be a role's session or a user's: never guess a user to contain.
    return { unsupportedType: `unknown (${formatPath([...dataPath, 'user_type'])} is missing)` };
  }
  const kind = Object.hasOwn(KINDS, data.user_type) ? KINDS[data.user_type] : undefined;
  if (kind === undefined) return { unsupportedType: data.user_type };
  const accessKeyId = data.access_key_id ?? resource.uid;
  const common = {
    kind,
    ...(data.principal_id === undefined ? {} : { principalId: data.principal_id }),
    ...(accessKeyId === undefined ? {} : { accessKeyId }),
  };
  if (kind === 'Root') return common;
  if (data.user_name === undefined) {
    throw new InvalidFindingError(`${WHAT} is missing ${formatPath([...dataPath, 'user_name'])}`);
  }
  if (!IAM_NAME.test(data.user_name)) {
    throw new InvalidFindingError(
      `${WHAT} has an invalid ${formatPath([...dataPath, 'user_name'])}: not an IAM name`,
    );
  }
  return { ...common, name: data.user_name };
}

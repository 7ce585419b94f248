import type { PlaybookName } from '../../shared/catalog.js';
import { InvalidFindingError } from '../../shared/errors.js';
import type { PrincipalKind } from '../../shared/incident.js';
import {
  BUCKET_NAME,
  IAM_NAME,
  parseBucketArn,
  parseFunctionArn,
  parseSecretArn,
  partitionOfRegion,
  SECRET_NAME,
} from './arn.js';
import type {
  BucketFinding,
  ClaimedInstance,
  ClaimedPrincipal,
  ClaimedSecret,
  FunctionFinding,
  ParsedFindingEvent,
} from './finding.js';
import { formatPath, invalidFinding } from './invalid.js';
import {
  type AccessKeyDetails,
  AffectedSecretSchema,
  ATTACK_SEQUENCE_RESOURCE_TYPE,
  GUARDDUTY_SOURCE,
  type GuardDutyEvent,
  GuardDutyEventSchema,
  InstanceDetailsSchema,
  LambdaDetailsSchema,
  ResourceRoleSchema,
  S3BucketDetailsSchema,
  SECRET_AFFECTED_RESOURCE,
} from './schemas/guardduty.js';
import { GuardDutyDetectionSchema } from './schemas/sequence.js';
import { type ClaimedSequence, claimedSequence } from './sequence.js';
import { labelForScore } from './severity.js';

const WHAT = 'GuardDuty finding';

type Detail = GuardDutyEvent['detail'];
type Facts = ReturnType<typeof facts>;

/** What each playbook acts on, for the message when an event holds nothing for it. */
const ACTS_ON: Readonly<Record<PlaybookName, string>> = {
  'iam-credentials':
    'GuardDuty AccessKey and S3Bucket findings on the credentials that acted, except Policy:S3 ones',
  'ec2-instance': 'GuardDuty Instance findings',
  'secret-exposure': 'GuardDuty AccessKey findings whose API call touched a secret',
  'integration-quarantine': 'GuardDuty Lambda findings',
  's3-exposure': 'GuardDuty Policy:S3 findings that name a bucket',
  'attack-sequence': 'GuardDuty attack sequences (resource type AttackSequence)',
};

/**
 * GuardDuty's findings on a bucket's posture, from CloudTrail management
 * events: `resourceType` is `AccessKey` (whose call changed the bucket),
 * the bucket is in `s3BucketDetails`. The exposure is the bucket; the
 * principal that changed its policy may well be its administrator, so a
 * posture change is no grounds for containing credentials.
 */
const POLICY_S3 = 'Policy:S3/';

/**
 * Validates a GuardDuty finding event and normalises its finding as
 * `playbook` sees it: one finding can start two playbooks (an AccessKey
 * finding whose API call touched a secret starts iam-credentials for the
 * key and secret-exposure for the secret). Without a playbook the resource
 * type chooses, and the secret of an AccessKey finding counts when no
 * principal Cordon contains does.
 */
export function fromGuardDuty(event: unknown, playbook?: PlaybookName): ParsedFindingEvent {
  const parsed = GuardDutyEventSchema.safeParse(event);
  if (!parsed.success) throw invalidFinding(WHAT, event, parsed.error);
  const { detail } = parsed.data;
  const common = facts(parsed.data);
  const type = detail.resource.resourceType;
  if (playbook === undefined) return byResourceType(detail, common);

  const absent: ParsedFindingEvent = {
    status: 'unhandled',
    reason: 'other-playbook',
    source: GUARDDUTY_SOURCE,
    message: `the ${playbook} playbook acts on ${ACTS_ON[playbook]}; this finding is on ${type}${type === 'AccessKey' && playbook === 'secret-exposure' ? ' and names no secret' : ''}`,
  };
  switch (playbook) {
    case 'iam-credentials':
      return actsOnCredentials(detail) ? accessKeyFinding(detail, common) : absent;
    case 'ec2-instance':
      return type === 'Instance' ? instanceFinding(detail, common) : absent;
    case 'secret-exposure': {
      const secret = type === 'AccessKey' ? affectedSecret(detail) : undefined;
      return secret === undefined
        ? absent
        : { status: 'finding', finding: { ...common, playbook, secret } };
    }
    case 'integration-quarantine':
      return type === 'Lambda' ? functionFinding(detail, common) : absent;
    case 's3-exposure':
      return isBucketPolicyFinding(detail) ? bucketFinding(detail, common) : absent;
    case 'attack-sequence':
      return type === ATTACK_SEQUENCE_RESOURCE_TYPE ? sequenceFinding(detail, common) : absent;
  }
}

/** An attack sequence, every member validated; unhandled when the finding holds none. */
function sequenceFinding(detail: Detail, common: Facts): ParsedFindingEvent {
  const sequence = attackSequence(detail);
  if (sequence === undefined) {
    return unhandled(
      `GuardDuty ${detail.type} holds no service.detection.sequence: no Cordon playbook acts on it`,
    );
  }
  return { status: 'sequence', finding: { ...common, playbook: 'attack-sequence', sequence } };
}

/** The finding for the playbook its resource type names. */
function byResourceType(detail: Detail, common: Facts): ParsedFindingEvent {
  const type = detail.resource.resourceType;
  if (type === ATTACK_SEQUENCE_RESOURCE_TYPE) return sequenceFinding(detail, common);
  if (type === 'Instance') return instanceFinding(detail, common);
  if (type === 'Lambda') return functionFinding(detail, common);
  if (isBucketPolicyFinding(detail)) return bucketFinding(detail, common);
  if (detail.type.startsWith(POLICY_S3)) {
    return unhandled(
      `GuardDuty ${detail.type} names no bucket (an account-level setting): no Cordon playbook acts on it`,
    );
  }
  if (type === 'S3Bucket' && detail.resource.accessKeyDetails !== undefined) {
    return accessKeyFinding(detail, common);
  }
  if (type !== 'AccessKey') {
    return unhandled(`no Cordon playbook handles GuardDuty resource type ${type}`);
  }
  // Validated here too: a mangled secret would fail the secret-exposure triage.
  const secret = affectedSecret(detail);
  const credentials = accessKeyFinding(detail, common);
  if (credentials.status === 'unhandled' && secret !== undefined) {
    return { status: 'finding', finding: { ...common, playbook: 'secret-exposure', secret } };
  }
  return credentials;
}

function instanceFinding(detail: Detail, common: Facts): ParsedFindingEvent {
  return {
    status: 'finding',
    finding: { ...common, playbook: 'ec2-instance', instance: claimedInstance(detail) },
  };
}

function accessKeyFinding(detail: Detail, common: Facts): ParsedFindingEvent {
  const { resource } = detail;
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
    finding: { ...common, playbook: 'iam-credentials', principal },
  };
}

/**
 * The secret an AccessKey finding's API call touched, named in
 * `service.action.awsApiCallAction.affectedResources` by ARN or by name;
 * undefined when it names none.
 */
function affectedSecret(detail: Detail): ClaimedSecret | undefined {
  const prefix = ['detail', 'service', 'action'];
  const raw = detail.service.action;
  const action = AffectedSecretSchema.safeParse(raw);
  if (!action.success) throw invalidFinding(WHAT, raw, action.error, prefix);
  const value = action.data?.awsApiCallAction?.affectedResources?.[SECRET_AFFECTED_RESOURCE];
  if (value === undefined) return undefined;
  const path = formatPath([
    ...prefix,
    'awsApiCallAction',
    'affectedResources',
    SECRET_AFFECTED_RESOURCE,
  ]);
  if (value.startsWith('arn:')) {
    const arn = parseSecretArn(value);
    if (arn === undefined) {
      throw new InvalidFindingError(
        `${WHAT} has an invalid ${path}: not a Secrets Manager secret ARN (arn:<partition>:secretsmanager:<region>:<account>:secret:<name>-<6 characters>)`,
      );
    }
    return { secretId: value, arn };
  }
  if (!SECRET_NAME.test(value)) {
    throw new InvalidFindingError(
      `${WHAT} has an invalid ${path}: neither a secret ARN nor a secret name`,
    );
  }
  return { secretId: value };
}

/** A Lambda finding names its function in `resource.lambdaDetails`. */
function functionFinding(detail: Detail, common: Facts): ParsedFindingEvent {
  const prefix = ['detail', 'resource', 'lambdaDetails'];
  const raw = detail.resource.lambdaDetails;
  if (raw === undefined || raw === null) {
    throw new InvalidFindingError(`${WHAT} is missing ${formatPath(prefix)}`);
  }
  const details = LambdaDetailsSchema.safeParse(raw);
  if (!details.success) throw invalidFinding(WHAT, raw, details.error, prefix);
  const { functionArn, functionName } = details.data;
  const arn = parseFunctionArn(functionArn);
  if (arn === undefined) {
    throw new InvalidFindingError(
      `${WHAT} has an invalid ${formatPath([...prefix, 'functionArn'])}: not a Lambda function ARN (arn:<partition>:lambda:<region>:<account>:function:<name>)`,
    );
  }
  if (functionName !== undefined && functionName !== arn.name) {
    throw new InvalidFindingError(
      `${WHAT} ${formatPath([...prefix, 'functionName'])} names a different function than ${formatPath([...prefix, 'functionArn'])}`,
    );
  }
  const finding: FunctionFinding = {
    ...common,
    playbook: 'integration-quarantine',
    lambdaFunction: arn,
  };
  return { status: 'finding', finding };
}

/**
 * iam-credentials acts on the credentials of AccessKey findings and of S3
 * data-event findings (`S3Bucket`, with the caller in `accessKeyDetails`),
 * never on a Policy:S3 posture change.
 */
function actsOnCredentials(detail: Detail): boolean {
  const type = detail.resource.resourceType;
  if (detail.type.startsWith(POLICY_S3)) return false;
  return (
    type === 'AccessKey' || (type === 'S3Bucket' && detail.resource.accessKeyDetails !== undefined)
  );
}

/**
 * s3-exposure takes `Policy:S3/*` findings that name a bucket, whatever
 * their resource type (AccessKey for these management-event findings);
 * the rule filters the same way. Account-level ones name none.
 */
function isBucketPolicyFinding(detail: Detail): boolean {
  const buckets = detail.resource.s3BucketDetails;
  return detail.type.startsWith(POLICY_S3) && Array.isArray(buckets) && buckets.length > 0;
}

/** A bucket finding names its bucket in `resource.s3BucketDetails`: exactly one, or none is acted on. */
function bucketFinding(detail: Detail, common: Facts): ParsedFindingEvent {
  const prefix = ['detail', 'resource', 's3BucketDetails'];
  const raw = detail.resource.s3BucketDetails;
  if (raw === undefined || raw === null) {
    throw new InvalidFindingError(`${WHAT} is missing ${formatPath(prefix)}`);
  }
  const details = S3BucketDetailsSchema.safeParse(raw);
  if (!details.success) throw invalidFinding(WHAT, raw, details.error, prefix);
  const [bucket, ...others] = details.data;
  if (bucket === undefined || others.length > 0) {
    throw new InvalidFindingError(
      `${WHAT} ${formatPath(prefix)} names ${details.data.length} buckets; triage acts on exactly one`,
    );
  }
  const at = [...prefix, 0];
  if (!BUCKET_NAME.test(bucket.name)) {
    throw new InvalidFindingError(
      `${WHAT} has an invalid ${formatPath([...at, 'name'])}: not an S3 bucket name`,
    );
  }
  if (bucket.arn !== undefined && parseBucketArn(bucket.arn)?.name !== bucket.name) {
    throw new InvalidFindingError(
      `${WHAT} ${formatPath([...at, 'arn'])} names a different bucket than ${formatPath([...at, 'name'])}`,
    );
  }
  const finding: BucketFinding = {
    ...common,
    playbook: 's3-exposure',
    bucket: { name: bucket.name },
  };
  return { status: 'finding', finding };
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
    ...(detail.service.detectorId === undefined ? {} : { detectorId: detail.service.detectorId }),
  } as const;
}

/**
 * The attack sequence of an AttackSequence finding, every actor and
 * resource validated (sequence.ts); undefined when the finding holds none
 * (as some stored copies of these findings do).
 */
export function attackSequence(detail: Detail): ClaimedSequence | undefined {
  const prefix = ['detail', 'service', 'detection'];
  const raw = detail.service.detection;
  const parsed = GuardDutyDetectionSchema.safeParse(raw);
  if (!parsed.success) throw invalidFinding(WHAT, raw, parsed.error, prefix);
  const sequence = parsed.data?.sequence;
  if (sequence === undefined || sequence === null) return undefined;
  const at = [...prefix, 'sequence'];
  return claimedSequence({
    what: WHAT,
    uid: sequence.uid,
    signals: sequence.signals.length,
    account: detail.accountId,
    region: detail.region,
    actors: (sequence.actors ?? []).map((actor, i) => ({
      namePath: [...at, 'actors', i, 'user', 'name'],
      id: actor.id,
      type: actor.user?.type,
      name: actor.user?.name,
      uid: actor.user?.uid,
      credentialUid: actor.user?.credentialUid,
      accountId: actor.user?.account?.uid,
    })),
    resources: (sequence.resources ?? []).map((resource, i) => ({
      uidPath: [...at, 'resources', i, 'uid'],
      resourceType: resource.resourceType,
      uid: resource.uid,
      accountId: resource.accountId,
      region: resource.region,
    })),
  });
}

/** An Instance finding names its instance in `resource.instanceDetails.instanceId`. */
function claimedInstance(detail: Detail): ClaimedInstance {
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

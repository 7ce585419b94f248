import { SEQUENCE } from '../../shared/catalog.js';
import { InvalidFindingError } from '../../shared/errors.js';
import type { PrincipalKind } from '../../shared/incident.js';
import { BUCKET_NAME, IAM_NAME, INSTANCE_ID, parseBucketArn, parseInstanceArn } from './arn.js';
import type { ClaimedPrincipal } from './finding.js';
import { formatPath } from './invalid.js';

/**
 * A GuardDuty attack sequence, validated and normalised whichever way it
 * came (GuardDuty's own event or Security Hub's ASFF): the credentials of
 * its actors, the instances and buckets among its resources, and what it
 * names that is not to be acted on, each with why. Multi-resource by
 * construction, so no more than SEQUENCE_ACT_LIMIT members are ever put
 * forward to act on; the rest are listed as not acted on.
 */

/** How many of a sequence's principals, instances and buckets one approval may act on. */
export const SEQUENCE_ACT_LIMIT = SEQUENCE.limit;

type Path = ReadonlyArray<PropertyKey>;

/** An IAM user or role a sequence's actor names, and its account when not the finding's. */
export interface SequencePrincipal {
  readonly kind: 'IAMUser' | 'AssumedRole';
  readonly name: string;
  readonly account?: string;
}

/** One principal, instance or bucket of a sequence that a containment may act on. */
export type SequenceMember =
  | { readonly kind: 'principal'; readonly principal: ClaimedPrincipal }
  | { readonly kind: 'instance'; readonly instanceId: string }
  | { readonly kind: 'bucket'; readonly name: string };

/** What a sequence names and no containment acts on, with why (and AWS's guide where one applies). */
export interface NotActedOn {
  /** The resource type, or `actor`. */
  readonly what: string;
  readonly id: string;
  readonly reason: string;
  readonly guide?: string;
}

export interface ClaimedSequence {
  readonly uid: string;
  readonly signals: number;
  /**
   * Every IAM user and role the actors name, acted on or not (beyond the
   * limit, or refused later): none of them may decide about the sequence.
   */
  readonly principals: readonly SequencePrincipal[];
  /** In the order the finding lists them (actors first), each once, at most SEQUENCE_ACT_LIMIT. */
  readonly members: readonly SequenceMember[];
  readonly notActedOn: readonly NotActedOn[];
}

/** One actor's user as either form gives it. */
export interface SequenceActorInput {
  /** Where the actor's user name is in the event, for messages. */
  readonly namePath: Path;
  readonly id: string;
  readonly type?: string | undefined;
  readonly name?: string | undefined;
  readonly uid?: string | undefined;
  readonly credentialUid?: string | undefined;
  /** The account the user belongs to, when the finding says. */
  readonly accountId?: string | undefined;
}

/** One resource, with its type in GuardDuty's ResourceV2 vocabulary (`EC2_INSTANCE`, ...). */
export interface SequenceResourceInput {
  /** Where the resource's identifier is in the event, for messages. */
  readonly uidPath: Path;
  readonly resourceType: string;
  readonly uid: string;
  readonly accountId?: string | undefined;
  readonly region?: string | undefined;
}

export interface SequenceInput {
  /** `GuardDuty finding` or `Security Hub finding`, for messages. */
  readonly what: string;
  readonly uid: string;
  readonly signals: number;
  /** The account and region the finding says it is in: a resource elsewhere is refused. */
  readonly account: string;
  /** Undefined when the finding names none: then a resource that names one is refused. */
  readonly region: string | undefined;
  readonly actors: readonly SequenceActorInput[];
  readonly resources: readonly SequenceResourceInput[];
}

const KINDS: Readonly<Record<string, PrincipalKind>> = {
  IAMUser: 'IAMUser',
  AssumedRole: 'AssumedRole',
  Root: 'Root',
};

const EKS_GUIDE =
  'https://docs.aws.amazon.com/guardduty/latest/ug/guardduty-remediate-kubernetes.html';
const ECS_GUIDE = 'https://docs.aws.amazon.com/guardduty/latest/ug/compromised-ecs.html';
const CONTAINER_GUIDE = 'https://docs.aws.amazon.com/guardduty/latest/ug/guardduty_remediate.html';

/** Resource types Cordon cannot contain, with the AWS guide a responder follows instead. */
const GUIDES: Readonly<Record<string, string>> = {
  EKS_CLUSTER: EKS_GUIDE,
  KUBERNETES_WORKLOAD: EKS_GUIDE,
  CONTAINER: CONTAINER_GUIDE,
  ECS_CLUSTER: ECS_GUIDE,
  ECS_TASK: ECS_GUIDE,
};

const ROOT = 'IAM cannot restrict root credentials: notify only';

/**
 * Validates every actor and resource of a sequence and sorts them into what
 * may be acted on and what may not. A member whose identifier does not
 * parse is not acted on, listed with why (nothing is acted on that was not
 * validated); it does not stop the others, so a name that S3 or IAM once
 * allowed and no longer does cannot shield a whole sequence. A resource in
 * another account or region than the finding's is refused, listed too.
 */
export function claimedSequence(input: SequenceInput): ClaimedSequence {
  const members: SequenceMember[] = [];
  const notActedOn: NotActedOn[] = [];
  const principals: SequencePrincipal[] = [];
  const seen = new Set<string>();
  const keys = new Set<string>();
  const add = (member: SequenceMember, what: string, id: string) => {
    const key = `${member.kind}:${id}`;
    if (seen.has(key)) return;
    seen.add(key);
    if (members.length < SEQUENCE_ACT_LIMIT) members.push(member);
    else {
      notActedOn.push({
        what,
        id,
        reason: `beyond the ${SEQUENCE_ACT_LIMIT} members one approval may act on`,
      });
    }
  };

  for (const actor of input.actors) {
    const kind =
      actor.type !== undefined && Object.hasOwn(KINDS, actor.type) ? KINDS[actor.type] : undefined;
    if (kind === undefined) {
      notActedOn.push({
        what: 'actor',
        id: actor.name ?? actor.id,
        reason: `Cordon does not contain principal type ${actor.type ?? '(none given)'}`,
      });
      continue;
    }
    if (kind === 'Root') {
      notActedOn.push({ what: 'actor', id: actor.uid ?? actor.id, reason: ROOT });
      continue;
    }
    const principal = unlessInvalid(
      () => actorPrincipal(input.what, actor, kind),
      (reason) => notActedOn.push({ what: 'actor', id: actor.name ?? actor.id, reason }),
    );
    if (principal === undefined) continue;
    const elsewhere = actor.accountId !== undefined && actor.accountId !== input.account;
    if (principal.name !== undefined) {
      principals.push({
        kind,
        name: principal.name,
        ...(elsewhere ? { account: actor.accountId } : {}),
      });
    }
    if (elsewhere) {
      // Its name would find a namesake in the finding's account.
      notActedOn.push({
        what: 'actor',
        id: `${kind}/${principal.name ?? actor.id}`,
        reason: `refused: account ${actor.accountId} is not the finding's account ${input.account}`,
      });
      continue;
    }
    if (principal.accessKeyId !== undefined) keys.add(principal.accessKeyId);
    // A role is one member however many of its sessions act: its steps act
    // on the role (every session), so its sessions cannot crowd out the rest.
    const key =
      kind === 'AssumedRole' || principal.accessKeyId === undefined
        ? ''
        : ` (${principal.accessKeyId})`;
    add({ kind: 'principal', principal }, 'actor', `${kind}/${actor.name ?? ''}${key}`);
  }

  for (const resource of input.resources) {
    const unparsed = (reason: string) =>
      notActedOn.push({ what: resource.resourceType, id: resource.uid, reason });
    const elsewhere = elsewhereReason(input, resource);
    if (elsewhere !== undefined) {
      notActedOn.push({ what: resource.resourceType, id: resource.uid, reason: elsewhere });
      continue;
    }
    switch (resource.resourceType) {
      case 'EC2_INSTANCE': {
        const instanceId = unlessInvalid(() => instanceIdOf(input, resource), unparsed);
        if (instanceId !== undefined) {
          add({ kind: 'instance', instanceId }, resource.resourceType, instanceId);
        }
        break;
      }
      case 'S3_BUCKET': {
        const name = unlessInvalid(() => bucketNameOf(input.what, resource), unparsed);
        if (name !== undefined) add({ kind: 'bucket', name }, resource.resourceType, name);
        break;
      }
      case 'ACCESS_KEY':
        // The actors name each key with its user; a key no actor names has no user to contain.
        if (!keys.has(resource.uid)) {
          notActedOn.push({
            what: resource.resourceType,
            id: resource.uid,
            reason: 'no actor of the sequence names this key, so its user is not known',
          });
        }
        break;
      default: {
        const guide = Object.hasOwn(GUIDES, resource.resourceType)
          ? GUIDES[resource.resourceType]
          : undefined;
        notActedOn.push({
          what: resource.resourceType,
          id: resource.uid,
          reason:
            guide === undefined
              ? `Cordon contains a sequence's credentials, instances and buckets, not ${resource.resourceType}`
              : 'not contained: Cordon has no action for it; follow the AWS guide',
          ...(guide === undefined ? {} : { guide }),
        });
      }
    }
  }
  return { uid: input.uid, signals: input.signals, principals, members, notActedOn };
}

/** `parse()`, or undefined after telling `invalid` why it is not acted on. */
function unlessInvalid<T>(parse: () => T, invalid: (reason: string) => void): T | undefined {
  try {
    return parse();
  } catch (error) {
    if (!(error instanceof InvalidFindingError)) throw error;
    invalid(`not acted on: ${error.message}`);
    return undefined;
  }
}

function actorPrincipal(
  what: string,
  actor: SequenceActorInput,
  kind: PrincipalKind,
): ClaimedPrincipal {
  // As in accessKeyDetails, GuardDuty names an assumed role's role in the user's name.
  if (actor.name === undefined || !IAM_NAME.test(actor.name)) {
    throw new InvalidFindingError(
      `${what} has an invalid ${formatPath(actor.namePath)}: not an IAM name`,
    );
  }
  return {
    kind,
    name: actor.name,
    ...(actor.uid === undefined ? {} : { principalId: actor.uid }),
    ...(actor.credentialUid === undefined ? {} : { accessKeyId: actor.credentialUid }),
  };
}

/** Why a resource is refused for where it is, or undefined when it is in the finding's account and region. */
function elsewhereReason(
  input: SequenceInput,
  resource: SequenceResourceInput,
): string | undefined {
  // An instance ARN says where it is too, and must agree.
  const arn = resource.resourceType === 'EC2_INSTANCE' ? parseInstanceArn(resource.uid) : undefined;
  const account = [resource.accountId, arn?.account].find(
    (a) => a !== undefined && a !== input.account,
  );
  if (account !== undefined) {
    return `refused: account ${account} is not the finding's account ${input.account}`;
  }
  const region = [resource.region, arn?.region].find((r) => r !== undefined && r !== input.region);
  if (region !== undefined) {
    return `refused: region ${region} is not the finding's region ${input.region ?? '(none given)'}`;
  }
  return undefined;
}

/** GuardDuty does not say whether an instance's uid is its id or its ARN: either is taken. */
function instanceIdOf(input: SequenceInput, resource: SequenceResourceInput): string {
  if (INSTANCE_ID.test(resource.uid)) return resource.uid;
  const arn = parseInstanceArn(resource.uid);
  if (arn !== undefined) return arn.instanceId;
  throw new InvalidFindingError(
    `${input.what} has an invalid ${formatPath(resource.uidPath)}: not an EC2 instance id or ARN`,
  );
}

function bucketNameOf(what: string, resource: SequenceResourceInput): string {
  if (BUCKET_NAME.test(resource.uid)) return resource.uid;
  const arn = parseBucketArn(resource.uid);
  if (arn !== undefined) return arn.name;
  throw new InvalidFindingError(
    `${what} has an invalid ${formatPath(resource.uidPath)}: not an S3 bucket name or ARN`,
  );
}

/** One line for the CLI and logs: what the sequence names and what of it could be acted on. */
export function describeSequence(type: string, sequence: ClaimedSequence): string {
  const count = (kind: SequenceMember['kind'], noun: string) => {
    const n = sequence.members.filter((m) => m.kind === kind).length;
    return `${n} ${noun}${n === 1 ? '' : 's'}`;
  };
  const rest = sequence.notActedOn.length;
  return `${type} (${sequence.signals} signals): ${count('principal', 'principal')}, ${count('instance', 'instance')} and ${count('bucket', 'bucket')} Cordon could contain; ${rest} ${rest === 1 ? 'member' : 'members'} not acted on`;
}

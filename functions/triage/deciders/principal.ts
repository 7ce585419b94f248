import { GetRoleCommand, GetUserCommand, type IAMClient, type Tag } from '@aws-sdk/client-iam';
import { classifyAwsError, isNotFound } from '../../shared/errors.js';
import { isLongTermAccessKeyId } from '../../shared/iam-arn.js';
import type { Principal } from '../../shared/incident.js';
import { protectionOf } from '../guards/protection.js';
import { parseIamPrincipalArn, rootArn, unverifiedArn } from '../parse/arn.js';
import type { ClaimedPrincipal, IamFinding } from '../parse/finding.js';
import { planPlaybook } from '../plan.js';
import { type Decider, type Decision, proceedReason, refuse } from './decision.js';

const ROOT_ONLY_NOTIFY = 'IAM cannot restrict root credentials: notify only';

/**
 * iam-credentials: the user or role a finding's credentials belong to. It
 * must exist in IAM as the finding names it (its unique id, and its ARN when
 * the finding gives one); its ARN and tags must not protect it. Which steps
 * apply is the principal's kind: a user's key and sessions, or a role's.
 */
export const principalDecider: Decider<IamFinding> = {
  configurationChecksAct: false,
  claimed: (finding) => ({
    arn: claimedArn(finding),
    subject: { principal: principalOf(finding, claimedArn(finding), undefined) },
  }),
  location(finding) {
    const { arn } = finding.principal;
    const parsed = arn === undefined ? undefined : parseIamPrincipalArn(arn);
    return arn === undefined || parsed === undefined
      ? undefined
      : { what: 'principal', arn, account: parsed.account };
  },
  sourceIdentifier: ({ principal }) => principal.accessKeyId ?? principal.name ?? principal.arn,
  async decide(finding, deps): Promise<Decision> {
    const { config } = deps;
    const subjectAt = (arn: string, uniqueId?: string) => ({
      arn,
      subject: { principal: principalOf(finding, arn, uniqueId) },
    });
    const resolution = await resolvePrincipal(finding, deps.iam);
    if (resolution.status === 'refused') {
      return refuse(resolution.reason, subjectAt(resolution.arn), finding.playbook);
    }
    const { arn } = resolution;
    const { refusal, approval } = protectionOf(arn, resolution, config);
    if (refusal !== undefined) return refuse(refusal, subjectAt(arn), finding.playbook);

    // Guards fail closed: an unread exempt tag means no step runs unattended.
    const failClosedReason =
      resolution.status === 'unverified'
        ? `exempt tag could not be read: ${resolution.reason}`
        : undefined;
    const plan = planPlaybook(
      finding.playbook,
      {
        inapplicable: inapplicableSteps(finding.principal),
        failClosedReason,
        humanReason: approval,
      },
      config,
    );
    const uniqueId = resolution.status === 'verified' ? resolution.uniqueId : undefined;
    return {
      decision: 'PROCEED',
      reason: proceedReason(failClosedReason ?? approval),
      plan,
      ...subjectAt(arn, uniqueId).subject,
      arn,
    };
  },
};

/** The steps that do not apply to this principal, with why. */
function inapplicableSteps(principal: ClaimedPrincipal) {
  const { kind, accessKeyId } = principal;
  if (kind === 'Root') {
    return {
      disableAccessKey: ROOT_ONLY_NOTIFY,
      revokeUserSessions: ROOT_ONLY_NOTIFY,
      quarantineUser: ROOT_ONLY_NOTIFY,
      revokeRoleSessions: ROOT_ONLY_NOTIFY,
    };
  }
  const usersOnly = 'applies to IAM users only';
  if (kind !== 'IAMUser') {
    return {
      disableAccessKey: usersOnly,
      revokeUserSessions: usersOnly,
      quarantineUser: usersOnly,
    };
  }
  return {
    ...(isLongTermAccessKeyId(accessKeyId)
      ? {}
      : { disableAccessKey: 'the finding names no long-term access key (AKIA...)' }),
    revokeRoleSessions: 'applies to assumed roles only',
  };
}

/** The incident's principal: what the finding names, at the ARN (and id) triage settled on. */
function principalOf(finding: IamFinding, arn: string, uniqueId: string | undefined): Principal {
  const { principal } = finding;
  return {
    kind: principal.kind,
    arn,
    ...(principal.kind === 'Root' || principal.name === undefined ? {} : { name: principal.name }),
    ...(principal.accessKeyId === undefined ? {} : { accessKeyId: principal.accessKeyId }),
    ...(uniqueId === undefined ? {} : { uniqueId }),
  };
}

/**
 * Verifies the principal a finding names against IAM: it must exist, and
 * its unique id (and ARN, when the finding gives one) must match the claim.
 */
export type Resolution =
  | {
      readonly status: 'verified';
      readonly arn: string;
      readonly tags: ReadonlyArray<Tag>;
      /** IAM's UserId or RoleId; none for root. */
      readonly uniqueId?: string | undefined;
    }
  /** The principal is gone or is not the one the finding named. */
  | { readonly status: 'refused'; readonly arn: string; readonly reason: string }
  /** IAM could not be read (terminally): guards cannot decide, so nothing runs unattended. */
  | { readonly status: 'unverified'; readonly arn: string; readonly reason: string };

export interface IamEntity {
  readonly arn: string;
  readonly uniqueId: string | undefined;
  readonly tags: ReadonlyArray<Tag>;
}

/** The ARN a finding implies before IAM is asked (no path for GuardDuty principals). */
export function claimedArn(finding: IamFinding): string {
  const { principal, partition, account } = finding;
  if (principal.kind === 'Root' || principal.name === undefined) return rootArn(partition, account);
  return (
    principal.arn ??
    unverifiedArn(
      partition,
      account,
      principal.kind === 'IAMUser' ? 'user' : 'role',
      principal.name,
    )
  );
}

export async function resolvePrincipal(finding: IamFinding, iam: IAMClient): Promise<Resolution> {
  const { principal } = finding;
  const fallbackArn = claimedArn(finding);
  if (principal.kind === 'Root' || principal.name === undefined) {
    return { status: 'verified', arn: fallbackArn, tags: [] };
  }
  const what = principal.kind === 'IAMUser' ? 'user' : 'role';
  let entity: IamEntity | undefined;
  try {
    entity =
      principal.kind === 'IAMUser'
        ? await getUser(iam, principal.name)
        : await getRole(iam, principal.name);
  } catch (error) {
    if (isNotFound(error)) {
      return {
        status: 'refused',
        arn: fallbackArn,
        reason: `principal: ${what} ${principal.name} no longer exists`,
      };
    }
    const failure = classifyAwsError(error, `read ${what} ${principal.name}`);
    if (failure.retryable) throw failure;
    return { status: 'unverified', arn: fallbackArn, reason: failure.message };
  }
  if (entity === undefined) {
    return {
      status: 'unverified',
      arn: fallbackArn,
      reason: `read ${what} ${principal.name}: IAM returned no ${what}`,
    };
  }
  const mismatch = mismatchOf(principal, entity);
  if (mismatch !== undefined) return { status: 'refused', arn: entity.arn, reason: mismatch };
  return { status: 'verified', arn: entity.arn, tags: entity.tags, uniqueId: entity.uniqueId };
}

function mismatchOf(claim: ClaimedPrincipal, entity: IamEntity): string | undefined {
  // An assumed role's principal id is `AROA...:session`; the role's id is the part before ':'.
  const claimedId =
    claim.principalId === undefined
      ? undefined
      : claim.kind === 'AssumedRole'
        ? claim.principalId.split(':', 1)[0]
        : claim.principalId;
  if (claimedId !== undefined && claimedId !== entity.uniqueId) {
    return `principal id mismatch: the finding names ${claimedId}, IAM has ${entity.uniqueId ?? 'none'} for ${entity.arn}`;
  }
  if (claim.arn !== undefined && claim.arn !== entity.arn) {
    return `principal arn mismatch: the finding names ${claim.arn}, IAM has ${entity.arn}`;
  }
  return undefined;
}

async function getUser(iam: IAMClient, userName: string): Promise<IamEntity | undefined> {
  const { User } = await iam.send(new GetUserCommand({ UserName: userName }));
  if (User?.Arn === undefined) return undefined;
  return { arn: User.Arn, uniqueId: User.UserId, tags: User.Tags ?? [] };
}

export async function getRole(iam: IAMClient, roleName: string): Promise<IamEntity | undefined> {
  const { Role } = await iam.send(new GetRoleCommand({ RoleName: roleName }));
  if (Role?.Arn === undefined) return undefined;
  return { arn: Role.Arn, uniqueId: Role.RoleId, tags: Role.Tags ?? [] };
}

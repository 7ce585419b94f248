import {
  DescribeIamInstanceProfileAssociationsCommand,
  DescribeInstancesCommand,
  type DescribeInstancesCommandOutput,
  type EC2Client,
  type Instance as Ec2Instance,
} from '@aws-sdk/client-ec2';
import { GetInstanceProfileCommand, type IAMClient } from '@aws-sdk/client-iam';
import { classifyAwsError, isNotFound } from '../shared/errors.js';
import type { Instance, Principal } from '../shared/incident.js';
import type { RuntimeConfig } from '../shared/runtime-config.js';
import { instanceArn, instanceProfileName } from './arn.js';
import { clientRegion } from './decision.js';
import type { InstanceFinding } from './finding.js';
import { exemptTagGuard, type ResourceTag } from './guards.js';
import { protectingPattern } from './patterns.js';
import { getRole } from './principal.js';

/**
 * Verifies the instance a finding names against EC2: it must exist, must
 * not be terminated (or terminating), and must belong to the home account.
 * Then reads what the playbook needs: its VPC, its Auto Scaling group, its
 * instance profile, the profile's role, and how many other instances share
 * that profile (revoking the role's sessions reaches all of them).
 */
export type InstanceResolution =
  | {
      readonly status: 'verified';
      readonly instance: Instance;
      readonly tags: ReadonlyArray<ResourceTag>;
    }
  /** The instance is gone, terminated, or not the home account's. */
  | { readonly status: 'refused'; readonly instance: Instance; readonly reason: string }
  /** EC2 could not be read (terminally): guards cannot decide, so nothing runs unattended. */
  | { readonly status: 'unverified'; readonly instance: Instance; readonly reason: string };

const GONE_STATES: ReadonlySet<string> = new Set(['terminated', 'shutting-down']);
const ASG_TAG = 'aws:autoscaling:groupName';

/** The instance as the finding claims it, before EC2 is asked. */
export function claimedInstance(finding: InstanceFinding): Instance {
  const { instance, partition, region, account } = finding;
  return {
    instanceId: instance.instanceId,
    arn: instance.arn ?? instanceArn(partition, region, account, instance.instanceId),
  };
}

export async function resolveInstance(
  finding: InstanceFinding,
  ec2: EC2Client,
  homeAccount: string,
): Promise<InstanceResolution> {
  const claimed = claimedInstance(finding);
  const { instanceId } = claimed;
  const refused = (reason: string) => ({ status: 'refused', instance: claimed, reason }) as const;

  // Cordon's EC2 clients call one region: an instance elsewhere (a finding
  // aggregated from another region) cannot be read or contained from here.
  const here = await clientRegion(ec2);
  if (here !== undefined && here !== finding.region) {
    return refused(
      `region: instance ${instanceId} is in ${finding.region}; this deployment's EC2 calls go to ${here}`,
    );
  }

  let found: { readonly instance: Ec2Instance; readonly ownerId: string | undefined } | undefined;
  try {
    const output = await ec2.send(new DescribeInstancesCommand({ InstanceIds: [instanceId] }));
    found = findInstance(output, instanceId);
  } catch (error) {
    if (isNotFound(error)) return refused(`instance: instance ${instanceId} no longer exists`);
    const failure = classifyAwsError(error, `describe instance ${instanceId}`);
    if (failure.retryable) throw failure;
    return { status: 'unverified', instance: claimed, reason: failure.message };
  }
  if (found === undefined) return refused(`instance: instance ${instanceId} no longer exists`);

  const state = found.instance.State?.Name;
  if (state !== undefined && GONE_STATES.has(state)) {
    return refused(`instance: instance ${instanceId} is ${state}`);
  }
  if (found.ownerId === undefined) {
    return {
      status: 'unverified',
      instance: claimed,
      reason: `describe instance ${instanceId}: EC2 returned no owner account`,
    };
  }
  if (found.ownerId !== homeAccount) {
    return refused(
      `account: instance ${instanceId} is owned by account ${found.ownerId}, not home account ${homeAccount}`,
    );
  }

  const { VpcId, IamInstanceProfile, Tags = [] } = found.instance;
  const autoScalingGroup = Tags.find((t) => t.Key === ASG_TAG)?.Value;
  return {
    status: 'verified',
    instance: {
      instanceId,
      arn: instanceArn(finding.partition, finding.region, found.ownerId, instanceId),
      ...(VpcId === undefined ? {} : { vpcId: VpcId }),
      ...(IamInstanceProfile?.Arn === undefined
        ? {}
        : { instanceProfileArn: IamInstanceProfile.Arn }),
      ...(autoScalingGroup === undefined ? {} : { autoScalingGroup }),
    },
    tags: Tags,
  };
}

function findInstance(output: DescribeInstancesCommandOutput, instanceId: string) {
  for (const reservation of output.Reservations ?? []) {
    const instance = reservation.Instances?.find((i) => i.InstanceId === instanceId);
    if (instance !== undefined) return { instance, ownerId: reservation.OwnerId };
  }
  return undefined;
}

/** The role behind an instance profile, and whether its sessions may be revoked. */
export type InstanceRole =
  /** No role to act on: the revoke step does not apply. */
  | { readonly status: 'none'; readonly reason: string }
  /** The profile could not be read: the role is unknown, so guards cannot decide. */
  | { readonly status: 'unreadable'; readonly reason: string }
  | {
      readonly status: 'found';
      readonly principal: Principal;
      /** Protected or exempt: its sessions are never revoked. */
      readonly skipReason?: string;
      /** The role's tags could not be read: the exempt guard cannot decide. */
      readonly failClosedReason?: string;
    };

export async function resolveInstanceRole(
  profileArn: string,
  iam: IAMClient,
  config: RuntimeConfig,
): Promise<InstanceRole> {
  const profileName = instanceProfileName(profileArn);
  if (profileName === undefined) {
    return { status: 'unreadable', reason: `instance profile ARN ${profileArn} does not parse` };
  }
  let role: { readonly arn: string; readonly name: string } | undefined;
  try {
    const { InstanceProfile } = await iam.send(
      new GetInstanceProfileCommand({ InstanceProfileName: profileName }),
    );
    const first = InstanceProfile?.Roles?.[0];
    if (first?.Arn !== undefined && first.RoleName !== undefined) {
      role = { arn: first.Arn, name: first.RoleName };
    }
  } catch (error) {
    if (isNotFound(error)) {
      return { status: 'none', reason: `instance profile ${profileName} no longer exists` };
    }
    const failure = classifyAwsError(error, `read instance profile ${profileName}`);
    if (failure.retryable) throw failure;
    return { status: 'unreadable', reason: failure.message };
  }
  if (role === undefined) {
    return { status: 'none', reason: `instance profile ${profileName} has no role` };
  }
  return assessRole({ kind: 'AssumedRole', arn: role.arn, name: role.name }, iam, config);
}

/**
 * Whether a workload's role (an instance's or a function's) may have its
 * sessions revoked: not when a pattern protects it or its tags exempt it,
 * and only with approval when its tags cannot be read.
 */
export async function assessRole(
  principal: Principal & { readonly name: string },
  iam: IAMClient,
  config: RuntimeConfig,
  label = 'the instance role',
): Promise<InstanceRole> {
  const role = principal;
  const pattern = protectingPattern(role.arn, config.protectedPrincipalPatterns);
  if (pattern !== undefined) {
    return {
      status: 'found',
      principal,
      skipReason: `${label} is protected: ${role.arn} matches protected ${pattern}`,
    };
  }
  try {
    const entity = await getRole(iam, role.name);
    if (entity === undefined) {
      return {
        status: 'found',
        principal,
        failClosedReason: `exempt tag of role ${role.name} could not be read: IAM returned no role`,
      };
    }
    const exempt = exemptTagGuard(role.arn, entity.tags, config);
    return exempt === undefined
      ? { status: 'found', principal }
      : { status: 'found', principal, skipReason: `${label} is ${exempt}` };
  } catch (error) {
    if (isNotFound(error)) return { status: 'none', reason: `role ${role.name} no longer exists` };
    const failure = classifyAwsError(error, `read role ${role.name}`);
    if (failure.retryable) throw failure;
    return {
      status: 'found',
      principal,
      failClosedReason: `exempt tag of role ${role.name} could not be read: ${failure.message}`,
    };
  }
}

/**
 * How many other instances have the profile associated; an error message when
 * EC2 will not say. Associations are read rather than instances filtered by
 * profile: one paginated call over associations, which every EC2 API
 * (including the local emulator) answers.
 */
export async function countProfileSharing(
  ec2: EC2Client,
  profileArn: string,
  instanceId: string,
): Promise<{ readonly count: number } | { readonly error: string }> {
  const others = new Set<string>();
  let nextToken: string | undefined;
  try {
    do {
      const page = await ec2.send(
        new DescribeIamInstanceProfileAssociationsCommand({
          Filters: [{ Name: 'state', Values: ['associating', 'associated'] }],
          ...(nextToken === undefined ? {} : { NextToken: nextToken }),
        }),
      );
      for (const association of page.IamInstanceProfileAssociations ?? []) {
        const other = association.InstanceId;
        if (association.IamInstanceProfile?.Arn === profileArn && other && other !== instanceId) {
          others.add(other);
        }
      }
      nextToken = page.NextToken;
    } while (nextToken !== undefined && nextToken !== '');
  } catch (error) {
    const failure = classifyAwsError(error, `count instances sharing ${profileArn}`);
    if (failure.retryable) throw failure;
    return { error: failure.message };
  }
  return { count: others.size };
}

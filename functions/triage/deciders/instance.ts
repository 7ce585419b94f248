import {
  DescribeIamInstanceProfileAssociationsCommand,
  DescribeInstancesCommand,
  type DescribeInstancesCommandOutput,
  type EC2Client,
  type Instance as Ec2Instance,
} from '@aws-sdk/client-ec2';
import { GetInstanceProfileCommand, type IAMClient } from '@aws-sdk/client-iam';
import { classifyAwsError, isNotFound } from '../../shared/errors.js';
import { inFlight } from '../../shared/in-flight.js';
import type { Instance } from '../../shared/incident.js';
import type { ResourceTag } from '../../shared/protection.js';
import type { RuntimeConfig } from '../../shared/runtime-config.js';
import { protectionOf } from '../guards/protection.js';
import { instanceArn, instanceProfileName, parseInstanceArn } from '../parse/arn.js';
import type { InstanceFinding } from '../parse/finding.js';
import { joinReasons, planPlaybook } from '../plan.js';
import { clientRegion, type Decider, type Decision, proceedReason, refuse } from './decision.js';
import { assessRole, revokeStepOf, type WorkloadRole } from './role.js';

/** GuardDuty says the instance suffered the activity (probed, brute-forced), not that it did it. */
export const TARGET_REASON = 'the instance is the target of the activity, not its actor';

/**
 * ec2-instance: the instance must exist in the home account (EC2 says so),
 * and neither its ARN nor its tags may protect it. Its role's protection
 * only turns off revoking that role; an instance that was the target of the
 * activity, not its actor, is contained only with a responder's approval.
 */
export const instanceDecider: Decider<InstanceFinding> = {
  configurationChecksAct: false,
  claimed: (finding) => {
    const instance = claimedInstance(finding);
    return { arn: instance.arn, subject: { instance } };
  },
  location(finding) {
    const { arn } = finding.instance;
    const parsed = arn === undefined ? undefined : parseInstanceArn(arn);
    return arn === undefined || parsed === undefined
      ? undefined
      : { what: 'instance', arn, account: parsed.account, region: parsed.region };
  },
  sourceIdentifier: (finding) => finding.instance.instanceId,
  async decide(finding, deps): Promise<Decision> {
    const { config } = deps;
    const resolution = await resolveInstance(finding, deps.ec2, finding.account);
    const { instance } = resolution;
    const claimed = { arn: instance.arn, subject: { instance } };
    if (resolution.status === 'refused') {
      return refuse(resolution.reason, claimed, finding.playbook);
    }
    const { refusal, approval } = protectionOf(instance.arn, resolution, config);
    if (refusal !== undefined) return refuse(refusal, claimed, finding.playbook);

    // Guards fail closed: whatever could not be read means no step runs unattended.
    const unread: string[] = [];
    let role: WorkloadRole;
    let verified = instance;
    if (resolution.status === 'unverified') {
      unread.push(`exempt tag could not be read: ${resolution.reason}`);
      role = { status: 'unreadable', reason: resolution.reason };
    } else if (instance.instanceProfileArn === undefined) {
      role = { status: 'none', reason: 'the instance has no instance profile' };
    } else {
      const profileArn = instance.instanceProfileArn;
      // Both need only the profile: read together.
      const shared = inFlight(countProfileSharing(deps.ec2, profileArn, instance.instanceId));
      role = await resolveInstanceRole(profileArn, deps.iam, config);
      const sharing = await shared;
      if ('count' in sharing) verified = { ...instance, profileSharedWith: sharing.count };
      else
        unread.push(
          `instances sharing the instance profile could not be counted: ${sharing.error}`,
        );
    }
    if (role.status === 'unreadable' && resolution.status === 'verified') {
      unread.push(`the instance role could not be read: ${role.reason}`);
    } else if (role.status === 'found' && role.failClosedReason !== undefined) {
      unread.push(role.failClosedReason);
    }
    const resourceRole = finding.instance.resourceRole;
    if (resourceRole !== undefined && resourceRole !== 'ACTOR' && resourceRole !== 'TARGET') {
      unread.push(`GuardDuty resource role ${resourceRole} is neither ACTOR nor TARGET`);
    }

    const failClosedReason = joinReasons(...unread);
    const humanReason = joinReasons(
      resourceRole === 'TARGET' ? TARGET_REASON : undefined,
      approval,
    );
    const revoke = revokeStepOf(role, 'revokeInstanceRoleSessions', 'the instance role');
    const plan = planPlaybook(
      finding.playbook,
      { ...revoke, failClosedReason, humanReason },
      config,
    );
    return {
      decision: 'PROCEED',
      reason: proceedReason(failClosedReason ?? humanReason),
      arn: instance.arn,
      plan,
      instance: verified,
      ...(role.status === 'found' ? { principal: role.principal } : {}),
    };
  },
};

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
  account: string,
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
  if (found.ownerId !== account) {
    return refused(
      `account: instance ${instanceId} is owned by account ${found.ownerId}, not the finding's account ${account}`,
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

export async function resolveInstanceRole(
  profileArn: string,
  iam: IAMClient,
  config: RuntimeConfig,
): Promise<WorkloadRole> {
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

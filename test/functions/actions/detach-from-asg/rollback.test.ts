import 'aws-sdk-client-mock-vitest/extend';
import {
  AttachInstancesCommand,
  AutoScalingClient,
  DescribeAutoScalingGroupsCommand,
  DescribeAutoScalingInstancesCommand,
  SetInstanceProtectionCommand,
} from '@aws-sdk/client-auto-scaling';
import { DescribeInstancesCommand, EC2Client } from '@aws-sdk/client-ec2';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { rollbackAsgDetach } from '../../../../functions/actions/detach-from-asg/rollback.js';
import {
  APPROVALS,
  fakeLedger,
  INSTANCE_ARN,
  INSTANCE_ID,
} from '../../shared/containment-fixtures.js';
import { containedThenApproved, ROLLBACK_ACTOR } from '../../shared/rollback-fixtures.js';

const ec2Mock = mockClient(EC2Client);
const asgMock = mockClient(AutoScalingClient);
const ec2 = new EC2Client({ region: 'us-east-1' });
const autoScaling = new AutoScalingClient({ region: 'us-east-1' });

const DETACHED = {
  step: 'isolate',
  action: 'detach-from-asg',
  targetArn: INSTANCE_ARN,
  before: {
    instanceId: INSTANCE_ID,
    group: 'web-workers',
    lifecycleState: 'InService',
    desiredCapacity: 2,
    minSize: 1,
    maxSize: 4,
  },
  after: { instanceId: INSTANCE_ID, group: null },
};

/**
 * The instance in `group` (none when undefined); AttachInstances moves it
 * there, unprotected from scale-in (the group's default here).
 */
function inGroup(initial: string | undefined, initiallyProtected = false) {
  let group = initial;
  let isProtected = initiallyProtected;
  ec2Mock.on(DescribeInstancesCommand).resolves({
    Reservations: [{ Instances: [{ InstanceId: INSTANCE_ID, State: { Name: 'running' } }] }],
  });
  asgMock.on(DescribeAutoScalingInstancesCommand).callsFake(() => ({
    AutoScalingInstances:
      group === undefined
        ? []
        : [
            {
              InstanceId: INSTANCE_ID,
              AutoScalingGroupName: group,
              LifecycleState: 'InService',
              ProtectedFromScaleIn: isProtected,
            },
          ],
  }));
  asgMock.on(DescribeAutoScalingGroupsCommand).callsFake(() => ({
    AutoScalingGroups: [
      { AutoScalingGroupName: group, DesiredCapacity: 2, MinSize: 1, MaxSize: 4 },
    ],
  }));
  asgMock.on(AttachInstancesCommand).callsFake((input: { AutoScalingGroupName: string }) => {
    group = input.AutoScalingGroupName;
    isProtected = false;
    return {};
  });
  asgMock.on(SetInstanceProtectionCommand).callsFake((input: { ProtectedFromScaleIn: boolean }) => {
    isProtected = input.ProtectedFromScaleIn;
    return {};
  });
}

/** Detached after the evidence step protected it from scale-in. */
const PROTECTED = {
  ...DETACHED,
  before: { ...DETACHED.before, protectedFromScaleIn: true },
};

describe('rollback-detach-from-asg', () => {
  let fake: ReturnType<typeof fakeLedger>;
  beforeEach(() => {
    ec2Mock.reset();
    asgMock.reset();
    fake = fakeLedger();
  });
  const deps = () => ({
    ec2,
    autoScaling,
    ledger: fake.ledger,
    actor: ROLLBACK_ACTOR,
    approvals: APPROVALS,
  });

  it('attaches the instance to its recorded group and records the group as read back', async () => {
    // An entry recorded before Cordon read the protection: none to put back.
    inGroup(undefined);
    const input = await containedThenApproved(fake, 'rollback-detach-from-asg', DETACHED);

    const result = await rollbackAsgDetach(input, deps());

    expect(result.outcome).toBe('ROLLED_BACK');
    expect(asgMock).toHaveReceivedCommandWith(AttachInstancesCommand, {
      AutoScalingGroupName: 'web-workers',
      InstanceIds: [INSTANCE_ID],
    });
    expect(asgMock).not.toHaveReceivedCommand(SetInstanceProtectionCommand);
    expect(fake.entries().at(-1)?.after).toEqual({
      ...DETACHED.before,
      protectedFromScaleIn: false,
    });
  });

  it('puts back the scale-in protection the instance had when it left, which attaching drops', async () => {
    inGroup(undefined);
    const input = await containedThenApproved(fake, 'rollback-detach-from-asg', PROTECTED);

    const result = await rollbackAsgDetach(input, deps());

    expect(result.outcome).toBe('ROLLED_BACK');
    expect(result.summary).toContain('scale-in protection on, as it was');
    expect(asgMock).toHaveReceivedCommandWith(SetInstanceProtectionCommand, {
      AutoScalingGroupName: 'web-workers',
      InstanceIds: [INSTANCE_ID],
      ProtectedFromScaleIn: true,
    });
    expect(fake.entries().at(-1)?.after).toEqual(PROTECTED.before);
  });

  it('after an attempt that attached but stopped before the protection, only sets the protection', async () => {
    inGroup('web-workers', false);
    const input = await containedThenApproved(fake, 'rollback-detach-from-asg', PROTECTED);

    const result = await rollbackAsgDetach(input, deps());

    expect(result.outcome).toBe('ROLLED_BACK');
    expect(asgMock).not.toHaveReceivedCommand(AttachInstancesCommand);
    expect(asgMock).toHaveReceivedCommandTimes(SetInstanceProtectionCommand, 1);
    expect(fake.entries().at(-1)?.after).toEqual(PROTECTED.before);
  });

  it('refuses when the instance joined another group since, and changes nothing', async () => {
    inGroup('debug-pool');
    const input = await containedThenApproved(fake, 'rollback-detach-from-asg', DETACHED);

    const result = await rollbackAsgDetach(input, deps());

    expect(result.outcome).toBe('ROLLBACK_REFUSED');
    expect(result.summary).toContain(
      'its Auto Scaling group is "debug-pool" now, Cordon left none',
    );
    expect(asgMock).not.toHaveReceivedCommand(AttachInstancesCommand);
  });

  it('is already rolled back when the instance is in its group', async () => {
    inGroup('web-workers');
    const input = await containedThenApproved(fake, 'rollback-detach-from-asg', DETACHED);

    expect((await rollbackAsgDetach(input, deps())).outcome).toBe('ALREADY_ROLLED_BACK');
    expect(asgMock).not.toHaveReceivedCommand(AttachInstancesCommand);
  });
});

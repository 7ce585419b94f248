import 'aws-sdk-client-mock-vitest/extend';
import {
  AutoScalingClient,
  DescribeAutoScalingGroupsCommand,
  DescribeAutoScalingInstancesCommand,
  DetachInstancesCommand,
  type DetachInstancesCommandInput,
} from '@aws-sdk/client-auto-scaling';
import {
  DescribeInstancesCommand,
  DescribeNetworkInterfacesCommand,
  EC2Client,
} from '@aws-sdk/client-ec2';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { detachFromAsg } from '../../../../functions/actions/detach-from-asg/containment.js';
import { INTENT } from '../../../../functions/shared/intents.js';
import {
  ACTOR,
  APPROVALS,
  actionInput,
  approved,
  awsError,
  ENI_ID,
  ec2Incident,
  fakeLedger,
  INCIDENT_TAGS,
  INSTANCE_ARN,
  INSTANCE_ID,
} from '../../shared/containment-fixtures.js';

const STEP = 'isolate';
const GROUP = 'web-asg';
const INCIDENT = ec2Incident();
const ec2Mock = mockClient(EC2Client);
const asgMock = mockClient(AutoScalingClient);
const ec2 = new EC2Client({ region: 'us-east-1' });
const autoScaling = new AutoScalingClient({ region: 'us-east-1' });

interface World {
  instanceState: string | undefined;
  group: { name: string; desired: number; min: number; max: number; members: string[] };
  lifecycleState: string;
  protectedFromScaleIn: boolean;
  /** The instance and interface ids without the incident tag (someone removed it). */
  untagged: string[];
}

const tagsOf = (world: World, id: string) => (world.untagged.includes(id) ? [] : INCIDENT_TAGS);

/** EC2 knows the instance and its interface; Auto Scaling knows the group and its members. */
function awsWith(world: World): World {
  ec2Mock.on(DescribeInstancesCommand).callsFake(() => {
    if (world.instanceState === undefined) throw awsError('InvalidInstanceID.NotFound');
    const instance = {
      InstanceId: INSTANCE_ID,
      State: { Name: world.instanceState },
      Tags: tagsOf(world, INSTANCE_ID),
    };
    return { Reservations: [{ Instances: [instance] }] };
  });
  ec2Mock.on(DescribeNetworkInterfacesCommand).callsFake(() => ({
    NetworkInterfaces: [{ NetworkInterfaceId: ENI_ID, TagSet: tagsOf(world, ENI_ID) }],
  }));
  asgMock.on(DescribeAutoScalingInstancesCommand).callsFake(() => ({
    AutoScalingInstances: world.group.members.includes(INSTANCE_ID)
      ? [
          {
            InstanceId: INSTANCE_ID,
            AutoScalingGroupName: world.group.name,
            LifecycleState: world.lifecycleState,
            ProtectedFromScaleIn: world.protectedFromScaleIn,
          },
        ]
      : [],
  }));
  asgMock.on(DescribeAutoScalingGroupsCommand).callsFake(() => ({
    AutoScalingGroups: [
      {
        AutoScalingGroupName: world.group.name,
        DesiredCapacity: world.group.desired,
        MinSize: world.group.min,
        MaxSize: world.group.max,
      },
    ],
  }));
  // As Auto Scaling does: a decrement below the minimum size is refused;
  // without one, the group launches a replacement to keep its desired capacity.
  asgMock.on(DetachInstancesCommand).callsFake((input: DetachInstancesCommandInput) => {
    const { desired, min, max } = world.group;
    if (input.ShouldDecrementDesiredCapacity && desired - 1 < min) {
      throw validationError(
        `AutoScalingGroup ${GROUP} has min-size=${min}, max-size=${max}, and desired-size=${desired}. To detach 1 instance, please update the AutoScalingGroup sizes appropriately.`,
      );
    }
    world.group.members = world.group.members.filter((m) => !input.InstanceIds?.includes(m));
    if (input.ShouldDecrementDesiredCapacity) world.group.desired -= 1;
    else world.group.members.push(REPLACEMENT);
    return { Activities: [] };
  });
  return world;
}

/** Auto Scaling's ValidationError, with the message it sends. */
const validationError = (message: string): Error =>
  Object.assign(new Error(message), {
    name: 'ValidationError',
    $metadata: { httpStatusCode: 400 },
  });

const REPLACEMENT = 'i-0aaaaaaaaaaaaaaaa';

const member = (desired = 3, min = 1): World => ({
  instanceState: 'running',
  group: { name: GROUP, desired, min, max: 6, members: [INSTANCE_ID, 'i-0fedcba9876543210'] },
  lifecycleState: 'InService',
  protectedFromScaleIn: true,
  untagged: [],
});

describe('detach-from-asg', () => {
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
    actor: ACTOR,
    approvals: APPROVALS,
  });
  const input = (mode: 'auto' | 'dry-run' | 'approve' = 'auto') =>
    actionInput(STEP, { incident: INCIDENT, mode });

  it('detaches the instance and decrements the desired capacity, so no replacement is launched', async () => {
    // Arrange
    const world = awsWith(member(3, 1));
    // Act
    const result = await detachFromAsg(input(), deps());
    // Assert
    expect(result).toEqual({
      step: STEP,
      action: 'detach-from-asg',
      outcome: 'CONTAINED',
      mode: 'auto',
      targetArn: INSTANCE_ARN,
      summary: `detach instance ${INSTANCE_ID} from Auto Scaling group ${GROUP}, desired capacity 3 -> 2, no replacement launched`,
    });
    expect(asgMock).toHaveReceivedCommandTimes(DetachInstancesCommand, 1);
    expect(asgMock).toHaveReceivedCommandWith(DetachInstancesCommand, {
      AutoScalingGroupName: GROUP,
      InstanceIds: [INSTANCE_ID],
      ShouldDecrementDesiredCapacity: true,
    });
    expect(world.group).toMatchObject({ desired: 2, members: ['i-0fedcba9876543210'] });
  });

  it('records the group and its capacities before, for a rollback', async () => {
    // Arrange
    awsWith(member(3, 1));
    // Act
    await detachFromAsg(input(), deps());
    // Assert
    const before = {
      instanceId: INSTANCE_ID,
      group: GROUP,
      lifecycleState: 'InService',
      protectedFromScaleIn: true,
      desiredCapacity: 3,
      minSize: 1,
      maxSize: 6,
    };
    expect(fake.entries()).toEqual([
      expect.objectContaining({
        outcome: INTENT,
        actor: ACTOR,
        targetArn: INSTANCE_ARN,
        summary: `about to detach instance ${INSTANCE_ID} from Auto Scaling group ${GROUP}, desired capacity 3 -> 2, no replacement launched`,
        before,
      }),
      expect.objectContaining({
        outcome: 'CONTAINED',
        actor: ACTOR,
        targetArn: INSTANCE_ARN,
        before,
        after: { instanceId: INSTANCE_ID, group: null },
      }),
    ]);
    expect(fake.entries()[0]).not.toHaveProperty('after');
  });

  it('returns ALREADY_CONTAINED and makes no DetachInstances call when the instance is in no group', async () => {
    // Arrange
    const world = member();
    world.group.members = [];
    awsWith(world);
    // Act
    const result = await detachFromAsg(input(), deps());
    // Assert
    expect(result).toMatchObject({
      outcome: 'ALREADY_CONTAINED',
      summary: `already done: take instance ${INSTANCE_ID} out of its Auto Scaling group (it is in none)`,
    });
    expect(asgMock).not.toHaveReceivedCommand(DetachInstancesCommand);
    expect(asgMock).not.toHaveReceivedCommand(DescribeAutoScalingGroupsCommand);
  });

  it('at its minimum size, detaches without a decrement: the group launches a replacement, and the ledger says so', async () => {
    // Arrange: desired 2, minimum 2, so a decrement would be refused.
    const world = awsWith(member(2, 2));
    // Act
    const result = await detachFromAsg(input(), deps());
    // Assert: out of the group all the same; the group kept its size.
    const summary = `detach instance ${INSTANCE_ID} from Auto Scaling group ${GROUP}, desired capacity stays 2 (the group is at its minimum size, 2): the group launches a replacement instance`;
    expect(result).toMatchObject({ outcome: 'CONTAINED', summary });
    expect(asgMock).toHaveReceivedCommandTimes(DetachInstancesCommand, 1);
    expect(asgMock).toHaveReceivedCommandWith(DetachInstancesCommand, {
      AutoScalingGroupName: GROUP,
      InstanceIds: [INSTANCE_ID],
      ShouldDecrementDesiredCapacity: false,
    });
    expect(world.group).toMatchObject({
      desired: 2,
      members: ['i-0fedcba9876543210', REPLACEMENT],
    });
    expect(fake.entries()).toEqual([
      expect.objectContaining({ outcome: INTENT, summary: `about to ${summary}` }),
      expect.objectContaining({
        outcome: 'CONTAINED',
        summary,
        before: expect.objectContaining({ desiredCapacity: 2, minSize: 2 }),
        after: { instanceId: INSTANCE_ID, group: null },
      }),
    ]);
  });

  it('detaches with a decrement one above the minimum: the group does not go below it', async () => {
    // Arrange
    const world = awsWith(member(3, 2));
    // Act
    await detachFromAsg(input(), deps());
    // Assert
    expect(asgMock).toHaveReceivedCommandWith(DetachInstancesCommand, {
      ShouldDecrementDesiredCapacity: true,
    });
    expect(world.group).toMatchObject({ desired: 2, members: ['i-0fedcba9876543210'] });
  });

  it.each([
    ['the instance', INSTANCE_ID],
    ['a network interface', ENI_ID],
  ])(
    'refuses, leaving the group as it was, when the incident tag was removed from %s during the wait',
    async (_, id) => {
      // Arrange: the instance's own role deleted the tag preserve-evidence wrote.
      const world = awsWith({ ...member(3, 1), untagged: [id] });
      // Act
      const attempt = detachFromAsg(
        actionInput(STEP, { incident: INCIDENT, approval: approved(STEP) }),
        deps(),
      );
      // Assert
      await expect(attempt).rejects.toMatchObject({
        name: 'Cordon.IncidentTagMissing',
        retryable: false,
        message: expect.stringMatching(
          new RegExp(`cordon:incident tag .* is gone from ${id}\\..*the instance is NOT isolated`),
        ),
      });
      expect(asgMock).not.toHaveReceivedCommand(DetachInstancesCommand);
      expect(world.group).toMatchObject({
        desired: 3,
        members: [INSTANCE_ID, 'i-0fedcba9876543210'],
      });
      // Refused before any change: one FAILED entry, no intent left open.
      expect(fake.entries()).toEqual([
        expect.objectContaining({
          outcome: 'FAILED',
          summary: expect.stringContaining(`is gone from ${id}`),
        }),
      ]);
    },
  );

  it('when the minimum was raised after the read, retries and then leaves without a decrement, saying so', async () => {
    // Arrange: read at desired 2, minimum 1; someone raises the minimum to 2
    // before the detach, so Auto Scaling refuses the decrement.
    const world = awsWith(member(2, 1));
    let reads = 0;
    asgMock.on(DescribeAutoScalingGroupsCommand).callsFake(() => {
      const read = { ...world.group };
      reads += 1;
      if (reads === 1) world.group.min = 2;
      return {
        AutoScalingGroups: [
          {
            AutoScalingGroupName: GROUP,
            DesiredCapacity: read.desired,
            MinSize: read.min,
            MaxSize: read.max,
          },
        ],
      };
    });
    // Act
    const first = await detachFromAsg(input(), deps()).catch((e: unknown) => e);
    const retry = await detachFromAsg(input(), deps());
    // Assert: the refusal is retryable, changes nothing, and the retry says
    // what it did from the sizes it read again.
    expect(first).toMatchObject({ name: 'Cordon.ServiceUnavailable', retryable: true });
    expect(retry).toMatchObject({
      outcome: 'CONTAINED',
      summary: expect.stringContaining(
        'desired capacity stays 2 (the group is at its minimum size, 2): the group launches a replacement instance',
      ),
    });
    expect(world.group).toMatchObject({
      desired: 2,
      members: ['i-0fedcba9876543210', REPLACEMENT],
    });
    expect(fake.entries().map((e) => e.outcome)).toEqual([INTENT, 'CONTAINED']);
  });

  it('records CONTAINED when the instance left the group between the read and the detach', async () => {
    // Arrange
    const world = awsWith(member());
    asgMock.on(DetachInstancesCommand).callsFake(() => {
      world.group.members = [];
      throw validationError(
        `The instance ${INSTANCE_ID} is not part of Auto Scaling group ${GROUP}.`,
      );
    });
    // Act
    const result = await detachFromAsg(input(), deps());
    // Assert
    expect(result.outcome).toBe('CONTAINED');
    expect(fake.entries().map((e) => e.outcome)).toEqual([INTENT, 'CONTAINED']);
    expect(fake.entries()[1]?.after).toEqual({ instanceId: INSTANCE_ID, group: null });
  });

  it('returns TARGET_NOT_FOUND and asks Auto Scaling nothing when the instance is terminated', async () => {
    // Arrange
    awsWith({ ...member(), instanceState: 'terminated' });
    // Act
    const result = await detachFromAsg(input(), deps());
    // Assert
    expect(result.outcome).toBe('TARGET_NOT_FOUND');
    expect(asgMock).not.toHaveReceivedAnyCommand();
    expect(fake.entries().map((e) => e.outcome)).toEqual(['TARGET_NOT_FOUND']);
  });

  it('records DRY_RUN and makes no DetachInstances call in dry-run mode', async () => {
    // Arrange
    awsWith(member());
    // Act
    const result = await detachFromAsg(input('dry-run'), deps());
    // Assert
    expect(result).toMatchObject({
      outcome: 'DRY_RUN',
      summary: `would detach instance ${INSTANCE_ID} from Auto Scaling group ${GROUP}, desired capacity 3 -> 2, no replacement launched`,
    });
    expect(asgMock).not.toHaveReceivedCommand(DetachInstancesCommand);
  });

  it('fails with Cordon.ApprovalMissing and makes no AWS call in approve mode without an approval', async () => {
    // Arrange
    awsWith(member());
    // Act
    const attempt = detachFromAsg(input('approve'), deps());
    // Assert
    await expect(attempt).rejects.toMatchObject({ name: 'Cordon.ApprovalMissing' });
    expect(ec2Mock).not.toHaveReceivedAnyCommand();
    expect(asgMock).not.toHaveReceivedAnyCommand();
  });

  it('acts in approve mode with an approval for the isolate step', async () => {
    // Arrange
    awsWith(member());
    // Act
    const result = await detachFromAsg(
      actionInput(STEP, { incident: INCIDENT, approval: approved(STEP) }),
      deps(),
    );
    // Assert
    expect(result).toMatchObject({ outcome: 'CONTAINED', mode: 'approve' });
  });

  it('surfaces throttling as retryable Cordon.Throttled with only its intent in the ledger', async () => {
    // Arrange
    awsWith(member());
    asgMock.on(DetachInstancesCommand).rejects(awsError('Throttling'));
    // Act
    const attempt = detachFromAsg(input(), deps());
    // Assert
    await expect(attempt).rejects.toMatchObject({ name: 'Cordon.Throttled', retryable: true });
    expect(fake.entries().map((e) => e.outcome)).toEqual([INTENT]);
  });

  it('records AccessDenied as a FAILED ledger entry and throws Cordon.AccessDenied', async () => {
    // Arrange
    awsWith(member());
    asgMock.on(DetachInstancesCommand).rejects(awsError('AccessDenied', 403));
    // Act
    const attempt = detachFromAsg(input(), deps());
    // Assert
    await expect(attempt).rejects.toMatchObject({ name: 'Cordon.AccessDenied', retryable: false });
    expect(fake.entries()).toEqual([
      expect.objectContaining({ outcome: INTENT, targetArn: INSTANCE_ARN }),
      expect.objectContaining({ outcome: 'FAILED', targetArn: INSTANCE_ARN }),
    ]);
  });
});

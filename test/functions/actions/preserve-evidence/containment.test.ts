import 'aws-sdk-client-mock-vitest/extend';
import {
  AutoScalingClient,
  DescribeAutoScalingInstancesCommand,
  SetInstanceProtectionCommand,
} from '@aws-sdk/client-auto-scaling';
import {
  CreateSnapshotCommand,
  type CreateSnapshotCommandInput,
  CreateTagsCommand,
  type CreateTagsCommandInput,
  DescribeInstanceAttributeCommand,
  type DescribeInstanceAttributeCommandInput,
  DescribeInstancesCommand,
  DescribeSnapshotsCommand,
  type DescribeSnapshotsCommandInput,
  EC2Client,
  ModifyInstanceAttributeCommand,
  type ModifyInstanceAttributeCommandInput,
  type Snapshot,
} from '@aws-sdk/client-ec2';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import {
  findingKey,
  preserveEvidence,
} from '../../../../functions/actions/preserve-evidence/containment.js';
import { ONLY_EVIDENCE_ATTRIBUTES } from '../../../../functions/actions/preserve-evidence/iam.js';
import {
  FINDING_TAG,
  INCIDENT_TAG,
  INSTANCE_TAG,
  tagValue,
  VOLUME_TAG,
} from '../../../../functions/shared/ec2-tags.js';
import { INTENT } from '../../../../functions/shared/intents.js';
import {
  ACTOR,
  APPROVALS,
  actionInput,
  awsError,
  ec2Incident,
  fakeLedger,
  INSTANCE_ARN,
  INSTANCE_ID,
} from '../../shared/containment-fixtures.js';

const STEP = 'preserveEvidence';
const INCIDENT = ec2Incident();
const INCIDENT_ID = INCIDENT.incidentId;
const FINDING_KEY = findingKey(INCIDENT);
const ec2Mock = mockClient(EC2Client);
const ec2 = new EC2Client({ region: 'us-east-1' });
const autoScalingMock = mockClient(AutoScalingClient);
const autoScaling = new AutoScalingClient({ region: 'us-east-1' });

/** The instance's Auto Scaling membership as the fake reports it; null: in no group. */
function autoScalingWith(
  member: { group: string; lifecycleState?: string; protectedFromScaleIn: boolean } | null,
) {
  autoScalingMock.on(DescribeAutoScalingInstancesCommand).callsFake(() => ({
    AutoScalingInstances: member
      ? [
          {
            InstanceId: INSTANCE_ID,
            AutoScalingGroupName: member.group,
            LifecycleState: member.lifecycleState ?? 'InService',
            ProtectedFromScaleIn: member.protectedFromScaleIn,
          },
        ]
      : [],
  }));
  autoScalingMock.on(SetInstanceProtectionCommand).callsFake((input) => {
    if (member) member.protectedFromScaleIn = input.ProtectedFromScaleIn;
    return {};
  });
  return member;
}

interface FakeVolume {
  deviceName: string;
  volumeId: string;
  deleteOnTermination: boolean;
}

interface FakeInstance {
  state: string;
  rootDeviceType: 'ebs' | 'instance-store';
  tags: Record<string, string>;
  terminationProtection: boolean;
  shutdownBehavior: string;
  networkInterfaceIds: string[];
  volumes: FakeVolume[];
}

/** A fresh EBS-backed instance with two volumes (root deleted on termination) and two interfaces. */
function freshInstance(): FakeInstance {
  return {
    state: 'running',
    rootDeviceType: 'ebs',
    tags: { Name: 'web-1' },
    terminationProtection: false,
    shutdownBehavior: 'terminate',
    networkInterfaceIds: ['eni-0000000000000000a', 'eni-0000000000000000b'],
    volumes: [
      { deviceName: '/dev/xvda', volumeId: 'vol-0000000000000000a', deleteOnTermination: true },
      { deviceName: '/dev/xvdb', volumeId: 'vol-0000000000000000b', deleteOnTermination: false },
    ],
  };
}

/** The state the ledger records for `freshInstance()` before any change. */
const FRESH_STATE = {
  instanceId: INSTANCE_ID,
  rootDeviceType: 'ebs',
  tagged: false,
  terminationProtection: false,
  shutdownBehavior: 'terminate',
  networkInterfaceIds: ['eni-0000000000000000a', 'eni-0000000000000000b'],
  volumes: [
    {
      deviceName: '/dev/xvda',
      volumeId: 'vol-0000000000000000a',
      deleteOnTermination: true,
      snapshotId: null,
    },
    {
      deviceName: '/dev/xvdb',
      volumeId: 'vol-0000000000000000b',
      deleteOnTermination: false,
      snapshotId: null,
    },
  ],
  autoScaling: null,
};

/** EC2 as the action sees it: Describe* read the instance and snapshots, the rest change them. */
function ec2With(instance: FakeInstance | undefined, snapshots: Snapshot[] = []) {
  let next = 1;
  ec2Mock.on(DescribeInstancesCommand).callsFake(() => {
    if (!instance) throw awsError('InvalidInstanceID.NotFound');
    return {
      Reservations: [
        {
          Instances: [
            {
              InstanceId: INSTANCE_ID,
              State: { Name: instance.state },
              RootDeviceType: instance.rootDeviceType,
              Tags: Object.entries(instance.tags).map(([Key, Value]) => ({ Key, Value })),
              NetworkInterfaces: instance.networkInterfaceIds.map((NetworkInterfaceId) => ({
                NetworkInterfaceId,
              })),
              BlockDeviceMappings: instance.volumes.map((v) => ({
                DeviceName: v.deviceName,
                Ebs: { VolumeId: v.volumeId, DeleteOnTermination: v.deleteOnTermination },
              })),
            },
          ],
        },
      ],
    };
  });
  ec2Mock
    .on(DescribeInstanceAttributeCommand)
    .callsFake((input: DescribeInstanceAttributeCommandInput) =>
      input.Attribute === 'disableApiTermination'
        ? { DisableApiTermination: { Value: instance?.terminationProtection } }
        : { InstanceInitiatedShutdownBehavior: { Value: instance?.shutdownBehavior } },
    );
  ec2Mock.on(DescribeSnapshotsCommand).callsFake((input: DescribeSnapshotsCommandInput) => {
    const wanted = input.Filters?.find((f) => f.Name === `tag:${FINDING_TAG}`)?.Values ?? [];
    return {
      Snapshots: snapshots.filter((s) => wanted.includes(tagValue(s.Tags, FINDING_TAG) ?? '')),
    };
  });
  ec2Mock.on(CreateTagsCommand).callsFake((input: CreateTagsCommandInput) => {
    if (instance && input.Resources?.includes(INSTANCE_ID)) {
      for (const t of input.Tags ?? []) if (t.Key) instance.tags[t.Key] = t.Value ?? '';
    }
    return {};
  });
  ec2Mock
    .on(ModifyInstanceAttributeCommand)
    .callsFake((input: ModifyInstanceAttributeCommandInput) => {
      if (!instance) return {};
      if (input.DisableApiTermination?.Value !== undefined) {
        instance.terminationProtection = input.DisableApiTermination.Value;
      }
      if (input.InstanceInitiatedShutdownBehavior?.Value !== undefined) {
        instance.shutdownBehavior = input.InstanceInitiatedShutdownBehavior.Value;
      }
      for (const m of input.BlockDeviceMappings ?? []) {
        const volume = instance.volumes.find((v) => v.deviceName === m.DeviceName);
        if (volume && m.Ebs?.DeleteOnTermination !== undefined) {
          volume.deleteOnTermination = m.Ebs.DeleteOnTermination;
        }
      }
      return {};
    });
  const createSnapshot = (input: CreateSnapshotCommandInput) => {
    const SnapshotId = `snap-00000000000000${String(next++).padStart(3, '0')}`;
    snapshots.push({
      SnapshotId,
      VolumeId: input.VolumeId,
      State: 'pending',
      Tags: input.TagSpecifications?.flatMap((s) => s.Tags ?? []) ?? [],
    });
    return { SnapshotId, VolumeId: input.VolumeId, State: 'pending' };
  };
  ec2Mock.on(CreateSnapshotCommand).callsFake(createSnapshot);
  return { instance, snapshots, createSnapshot };
}

/** The mutating calls made, in order, as `Command` names with their input. */
function mutatingCalls() {
  return ec2Mock
    .calls()
    .map((call) => call.args[0])
    .filter((command) => !command.constructor.name.startsWith('Describe'))
    .map((command) => ({ command: command.constructor.name, input: command.input }));
}

function incidentSnapshot(volumeId: string, snapshotId: string, state = 'completed'): Snapshot {
  return {
    SnapshotId: snapshotId,
    VolumeId: volumeId,
    State: state as Snapshot['State'],
    Tags: [
      { Key: INCIDENT_TAG, Value: INCIDENT_ID },
      { Key: FINDING_TAG, Value: FINDING_KEY },
      { Key: INSTANCE_TAG, Value: INSTANCE_ID },
      { Key: VOLUME_TAG, Value: volumeId },
    ],
  };
}

describe('preserve-evidence', () => {
  let fake: ReturnType<typeof fakeLedger>;
  beforeEach(() => {
    ec2Mock.reset();
    autoScalingMock.reset();
    autoScalingWith(null);
    fake = fakeLedger();
  });
  const deps = () => ({
    ec2,
    autoScaling,
    ledger: fake.ledger,
    actor: ACTOR,
    approvals: APPROVALS,
  });
  const input = (mode?: 'auto' | 'dry-run' | 'approve') =>
    actionInput(STEP, { incident: INCIDENT, ...(mode ? { mode } : {}) });

  it('tags first, then protects, stops on shutdown, keeps volumes and snapshots each, in that order', async () => {
    // Arrange
    const world = ec2With(freshInstance());
    // Act
    const result = await preserveEvidence(input(), deps());
    // Assert
    expect(result).toEqual({
      step: STEP,
      action: 'preserve-evidence',
      outcome: 'CONTAINED',
      mode: 'auto',
      targetArn: INSTANCE_ARN,
      summary: `preserve evidence of instance ${INSTANCE_ID}: termination protection, stop on shutdown, keep 2 volumes, snapshot them`,
    });
    expect(mutatingCalls()).toEqual([
      {
        command: 'CreateTagsCommand',
        input: {
          Resources: [
            INSTANCE_ID,
            'eni-0000000000000000a',
            'eni-0000000000000000b',
            'vol-0000000000000000a',
            'vol-0000000000000000b',
          ],
          Tags: [{ Key: INCIDENT_TAG, Value: INCIDENT_ID }],
        },
      },
      {
        command: 'ModifyInstanceAttributeCommand',
        input: { InstanceId: INSTANCE_ID, DisableApiTermination: { Value: true } },
      },
      {
        command: 'ModifyInstanceAttributeCommand',
        input: { InstanceId: INSTANCE_ID, InstanceInitiatedShutdownBehavior: { Value: 'stop' } },
      },
      {
        command: 'ModifyInstanceAttributeCommand',
        input: {
          InstanceId: INSTANCE_ID,
          BlockDeviceMappings: [{ DeviceName: '/dev/xvda', Ebs: { DeleteOnTermination: false } }],
        },
      },
      expect.objectContaining({
        command: 'CreateSnapshotCommand',
        input: expect.objectContaining({ VolumeId: 'vol-0000000000000000a' }),
      }),
      expect.objectContaining({
        command: 'CreateSnapshotCommand',
        input: expect.objectContaining({ VolumeId: 'vol-0000000000000000b' }),
      }),
    ]);
    expect(world.instance).toMatchObject({
      terminationProtection: true,
      shutdownBehavior: 'stop',
      tags: { [INCIDENT_TAG]: INCIDENT_ID },
    });
    expect(world.instance?.volumes.every((v) => !v.deleteOnTermination)).toBe(true);
  });

  it('protects a group member from scale-in, after the tag, and records the protection before and after', async () => {
    // Arrange: in a group that may scale in while isolation waits for its approval.
    ec2With(freshInstance());
    const member = autoScalingWith({ group: 'web-asg', protectedFromScaleIn: false });
    // Act
    const result = await preserveEvidence(input(), deps());
    // Assert
    expect(result.summary).toContain('protection from scale-in in Auto Scaling group web-asg');
    expect(autoScalingMock).toHaveReceivedCommandTimes(SetInstanceProtectionCommand, 1);
    expect(autoScalingMock).toHaveReceivedCommandWith(SetInstanceProtectionCommand, {
      AutoScalingGroupName: 'web-asg',
      InstanceIds: [INSTANCE_ID],
      ProtectedFromScaleIn: true,
    });
    expect(member?.protectedFromScaleIn).toBe(true);
    const contained = fake.entries().find((e) => e.outcome === 'CONTAINED');
    expect(contained?.before).toMatchObject({
      autoScaling: { group: 'web-asg', lifecycleState: 'InService', protectedFromScaleIn: false },
    });
    expect(contained?.after).toMatchObject({
      autoScaling: { group: 'web-asg', lifecycleState: 'InService', protectedFromScaleIn: true },
    });
  });

  it.each([
    ['already protected', { group: 'web-asg', protectedFromScaleIn: true }],
    [
      'in a warm pool, where AWS refuses protection',
      { group: 'web-asg', lifecycleState: 'Warmed:Stopped', protectedFromScaleIn: false },
    ],
    ['in no group', null],
  ])('sets no scale-in protection for an instance %s', async (_, member) => {
    // Arrange
    ec2With(freshInstance());
    autoScalingWith(member);
    // Act
    const result = await preserveEvidence(input(), deps());
    // Assert
    expect(result.outcome).toBe('CONTAINED');
    expect(result.summary).not.toContain('scale-in');
    expect(autoScalingMock).not.toHaveReceivedCommand(SetInstanceProtectionCommand);
  });

  it('a retry after the protection was set finds it in place and does not set it again', async () => {
    // Arrange: the first attempt protected the instance, then failed at a snapshot.
    const world = ec2With(freshInstance());
    autoScalingWith({ group: 'web-asg', protectedFromScaleIn: false });
    let snapshots = 0;
    ec2Mock.on(CreateSnapshotCommand).callsFake((request: CreateSnapshotCommandInput) => {
      snapshots += 1;
      if (snapshots === 1) throw awsError('RequestLimitExceeded', 503);
      return world.createSnapshot(request);
    });
    await preserveEvidence(input(), deps()).catch(() => undefined);
    // Act
    const retry = await preserveEvidence(input(), deps());
    // Assert
    expect(retry.outcome).toBe('CONTAINED');
    expect(autoScalingMock).toHaveReceivedCommandTimes(SetInstanceProtectionCommand, 1);
  });

  it('sets each instance attribute its role allows, one per call, and no other', async () => {
    // Arrange
    ec2With(freshInstance());
    const allowed: readonly string[] = ONLY_EVIDENCE_ATTRIBUTES.StringEquals['ec2:Attribute'];
    // Act
    await preserveEvidence(input(), deps());
    // Assert: the parameters each call sets are what IAM sees as ec2:Attribute.
    const modified = mutatingCalls()
      .filter((c) => c.command === 'ModifyInstanceAttributeCommand')
      .map((c) => Object.keys(c.input).filter((key) => key !== 'InstanceId'));
    expect(modified).toEqual([
      ['DisableApiTermination'],
      ['InstanceInitiatedShutdownBehavior'],
      ['BlockDeviceMappings'],
    ]);
    for (const [attribute = ''] of modified) expect(allowed).toContain(attribute);
  });

  it('tags each snapshot with the incident, instance and volume, and names the incident in its description', async () => {
    // Arrange
    ec2With(freshInstance());
    // Act
    await preserveEvidence(input(), deps());
    // Assert
    expect(ec2Mock).toHaveReceivedCommandWith(CreateSnapshotCommand, {
      VolumeId: 'vol-0000000000000000a',
      Description: expect.stringContaining(INCIDENT_ID),
      TagSpecifications: [
        {
          ResourceType: 'snapshot',
          Tags: [
            { Key: INCIDENT_TAG, Value: INCIDENT_ID },
            { Key: FINDING_TAG, Value: FINDING_KEY },
            { Key: INSTANCE_TAG, Value: INSTANCE_ID },
            { Key: VOLUME_TAG, Value: 'vol-0000000000000000a' },
          ],
        },
      ],
    });
  });

  it('records every setting before and after, with the snapshot ids, in the ledger', async () => {
    // Arrange
    ec2With(freshInstance());
    // Act
    await preserveEvidence(input(), deps());
    // Assert
    expect(fake.entries()).toEqual([
      expect.objectContaining({
        outcome: INTENT,
        actor: ACTOR,
        targetArn: INSTANCE_ARN,
        before: FRESH_STATE,
      }),
      expect.objectContaining({
        outcome: 'CONTAINED',
        actor: ACTOR,
        targetArn: INSTANCE_ARN,
        before: FRESH_STATE,
        after: expect.objectContaining({
          tagged: true,
          terminationProtection: true,
          shutdownBehavior: 'stop',
          volumes: [
            expect.objectContaining({
              deleteOnTermination: false,
              snapshotId: 'snap-00000000000000001',
            }),
            expect.objectContaining({
              deleteOnTermination: false,
              snapshotId: 'snap-00000000000000002',
            }),
          ],
        }),
      }),
    ]);
  });

  it('does not snapshot a volume twice when a retry follows a throttled snapshot', async () => {
    // Arrange
    const world = ec2With(freshInstance());
    let throttled = false;
    ec2Mock.on(CreateSnapshotCommand).callsFake((request: CreateSnapshotCommandInput) => {
      if (request.VolumeId === 'vol-0000000000000000b' && !throttled) {
        throttled = true;
        throw awsError('RequestLimitExceeded', 503);
      }
      return world.createSnapshot(request);
    });
    // Act
    const first = preserveEvidence(input(), deps());
    await expect(first).rejects.toMatchObject({ name: 'Cordon.Throttled', retryable: true });
    const second = await preserveEvidence(input(), deps());
    // Assert
    expect(second.outcome).toBe('CONTAINED');
    const snapshotted = ec2Mock
      .commandCalls(CreateSnapshotCommand)
      .map((c) => c.args[0].input.VolumeId);
    expect(snapshotted).toEqual([
      'vol-0000000000000000a',
      'vol-0000000000000000b',
      'vol-0000000000000000b',
    ]);
    expect(world.snapshots.map((s) => s.VolumeId)).toEqual([
      'vol-0000000000000000a',
      'vol-0000000000000000b',
    ]);
    // One intent, from the first attempt; the record's before-state is the
    // instance before that attempt's changes, not after its first snapshot.
    expect(fake.entries().map((e) => e.outcome)).toEqual([INTENT, 'CONTAINED']);
    expect(fake.entries()[0]?.before).toEqual(FRESH_STATE);
    expect(fake.entries()[1]?.before).toEqual(FRESH_STATE);
    expect(fake.entries()[1]?.after).toMatchObject({
      volumes: [{ snapshotId: 'snap-00000000000000001' }, { snapshotId: 'snap-00000000000000002' }],
    });
  });

  it('takes again a snapshot of this incident that failed', async () => {
    // Arrange
    const instance = freshInstance();
    instance.volumes = [instance.volumes[1] as FakeVolume];
    ec2With(instance, [
      incidentSnapshot('vol-0000000000000000b', 'snap-0000000000000dead', 'error'),
    ]);
    // Act
    const result = await preserveEvidence(input(), deps());
    // Assert
    expect(result.outcome).toBe('CONTAINED');
    expect(ec2Mock).toHaveReceivedCommandWith(CreateSnapshotCommand, {
      VolumeId: 'vol-0000000000000000b',
    });
  });

  it('returns ALREADY_CONTAINED and makes no mutating call when the evidence is already kept', async () => {
    // Arrange
    ec2With(
      {
        ...freshInstance(),
        tags: { [INCIDENT_TAG]: INCIDENT_ID },
        terminationProtection: true,
        shutdownBehavior: 'stop',
        volumes: [
          {
            deviceName: '/dev/xvda',
            volumeId: 'vol-0000000000000000a',
            deleteOnTermination: false,
          },
        ],
      },
      [incidentSnapshot('vol-0000000000000000a', 'snap-0000000000000000a')],
    );
    // Act
    const result = await preserveEvidence(input(), deps());
    // Assert
    expect(result.outcome).toBe('ALREADY_CONTAINED');
    expect(mutatingCalls()).toEqual([]);
    expect(fake.entries()[0]).toMatchObject({ outcome: 'ALREADY_CONTAINED' });
  });

  it('keeps one set of snapshots per finding: a re-emission (a new incident) takes none', async () => {
    // Arrange
    const earlier = incidentSnapshot('vol-0000000000000000a', 'snap-0000000000000000e');
    earlier.Tags = [
      { Key: INCIDENT_TAG, Value: 'inc-eeeeeeeeeeeeeeeeeeee' },
      { Key: FINDING_TAG, Value: FINDING_KEY },
    ];
    ec2With(
      {
        ...freshInstance(),
        tags: { [INCIDENT_TAG]: 'inc-eeeeeeeeeeeeeeeeeeee' },
        terminationProtection: true,
        shutdownBehavior: 'stop',
        volumes: [
          {
            deviceName: '/dev/xvda',
            volumeId: 'vol-0000000000000000a',
            deleteOnTermination: false,
          },
        ],
      },
      [earlier],
    );
    // Act
    const result = await preserveEvidence(input(), deps());
    // Assert
    expect(result.outcome).toBe('ALREADY_CONTAINED');
    expect(mutatingCalls()).toEqual([]);
  });

  it('snapshots again when the only snapshots are for another finding', async () => {
    // Arrange
    const other = incidentSnapshot('vol-0000000000000000a', 'snap-0000000000000000f');
    other.Tags = [
      { Key: INCIDENT_TAG, Value: 'inc-ffffffffffffffffffff' },
      { Key: FINDING_TAG, Value: 'f'.repeat(32) },
    ];
    ec2With(
      {
        ...freshInstance(),
        tags: { [INCIDENT_TAG]: INCIDENT_ID },
        terminationProtection: true,
        shutdownBehavior: 'stop',
        volumes: [
          {
            deviceName: '/dev/xvda',
            volumeId: 'vol-0000000000000000a',
            deleteOnTermination: false,
          },
        ],
      },
      [other],
    );
    // Act
    const result = await preserveEvidence(input(), deps());
    // Assert
    expect(result.outcome).toBe('CONTAINED');
    expect(mutatingCalls().map((c) => c.command)).toEqual([
      'CreateTagsCommand',
      'CreateSnapshotCommand',
    ]);
  });

  it('contains an instance with no EBS volumes without snapshots or a shutdown change it cannot have', async () => {
    // Arrange
    ec2With({
      ...freshInstance(),
      rootDeviceType: 'instance-store',
      networkInterfaceIds: ['eni-0000000000000000a'],
      volumes: [],
    });
    // Act
    const result = await preserveEvidence(input(), deps());
    // Assert
    expect(result).toMatchObject({
      outcome: 'CONTAINED',
      summary: `preserve evidence of instance ${INSTANCE_ID}: termination protection, no stop on shutdown (instance-store root), keep 0 volumes, snapshot them`,
    });
    expect(ec2Mock).not.toHaveReceivedCommand(CreateSnapshotCommand);
    expect(mutatingCalls()).toEqual([
      {
        command: 'CreateTagsCommand',
        input: {
          Resources: [INSTANCE_ID, 'eni-0000000000000000a'],
          Tags: [{ Key: INCIDENT_TAG, Value: INCIDENT_ID }],
        },
      },
      {
        command: 'ModifyInstanceAttributeCommand',
        input: { InstanceId: INSTANCE_ID, DisableApiTermination: { Value: true } },
      },
    ]);
  });

  it('returns TARGET_NOT_FOUND and makes no mutating call when the instance is already terminated', async () => {
    // Arrange
    ec2With({ ...freshInstance(), state: 'terminated' });
    // Act
    const result = await preserveEvidence(input(), deps());
    // Assert
    expect(result.outcome).toBe('TARGET_NOT_FOUND');
    expect(mutatingCalls()).toEqual([]);
  });

  it('returns TARGET_NOT_FOUND when EC2 no longer knows the instance', async () => {
    // Arrange
    ec2With(undefined);
    // Act
    const result = await preserveEvidence(input(), deps());
    // Assert
    expect(result.outcome).toBe('TARGET_NOT_FOUND');
    expect(fake.entries()[0]).toMatchObject({
      outcome: 'TARGET_NOT_FOUND',
      targetArn: INSTANCE_ARN,
    });
  });

  it('returns TARGET_NOT_FOUND when the instance is terminated mid-run', async () => {
    // Arrange
    const world = ec2With(freshInstance());
    ec2Mock.on(ModifyInstanceAttributeCommand).callsFake(() => {
      if (world.instance) world.instance.state = 'terminated';
      throw awsError('InvalidInstanceID.NotFound');
    });
    // Act
    const result = await preserveEvidence(input(), deps());
    // Assert
    expect(result).toMatchObject({
      outcome: 'TARGET_NOT_FOUND',
      summary: `${INSTANCE_ARN} disappeared while being contained`,
    });
    expect(ec2Mock).not.toHaveReceivedCommand(CreateSnapshotCommand);
    expect(fake.entries().map((e) => e.outcome)).toEqual([INTENT, 'TARGET_NOT_FOUND']);
    expect(fake.entries()[0]?.before).toEqual(FRESH_STATE);
    expect(fake.entries()[1]?.before).toEqual(FRESH_STATE);
  });

  it('records DRY_RUN and makes no mutating call in dry-run mode', async () => {
    // Arrange
    ec2With(freshInstance());
    // Act
    const result = await preserveEvidence(input('dry-run'), deps());
    // Assert
    expect(result).toMatchObject({
      outcome: 'DRY_RUN',
      summary: `would preserve evidence of instance ${INSTANCE_ID}: termination protection, stop on shutdown, keep 2 volumes, snapshot them`,
    });
    expect(mutatingCalls()).toEqual([]);
  });

  it('fails with Cordon.ApprovalMissing and makes no AWS call in approve mode without an approval', async () => {
    // Arrange
    ec2With(freshInstance());
    // Act
    const attempt = preserveEvidence(input('approve'), deps());
    // Assert
    await expect(attempt).rejects.toMatchObject({ name: 'Cordon.ApprovalMissing' });
    expect(ec2Mock).not.toHaveReceivedAnyCommand();
    expect(fake.entries()).toEqual([]);
  });

  it('records UnauthorizedOperation as a FAILED ledger entry and throws Cordon.AccessDenied', async () => {
    // Arrange
    ec2With(freshInstance());
    ec2Mock.on(ModifyInstanceAttributeCommand).rejects(awsError('UnauthorizedOperation', 403));
    // Act
    const attempt = preserveEvidence(input(), deps());
    // Assert
    await expect(attempt).rejects.toMatchObject({ name: 'Cordon.AccessDenied', retryable: false });
    expect(fake.entries()).toEqual([
      expect.objectContaining({ outcome: INTENT, targetArn: INSTANCE_ARN, before: FRESH_STATE }),
      expect.objectContaining({
        outcome: 'FAILED',
        targetArn: INSTANCE_ARN,
        before: expect.objectContaining({ terminationProtection: false }),
      }),
    ]);
  });
});

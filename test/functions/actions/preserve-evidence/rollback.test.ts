import 'aws-sdk-client-mock-vitest/extend';
import {
  AutoScalingClient,
  DescribeAutoScalingInstancesCommand,
  SetInstanceProtectionCommand,
} from '@aws-sdk/client-auto-scaling';
import {
  DescribeInstancesCommand,
  EC2Client,
  ModifyInstanceAttributeCommand,
} from '@aws-sdk/client-ec2';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { rollbackEvidence } from '../../../../functions/actions/preserve-evidence/rollback.js';
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

/** The evidence state preserve-evidence records, reduced to what matters here. */
const evidence = (autoScaling: unknown) => ({
  instanceId: INSTANCE_ID,
  rootDeviceType: 'ebs',
  tagged: true,
  terminationProtection: true,
  shutdownBehavior: 'stop',
  networkInterfaceIds: [],
  volumes: [],
  ...(autoScaling === undefined ? {} : { autoScaling }),
});

const member = (protectedFromScaleIn: boolean, group = 'web-asg') => ({
  group,
  lifecycleState: 'InService',
  protectedFromScaleIn,
});

const PRESERVED = {
  step: 'preserveEvidence',
  action: 'preserve-evidence',
  targetArn: INSTANCE_ARN,
  before: { ...evidence(member(false)), tagged: false, terminationProtection: false },
  after: evidence(member(true)),
};

/** The instance as Auto Scaling reports it now; null: in no group. */
function now(current: { group: string; protectedFromScaleIn: boolean } | null) {
  ec2Mock.on(DescribeInstancesCommand).resolves({
    Reservations: [{ Instances: [{ InstanceId: INSTANCE_ID, State: { Name: 'running' } }] }],
  });
  asgMock.on(DescribeAutoScalingInstancesCommand).callsFake(() => ({
    AutoScalingInstances: current
      ? [
          {
            InstanceId: INSTANCE_ID,
            AutoScalingGroupName: current.group,
            LifecycleState: 'InService',
            ProtectedFromScaleIn: current.protectedFromScaleIn,
          },
        ]
      : [],
  }));
  asgMock.on(SetInstanceProtectionCommand).callsFake((input) => {
    if (current) current.protectedFromScaleIn = input.ProtectedFromScaleIn;
    return {};
  });
}

describe('rollback-preserve-evidence', () => {
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

  it('puts the scale-in protection back as it was, and leaves the evidence', async () => {
    // Arrange
    now({ group: 'web-asg', protectedFromScaleIn: true });
    const input = await containedThenApproved(fake, 'rollback-preserve-evidence', PRESERVED);
    // Act
    const result = await rollbackEvidence(input, deps());
    // Assert
    expect(result.outcome).toBe('ROLLED_BACK');
    expect(result.summary).toContain('back to off');
    expect(result.summary).toContain('the evidence (incident tag, termination protection');
    expect(asgMock).toHaveReceivedCommandWith(SetInstanceProtectionCommand, {
      AutoScalingGroupName: 'web-asg',
      InstanceIds: [INSTANCE_ID],
      ProtectedFromScaleIn: false,
    });
    // Nothing of the evidence is touched: no EC2 write at all.
    expect(ec2Mock).not.toHaveReceivedCommand(ModifyInstanceAttributeCommand);
    expect(fake.entries().at(-1)).toMatchObject({
      outcome: 'ROLLED_BACK',
      before: { instanceId: INSTANCE_ID, autoScaling: member(true) },
      after: { instanceId: INSTANCE_ID, autoScaling: member(false) },
    });
  });

  it.each([
    ['in no group before', evidence(null)],
    ['recorded before Cordon set the protection', evidence(undefined)],
    ['already protected before', evidence(member(true))],
  ])('changes nothing for an instance %s', async (_, recordedBefore) => {
    // Arrange
    now({ group: 'web-asg', protectedFromScaleIn: true });
    const input = await containedThenApproved(fake, 'rollback-preserve-evidence', {
      ...PRESERVED,
      before: recordedBefore,
    });
    // Act
    const result = await rollbackEvidence(input, deps());
    // Assert
    expect(result.outcome).toBe('ALREADY_ROLLED_BACK');
    expect(asgMock).not.toHaveReceivedCommand(SetInstanceProtectionCommand);
  });

  it('refuses when the instance is out of its group (isolated, and not attached back first)', async () => {
    // Arrange: the isolate step detached it; its rollback has not run.
    now(null);
    const input = await containedThenApproved(fake, 'rollback-preserve-evidence', PRESERVED);
    // Act
    const result = await rollbackEvidence(input, deps());
    // Assert
    expect(result.outcome).toBe('ROLLBACK_REFUSED');
    expect(result.summary).toContain('its Auto Scaling group is none now, Cordon left "web-asg"');
    expect(asgMock).not.toHaveReceivedCommand(SetInstanceProtectionCommand);
  });

  it('is already rolled back when the protection is off again, whoever lifted it', async () => {
    // Arrange
    now({ group: 'web-asg', protectedFromScaleIn: false });
    const input = await containedThenApproved(fake, 'rollback-preserve-evidence', {
      ...PRESERVED,
      before: evidence(member(false, 'web-asg')),
      after: evidence(member(true, 'web-asg')),
    });
    // Act
    const result = await rollbackEvidence(input, deps());
    // Assert: already in the before-state, so nothing to do either way.
    expect(result.outcome).toBe('ALREADY_ROLLED_BACK');
    expect(asgMock).not.toHaveReceivedCommand(SetInstanceProtectionCommand);
  });
});

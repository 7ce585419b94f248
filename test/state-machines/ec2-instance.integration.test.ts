/**
 * Layer 3: the synthesized ec2-instance definition, executed locally by the
 * rehearsal engine with the real handlers in-process against moto. Asserts the
 * path (states entered, in order), the step results and the ledger outcomes,
 * and reads the instance back from moto wherever a test claims something was
 * done, or left alone.
 *
 * Everything goes to moto except one call: Security Hub BatchUpdateFindings,
 * which moto 5.2 does not implement. The
 * Security Hub test mocks that one command with aws-sdk-client-mock (every
 * finding processed), as the iam-credentials tests do, while EC2, Auto
 * Scaling, IAM, DynamoDB and SNS still go to moto. The tests that read what
 * responders were told spy on SNSClient.send without replacing it: the
 * messages still reach moto (which keeps no copy to read back).
 *
 * Every instance comes from `seedCompromisedInstance()` (demo/scenario.ts): an
 * Auto Scaling group of two (min 1, desired 2), the first instance with an
 * instance profile, a second network interface, and every interface in the
 * app group.
 *
 * moto 5.2 and shutdown behaviour: it launches every instance with `stop`,
 * and it does not implement ModifyInstanceAttribute with
 * `InstanceInitiatedShutdownBehavior: { Value }` (the form preserve-evidence
 * sends): the call falls through to moto's security-group handler, which
 * empties the instance's groups and leaves the behaviour as it was. So these
 * tests can only see `stop` (the call is never needed here), and the change
 * itself is covered by test/functions/preserve-evidence/core.test.ts.
 *
 * moto lists its AMIs' snapshots under DescribeSnapshots(OwnerIds: self):
 * snapshots are counted per seeded volume.
 */
import {
  AutoScalingClient,
  DescribeAutoScalingGroupsCommand,
  DescribeAutoScalingInstancesCommand,
  SetDesiredCapacityCommand,
} from '@aws-sdk/client-auto-scaling';
import {
  AssociateIamInstanceProfileCommand,
  CreateTagsCommand,
  DeleteTagsCommand,
  DescribeIamInstanceProfileAssociationsCommand,
  DescribeInstanceAttributeCommand,
  DescribeInstancesCommand,
  DescribeNetworkInterfacesCommand,
  DescribeSnapshotsCommand,
  DescribeVolumesCommand,
  DisassociateIamInstanceProfileCommand,
  EC2Client,
  type Tag,
  TerminateInstancesCommand,
} from '@aws-sdk/client-ec2';
import { IAMClient, ListRolePoliciesCommand } from '@aws-sdk/client-iam';
import { BatchUpdateFindingsCommand, SecurityHubClient } from '@aws-sdk/client-securityhub';
import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import { AssumeRoleCommand, STSClient } from '@aws-sdk/client-sts';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { z } from 'zod';
import {
  type CompromisedInstance,
  instanceFinding,
  seedCompromisedInstance,
} from '../../demo/scenario.js';
import {
  INCIDENT_TAG,
  INSTANCE_TAG,
  tagValue,
  VOLUME_TAG,
} from '../../functions/shared/ec2-tags.js';
import { MOTO_ACCOUNT_ID, MOTO_REGION, motoClientConfig, useMoto } from '../support/moto.js';
import { forms } from '../support/notices.js';
import { asSampleFinding, processedFindings, securityHubInstanceFinding } from './events.js';
import { explain, fixtureEvent, onlyExecution, outcomes, rehearsalHarness } from './harness.js';

const { endpoint } = useMoto();
const harness = rehearsalHarness();
const ec2 = new EC2Client(motoClientConfig(endpoint));
const autoScaling = new AutoScalingClient(motoClientConfig(endpoint));
const iam = new IAMClient(motoClientConfig(endpoint));

const START = ['Triage', 'Triage decision?'];
const EVIDENCE = ['Preserve evidence?', 'Preserve evidence'];
const ISOLATE_APPROVED = [
  'Isolate instance?',
  'Isolate instance: request approval',
  'Leave Auto Scaling group',
  'Isolate network interfaces',
  'Detach instance profile',
];
const REVOKE_APPROVED = [
  'Revoke instance role sessions?',
  'Revoke instance role sessions: request approval',
  'Revoke instance role sessions',
];
const FINISH = ['Finished: from Security Hub?', 'Notify summary', 'Done'];
const REFUSED = ['Triage', 'Triage decision?', 'Notify refusal', 'Not acted on'];

// ---------------------------------------------------------------------------
// Reading the instance back from moto
// ---------------------------------------------------------------------------

/** What the playbook may change about an instance, read from moto. */
interface InstanceState {
  readonly terminationProtection: boolean;
  readonly shutdownBehavior: string | undefined;
  readonly deleteOnTermination: Record<string, boolean | undefined>;
  readonly groupsByInterface: Record<string, string[]>;
  readonly autoScalingGroup: string | undefined;
  /** Undefined when it is in no group. */
  readonly protectedFromScaleIn: boolean | undefined;
  readonly desiredCapacity: number | undefined;
  readonly groupMembers: string[];
  readonly profileAssociations: string[];
  readonly snapshots: number;
  readonly rolePolicies: string[];
}

async function describeInstance(instanceId: string) {
  const out = await ec2.send(new DescribeInstancesCommand({ InstanceIds: [instanceId] }));
  const found = out.Reservations?.flatMap((r) => r.Instances ?? []).find(
    (i) => i.InstanceId === instanceId,
  );
  if (!found) throw new Error(`moto does not know instance ${instanceId}`);
  return found;
}

async function readInstance(instance: CompromisedInstance): Promise<InstanceState> {
  const { instanceId } = instance;
  const described = await describeInstance(instanceId);
  const termination = await ec2.send(
    new DescribeInstanceAttributeCommand({
      InstanceId: instanceId,
      Attribute: 'disableApiTermination',
    }),
  );
  const shutdown = await ec2.send(
    new DescribeInstanceAttributeCommand({
      InstanceId: instanceId,
      Attribute: 'instanceInitiatedShutdownBehavior',
    }),
  );
  const interfaces = await ec2.send(
    new DescribeNetworkInterfacesCommand({ NetworkInterfaceIds: instance.interfaceIds }),
  );
  const membership = await autoScaling.send(
    new DescribeAutoScalingInstancesCommand({ InstanceIds: [instanceId] }),
  );
  const group = await autoScaling.send(
    new DescribeAutoScalingGroupsCommand({ AutoScalingGroupNames: [instance.autoScalingGroup] }),
  );
  const associations = await ec2.send(
    new DescribeIamInstanceProfileAssociationsCommand({
      Filters: [
        { Name: 'instance-id', Values: [instanceId] },
        { Name: 'state', Values: ['associating', 'associated'] },
      ],
    }),
  );
  const snapshots = await volumeSnapshots(instance);
  const policies = await iam.send(new ListRolePoliciesCommand({ RoleName: instance.roleName }));
  return {
    terminationProtection: termination.DisableApiTermination?.Value ?? false,
    shutdownBehavior: shutdown.InstanceInitiatedShutdownBehavior?.Value,
    deleteOnTermination: Object.fromEntries(
      (described.BlockDeviceMappings ?? []).map((m) => [
        m.Ebs?.VolumeId,
        m.Ebs?.DeleteOnTermination,
      ]),
    ),
    groupsByInterface: Object.fromEntries(
      (interfaces.NetworkInterfaces ?? []).map((n) => [
        n.NetworkInterfaceId,
        (n.Groups ?? []).map((g) => g.GroupId),
      ]),
    ),
    autoScalingGroup: membership.AutoScalingInstances?.find((i) => i.InstanceId === instanceId)
      ?.AutoScalingGroupName,
    protectedFromScaleIn: membership.AutoScalingInstances?.find((i) => i.InstanceId === instanceId)
      ?.ProtectedFromScaleIn,
    desiredCapacity: group.AutoScalingGroups?.[0]?.DesiredCapacity,
    groupMembers: (group.AutoScalingGroups?.[0]?.Instances ?? [])
      .flatMap((i) => (i.InstanceId ? [i.InstanceId] : []))
      .sort(),
    profileAssociations: (associations.IamInstanceProfileAssociations ?? []).flatMap((a) =>
      a.InstanceId === instanceId && a.IamInstanceProfile?.Arn ? [a.IamInstanceProfile.Arn] : [],
    ),
    snapshots: snapshots.length,
    rolePolicies: policies.PolicyNames ?? [],
  };
}

/** Snapshots of the instance's volumes (moto also lists its AMIs' snapshots as "self"). */
async function volumeSnapshots(instance: CompromisedInstance) {
  const out = await ec2.send(
    new DescribeSnapshotsCommand({
      OwnerIds: ['self'],
      Filters: [{ Name: 'volume-id', Values: instance.volumeIds }],
    }),
  );
  return out.Snapshots ?? [];
}

async function tagsOf(resourceIds: string[]): Promise<Record<string, Tag[]>> {
  const out: Record<string, Tag[]> = {};
  const interfaces = await ec2.send(
    new DescribeNetworkInterfacesCommand({
      Filters: [{ Name: 'network-interface-id', Values: resourceIds }],
    }),
  );
  for (const n of interfaces.NetworkInterfaces ?? []) {
    if (n.NetworkInterfaceId) out[n.NetworkInterfaceId] = n.TagSet ?? [];
  }
  const volumes = await ec2.send(
    new DescribeVolumesCommand({ Filters: [{ Name: 'volume-id', Values: resourceIds }] }),
  );
  for (const v of volumes.Volumes ?? []) if (v.VolumeId) out[v.VolumeId] = v.Tags ?? [];
  for (const id of resourceIds.filter((r) => r.startsWith('i-'))) {
    out[id] = (await describeInstance(id)).Tags ?? [];
  }
  return out;
}

const StepResults = z.object({
  results: z.record(z.string(), z.object({ outcome: z.string() })),
});

/** Each result's outcome in the execution output's `results`. */
function resultOutcomes(output: unknown): Record<string, string> {
  const { results } = StepResults.parse(output);
  return Object.fromEntries(Object.entries(results).map(([step, r]) => [step, r.outcome]));
}

const CONTAINED_RESULTS = {
  preserveEvidence: 'CONTAINED',
  isolate: 'CONTAINED',
  isolateNetwork: 'CONTAINED',
  detachInstanceProfile: 'CONTAINED',
  revokeInstanceRoleSessions: 'CONTAINED',
};

// ---------------------------------------------------------------------------
// Mocks and spies, undone after each test
// ---------------------------------------------------------------------------

const securityHubMocks: Array<{ restore(): void }> = [];
afterEach(() => {
  for (const mock of securityHubMocks.splice(0)) mock.restore();
  vi.restoreAllMocks();
});

/** Answers BatchUpdateFindings as Security Hub does (moto lacks it): every finding processed. */
function mockBatchUpdateFindings() {
  const hub = mockClient(SecurityHubClient);
  securityHubMocks.push(hub);
  hub.on(BatchUpdateFindingsCommand).callsFake((input: unknown) => ({
    ProcessedFindings: processedFindings(input),
    UnprocessedFindings: [],
  }));
  return hub;
}

/** Records what is published to SNS; the calls still go to moto. */
function spyOnPublished(): () => Array<{ subject: string; message: string }> {
  const send = vi.spyOn(SNSClient.prototype, 'send');
  return () =>
    send.mock.calls.flatMap(([command]) =>
      command instanceof PublishCommand
        ? [{ subject: command.input.Subject ?? '', message: forms(command.input).text }]
        : [],
    );
}

const PRODUCT_ARN = `arn:aws:securityhub:us-east-1:${MOTO_ACCOUNT_ID}:product/${MOTO_ACCOUNT_ID}/default`;
const AsffIds = z.object({
  detail: z.object({ findings: z.array(z.object({ Id: z.string(), ProductArn: z.string() })) }),
});

/** The Id of the one finding a Security Hub event carries (its ProductArn must be PRODUCT_ARN). */
function asffFindingId(event: unknown): string {
  const [finding, ...others] = AsffIds.parse(event).detail.findings;
  if (!finding || others.length > 0 || finding.ProductArn !== PRODUCT_ARN) {
    throw new Error('expected one finding of the default product');
  }
  return finding.Id;
}

// ---------------------------------------------------------------------------

describe('a compromised instance in an Auto Scaling group (default modes)', () => {
  it('preserves the evidence unattended and leaves the rest when nobody approves in time', async () => {
    // Arrange
    const instance = await seedCompromisedInstance();
    const before = await readInstance(instance);

    // Act
    const report = await harness.engine('timeout').rehearse(instanceFinding(instance));

    // Assert: the path and the results
    expect(report.matched).toEqual(['ec2-instance']);
    const execution = onlyExecution(report);
    expect(execution.status, explain(execution)).toBe('SUCCEEDED');
    expect(execution.states).toEqual([
      ...START,
      ...EVIDENCE,
      'Isolate instance?',
      'Isolate instance: request approval',
      'Isolate instance: not acted on',
      'Isolate instance: timed out?',
      'Isolate instance: notify timeout',
      'Revoke instance role sessions?',
      'Revoke instance role sessions: request approval',
      'Revoke instance role sessions: not acted on',
      'Revoke instance role sessions: timed out?',
      'Revoke instance role sessions: notify timeout',
      ...FINISH,
    ]);
    expect(resultOutcomes(execution.output)).toEqual({
      preserveEvidence: 'CONTAINED',
      isolate: 'NOT_ACTED_ON',
      revokeInstanceRoleSessions: 'NOT_ACTED_ON',
    });
    // Each timeout is told to responders when it happens, then the summary.
    expect(outcomes(execution)).toEqual([
      'triage:CLAIMED',
      'preserveEvidence:INTENT',
      'preserveEvidence:CONTAINED',
      'isolate:APPROVAL_REQUESTED',
      'isolate:NOT_ACTED_ON',
      'notify:NOTIFIED',
      'revokeInstanceRoleSessions:APPROVAL_REQUESTED',
      'revokeInstanceRoleSessions:NOT_ACTED_ON',
      'notify:NOTIFIED',
      'notify:NOTIFIED',
    ]);

    // Assert: the evidence is kept ...
    const after = await readInstance(instance);
    expect(before.terminationProtection).toBe(false);
    expect(after.terminationProtection).toBe(true);
    expect(after.shutdownBehavior).toBe('stop');
    expect(Object.values(before.deleteOnTermination)).toContain(true);
    expect(after.deleteOnTermination).toEqual(
      Object.fromEntries(instance.volumeIds.map((v) => [v, false])),
    );
    const incidentId = execution.ledger[0]?.incidentId ?? '';
    const tags = await tagsOf([
      instance.instanceId,
      ...instance.interfaceIds,
      ...instance.volumeIds,
    ]);
    expect(Object.keys(tags).sort()).toEqual(
      [instance.instanceId, ...instance.interfaceIds, ...instance.volumeIds].sort(),
    );
    for (const [id, resourceTags] of Object.entries(tags)) {
      expect(tagValue(resourceTags, INCIDENT_TAG), `${INCIDENT_TAG} on ${id}`).toBe(incidentId);
    }
    expect(
      (await volumeSnapshots(instance))
        .map((s) => ({
          volume: s.VolumeId,
          incident: tagValue(s.Tags, INCIDENT_TAG),
          instance: tagValue(s.Tags, INSTANCE_TAG),
          taggedVolume: tagValue(s.Tags, VOLUME_TAG),
        }))
        .sort((a, b) => String(a.volume).localeCompare(String(b.volume))),
    ).toEqual(
      [...instance.volumeIds].sort().map((volumeId) => ({
        volume: volumeId,
        incident: incidentId,
        instance: instance.instanceId,
        taggedVolume: volumeId,
      })),
    );

    // ... the group may no longer pick it when it scales in ...
    expect(before.protectedFromScaleIn).toBe(false);
    expect(after.protectedFromScaleIn).toBe(true);

    // ... and nothing else changed: same groups, same Auto Scaling group, same profile.
    expect(after).toEqual({
      ...before,
      terminationProtection: true,
      protectedFromScaleIn: true,
      deleteOnTermination: after.deleteOnTermination,
      snapshots: instance.volumeIds.length,
    });
    expect(after.groupsByInterface).toEqual(
      Object.fromEntries(instance.interfaceIds.map((id) => [id, [instance.appGroupId]])),
    );
  });

  it('isolates the instance under one approval and revokes its role sessions under another', async () => {
    const instance = await seedCompromisedInstance();

    const execution = onlyExecution(
      await harness.engine('approve').rehearse(instanceFinding(instance)),
    );

    expect(execution.status, explain(execution)).toBe('SUCCEEDED');
    expect(execution.states).toEqual([
      ...START,
      ...EVIDENCE,
      ...ISOLATE_APPROVED,
      ...REVOKE_APPROVED,
      ...FINISH,
    ]);
    expect(resultOutcomes(execution.output)).toEqual(CONTAINED_RESULTS);
    expect(outcomes(execution)).toEqual([
      'triage:CLAIMED',
      'preserveEvidence:INTENT',
      'preserveEvidence:CONTAINED',
      'isolate:APPROVAL_REQUESTED',
      'isolate:APPROVAL_GRANTED',
      'isolate:INTENT',
      'isolate:CONTAINED',
      'isolate:INTENT',
      'isolate:CONTAINED',
      'isolate:INTENT',
      'isolate:CONTAINED',
      'revokeInstanceRoleSessions:APPROVAL_REQUESTED',
      'revokeInstanceRoleSessions:APPROVAL_GRANTED',
      'revokeInstanceRoleSessions:INTENT',
      'revokeInstanceRoleSessions:CONTAINED',
      'notify:NOTIFIED',
    ]);
    // One approval covers the three isolate actions, each recorded with it.
    const isolateActions = execution.ledger.filter(
      (e) => e.step === 'isolate' && e.outcome === 'CONTAINED',
    );
    expect(isolateActions.map((e) => e.action)).toEqual([
      'detach-from-asg',
      'isolate-network',
      'detach-instance-profile',
    ]);
    for (const entry of isolateActions) {
      expect(entry.detail).toMatchObject({
        approval: { decision: 'APPROVED', step: 'isolate', approver: expect.any(String) },
      });
    }
    const after = await readInstance(instance);
    expect(after).toMatchObject({
      autoScalingGroup: undefined,
      desiredCapacity: 1,
      groupMembers: [instance.healthyInstanceId],
      profileAssociations: [],
      rolePolicies: ['CordonRevokeOlderSessions'],
    });
    for (const id of instance.interfaceIds) {
      expect(after.groupsByInterface[id]).not.toContain(instance.appGroupId);
    }
  });

  it('keeps the evidence and leaves network, group and profile alone when a responder rejects', async () => {
    const instance = await seedCompromisedInstance();
    const before = await readInstance(instance);

    const execution = onlyExecution(
      await harness.engine('reject').rehearse(instanceFinding(instance)),
    );

    expect(execution.status, explain(execution)).toBe('SUCCEEDED');
    expect(execution.states).toEqual([
      ...START,
      ...EVIDENCE,
      'Isolate instance?',
      'Isolate instance: request approval',
      'Isolate instance: not acted on',
      'Isolate instance: timed out?',
      'Revoke instance role sessions?',
      'Revoke instance role sessions: request approval',
      'Revoke instance role sessions: not acted on',
      'Revoke instance role sessions: timed out?',
      ...FINISH,
    ]);
    expect(resultOutcomes(execution.output)).toEqual({
      preserveEvidence: 'CONTAINED',
      isolate: 'REJECTED',
      revokeInstanceRoleSessions: 'REJECTED',
    });
    const after = await readInstance(instance);
    expect(after.snapshots).toBe(instance.volumeIds.length);
    expect(after.terminationProtection).toBe(true);
    expect(after).toMatchObject({
      groupsByInterface: before.groupsByInterface,
      autoScalingGroup: instance.autoScalingGroup,
      desiredCapacity: 2,
      groupMembers: before.groupMembers,
      profileAssociations: [instance.instanceProfileArn],
      rolePolicies: [],
    });
  });
});

/** The group's members, as Auto Scaling lists them, sorted. */
async function membersOf(group: string): Promise<string[]> {
  const out = await autoScaling.send(
    new DescribeAutoScalingGroupsCommand({ AutoScalingGroupNames: [group] }),
  );
  return (out.AutoScalingGroups?.[0]?.Instances ?? [])
    .flatMap((i) => (i.InstanceId ? [i.InstanceId] : []))
    .sort();
}

describe('an Auto Scaling group at its minimum size', () => {
  it('isolates its last instance all the same: it leaves without a decrement, the group launches a replacement, and the approval and the ledger say so', async () => {
    // Arrange: the first instance leaves (desired 2 -> 1); then the healthy
    // one is all the group's minimum (1) allows. moto does not refuse a
    // decrement below the minimum as Auto Scaling does (the unit tests fake
    // that refusal): here Cordon must choose not to decrement on its own.
    const instance = await seedCompromisedInstance();
    await harness.engine('approve').rehearse(instanceFinding(instance));
    const last = { ...instance, instanceId: instance.healthyInstanceId };
    const interfaces = await ec2.send(
      new DescribeNetworkInterfacesCommand({
        Filters: [{ Name: 'attachment.instance-id', Values: [last.instanceId] }],
      }),
    );
    const lastInterfaces = (interfaces.NetworkInterfaces ?? []).flatMap((n) =>
      n.NetworkInterfaceId ? [n.NetworkInterfaceId] : [],
    );
    expect(lastInterfaces.length).toBeGreaterThan(0);
    const published = spyOnPublished();

    // Act
    const execution = onlyExecution(
      await harness
        .engine('approve')
        .rehearse(instanceFinding(last, { findingId: 'b'.repeat(32) })),
    );

    // Assert: the whole isolate step ran (the healthy instance has no
    // profile, so there are no role sessions to revoke).
    expect(execution.status, explain(execution)).toBe('SUCCEEDED');
    expect(execution.states).toEqual([
      ...START,
      ...EVIDENCE,
      ...ISOLATE_APPROVED,
      'Revoke instance role sessions?',
      'Revoke instance role sessions: off',
      ...FINISH,
    ]);
    expect(resultOutcomes(execution.output)).toMatchObject({
      isolate: 'CONTAINED',
      isolateNetwork: 'CONTAINED',
      detachInstanceProfile: expect.stringMatching(/CONTAINED/),
    });
    // The responder was told before deciding that the group may launch a replacement.
    const request = published().find((m) => m.message.includes('leaves Auto Scaling group'));
    expect(request?.message).toContain(
      'if the group is at its minimum size, stays and the group launches a replacement instance',
    );
    // The ledger says what happened.
    const detach = execution.ledger.find(
      (e) => e.action === 'detach-from-asg' && e.outcome === 'CONTAINED',
    );
    expect(detach?.summary).toBe(
      `detach instance ${last.instanceId} from Auto Scaling group ${instance.autoScalingGroup}, desired capacity stays 1 (the group is at its minimum size, 1): the group launches a replacement instance`,
    );
    expect(detach?.before).toMatchObject({ desiredCapacity: 1, minSize: 1 });
    // The instance is out of the group, which kept its size with a new instance ...
    const group = await autoScaling.send(
      new DescribeAutoScalingGroupsCommand({ AutoScalingGroupNames: [instance.autoScalingGroup] }),
    );
    expect(group.AutoScalingGroups?.[0]?.DesiredCapacity).toBe(1);
    const members = await membersOf(instance.autoScalingGroup);
    expect(members).toHaveLength(1);
    expect(members).not.toContain(last.instanceId);
    expect(members).not.toContain(instance.instanceId);
    // ... and it IS isolated: no interface keeps the app group.
    const after = await ec2.send(
      new DescribeNetworkInterfacesCommand({ NetworkInterfaceIds: lastInterfaces }),
    );
    for (const n of after.NetworkInterfaces ?? []) {
      expect(n.Groups?.map((g) => g.GroupId)).not.toContain(instance.appGroupId);
    }
  });
});

describe('someone scaling the group in while isolation waits for its approval', () => {
  it('cannot end the instance: the evidence step protected it from scale-in, so the group takes another', async () => {
    // Arrange: an insider (or the contained principal, if its policies allow
    // autoscaling:SetDesiredCapacity) shrinks the group to its minimum during
    // the wait, hoping the group terminates the compromised instance and its
    // evidence. Termination protection would not stop Auto Scaling on AWS;
    // scale-in protection does. (moto differs here: it refuses to terminate
    // a termination-protected instance on scale-in, which AWS does not. So
    // without scale-in protection this test fails on the scale-in call
    // rather than on a terminated instance; either way it fails.)
    const instance = await seedCompromisedInstance();
    const scaledIn: string[][] = [];
    const duringWait = async ({ step }: { step: string }) => {
      if (step !== 'isolate') return;
      await autoScaling.send(
        new SetDesiredCapacityCommand({
          AutoScalingGroupName: instance.autoScalingGroup,
          DesiredCapacity: 1,
        }),
      );
      scaledIn.push(await membersOf(instance.autoScalingGroup));
    };

    // Act
    const execution = onlyExecution(
      await harness.engine('approve', { duringWait }).rehearse(instanceFinding(instance)),
    );

    // Assert: the scale-in took the healthy instance; the compromised one
    // stayed, and was then isolated, at the minimum, with a replacement.
    expect(scaledIn).toEqual([[instance.instanceId]]);
    expect(execution.status, explain(execution)).toBe('SUCCEEDED');
    expect(resultOutcomes(execution.output)).toEqual(CONTAINED_RESULTS);
    const evidence = execution.ledger.find(
      (e) => e.step === 'preserveEvidence' && e.outcome === 'CONTAINED',
    );
    expect(evidence?.after).toMatchObject({
      autoScaling: { group: instance.autoScalingGroup, protectedFromScaleIn: true },
    });
    const detach = execution.ledger.find(
      (e) => e.action === 'detach-from-asg' && e.outcome === 'CONTAINED',
    );
    expect(detach?.summary).toContain('the group launches a replacement instance');
    const described = await describeInstance(instance.instanceId);
    expect(described.State?.Name).toBe('running');
    const members = await membersOf(instance.autoScalingGroup);
    expect(members).toHaveLength(1);
    expect(members).not.toContain(instance.instanceId);
    expect(members).not.toContain(instance.healthyInstanceId);
  });
});

describe('an instance whose own role removes its incident tag during the approval wait', () => {
  /** The instance's role, as code on the instance uses it: its own credentials, from STS. */
  async function asInstanceRole(instance: CompromisedInstance): Promise<EC2Client> {
    const sts = new STSClient(motoClientConfig(endpoint));
    const { Credentials } = await sts.send(
      new AssumeRoleCommand({
        RoleArn: `arn:aws:iam::${MOTO_ACCOUNT_ID}:role/${instance.roleName}`,
        RoleSessionName: instance.instanceId,
      }),
    );
    if (!Credentials?.AccessKeyId || !Credentials.SecretAccessKey) {
      throw new Error('STS gave the instance role no credentials');
    }
    return new EC2Client({
      ...motoClientConfig(endpoint),
      credentials: {
        accessKeyId: Credentials.AccessKeyId,
        secretAccessKey: Credentials.SecretAccessKey,
        sessionToken: Credentials.SessionToken,
      },
    });
  }

  it.each([
    ['the instance', (i: CompromisedInstance) => i.instanceId],
    ['its second network interface', (i: CompromisedInstance) => i.interfaceIds[1] ?? ''],
  ])(
    'refuses to isolate when it is removed from %s: recorded, notified, nothing isolated',
    async (_, untag) => {
      // Arrange: the evidence step tags the instance; while isolation waits for
      // its approval, the instance's own role deletes the tag (ec2:DeleteTags).
      const instance = await seedCompromisedInstance();
      const before = await readInstance(instance);
      const published = spyOnPublished();
      const removed: string[] = [];
      const duringWait = async ({ step }: { step: string }) => {
        if (step !== 'isolate') return;
        const resource = untag(instance);
        await (await asInstanceRole(instance)).send(
          new DeleteTagsCommand({ Resources: [resource], Tags: [{ Key: INCIDENT_TAG }] }),
        );
        removed.push(resource);
      };

      // Act
      const execution = onlyExecution(
        await harness.engine('approve', { duringWait }).rehearse(instanceFinding(instance)),
      );

      // Assert: the isolate step refused at its first action, through the failure path.
      expect(removed).toEqual([untag(instance)]);
      expect(execution.status).toBe('FAILED');
      expect(execution.states).toEqual([
        ...START,
        ...EVIDENCE,
        'Isolate instance?',
        'Isolate instance: request approval',
        'Leave Auto Scaling group',
        'Leave Auto Scaling group: failed',
        'Record failure',
        'Notify failure',
        'Failed',
      ]);
      const failures = execution.ledger.filter((e) => e.outcome === 'FAILED');
      // The action's own entry, then record-failure's (named after the failed task).
      expect(failures.map((e) => [e.step, e.action])).toEqual([
        ['isolate', 'detach-from-asg'],
        ['isolate', 'detach-from-asg'],
      ]);
      for (const failure of failures) {
        expect(failure.summary).toContain(`gone from ${untag(instance)}`);
      }
      expect(failures[0]?.summary).toContain('the instance is NOT isolated');
      expect(execution.ledger.filter((e) => e.outcome === 'INTENT').map((e) => e.step)).toEqual([
        'preserveEvidence',
      ]);
      const failureNotice = published().find((m) => /fail/i.test(m.subject));
      expect(failureNotice?.message).toContain('Cordon.IncidentTagMissing');
      expect(failureNotice?.message).toContain(`gone from ${untag(instance)}`);
      // Nothing isolated: same Auto Scaling group, same groups, same profile.
      const after = await readInstance(instance);
      expect(after).toMatchObject({
        groupsByInterface: before.groupsByInterface,
        autoScalingGroup: instance.autoScalingGroup,
        desiredCapacity: before.desiredCapacity,
        groupMembers: before.groupMembers,
        profileAssociations: [instance.instanceProfileArn],
        rolePolicies: [],
      });
      // And Cordon did not put the tag back.
      const tags = await tagsOf([untag(instance)]);
      expect(tagValue(tags[untag(instance)], INCIDENT_TAG)).toBeUndefined();
    },
  );
});

describe('repeats', () => {
  it('ends a second delivery of the same event as a duplicate that writes and changes nothing', async () => {
    // The first delivery times out, so an acting repeat would isolate now.
    const instance = await seedCompromisedInstance();
    const event = instanceFinding(instance);
    await harness.engine('timeout').rehearse(event);
    const before = await readInstance(instance);

    const repeat = onlyExecution(await harness.engine('approve').rehearse(event));

    expect(repeat.status, explain(repeat)).toBe('SUCCEEDED');
    expect(repeat.states).toEqual(['Triage', 'Triage decision?', 'Duplicate delivery']);
    expect(repeat.output).toMatchObject({ decision: 'DUPLICATE', reason: 'already claimed' });
    expect(repeat.ledger).toEqual([]);
    expect(await readInstance(instance)).toEqual(before);
  });

  it('joins a re-emission after containment to the incident: no approval is asked again', async () => {
    const instance = await seedCompromisedInstance();
    const engine = harness.engine('approve');
    const first = onlyExecution(await engine.rehearse(instanceFinding(instance)));
    expect(resultOutcomes(first.output)).toEqual(CONTAINED_RESULTS);

    const again = onlyExecution(
      await engine.rehearse(instanceFinding(instance, { updatedAt: '2024-05-14T17:12:08.117Z' })),
    );

    expect(again.status, explain(again)).toBe('SUCCEEDED');
    expect(again.output).toMatchObject({ decision: 'JOINED' });
    expect(again.ledger.map((e) => [e.incidentId, e.outcome])).toEqual([
      [first.ledger[0]?.incidentId, 'REEMITTED'],
    ]);
  });

  it('keeps the evidence once: a re-emission after containment takes no second snapshot', async () => {
    const instance = await seedCompromisedInstance();
    const engine = harness.engine('approve');
    await engine.rehearse(instanceFinding(instance));

    const again = onlyExecution(
      await engine.rehearse(instanceFinding(instance, { updatedAt: '2024-05-14T17:12:08.117Z' })),
    );

    expect((await readInstance(instance)).snapshots).toBe(instance.volumeIds.length);
    expect(again.output).toMatchObject({ decision: 'JOINED' });
  });
});

describe('the instance role', () => {
  it('is not revoked, mentioned or asked about when the instance has no instance profile', async () => {
    const instance = await seedCompromisedInstance();
    const associations = await ec2.send(
      new DescribeIamInstanceProfileAssociationsCommand({
        Filters: [{ Name: 'instance-id', Values: [instance.instanceId] }],
      }),
    );
    for (const a of associations.IamInstanceProfileAssociations ?? []) {
      await ec2.send(new DisassociateIamInstanceProfileCommand({ AssociationId: a.AssociationId }));
    }
    const published = spyOnPublished();

    const execution = onlyExecution(
      await harness.engine('approve').rehearse(instanceFinding(instance)),
    );

    expect(execution.status, explain(execution)).toBe('SUCCEEDED');
    expect(execution.states).toEqual([
      ...START,
      ...EVIDENCE,
      ...ISOLATE_APPROVED,
      'Revoke instance role sessions?',
      'Revoke instance role sessions: off',
      ...FINISH,
    ]);
    expect(execution.output).toMatchObject({
      incident: { plan: { revokeInstanceRoleSessions: { mode: 'off' } } },
    });
    expect(resultOutcomes(execution.output)).toMatchObject({
      detachInstanceProfile: 'ALREADY_CONTAINED',
      revokeInstanceRoleSessions: 'OFF',
    });
    const requests = execution.ledger.filter((e) => e.outcome === 'APPROVAL_REQUESTED');
    expect(requests.map((e) => e.step)).toEqual(['isolate']);
    expect(requests[0]?.summary).toContain('it has no instance profile');
    const messages = published();
    expect(messages.map((m) => m.subject)).toEqual([
      expect.stringMatching(/^Cordon approval needed: isolate /),
      expect.stringMatching(/^Cordon summary: /),
    ]);
    for (const { message } of messages) {
      expect(message).toContain(`"${execution.ledger[0]?.targetArn}"`);
      expect(message).not.toMatch(/Principal:|\brole\b/i);
      expect(message).not.toContain(`:role/${instance.roleName}`);
    }
    expect((await readInstance(instance)).rolePolicies).toEqual([]);
  });

  it('says how many other instances share the profile before revoking the role sessions', async () => {
    const instance = await seedCompromisedInstance();
    await ec2.send(
      new AssociateIamInstanceProfileCommand({
        InstanceId: instance.healthyInstanceId,
        IamInstanceProfile: { Arn: instance.instanceProfileArn },
      }),
    );

    const execution = onlyExecution(
      await harness.engine('timeout').rehearse(instanceFinding(instance)),
    );

    expect(execution.output).toMatchObject({ incident: { instance: { profileSharedWith: 1 } } });
    const request = execution.ledger.find(
      (e) => e.step === 'revokeInstanceRoleSessions' && e.outcome === 'APPROVAL_REQUESTED',
    );
    expect(request?.summary).toContain(
      `denies every session of role "${instance.roleName}" issued before now: on instance "${instance.instanceId}" and on 1 other instance using the same instance profile`,
    );
  });
});

describe('guards', () => {
  it('changes nothing on an instance its role tagged exempt (ec2:CreateTags) until a responder approves', async () => {
    const instance = await seedCompromisedInstance();
    await ec2.send(
      new CreateTagsCommand({
        Resources: [instance.instanceId],
        Tags: [{ Key: 'cordon:exempt', Value: 'true' }],
      }),
    );
    const before = await readInstance(instance);

    const execution = onlyExecution(
      await harness.engine('timeout').rehearse(instanceFinding(instance)),
    );

    expect(execution.ledger[0]).toMatchObject({
      step: 'triage',
      outcome: 'CLAIMED',
      summary: expect.stringContaining(
        `exempt: arn:aws:ec2:${MOTO_REGION}:${MOTO_ACCOUNT_ID}:instance/${instance.instanceId} is tagged cordon:exempt=true`,
      ),
    });
    expect(outcomes(execution).slice(0, 3)).toEqual([
      'triage:CLAIMED',
      'preserveEvidence:APPROVAL_REQUESTED',
      'preserveEvidence:NOT_ACTED_ON',
    ]);
    expect(await readInstance(instance)).toEqual(before);
  });

  it('refuses a sample finding, even one naming a real instance, and changes nothing', async () => {
    const instance = await seedCompromisedInstance();
    const before = await readInstance(instance);

    const execution = onlyExecution(
      await harness.engine('approve').rehearse(asSampleFinding(instanceFinding(instance))),
    );

    expect(execution.states).toEqual(REFUSED);
    expect(execution.ledger[0]).toMatchObject({
      outcome: 'REFUSED',
      summary: expect.stringMatching(/^sample:/),
    });
    expect(await readInstance(instance)).toEqual(before);
  });

  it('refuses an instance terminated before the run', async () => {
    const instance = await seedCompromisedInstance();
    await ec2.send(new TerminateInstancesCommand({ InstanceIds: [instance.instanceId] }));

    const execution = onlyExecution(
      await harness.engine('approve').rehearse(instanceFinding(instance)),
    );

    expect(execution.status, explain(execution)).toBe('SUCCEEDED');
    expect(execution.states).toEqual(REFUSED);
    expect(execution.ledger).toEqual([
      expect.objectContaining({
        step: 'triage',
        outcome: 'REFUSED',
        summary: expect.stringMatching(/no longer exists|is terminated|is shutting-down/),
      }),
      expect.objectContaining({ step: 'notify', outcome: 'NOTIFIED' }),
    ]);
    expect(await volumeSnapshots(instance)).toEqual([]);
  });

  it('refuses a finding naming an instance that never existed', async () => {
    const execution = onlyExecution(
      await harness.engine('approve').rehearse(fixtureEvent('guardduty-ec2-instance.json')),
    );

    expect(execution.states).toEqual(REFUSED);
    expect(execution.ledger[0]).toMatchObject({
      outcome: 'REFUSED',
      summary: 'instance: instance i-0abc123def4567890 no longer exists',
    });
  });
});

describe('a Security Hub finding on an EC2 instance', () => {
  it('marks the finding NOTIFIED on pickup and RESOLVED once every step is contained', async () => {
    const instance = await seedCompromisedInstance();
    const event = securityHubInstanceFinding(instance, MOTO_ACCOUNT_ID, MOTO_REGION);
    const hub = mockBatchUpdateFindings();

    const report = await harness.engine('approve').rehearse(event);

    expect(report.matched).toEqual(['ec2-instance']);
    const execution = onlyExecution(report);
    expect(execution.status, explain(execution)).toBe('SUCCEEDED');
    expect(execution.states).toEqual([
      'Triage',
      'Triage decision?',
      'Update finding: picked up',
      // A finding imported into the account's default product is not on the
      // product allow-list: even the automatic step waits for a responder.
      'Preserve evidence?',
      'Preserve evidence: request approval',
      'Preserve evidence',
      ...ISOLATE_APPROVED,
      ...REVOKE_APPROVED,
      'Finished: from Security Hub?',
      'Update finding: finished',
      'Notify summary',
      'Done',
    ]);
    expect(resultOutcomes(execution.output)).toEqual(CONTAINED_RESULTS);
    const identifier = { Id: asffFindingId(event), ProductArn: PRODUCT_ARN };
    expect(hub.commandCalls(BatchUpdateFindingsCommand).map((c) => c.args[0].input)).toEqual([
      expect.objectContaining({
        FindingIdentifiers: [identifier],
        Workflow: { Status: 'NOTIFIED' },
      }),
      expect.objectContaining({
        FindingIdentifiers: [identifier],
        Workflow: { Status: 'RESOLVED' },
      }),
    ]);
    expect(await readInstance(instance)).toMatchObject({
      autoScalingGroup: undefined,
      profileAssociations: [],
    });
  });
});

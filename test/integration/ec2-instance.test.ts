/**
 * Layer 4: after an approved rehearsal of the ec2-instance playbook against
 * moto, the real resulting AWS state, read back with EC2, Auto Scaling, IAM
 * and DynamoDB clients of this file's own (not the handlers'): interfaces and
 * their groups, the isolation groups and their rules, the evidence, the Auto
 * Scaling group, the profile association, the role's policy, and the ledger
 * with its hash chain.
 *
 * moto 5.2 stores and returns IPv6 (`::/0`) security group rules, so both
 * address families are asserted. It launches instances with shutdown behaviour
 * `stop` and does not implement the ModifyInstanceAttribute form that changes
 * it (see test/state-machines/ec2-instance.integration.test.ts), so "stop" is
 * read back but is not something this run could have changed. It does not
 * enforce an Auto Scaling group's minimum size on DetachInstances (Cordon's
 * own check does) and lists its AMIs' snapshots as the caller's, so snapshots
 * are looked up per seeded volume.
 */
import {
  AutoScalingClient,
  DescribeAutoScalingGroupsCommand,
  DescribeAutoScalingInstancesCommand,
  UpdateAutoScalingGroupCommand,
} from '@aws-sdk/client-auto-scaling';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  DescribeIamInstanceProfileAssociationsCommand,
  DescribeInstanceAttributeCommand,
  DescribeInstancesCommand,
  DescribeNetworkInterfacesCommand,
  DescribeSecurityGroupsCommand,
  DescribeSnapshotsCommand,
  EC2Client,
  type SecurityGroup,
} from '@aws-sdk/client-ec2';
import { GetRolePolicyCommand, IAMClient } from '@aws-sdk/client-iam';
import { DynamoDBDocumentClient, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import {
  type CompromisedInstance,
  instanceFinding,
  seedCompromisedInstance,
} from '../../demo/scenario.js';
import {
  INCIDENT_TAG,
  INSTANCE_TAG,
  ISOLATION_TAG,
  ORIGINAL_GROUPS_TAG,
  tagValue,
  VOLUME_TAG,
} from '../../functions/shared/ec2-tags.js';
import { entryHash, GENESIS_HASH } from '../../functions/shared/ledger.js';
import {
  explain,
  LEDGER_TABLE,
  onlyExecution,
  rehearsalHarness,
} from '../state-machines/harness.js';
import { motoClientConfig, useMoto } from '../support/moto.js';

const { endpoint } = useMoto();
const harness = rehearsalHarness();
const ec2 = new EC2Client(motoClientConfig(endpoint));
const autoScaling = new AutoScalingClient(motoClientConfig(endpoint));
const iam = new IAMClient(motoClientConfig(endpoint));
const ledgerTable = DynamoDBDocumentClient.from(new DynamoDBClient(motoClientConfig(endpoint)));

/** Seeds the instance and contains it with every approval granted. */
async function containedInstance() {
  const instance = await seedCompromisedInstance();
  const execution = onlyExecution(
    await harness.engine('approve').rehearse(instanceFinding(instance)),
  );
  expect(execution.status, explain(execution)).toBe('SUCCEEDED');
  const incidentId = execution.ledger[0]?.incidentId;
  if (!incidentId) throw new Error('the execution wrote no ledger entry');
  return { instance, execution, incidentId };
}

async function isolationGroups(vpcId: string): Promise<SecurityGroup[]> {
  const out = await ec2.send(
    new DescribeSecurityGroupsCommand({
      Filters: [
        { Name: 'vpc-id', Values: [vpcId] },
        { Name: 'tag-key', Values: [ISOLATION_TAG] },
      ],
    }),
  );
  return out.SecurityGroups ?? [];
}

function isolationGroup(groups: SecurityGroup[], kind: string): SecurityGroup {
  const [group, ...others] = groups.filter((g) => tagValue(g.Tags, ISOLATION_TAG) === kind);
  if (!group || others.length > 0) throw new Error(`expected one ${kind} group`);
  return group;
}

async function interfacesOf(instance: CompromisedInstance) {
  const out = await ec2.send(
    new DescribeNetworkInterfacesCommand({
      Filters: [{ Name: 'attachment.instance-id', Values: [instance.instanceId] }],
    }),
  );
  return out.NetworkInterfaces ?? [];
}

/** A stored ledger item, unknown fields kept: the hash covers all of them. */
const StoredEntry = z.looseObject({
  incidentId: z.string(),
  seq: z.number(),
  at: z.string(),
  step: z.string(),
  action: z.string(),
  actor: z.string(),
  outcome: z.string(),
  before: z.unknown().optional(),
  after: z.unknown().optional(),
  prevHash: z.string(),
  hash: z.string(),
});

async function storedEntries(incidentId: string) {
  const page = await ledgerTable.send(
    new QueryCommand({
      TableName: LEDGER_TABLE,
      KeyConditionExpression: 'incidentId = :id',
      ExpressionAttributeValues: { ':id': incidentId },
      ConsistentRead: true,
    }),
  );
  return (page.Items ?? []).map((item) => StoredEntry.parse(item));
}

function entryOf(entries: z.infer<typeof StoredEntry>[], action: string) {
  const found = entries.filter((e) => e.action === action && e.outcome === 'CONTAINED');
  expect(found, `one CONTAINED entry of ${action}`).toHaveLength(1);
  return found[0];
}

describe('the network of an instance contained with approval', () => {
  it('puts every interface in the no-traffic group only, and records its original groups on it', async () => {
    const { instance } = await containedInstance();

    const noTraffic = isolationGroup(await isolationGroups(instance.vpcId), 'no-traffic');
    const interfaces = await interfacesOf(instance);
    expect(interfaces.map((n) => n.NetworkInterfaceId).sort()).toEqual(
      [...instance.interfaceIds].sort(),
    );
    for (const n of interfaces) {
      expect(
        (n.Groups ?? []).map((g) => g.GroupId),
        `groups of ${n.NetworkInterfaceId}`,
      ).toEqual([noTraffic.GroupId]);
      expect(tagValue(n.TagSet, ORIGINAL_GROUPS_TAG)).toBe(instance.appGroupId);
    }
  });

  it('creates one allow-all group (all traffic, IPv4 and IPv6, both ways) and one no-traffic group with no rules', async () => {
    const { instance } = await containedInstance();

    const groups = await isolationGroups(instance.vpcId);
    expect(groups.map((g) => tagValue(g.Tags, ISOLATION_TAG)).sort()).toEqual([
      'allow-all',
      'no-traffic',
    ]);
    const allowAll = isolationGroup(groups, 'allow-all');
    expect(allowAll.GroupName).toBe('cordon-isolation-allow-all');
    for (const rules of [allowAll.IpPermissions, allowAll.IpPermissionsEgress]) {
      const all = (rules ?? []).filter((r) => r.IpProtocol === '-1');
      expect(all.flatMap((r) => (r.IpRanges ?? []).map((x) => x.CidrIp))).toEqual(['0.0.0.0/0']);
      expect(all.flatMap((r) => (r.Ipv6Ranges ?? []).map((x) => x.CidrIpv6))).toEqual(['::/0']);
    }
    const noTraffic = isolationGroup(groups, 'no-traffic');
    expect(noTraffic.GroupName).toBe('cordon-isolation-no-traffic');
    expect(noTraffic.IpPermissions).toEqual([]);
    expect(noTraffic.IpPermissionsEgress).toEqual([]);
  });

  it('reuses the VPC isolation groups for a second instance', async () => {
    const { instance } = await containedInstance();
    const first = (await isolationGroups(instance.vpcId)).map((g) => g.GroupId).sort();
    // The group's last instance may leave only once its minimum allows it.
    await autoScaling.send(
      new UpdateAutoScalingGroupCommand({
        AutoScalingGroupName: instance.autoScalingGroup,
        MinSize: 0,
      }),
    );
    const second = { ...instance, instanceId: instance.healthyInstanceId };

    const execution = onlyExecution(
      await harness
        .engine('approve')
        .rehearse(instanceFinding(second, { findingId: 'e'.repeat(32) })),
    );

    expect(execution.status, explain(execution)).toBe('SUCCEEDED');
    expect((await isolationGroups(instance.vpcId)).map((g) => g.GroupId).sort()).toEqual(first);
    const noTraffic = isolationGroup(await isolationGroups(instance.vpcId), 'no-traffic');
    for (const n of await interfacesOf(second)) {
      expect((n.Groups ?? []).map((g) => g.GroupId)).toEqual([noTraffic.GroupId]);
    }
  });
});

describe('the evidence of an instance contained with approval', () => {
  it('snapshots every volume once, tagged, and keeps the instance and its volumes', async () => {
    const { instance, incidentId } = await containedInstance();

    const snapshots = await ec2.send(
      new DescribeSnapshotsCommand({
        OwnerIds: ['self'],
        Filters: [{ Name: 'volume-id', Values: instance.volumeIds }],
      }),
    );
    expect(
      (snapshots.Snapshots ?? []).map((s) => ({
        volume: s.VolumeId,
        tags: {
          incident: tagValue(s.Tags, INCIDENT_TAG),
          instance: tagValue(s.Tags, INSTANCE_TAG),
          volume: tagValue(s.Tags, VOLUME_TAG),
        },
      })),
    ).toEqual(
      instance.volumeIds.map((volumeId) => ({
        volume: volumeId,
        tags: { incident: incidentId, instance: instance.instanceId, volume: volumeId },
      })),
    );
    const termination = await ec2.send(
      new DescribeInstanceAttributeCommand({
        InstanceId: instance.instanceId,
        Attribute: 'disableApiTermination',
      }),
    );
    expect(termination.DisableApiTermination?.Value).toBe(true);
    const shutdown = await ec2.send(
      new DescribeInstanceAttributeCommand({
        InstanceId: instance.instanceId,
        Attribute: 'instanceInitiatedShutdownBehavior',
      }),
    );
    expect(shutdown.InstanceInitiatedShutdownBehavior?.Value).toBe('stop');
    const described = await ec2.send(
      new DescribeInstancesCommand({ InstanceIds: [instance.instanceId] }),
    );
    const ec2Instance = described.Reservations?.[0]?.Instances?.[0];
    expect(ec2Instance?.State?.Name).toBe('running');
    expect(tagValue(ec2Instance?.Tags, INCIDENT_TAG)).toBe(incidentId);
    expect(
      (ec2Instance?.BlockDeviceMappings ?? []).map((m) => [
        m.Ebs?.VolumeId,
        m.Ebs?.DeleteOnTermination,
      ]),
    ).toEqual(instance.volumeIds.map((v) => [v, false]));
  });
});

describe('the identity and group of an instance contained with approval', () => {
  it('takes the instance out of its Auto Scaling group, one less desired, the healthy one still in', async () => {
    const { instance } = await containedInstance();

    const membership = await autoScaling.send(
      new DescribeAutoScalingInstancesCommand({ InstanceIds: [instance.instanceId] }),
    );
    expect(membership.AutoScalingInstances ?? []).toEqual([]);
    const described = await autoScaling.send(
      new DescribeAutoScalingGroupsCommand({ AutoScalingGroupNames: [instance.autoScalingGroup] }),
    );
    const group = described.AutoScalingGroups?.[0];
    expect(group).toMatchObject({ MinSize: 1, MaxSize: 4, DesiredCapacity: 1 });
    expect((group?.Instances ?? []).map((i) => i.InstanceId)).toEqual([instance.healthyInstanceId]);
    const healthy = await ec2.send(
      new DescribeInstancesCommand({ InstanceIds: [instance.healthyInstanceId] }),
    );
    expect(healthy.Reservations?.[0]?.Instances?.[0]?.State?.Name).toBe('running');
  });

  it('leaves no instance profile associated and denies the role its older sessions', async () => {
    const { instance } = await containedInstance();

    const associations = await ec2.send(
      new DescribeIamInstanceProfileAssociationsCommand({
        Filters: [{ Name: 'instance-id', Values: [instance.instanceId] }],
      }),
    );
    expect(
      (associations.IamInstanceProfileAssociations ?? []).filter(
        (a) => a.State === 'associated' || a.State === 'associating',
      ),
    ).toEqual([]);
    const policy = await iam.send(
      new GetRolePolicyCommand({
        RoleName: instance.roleName,
        PolicyName: 'CordonRevokeOlderSessions',
      }),
    );
    expect(JSON.parse(decodeURIComponent(policy.PolicyDocument ?? '{}'))).toMatchObject({
      Statement: [
        {
          Effect: 'Deny',
          Action: '*',
          Resource: '*',
          Condition: { DateLessThan: { 'aws:TokenIssueTime': expect.any(String) } },
        },
      ],
    });
  });
});

describe('the ledger of an instance contained with approval', () => {
  it('holds each action with the before-state a rollback needs, and the after-state', async () => {
    const { instance, incidentId } = await containedInstance();

    const stored = await storedEntries(incidentId);

    expect(stored.map((e) => `${e.step}:${e.action}:${e.outcome}`)).toEqual([
      'triage:triage:CLAIMED',
      'preserveEvidence:preserve-evidence:INTENT',
      'preserveEvidence:preserve-evidence:CONTAINED',
      'isolate:request-approval:APPROVAL_REQUESTED',
      'isolate:responder-api:APPROVAL_GRANTED',
      'isolate:detach-from-asg:INTENT',
      'isolate:detach-from-asg:CONTAINED',
      'isolate:isolate-network:INTENT',
      'isolate:isolate-network:CONTAINED',
      'isolate:detach-instance-profile:INTENT',
      'isolate:detach-instance-profile:CONTAINED',
      'revokeInstanceRoleSessions:request-approval:APPROVAL_REQUESTED',
      'revokeInstanceRoleSessions:responder-api:APPROVAL_GRANTED',
      'revokeInstanceRoleSessions:revoke-sessions:INTENT',
      'revokeInstanceRoleSessions:revoke-sessions:CONTAINED',
      'notify:notify:NOTIFIED',
    ]);
    const snapshots = await ec2.send(
      new DescribeSnapshotsCommand({
        OwnerIds: ['self'],
        Filters: [{ Name: 'volume-id', Values: instance.volumeIds }],
      }),
    );
    expect(entryOf(stored, 'preserve-evidence')?.after).toMatchObject({
      volumes: (snapshots.Snapshots ?? []).map((s) => ({
        volumeId: s.VolumeId,
        deleteOnTermination: false,
        snapshotId: s.SnapshotId,
      })),
    });
    expect(entryOf(stored, 'detach-from-asg')).toMatchObject({
      before: {
        instanceId: instance.instanceId,
        group: instance.autoScalingGroup,
        desiredCapacity: 2,
        minSize: 1,
        maxSize: 4,
      },
      after: { instanceId: instance.instanceId, group: null },
    });
    const noTraffic = isolationGroup(await isolationGroups(instance.vpcId), 'no-traffic');
    const byInterface = (groups: 'groups' | 'originalGroups', ids: string[]) =>
      [...instance.interfaceIds]
        .sort()
        .map((networkInterfaceId) =>
          expect.objectContaining({ networkInterfaceId, [groups]: ids }),
        );
    expect(entryOf(stored, 'isolate-network')).toMatchObject({
      before: { interfaces: byInterface('originalGroups', [instance.appGroupId]) },
      after: { interfaces: byInterface('groups', [noTraffic.GroupId ?? 'missing']) },
    });
    expect(entryOf(stored, 'detach-instance-profile')).toMatchObject({
      before: { association: { profileArn: instance.instanceProfileArn } },
      after: { association: null },
    });
  });

  it('chains the entries: contiguous seq from 0, each prevHash the previous hash, each hash its own', async () => {
    const { incidentId } = await containedInstance();

    const stored = await storedEntries(incidentId);

    expect(stored.length).toBeGreaterThan(1);
    expect(stored.map((e) => e.seq)).toEqual(stored.map((_, i) => i));
    expect(stored.map((e) => e.prevHash)).toEqual([
      GENESIS_HASH,
      ...stored.slice(0, -1).map((e) => e.hash),
    ]);
    for (const entry of stored) {
      const { hash, mac, ...body } = entry;
      expect(entryHash(body), `hash of seq ${entry.seq}`).toBe(hash);
      expect(mac, `MAC of seq ${entry.seq}`).toEqual(expect.any(String));
    }
  });
});

import 'aws-sdk-client-mock-vitest/extend';
import {
  AuthorizeSecurityGroupEgressCommand,
  type AuthorizeSecurityGroupEgressCommandInput,
  AuthorizeSecurityGroupIngressCommand,
  type AuthorizeSecurityGroupIngressCommandInput,
  CreateSecurityGroupCommand,
  type CreateSecurityGroupCommandInput,
  CreateTagsCommand,
  type CreateTagsCommandInput,
  DescribeInstancesCommand,
  DescribeNetworkInterfacesCommand,
  DescribeSecurityGroupsCommand,
  type DescribeSecurityGroupsCommandInput,
  EC2Client,
  type IpPermission,
  ModifyNetworkInterfaceAttributeCommand,
  type ModifyNetworkInterfaceAttributeCommandInput,
  RevokeSecurityGroupEgressCommand,
  type RevokeSecurityGroupEgressCommandInput,
  RevokeSecurityGroupIngressCommand,
} from '@aws-sdk/client-ec2';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { isolateNetwork } from '../../../../functions/actions/isolate-network/containment.js';
import {
  INCIDENT_TAG,
  ISOLATION_TAG,
  ORIGINAL_GROUPS_TAG,
} from '../../../../functions/shared/ec2-tags.js';
import { INTENT } from '../../../../functions/shared/intents.js';
import {
  ACTOR,
  APPROVALS,
  actionInput,
  approved,
  awsError,
  ec2Incident,
  fakeLedger,
  INCIDENT_TAGS,
  INSTANCE_ARN,
  INSTANCE_ID,
  VPC_ID,
} from '../../shared/containment-fixtures.js';

const STEP = 'isolate';
const INCIDENT = ec2Incident();
const ec2Mock = mockClient(EC2Client);
const ec2 = new EC2Client({ region: 'us-east-1' });

const ENI_A = 'eni-0000000000000000a';
const ENI_B = 'eni-0000000000000000b';
const ALL_V4: IpPermission = { IpProtocol: '-1', IpRanges: [{ CidrIp: '0.0.0.0/0' }] };
const ALL_V6: IpPermission = { IpProtocol: '-1', Ipv6Ranges: [{ CidrIpv6: '::/0' }] };

interface FakeEni {
  id: string;
  vpcId: string;
  groups: string[];
  tags: Record<string, string>;
  ipv6: boolean;
}

interface FakeGroup {
  id: string;
  vpcId: string;
  name: string;
  tags: Record<string, string>;
  ingress: IpPermission[];
  egress: IpPermission[];
}

interface World {
  instanceState: string | undefined;
  /** Someone removed the incident tag from the instance. @default false */
  instanceUntagged?: boolean;
  enis: FakeEni[];
  groups: FakeGroup[];
}

const toTags = (tags: Record<string, string>) =>
  Object.entries(tags).map(([Key, Value]) => ({ Key, Value }));

/** An interface preserve-evidence tagged with the incident (tags in `extra` come on top). */
const eni = (id: string, groups: string[], extra: Partial<FakeEni> = {}): FakeEni => ({
  id,
  vpcId: VPC_ID,
  groups,
  ipv6: false,
  ...extra,
  tags: { [INCIDENT_TAG]: INCIDENT.incidentId, ...extra.tags },
});

/** Cordon's two groups, as a finished earlier run leaves them. */
const cordonGroups = (): FakeGroup[] => [
  {
    id: 'sg-0000000000000a11a',
    vpcId: VPC_ID,
    name: 'cordon-isolation-allow-all',
    tags: { [ISOLATION_TAG]: 'allow-all' },
    ingress: [
      { IpProtocol: '-1', IpRanges: [{ CidrIp: '0.0.0.0/0' }], Ipv6Ranges: [{ CidrIpv6: '::/0' }] },
    ],
    egress: [ALL_V4, ALL_V6],
  },
  {
    id: 'sg-00000000000000000',
    vpcId: VPC_ID,
    name: 'cordon-isolation-no-traffic',
    tags: { [ISOLATION_TAG]: 'no-traffic' },
    ingress: [],
    egress: [],
  },
];

/** EC2 as the action sees it: security groups with rules, interfaces with groups and tags. */
function ec2With(world: World): World {
  let next = 1;
  ec2Mock.on(DescribeInstancesCommand).callsFake(() => {
    if (world.instanceState === undefined) throw awsError('InvalidInstanceID.NotFound');
    const instance = {
      InstanceId: INSTANCE_ID,
      State: { Name: world.instanceState },
      Tags: world.instanceUntagged ? [] : INCIDENT_TAGS,
    };
    return { Reservations: [{ Instances: [instance] }] };
  });
  ec2Mock.on(DescribeNetworkInterfacesCommand).callsFake(() => ({
    NetworkInterfaces: world.enis.map((n) => ({
      NetworkInterfaceId: n.id,
      VpcId: n.vpcId,
      Groups: n.groups.map((GroupId) => ({ GroupId })),
      TagSet: toTags(n.tags),
      Ipv6Addresses: n.ipv6 ? [{ Ipv6Address: '2001:db8::1' }] : [],
      Attachment: { InstanceId: INSTANCE_ID },
    })),
  }));
  ec2Mock
    .on(DescribeSecurityGroupsCommand)
    .callsFake((input: DescribeSecurityGroupsCommandInput) => {
      const vpcs = input.Filters?.find((f) => f.Name === 'vpc-id')?.Values ?? [];
      const keys = input.Filters?.find((f) => f.Name === 'tag-key')?.Values ?? [];
      return {
        SecurityGroups: world.groups
          .filter((g) => vpcs.includes(g.vpcId) && keys.some((k) => k in g.tags))
          .map((g) => ({
            GroupId: g.id,
            GroupName: g.name,
            VpcId: g.vpcId,
            Tags: toTags(g.tags),
            IpPermissions: g.ingress,
            IpPermissionsEgress: g.egress,
          })),
      };
    });
  ec2Mock.on(CreateSecurityGroupCommand).callsFake((input: CreateSecurityGroupCommandInput) => {
    if (world.groups.some((g) => g.vpcId === input.VpcId && g.name === input.GroupName)) {
      throw awsError('InvalidGroup.Duplicate');
    }
    const tags = Object.fromEntries(
      (input.TagSpecifications?.flatMap((s) => s.Tags ?? []) ?? []).map((t) => [
        t.Key ?? '',
        t.Value ?? '',
      ]),
    );
    const id = `sg-00000000000000${String(next++).padStart(3, '0')}`;
    world.groups.push({
      id,
      vpcId: input.VpcId ?? '',
      name: input.GroupName ?? '',
      tags,
      ingress: [],
      egress: [ALL_V4],
    });
    return { GroupId: id };
  });
  const group = (id: string | undefined) => {
    const found = world.groups.find((g) => g.id === id);
    if (!found) throw awsError('InvalidGroup.NotFound');
    return found;
  };
  ec2Mock
    .on(AuthorizeSecurityGroupIngressCommand)
    .callsFake((input: AuthorizeSecurityGroupIngressCommandInput) => {
      group(input.GroupId).ingress.push(...(input.IpPermissions ?? []));
      return {};
    });
  ec2Mock
    .on(AuthorizeSecurityGroupEgressCommand)
    .callsFake((input: AuthorizeSecurityGroupEgressCommandInput) => {
      group(input.GroupId).egress.push(...(input.IpPermissions ?? []));
      return {};
    });
  ec2Mock
    .on(RevokeSecurityGroupEgressCommand)
    .callsFake((input: RevokeSecurityGroupEgressCommandInput) => {
      group(input.GroupId).egress = [];
      return {};
    });
  ec2Mock
    .on(RevokeSecurityGroupIngressCommand)
    .callsFake((input: RevokeSecurityGroupEgressCommandInput) => {
      group(input.GroupId).ingress = [];
      return {};
    });
  ec2Mock.on(CreateTagsCommand).callsFake((input: CreateTagsCommandInput) => {
    for (const n of world.enis.filter((e) => input.Resources?.includes(e.id))) {
      for (const t of input.Tags ?? []) n.tags[t.Key ?? ''] = t.Value ?? '';
    }
    return {};
  });
  ec2Mock
    .on(ModifyNetworkInterfaceAttributeCommand)
    .callsFake((input: ModifyNetworkInterfaceAttributeCommandInput) => {
      const found = world.enis.find((n) => n.id === input.NetworkInterfaceId);
      if (!found) throw awsError('InvalidNetworkInterfaceID.NotFound');
      found.groups = input.Groups ?? [];
      return {};
    });
  return world;
}

/** The mutating calls made, in order, as `Command` names with their input. */
function mutatingCalls() {
  return ec2Mock
    .calls()
    .map((call) => call.args[0])
    .filter((command) => !command.constructor.name.startsWith('Describe'))
    .map((command) => ({ command: command.constructor.name, input: command.input }));
}

const groupMoves = () =>
  mutatingCalls()
    .filter((c) => c.command === 'ModifyNetworkInterfaceAttributeCommand')
    .map((c) => c.input);

const groupNamed = (world: World, name: string) => {
  const found = world.groups.find((g) => g.name === name);
  if (!found) throw new Error(`no group ${name}`);
  return found;
};

describe('isolate-network', () => {
  let fake: ReturnType<typeof fakeLedger>;
  beforeEach(() => {
    ec2Mock.reset();
    fake = fakeLedger();
  });
  const deps = () => ({ ec2, ledger: fake.ledger, actor: ACTOR, approvals: APPROVALS });
  const input = (mode: 'auto' | 'dry-run' | 'approve' = 'auto') =>
    actionInput(STEP, { incident: INCIDENT, mode });

  it('moves every interface to allow-all before any interface moves to no-traffic', async () => {
    // Arrange
    const world = ec2With({
      instanceState: 'running',
      enis: [eni(ENI_A, ['sg-0000000000000web1']), eni(ENI_B, ['sg-0000000000000db01'])],
      groups: [],
    });
    // Act
    const result = await isolateNetwork(input(), deps());
    // Assert
    const allowAll = groupNamed(world, 'cordon-isolation-allow-all').id;
    const noTraffic = groupNamed(world, 'cordon-isolation-no-traffic').id;
    expect(result).toEqual({
      step: STEP,
      action: 'isolate-network',
      outcome: 'CONTAINED',
      mode: 'auto',
      targetArn: INSTANCE_ARN,
      summary: `isolate 2 network interfaces of instance ${INSTANCE_ID}: the allow-all group first (tracked connections become untracked), then the no-traffic group (IPv4 and IPv6)`,
    });
    expect(groupMoves()).toEqual([
      { NetworkInterfaceId: ENI_A, Groups: [allowAll] },
      { NetworkInterfaceId: ENI_B, Groups: [allowAll] },
      { NetworkInterfaceId: ENI_A, Groups: [noTraffic] },
      { NetworkInterfaceId: ENI_B, Groups: [noTraffic] },
    ]);
    expect(world.enis.map((n) => n.groups)).toEqual([[noTraffic], [noTraffic]]);
  });

  it('refuses, moving no interface, when the incident tag was removed from one interface during the wait', async () => {
    // Arrange: the second interface lost the tag preserve-evidence wrote.
    const world = ec2With({
      instanceState: 'running',
      enis: [eni(ENI_A, ['sg-0000000000000web1']), eni(ENI_B, ['sg-0000000000000db01'])],
      groups: [],
    });
    delete world.enis[1]?.tags[INCIDENT_TAG];
    // Act
    const attempt = isolateNetwork(
      actionInput(STEP, { incident: INCIDENT, approval: approved(STEP) }),
      deps(),
    );
    // Assert
    await expect(attempt).rejects.toMatchObject({
      name: 'Cordon.IncidentTagMissing',
      message: expect.stringContaining(`is gone from ${ENI_B}.`),
    });
    expect(mutatingCalls()).toEqual([]);
    expect(world.enis.map((n) => n.groups)).toEqual([
      ['sg-0000000000000web1'],
      ['sg-0000000000000db01'],
    ]);
    expect(fake.entries().map((e) => e.outcome)).toEqual(['FAILED']);
  });

  it('refuses when the incident tag was removed from the instance', async () => {
    // Arrange
    ec2With({
      instanceState: 'running',
      instanceUntagged: true,
      enis: [eni(ENI_A, ['sg-0000000000000web1'])],
      groups: [],
    });
    // Act
    const attempt = isolateNetwork(
      actionInput(STEP, { incident: INCIDENT, approval: approved(STEP) }),
      deps(),
    );
    // Assert
    await expect(attempt).rejects.toMatchObject({
      name: 'Cordon.IncidentTagMissing',
      message: expect.stringContaining(`is gone from ${INSTANCE_ID}.`),
    });
    expect(mutatingCalls()).toEqual([]);
  });

  it('records each interface original groups in a tag before changing any group', async () => {
    // Arrange
    const world = ec2With({
      instanceState: 'running',
      enis: [
        eni(ENI_A, ['sg-0000000000000web1', 'sg-0000000000000mgmt']),
        eni(ENI_B, ['sg-0000000000000db01']),
      ],
      groups: [],
    });
    // Act
    await isolateNetwork(input(), deps());
    // Assert
    const commands = mutatingCalls().map((c) => c.command);
    const lastTag = commands.lastIndexOf('CreateTagsCommand');
    const firstMove = commands.indexOf('ModifyNetworkInterfaceAttributeCommand');
    expect(lastTag).toBeGreaterThanOrEqual(0);
    expect(lastTag).toBeLessThan(firstMove);
    expect(world.enis.map((n) => n.tags[ORIGINAL_GROUPS_TAG])).toEqual([
      'sg-0000000000000web1,sg-0000000000000mgmt',
      'sg-0000000000000db01',
    ]);
  });

  it('records the original groups before and the no-traffic group after, per interface', async () => {
    // Arrange
    const world = ec2With({
      instanceState: 'running',
      enis: [
        eni(ENI_A, ['sg-0000000000000web1'], { ipv6: true }),
        eni(ENI_B, ['sg-0000000000000db01']),
      ],
      groups: [],
    });
    // Act
    await isolateNetwork(input(), deps());
    // Assert
    const noTraffic = groupNamed(world, 'cordon-isolation-no-traffic').id;
    expect(fake.entries().map((e) => e.outcome)).toEqual([INTENT, 'CONTAINED']);
    const [intent, entry] = fake.entries();
    expect(entry).toMatchObject({
      outcome: 'CONTAINED',
      actor: ACTOR,
      before: {
        instanceId: INSTANCE_ID,
        interfaces: [
          {
            networkInterfaceId: ENI_A,
            vpcId: VPC_ID,
            groups: ['sg-0000000000000web1'],
            originalGroups: ['sg-0000000000000web1'],
            originalGroupsTagged: false,
            hasIpv6: true,
          },
          {
            networkInterfaceId: ENI_B,
            groups: ['sg-0000000000000db01'],
            originalGroups: ['sg-0000000000000db01'],
            hasIpv6: false,
          },
        ],
      },
      after: {
        interfaces: [
          {
            networkInterfaceId: ENI_A,
            groups: [noTraffic],
            originalGroups: ['sg-0000000000000web1'],
          },
          {
            networkInterfaceId: ENI_B,
            groups: [noTraffic],
            originalGroups: ['sg-0000000000000db01'],
          },
        ],
      },
    });
    expect(intent).toMatchObject({ outcome: INTENT, actor: ACTOR });
    expect(intent).not.toHaveProperty('after');
    expect(intent?.before).toEqual(entry?.before);
  });

  it('creates both groups tagged as Cordon’s, allow-all with IPv4 and IPv6 rules both ways, no-traffic with none', async () => {
    // Arrange
    const world = ec2With({
      instanceState: 'running',
      enis: [eni(ENI_A, ['sg-0000000000000web1'])],
      groups: [],
    });
    // Act
    await isolateNetwork(input(), deps());
    // Assert
    for (const kind of ['allow-all', 'no-traffic']) {
      expect(ec2Mock).toHaveReceivedCommandWith(CreateSecurityGroupCommand, {
        GroupName: `cordon-isolation-${kind}`,
        VpcId: VPC_ID,
        TagSpecifications: [
          expect.objectContaining({
            ResourceType: 'security-group',
            Tags: expect.arrayContaining([{ Key: ISOLATION_TAG, Value: kind }]),
          }),
        ],
      });
    }
    const allowAll = groupNamed(world, 'cordon-isolation-allow-all');
    const everything = {
      IpProtocol: '-1',
      IpRanges: [expect.objectContaining({ CidrIp: '0.0.0.0/0' })],
      Ipv6Ranges: [expect.objectContaining({ CidrIpv6: '::/0' })],
    };
    expect(ec2Mock).toHaveReceivedCommandWith(AuthorizeSecurityGroupIngressCommand, {
      GroupId: allowAll.id,
      IpPermissions: [everything],
    });
    // IPv4 egress is there by default; only IPv6 egress is added.
    expect(ec2Mock).toHaveReceivedCommandWith(AuthorizeSecurityGroupEgressCommand, {
      GroupId: allowAll.id,
      IpPermissions: [
        { IpProtocol: '-1', Ipv6Ranges: [expect.objectContaining({ CidrIpv6: '::/0' })] },
      ],
    });
    const noTraffic = groupNamed(world, 'cordon-isolation-no-traffic');
    expect(ec2Mock).toHaveReceivedCommandWith(RevokeSecurityGroupEgressCommand, {
      GroupId: noTraffic.id,
      IpPermissions: [ALL_V4],
    });
    expect(ec2Mock).not.toHaveReceivedCommand(RevokeSecurityGroupIngressCommand);
    expect(noTraffic).toMatchObject({ ingress: [], egress: [] });
  });

  it('reuses the isolation groups an earlier run created and changes none of their rules', async () => {
    // Arrange
    const world = ec2With({
      instanceState: 'running',
      enis: [eni(ENI_A, ['sg-0000000000000web1'])],
      groups: cordonGroups(),
    });
    // Act
    const result = await isolateNetwork(input(), deps());
    // Assert
    expect(result.outcome).toBe('CONTAINED');
    expect(mutatingCalls().map((c) => c.command)).toEqual([
      'CreateTagsCommand',
      'ModifyNetworkInterfaceAttributeCommand',
      'ModifyNetworkInterfaceAttributeCommand',
    ]);
    expect(world.enis[0]?.groups).toEqual(['sg-00000000000000000']);
  });

  it('revokes every rule of a no-traffic group that has some before using it', async () => {
    // Arrange
    const groups = cordonGroups();
    const dirty = groups[1] as FakeGroup;
    dirty.ingress = [
      { IpProtocol: 'tcp', FromPort: 22, ToPort: 22, IpRanges: [{ CidrIp: '0.0.0.0/0' }] },
    ];
    dirty.egress = [ALL_V4];
    const world = ec2With({
      instanceState: 'running',
      enis: [eni(ENI_A, ['sg-0000000000000web1'])],
      groups,
    });
    // Act
    await isolateNetwork(input(), deps());
    // Assert
    expect(ec2Mock).toHaveReceivedCommandWith(RevokeSecurityGroupIngressCommand, {
      GroupId: dirty.id,
    });
    expect(ec2Mock).toHaveReceivedCommandWith(RevokeSecurityGroupEgressCommand, {
      GroupId: dirty.id,
    });
    expect(groupNamed(world, 'cordon-isolation-no-traffic')).toMatchObject({
      ingress: [],
      egress: [],
    });
  });

  it('uses the group another run created when CreateSecurityGroup reports InvalidGroup.Duplicate', async () => {
    // Arrange
    const world = ec2With({
      instanceState: 'running',
      enis: [eni(ENI_A, ['sg-0000000000000web1'])],
      groups: [],
    });
    const [allowAll, noTraffic] = cordonGroups();
    ec2Mock.on(CreateSecurityGroupCommand).callsFake(() => {
      // The other run wins both races between our read and our create.
      if (allowAll && noTraffic && world.groups.length === 0)
        world.groups.push(allowAll, noTraffic);
      throw awsError('InvalidGroup.Duplicate');
    });
    // Act
    const result = await isolateNetwork(input(), deps());
    // Assert
    expect(result.outcome).toBe('CONTAINED');
    expect(world.enis[0]?.groups).toEqual([noTraffic?.id]);
  });

  it('returns ALREADY_CONTAINED and makes no mutating call when every interface is already isolated', async () => {
    // Arrange
    ec2With({
      instanceState: 'running',
      enis: [
        eni(ENI_A, ['sg-00000000000000000'], {
          tags: { [ORIGINAL_GROUPS_TAG]: 'sg-0000000000000web1' },
        }),
        eni(ENI_B, ['sg-00000000000000000'], {
          tags: { [ORIGINAL_GROUPS_TAG]: 'sg-0000000000000db01' },
        }),
      ],
      groups: cordonGroups(),
    });
    // Act
    const result = await isolateNetwork(input(), deps());
    // Assert
    expect(result.outcome).toBe('ALREADY_CONTAINED');
    expect(mutatingCalls()).toEqual([]);
    expect(fake.entries().map((e) => e.outcome)).toEqual(['ALREADY_CONTAINED']);
    expect(fake.entries()[0]).toMatchObject({
      outcome: 'ALREADY_CONTAINED',
      before: {
        interfaces: [
          { originalGroups: ['sg-0000000000000web1'] },
          { originalGroups: ['sg-0000000000000db01'] },
        ],
      },
    });
  });

  it('isolates the interface still open when another is already isolated', async () => {
    // Arrange
    const world = ec2With({
      instanceState: 'running',
      enis: [
        eni(ENI_A, ['sg-00000000000000000'], {
          tags: { [ORIGINAL_GROUPS_TAG]: 'sg-0000000000000web1' },
        }),
        eni(ENI_B, ['sg-0000000000000db01']),
      ],
      groups: cordonGroups(),
    });
    // Act
    await isolateNetwork(input(), deps());
    // Assert
    expect(groupMoves()).toEqual([
      { NetworkInterfaceId: ENI_B, Groups: ['sg-0000000000000a11a'] },
      { NetworkInterfaceId: ENI_B, Groups: ['sg-00000000000000000'] },
    ]);
    expect(world.enis.map((n) => n.groups)).toEqual([
      ['sg-00000000000000000'],
      ['sg-00000000000000000'],
    ]);
  });

  it('takes the original groups from the tag after a crash left an interface in allow-all', async () => {
    // Arrange
    const world = ec2With({
      instanceState: 'running',
      enis: [
        eni(ENI_A, ['sg-0000000000000a11a'], {
          tags: { [ORIGINAL_GROUPS_TAG]: 'sg-0000000000000web1,sg-0000000000000mgmt' },
        }),
      ],
      groups: cordonGroups(),
    });
    // Act
    const result = await isolateNetwork(input(), deps());
    // Assert
    expect(result.outcome).toBe('CONTAINED');
    expect(ec2Mock).not.toHaveReceivedCommand(CreateTagsCommand);
    expect(groupMoves()).toEqual([{ NetworkInterfaceId: ENI_A, Groups: ['sg-00000000000000000'] }]);
    expect(world.enis[0]?.tags[ORIGINAL_GROUPS_TAG]).toBe(
      'sg-0000000000000web1,sg-0000000000000mgmt',
    );
    expect(fake.entries().map((e) => e.outcome)).toEqual([INTENT, 'CONTAINED']);
    const [intent, entry] = fake.entries();
    expect(entry?.before).toMatchObject({
      interfaces: [
        {
          groups: ['sg-0000000000000a11a'],
          originalGroups: ['sg-0000000000000web1', 'sg-0000000000000mgmt'],
          originalGroupsTagged: true,
        },
      ],
    });
    expect(intent?.before).toEqual(entry?.before);
  });

  it('replaces a tag left by an earlier, rolled-back isolation with the current groups', async () => {
    // Arrange
    const world = ec2With({
      instanceState: 'running',
      enis: [
        eni(ENI_A, ['sg-0000000000000new1'], {
          tags: { [ORIGINAL_GROUPS_TAG]: 'sg-0000000000000old1' },
        }),
      ],
      groups: cordonGroups(),
    });
    // Act
    await isolateNetwork(input(), deps());
    // Assert
    expect(world.enis[0]?.tags[ORIGINAL_GROUPS_TAG]).toBe('sg-0000000000000new1');
    expect(fake.entries().map((e) => e.outcome)).toEqual([INTENT, 'CONTAINED']);
    const [intent, entry] = fake.entries();
    expect(entry?.before).toMatchObject({
      interfaces: [{ originalGroups: ['sg-0000000000000new1'] }],
    });
    expect(intent?.before).toEqual(entry?.before);
  });

  it('returns TARGET_NOT_FOUND when the instance is terminated mid-run', async () => {
    // Arrange
    const world = ec2With({
      instanceState: 'running',
      enis: [eni(ENI_A, ['sg-0000000000000web1']), eni(ENI_B, ['sg-0000000000000db01'])],
      groups: cordonGroups(),
    });
    ec2Mock.on(ModifyNetworkInterfaceAttributeCommand).callsFake(() => {
      world.instanceState = 'terminated';
      throw awsError('InvalidNetworkInterfaceID.NotFound');
    });
    // Act
    const result = await isolateNetwork(input(), deps());
    // Assert
    expect(result.outcome).toBe('TARGET_NOT_FOUND');
    expect(fake.entries().map((e) => e.outcome)).toEqual([INTENT, 'TARGET_NOT_FOUND']);
    const [intent, notFound] = fake.entries();
    expect(notFound?.before).toMatchObject({
      interfaces: [
        { networkInterfaceId: ENI_A, originalGroups: ['sg-0000000000000web1'] },
        { networkInterfaceId: ENI_B, originalGroups: ['sg-0000000000000db01'] },
      ],
    });
    expect(intent?.before).toEqual(notFound?.before);
  });

  it('records DRY_RUN and makes no mutating call in dry-run mode', async () => {
    // Arrange
    ec2With({
      instanceState: 'running',
      enis: [eni(ENI_A, ['sg-0000000000000web1'])],
      groups: [],
    });
    // Act
    const result = await isolateNetwork(input('dry-run'), deps());
    // Assert
    expect(result.outcome).toBe('DRY_RUN');
    expect(result.summary).toMatch(/^would isolate 1 network interface of instance/);
    expect(mutatingCalls()).toEqual([]);
    expect(fake.entries().map((e) => e.outcome)).toEqual(['DRY_RUN']);
  });

  it('fails with Cordon.ApprovalMissing and makes no AWS call in approve mode without an approval', async () => {
    // Arrange
    ec2With({ instanceState: 'running', enis: [eni(ENI_A, ['sg-0000000000000web1'])], groups: [] });
    // Act
    const attempt = isolateNetwork(input('approve'), deps());
    // Assert
    await expect(attempt).rejects.toMatchObject({ name: 'Cordon.ApprovalMissing' });
    expect(ec2Mock).not.toHaveReceivedAnyCommand();
    expect(fake.entries()).toEqual([]);
  });

  it('acts in approve mode with an approval for the isolate step and records the approver', async () => {
    // Arrange
    ec2With({ instanceState: 'running', enis: [eni(ENI_A, ['sg-0000000000000web1'])], groups: [] });
    const approvedInput = actionInput(STEP, { incident: INCIDENT, approval: approved(STEP) });
    // Act
    const result = await isolateNetwork(approvedInput, deps());
    // Assert
    expect(result).toMatchObject({ outcome: 'CONTAINED', mode: 'approve' });
    expect(fake.entries().map((e) => e.outcome)).toEqual([INTENT, 'CONTAINED']);
    for (const entry of fake.entries()) {
      expect(entry.detail).toMatchObject({ approval: { decision: 'APPROVED', step: STEP } });
    }
  });

  it('surfaces throttling as retryable Cordon.Throttled with only its intent in the ledger', async () => {
    // Arrange
    ec2With({ instanceState: 'running', enis: [eni(ENI_A, ['sg-0000000000000web1'])], groups: [] });
    ec2Mock.on(CreateSecurityGroupCommand).rejects(awsError('RequestLimitExceeded', 503));
    // Act
    const attempt = isolateNetwork(input(), deps());
    // Assert
    await expect(attempt).rejects.toMatchObject({ name: 'Cordon.Throttled', retryable: true });
    expect(fake.entries().map((e) => e.outcome)).toEqual([INTENT]);
  });

  it('records UnauthorizedOperation as a FAILED ledger entry and throws Cordon.AccessDenied', async () => {
    // Arrange
    ec2With({
      instanceState: 'running',
      enis: [eni(ENI_A, ['sg-0000000000000web1'])],
      groups: cordonGroups(),
    });
    ec2Mock
      .on(ModifyNetworkInterfaceAttributeCommand)
      .rejects(awsError('UnauthorizedOperation', 403));
    // Act
    const attempt = isolateNetwork(input(), deps());
    // Assert
    await expect(attempt).rejects.toMatchObject({ name: 'Cordon.AccessDenied', retryable: false });
    expect(fake.entries()).toEqual([
      expect.objectContaining({
        outcome: INTENT,
        targetArn: INSTANCE_ARN,
        before: expect.objectContaining({ instanceId: INSTANCE_ID }),
      }),
      expect.objectContaining({
        outcome: 'FAILED',
        targetArn: INSTANCE_ARN,
        before: expect.objectContaining({ instanceId: INSTANCE_ID }),
      }),
    ]);
    const [intent, failed] = fake.entries();
    expect(intent?.before).toEqual(failed?.before);
  });
});

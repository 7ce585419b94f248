import 'aws-sdk-client-mock-vitest/extend';
import {
  DescribeInstancesCommand,
  DescribeNetworkInterfacesCommand,
  DescribeSecurityGroupsCommand,
  EC2Client,
  ModifyNetworkInterfaceAttributeCommand,
} from '@aws-sdk/client-ec2';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { rollbackNetworkIsolation } from '../../../../functions/actions/isolate-network/rollback.js';
import {
  APPROVALS,
  fakeLedger,
  INSTANCE_ARN,
  INSTANCE_ID,
  VPC_ID,
} from '../../shared/containment-fixtures.js';
import { containedThenApproved, ROLLBACK_ACTOR } from '../../shared/rollback-fixtures.js';

const ec2Mock = mockClient(EC2Client);
const ec2 = new EC2Client({ region: 'us-east-1' });
const ENI_A = 'eni-0aaaaaaaaaaaaaaa1';
const ENI_B = 'eni-0bbbbbbbbbbbbbbb2';
const NO_TRAFFIC = 'sg-0000000000000000f';

const iface = (id: string, groups: string[], originalGroups: string[] | null) => ({
  networkInterfaceId: id,
  vpcId: VPC_ID,
  groups,
  originalGroups,
  originalGroupsTagged: true,
  hasIpv6: false,
});

const ISOLATED = {
  step: 'isolate',
  action: 'isolate-network',
  targetArn: INSTANCE_ARN,
  before: {
    instanceId: INSTANCE_ID,
    interfaces: [
      iface(ENI_A, ['sg-0a1', 'sg-0a2'], ['sg-0a1', 'sg-0a2']),
      iface(ENI_B, ['sg-0b1'], ['sg-0b1']),
    ],
    isolationGroups: [],
  },
  after: {
    instanceId: INSTANCE_ID,
    interfaces: [
      iface(ENI_A, [NO_TRAFFIC], ['sg-0a1', 'sg-0a2']),
      iface(ENI_B, [NO_TRAFFIC], ['sg-0b1']),
    ],
    isolationGroups: [
      { vpcId: VPC_ID, kind: 'no-traffic', groupId: NO_TRAFFIC, ingress: [], egress: [] },
    ],
  },
};

function interfacesIn(groups: Record<string, string[]>) {
  ec2Mock.on(DescribeInstancesCommand).resolves({
    Reservations: [{ Instances: [{ InstanceId: INSTANCE_ID, State: { Name: 'running' } }] }],
  });
  ec2Mock.on(DescribeSecurityGroupsCommand).resolves({ SecurityGroups: [] });
  ec2Mock.on(DescribeNetworkInterfacesCommand).resolves({
    NetworkInterfaces: Object.entries(groups).map(([id, ids]) => ({
      NetworkInterfaceId: id,
      VpcId: VPC_ID,
      Groups: ids.map((GroupId) => ({ GroupId })),
    })),
  });
  ec2Mock.on(ModifyNetworkInterfaceAttributeCommand).resolves({});
}

describe('rollback-isolate-network', () => {
  let fake: ReturnType<typeof fakeLedger>;
  beforeEach(() => {
    ec2Mock.reset();
    fake = fakeLedger();
  });
  const deps = () => ({ ec2, ledger: fake.ledger, actor: ROLLBACK_ACTOR, approvals: APPROVALS });

  it('puts every interface back in exactly its recorded original groups', async () => {
    interfacesIn({ [ENI_A]: [NO_TRAFFIC], [ENI_B]: [NO_TRAFFIC] });
    const input = await containedThenApproved(fake, 'rollback-isolate-network', ISOLATED);

    const result = await rollbackNetworkIsolation(input, deps());

    expect(result.outcome).toBe('ROLLED_BACK');
    expect(
      ec2Mock.commandCalls(ModifyNetworkInterfaceAttributeCommand).map((c) => c.args[0].input),
    ).toEqual([
      { NetworkInterfaceId: ENI_A, Groups: ['sg-0a1', 'sg-0a2'] },
      { NetworkInterfaceId: ENI_B, Groups: ['sg-0b1'] },
    ]);
  });

  it('refuses when an interface was put in another group since, naming it, and changes nothing', async () => {
    interfacesIn({ [ENI_A]: ['sg-0debug'], [ENI_B]: [NO_TRAFFIC] });
    const input = await containedThenApproved(fake, 'rollback-isolate-network', ISOLATED);

    const result = await rollbackNetworkIsolation(input, deps());

    expect(result.outcome).toBe('ROLLBACK_REFUSED');
    expect(result.summary).toContain(
      `interface ${ENI_A} is in sg-0debug now, Cordon left ${NO_TRAFFIC}`,
    );
    expect(ec2Mock).not.toHaveReceivedCommand(ModifyNetworkInterfaceAttributeCommand);
  });

  it('is already rolled back when every interface is in its original groups (any order)', async () => {
    interfacesIn({ [ENI_A]: ['sg-0a2', 'sg-0a1'], [ENI_B]: ['sg-0b1'] });
    const input = await containedThenApproved(fake, 'rollback-isolate-network', ISOLATED);

    expect((await rollbackNetworkIsolation(input, deps())).outcome).toBe('ALREADY_ROLLED_BACK');
    expect(ec2Mock).not.toHaveReceivedCommand(ModifyNetworkInterfaceAttributeCommand);
  });

  it('fails without changing anything when an interface has no recorded original groups', async () => {
    interfacesIn({ [ENI_A]: [NO_TRAFFIC], [ENI_B]: [NO_TRAFFIC] });
    const input = await containedThenApproved(fake, 'rollback-isolate-network', {
      ...ISOLATED,
      before: { ...ISOLATED.before, interfaces: [iface(ENI_A, [NO_TRAFFIC], null)] },
      after: { ...ISOLATED.after, interfaces: [iface(ENI_A, [NO_TRAFFIC], null)] },
    });
    interfacesIn({ [ENI_A]: [NO_TRAFFIC] });

    await expect(rollbackNetworkIsolation(input, deps())).rejects.toMatchObject({
      name: 'Cordon.NotRestorable',
    });
    expect(ec2Mock).not.toHaveReceivedCommand(ModifyNetworkInterfaceAttributeCommand);
    expect(fake.entries().at(-1)?.outcome).toBe('FAILED');
  });
});

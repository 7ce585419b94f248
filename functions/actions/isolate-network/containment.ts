import {
  AuthorizeSecurityGroupEgressCommand,
  AuthorizeSecurityGroupIngressCommand,
  CreateSecurityGroupCommand,
  CreateTagsCommand,
  EC2Client,
  type IpPermission,
  ModifyNetworkInterfaceAttributeCommand,
  RevokeSecurityGroupEgressCommand,
  RevokeSecurityGroupIngressCommand,
} from '@aws-sdk/client-ec2';
import { clientOptions } from '../../shared/aws.js';
import { ISOLATION_TAG, type IsolationKind, ORIGINAL_GROUPS_TAG } from '../../shared/ec2-tags.js';
import type { Environment } from '../../shared/env.js';
import { UnexpectedAwsError } from '../../shared/errors.js';
import {
  type ActionInput,
  type ActionResult,
  type Instance,
  requireInstance,
} from '../../shared/incident.js';
import { incidentTagRefusal } from '../../shared/incident-tag.js';
import { type Clients, type PlaceConfig, placedClients } from '../../shared/spoke.js';
import { type Containment, type ContainmentDeps, runContainment } from '../containment.js';
import { containmentHandler } from '../handlers.js';
import { action } from './action.js';
import {
  describeIsolationGroups,
  groupOf,
  type IsolationGroup,
  type IsolationState,
  isClean,
  isIsolated,
  isolationGroupName,
  readIsolation,
  sameGroups,
} from './state.js';

export interface IsolateNetworkDeps extends ContainmentDeps {
  readonly ec2: EC2Client;
}

const ANY_IPV4 = '0.0.0.0/0';
const ANY_IPV6 = '::/0';

const DESCRIPTIONS: Record<IsolationKind, string> = {
  'allow-all':
    'Cordon isolation, step 1: allows all traffic so tracked connections become untracked',
  'no-traffic': 'Cordon isolation, step 2: no rules, no traffic in or out',
};

const allowsAll = (rules: readonly IpPermission[], cidr: 'v4' | 'v6') =>
  rules.some(
    (r) =>
      r.IpProtocol === '-1' &&
      (cidr === 'v4'
        ? (r.IpRanges ?? []).some((x) => x.CidrIp === ANY_IPV4)
        : (r.Ipv6Ranges ?? []).some((x) => x.CidrIpv6 === ANY_IPV6)),
  );

/** The all-traffic rules (IPv4 and IPv6) that `rules` lacks, as one permission, or none. */
function missingAllowAll(rules: readonly IpPermission[]): IpPermission[] {
  const v4 = !allowsAll(rules, 'v4');
  const v6 = !allowsAll(rules, 'v6');
  if (!v4 && !v6) return [];
  return [
    {
      IpProtocol: '-1',
      ...(v4 ? { IpRanges: [{ CidrIp: ANY_IPV4, Description: 'Cordon isolation step 1' }] } : {}),
      ...(v6
        ? { Ipv6Ranges: [{ CidrIpv6: ANY_IPV6, Description: 'Cordon isolation step 1' }] }
        : {}),
    },
  ];
}

const errorName = (error: unknown) => (error instanceof Error ? error.name : '');

/**
 * Isolates every network interface of the instance (not only the primary one)
 * in two steps, which is what makes isolation effective on live connections.
 *
 * Security groups are stateful: a connection that a rule allowed is tracked,
 * and a tracked connection keeps flowing after the rule that allowed it is
 * removed or the interface changes groups. Moving straight to a group with no
 * rules would leave an attacker's open session alive. A connection is not
 * tracked when all traffic is allowed both in and out (0.0.0.0/0 and ::/0),
 * so step 1 puts every interface in an allow-all group: its tracked flows
 * become untracked. Step 2 then puts every interface in a group with no rules,
 * and untracked flows stop at once. Every interface goes through step 1 before
 * any goes to step 2. Both groups carry IPv4 and IPv6 rules (or none of
 * either), so IPv6 traffic is isolated the same way. Connections AWS always
 * tracks (through some load balancers, NAT and Transit Gateways) are outside
 * what security groups can cut.
 *
 * Before touching an interface, its original groups are written to the
 * interface's `cordon:original-groups` tag, so a re-run after a crash reads
 * them from there rather than recording the allow-all group as "original".
 */
export function isolationContainment(ec2: EC2Client): Containment<Instance, IsolationState> {
  /** Cordon's group of `kind` in the VPC: the existing one, or a new one tagged at creation. */
  async function ensureGroup(
    vpcId: string,
    kind: IsolationKind,
    existing: IsolationGroup | undefined,
  ): Promise<IsolationGroup> {
    if (existing) return existing;
    const groupName = isolationGroupName(kind);
    try {
      const created = await ec2.send(
        new CreateSecurityGroupCommand({
          GroupName: groupName,
          Description: DESCRIPTIONS[kind],
          VpcId: vpcId,
          TagSpecifications: [
            {
              ResourceType: 'security-group',
              Tags: [
                { Key: ISOLATION_TAG, Value: kind },
                { Key: 'Name', Value: groupName },
              ],
            },
          ],
        }),
      );
      if (!created.GroupId) throw new UnexpectedAwsError(`CreateSecurityGroup returned no id`);
      // A new VPC security group allows all IPv4 egress and nothing else.
      return {
        vpcId,
        kind,
        groupId: created.GroupId,
        ingress: [],
        egress: [{ IpProtocol: '-1', IpRanges: [{ CidrIp: ANY_IPV4 }] }],
      };
    } catch (error) {
      if (errorName(error) !== 'InvalidGroup.Duplicate') throw error;
      // Another run created it first: use that one, if it is Cordon's.
      const raced = groupOf(await describeIsolationGroups(ec2, [vpcId]), vpcId, kind);
      if (raced) return raced;
      throw new UnexpectedAwsError(
        `a security group named ${groupName} exists in ${vpcId} without the tag ${ISOLATION_TAG}=${kind}: delete it or tag it, then retry`,
        { cause: error },
      );
    }
  }

  /** Sends a rule change; `tolerated` is the error a concurrent run's same change causes. */
  async function changeRules(send: () => Promise<unknown>, tolerated: string): Promise<void> {
    try {
      await send();
    } catch (error) {
      if (errorName(error) !== tolerated) throw error;
    }
  }

  /** The allow-all group with all traffic allowed in and out, IPv4 and IPv6. */
  async function ensureAllowAll(group: IsolationGroup): Promise<IsolationGroup> {
    const { groupId } = group;
    const ingress = missingAllowAll(group.ingress);
    const egress = missingAllowAll(group.egress);
    if (ingress.length > 0) {
      await changeRules(
        () =>
          ec2.send(
            new AuthorizeSecurityGroupIngressCommand({ GroupId: groupId, IpPermissions: ingress }),
          ),
        'InvalidPermission.Duplicate',
      );
    }
    if (egress.length > 0) {
      await changeRules(
        () =>
          ec2.send(
            new AuthorizeSecurityGroupEgressCommand({ GroupId: groupId, IpPermissions: egress }),
          ),
        'InvalidPermission.Duplicate',
      );
    }
    return {
      ...group,
      ingress: [...group.ingress, ...ingress],
      egress: [...group.egress, ...egress],
    };
  }

  /** The no-traffic group with no rules at all (the default IPv4 egress rule revoked). */
  async function ensureNoTraffic(group: IsolationGroup): Promise<IsolationGroup> {
    const { groupId, ingress, egress } = group;
    if (ingress.length > 0) {
      await changeRules(
        () =>
          ec2.send(
            new RevokeSecurityGroupIngressCommand({
              GroupId: groupId,
              IpPermissions: [...ingress],
            }),
          ),
        'InvalidPermission.NotFound',
      );
    }
    if (egress.length > 0) {
      await changeRules(
        () =>
          ec2.send(
            new RevokeSecurityGroupEgressCommand({ GroupId: groupId, IpPermissions: [...egress] }),
          ),
        'InvalidPermission.NotFound',
      );
    }
    return { ...group, ingress: [], egress: [] };
  }

  const setGroups = (networkInterfaceId: string, groupId: string) =>
    ec2.send(
      new ModifyNetworkInterfaceAttributeCommand({
        NetworkInterfaceId: networkInterfaceId,
        Groups: [groupId],
      }),
    );

  return {
    action: action.name,
    target: (incident) => requireInstance(incident, action.name),
    targetArn: (target) => target.arn,
    read: ({ instanceId }) => readIsolation(ec2, instanceId),
    isContained: isIsolated,
    // Its role may tag and move only incident-tagged interfaces and instances.
    refusal: (target) => incidentTagRefusal(ec2, action.name, target.instanceId),
    describe(target, state) {
      const n = state.interfaces.length;
      return `isolate ${n} network interface${n === 1 ? '' : 's'} of instance ${target.instanceId}: the allow-all group first (tracked connections become untracked), then the no-traffic group (IPv4 and IPv6)`;
    },
    async apply(_target, state) {
      // (a) The two groups of every VPC the instance has an interface in.
      const groups: IsolationGroup[] = [];
      for (const vpcId of [...new Set(state.interfaces.map((i) => i.vpcId))]) {
        const allowAll = await ensureGroup(
          vpcId,
          'allow-all',
          groupOf(state.isolationGroups, vpcId, 'allow-all'),
        );
        groups.push(await ensureAllowAll(allowAll));
        const noTraffic = await ensureGroup(
          vpcId,
          'no-traffic',
          groupOf(state.isolationGroups, vpcId, 'no-traffic'),
        );
        groups.push(isClean(noTraffic) ? noTraffic : await ensureNoTraffic(noTraffic));
      }
      const groupIdOf = (vpcId: string, kind: IsolationKind): string => {
        const group = groupOf(groups, vpcId, kind);
        if (!group) throw new UnexpectedAwsError(`no ${kind} isolation group for ${vpcId}`);
        return group.groupId;
      };
      const pending = state.interfaces.filter(
        (i) => !sameGroups(i.groups, [groupIdOf(i.vpcId, 'no-traffic')]),
      );
      // (b) Record each interface's original groups before changing them.
      for (const i of pending) {
        if (i.originalGroupsTagged || i.originalGroups === null) continue;
        await ec2.send(
          new CreateTagsCommand({
            Resources: [i.networkInterfaceId],
            Tags: [{ Key: ORIGINAL_GROUPS_TAG, Value: i.originalGroups.join(',') }],
          }),
        );
      }
      // (c) Step 1 on every interface: allow-all, so tracked flows become untracked.
      for (const i of pending) {
        const allowAll = groupIdOf(i.vpcId, 'allow-all');
        if (!sameGroups(i.groups, [allowAll])) await setGroups(i.networkInterfaceId, allowAll);
      }
      // (d) Step 2 on every interface: no-traffic.
      for (const i of pending) {
        await setGroups(i.networkInterfaceId, groupIdOf(i.vpcId, 'no-traffic'));
      }
      return {
        ...state,
        isolationGroups: groups,
        interfaces: state.interfaces.map((i) => ({
          ...i,
          groups: [groupIdOf(i.vpcId, 'no-traffic')],
          originalGroupsTagged: i.originalGroups !== null,
        })),
      };
    },
  };
}

export function isolateNetwork(
  input: ActionInput,
  deps: IsolateNetworkDeps,
): Promise<ActionResult> {
  return runContainment(input, isolationContainment(deps.ec2), deps);
}

/** The function's AWS clients where the incident's calls are made. */
const placed = (config: PlaceConfig) => ({ ec2: new EC2Client({ ...clientOptions, ...config }) });

export function makeHandler(
  env: Environment,
  clients: Clients<ReturnType<typeof placed>> = placedClients(env, action.name, placed),
) {
  return containmentHandler(env, action.name, clients, isolateNetwork);
}

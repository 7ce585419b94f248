import {
  DescribeNetworkInterfacesCommand,
  type DescribeNetworkInterfacesCommandOutput,
  DescribeSecurityGroupsCommand,
  type DescribeSecurityGroupsCommandOutput,
  type EC2Client,
  type IpPermission,
} from '@aws-sdk/client-ec2';
import { instanceExists } from '../../shared/ec2.js';
import {
  ISOLATION_KINDS,
  ISOLATION_TAG,
  type IsolationKind,
  ORIGINAL_GROUPS_TAG,
  tagValue,
} from '../../shared/ec2-tags.js';
import { z } from '../../shared/z.js';

/**
 * What isolate-network reads and records, apart from what it changes, so its
 * rollback reads the same state without holding the calls that isolate.
 */

/** One network interface of the instance. */
export interface InterfaceState {
  readonly networkInterfaceId: string;
  readonly vpcId: string;
  /** Its security groups now. */
  readonly groups: readonly string[];
  /**
   * Its groups before Cordon isolated it: from the `cordon:original-groups` tag
   * while it sits in an isolation group, else its current groups. Null when it
   * sits in an isolation group without the tag (not Cordon's doing, or unknown).
   */
  readonly originalGroups: readonly string[] | null;
  /** The tag holds `originalGroups`, so a re-run after a crash keeps them. */
  readonly originalGroupsTagged: boolean;
  readonly hasIpv6: boolean;
}

/** One of Cordon's isolation groups in a VPC, with its rules. */
export interface IsolationGroup {
  readonly vpcId: string;
  readonly kind: IsolationKind;
  readonly groupId: string;
  readonly ingress: readonly IpPermission[];
  readonly egress: readonly IpPermission[];
}

/**
 * What the ledger records. Before: each interface's original groups (what a
 * rollback restores with ModifyNetworkInterfaceAttribute). After: each
 * interface in its VPC's no-traffic group.
 */
export interface IsolationState {
  readonly instanceId: string;
  readonly interfaces: readonly InterfaceState[];
  readonly isolationGroups: readonly IsolationGroup[];
}

/** Each interface's groups, and the groups it had before Cordon isolated it. */
export interface NetworkState {
  readonly instanceId: string;
  readonly interfaces: readonly {
    readonly networkInterfaceId: string;
    readonly groups: readonly string[];
    readonly originalGroups: readonly string[] | null;
  }[];
}

/** The part of a recorded IsolationState a rollback acts on. */
export const NetworkStateSchema = z.object({
  instanceId: z.string().regex(/^i-[0-9a-f]{8,17}$/),
  interfaces: z.array(
    z.object({
      networkInterfaceId: z.string().regex(/^eni-[0-9a-f]+$/),
      groups: z.array(z.string().regex(/^sg-[0-9a-f]+$/)),
      originalGroups: z.array(z.string().regex(/^sg-[0-9a-f]+$/)).nullable(),
    }),
  ),
});

export const isolationGroupName = (kind: IsolationKind) => `cordon-isolation-${kind}`;

const isKind = (value: string | undefined): value is IsolationKind =>
  ISOLATION_KINDS.some((k) => k === value);

export const groupOf = (groups: readonly IsolationGroup[], vpcId: string, kind: IsolationKind) =>
  groups.find((g) => g.vpcId === vpcId && g.kind === kind);

export const sameGroups = (groups: readonly string[], expected: readonly string[]) =>
  groups.length === expected.length && groups.every((g, i) => g === expected[i]);

/** The group exists and has no rules at all. */
export const isClean = (group: IsolationGroup | undefined) =>
  group !== undefined && group.ingress.length === 0 && group.egress.length === 0;

/** Every interface sits in its VPC's no-traffic group alone, and that group has no rules. */
export const isIsolated = (state: IsolationState) =>
  state.interfaces.every((i) => {
    const noTraffic = groupOf(state.isolationGroups, i.vpcId, 'no-traffic');
    return (
      noTraffic !== undefined && isClean(noTraffic) && sameGroups(i.groups, [noTraffic.groupId])
    );
  });

/**
 * Cordon's isolation groups in these VPCs, found by tag. Should there be more
 * than one of a kind, the one with Cordon's name wins, then the lowest id, so
 * every run picks the same group.
 */
export async function describeIsolationGroups(
  ec2: EC2Client,
  vpcIds: readonly string[],
): Promise<IsolationGroup[]> {
  if (vpcIds.length === 0) return [];
  const candidates: (IsolationGroup & { named: boolean })[] = [];
  let token: string | undefined;
  do {
    const page: DescribeSecurityGroupsCommandOutput = await ec2.send(
      new DescribeSecurityGroupsCommand({
        Filters: [
          { Name: 'vpc-id', Values: [...vpcIds] },
          { Name: 'tag-key', Values: [ISOLATION_TAG] },
        ],
        NextToken: token,
      }),
    );
    for (const g of page.SecurityGroups ?? []) {
      const kind = tagValue(g.Tags, ISOLATION_TAG);
      if (!isKind(kind) || !g.GroupId || !g.VpcId) continue;
      candidates.push({
        vpcId: g.VpcId,
        kind,
        groupId: g.GroupId,
        ingress: g.IpPermissions ?? [],
        egress: g.IpPermissionsEgress ?? [],
        named: g.GroupName === isolationGroupName(kind),
      });
    }
    token = page.NextToken;
  } while (token);
  candidates.sort(
    (a, b) => Number(b.named) - Number(a.named) || a.groupId.localeCompare(b.groupId),
  );
  const chosen = new Map<string, IsolationGroup>();
  for (const { named: _, ...group } of candidates) {
    const key = `${group.vpcId}/${group.kind}`;
    if (!chosen.has(key)) chosen.set(key, group);
  }
  return [...chosen.values()];
}

/**
 * Every network interface of the instance with its groups and its original
 * groups, and Cordon's isolation groups in their VPCs; undefined when the
 * instance is gone.
 */
export async function readIsolation(
  ec2: EC2Client,
  instanceId: string,
): Promise<IsolationState | undefined> {
  if (!(await instanceExists(ec2, instanceId))) return undefined;
  const raw: NonNullable<DescribeNetworkInterfacesCommandOutput['NetworkInterfaces']> = [];
  let token: string | undefined;
  do {
    const page: DescribeNetworkInterfacesCommandOutput = await ec2.send(
      new DescribeNetworkInterfacesCommand({
        Filters: [{ Name: 'attachment.instance-id', Values: [instanceId] }],
        NextToken: token,
      }),
    );
    raw.push(...(page.NetworkInterfaces ?? []));
    token = page.NextToken;
  } while (token);
  const vpcIds = [...new Set(raw.flatMap((n) => (n.VpcId ? [n.VpcId] : [])))].sort();
  const isolationGroups = await describeIsolationGroups(ec2, vpcIds);
  const interfaces: InterfaceState[] = [];
  for (const n of raw) {
    if (!n.NetworkInterfaceId || !n.VpcId) continue;
    const vpcId = n.VpcId;
    const groups = (n.Groups ?? []).flatMap((g) => (g.GroupId ? [g.GroupId] : []));
    const tag = tagValue(n.TagSet, ORIGINAL_GROUPS_TAG);
    const isolationIds = isolationGroups.filter((g) => g.vpcId === vpcId).map((g) => g.groupId);
    const inIsolation = groups.length > 0 && groups.every((g) => isolationIds.includes(g));
    // Mid-isolation (a crash, a retry) the tag is the only record of the
    // originals; otherwise the current groups are, and a tag left from an
    // earlier, rolled-back isolation is stale.
    const fromTag = tag === undefined ? null : tag.split(',').filter((g) => g !== '');
    const originalGroups = inIsolation ? fromTag : groups;
    interfaces.push({
      networkInterfaceId: n.NetworkInterfaceId,
      vpcId,
      groups,
      originalGroups,
      originalGroupsTagged:
        originalGroups !== null && tag !== undefined && tag === originalGroups.join(','),
      hasIpv6: (n.Ipv6Addresses?.length ?? 0) > 0 || (n.Ipv6Prefixes?.length ?? 0) > 0,
    });
  }
  interfaces.sort((a, b) => a.networkInterfaceId.localeCompare(b.networkInterfaceId));
  return { instanceId, interfaces, isolationGroups };
}

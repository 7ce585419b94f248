import {
  type AutoScalingClient,
  DescribeAutoScalingGroupsCommand,
} from '@aws-sdk/client-auto-scaling';
import type { EC2Client } from '@aws-sdk/client-ec2';
import { readMembership } from '../../shared/auto-scaling.js';
import { instanceExists } from '../../shared/ec2.js';
import { z } from '../../shared/z.js';

/**
 * What detach-from-asg reads and records, apart from what it changes, so its
 * rollback reads the same state without the detach call.
 */

/**
 * What the ledger records: the group the instance belonged to, its scale-in
 * protection and the group's capacities then, enough to attach it back
 * (AttachInstances) and set its protection as it was. `group: null` when the
 * instance is in no group. Whether the detach decremented the desired
 * capacity follows from the capacities recorded before it (`decrements`).
 */
export type AsgState =
  | { readonly instanceId: string; readonly group: null }
  | {
      readonly instanceId: string;
      readonly group: string;
      readonly lifecycleState: string;
      /** Absent in entries recorded before Cordon read it. */
      readonly protectedFromScaleIn?: boolean;
      readonly desiredCapacity: number;
      readonly minSize: number;
      readonly maxSize: number;
    };

export type InGroup = Extract<AsgState, { group: string }>;

const INSTANCE_ID = z.string().regex(/^i-[0-9a-f]{8,17}$/);

/** A recorded state a rollback can act on: an instance, in no group or in one with its capacities. */
export const AsgStateSchema = z.union([
  z.object({ instanceId: INSTANCE_ID, group: z.null() }),
  z.object({
    instanceId: INSTANCE_ID,
    group: z.string().min(1).max(255),
    lifecycleState: z.string(),
    protectedFromScaleIn: z.boolean().optional(),
    desiredCapacity: z.number().int(),
    minSize: z.number().int(),
    maxSize: z.number().int(),
  }),
]);

/** The instance is in no Auto Scaling group. */
export const inNoGroup = (state: AsgState) => state.group === null;

/**
 * Whether the detach lowers the group's desired capacity. It does unless
 * that would put the group below its minimum size, which Auto Scaling
 * refuses: then the instance leaves anyway, the desired capacity stays, and
 * the group launches a replacement. Isolation never waits on the group.
 */
export const decrements = (state: InGroup) => state.desiredCapacity - 1 >= state.minSize;

/** The instance's group, protection and the group's capacities; undefined when the instance is gone. */
export async function readAsg(
  ec2: EC2Client,
  autoScaling: AutoScalingClient,
  instanceId: string,
): Promise<AsgState | undefined> {
  if (!(await instanceExists(ec2, instanceId))) return undefined;
  const member = await readMembership(autoScaling, instanceId);
  if (member === null) return { instanceId, group: null };
  const { group } = member;
  const groups = await autoScaling.send(
    new DescribeAutoScalingGroupsCommand({ AutoScalingGroupNames: [group] }),
  );
  const found = groups.AutoScalingGroups?.find((g) => g.AutoScalingGroupName === group);
  return {
    instanceId,
    group,
    lifecycleState: member.lifecycleState,
    protectedFromScaleIn: member.protectedFromScaleIn,
    desiredCapacity: found?.DesiredCapacity ?? 0,
    minSize: found?.MinSize ?? 0,
    maxSize: found?.MaxSize ?? 0,
  };
}

import {
  type AutoScalingClient,
  DescribeAutoScalingGroupsCommand,
  DescribeAutoScalingInstancesCommand,
} from '@aws-sdk/client-auto-scaling';
import type { EC2Client } from '@aws-sdk/client-ec2';
import { z } from 'zod';
import { instanceExists } from '../../shared/ec2.js';

/**
 * What detach-from-asg reads and records, apart from what it changes, so its
 * rollback reads the same state without the detach call.
 */

/**
 * What the ledger records: the group the instance belonged to and the group's
 * capacities then, enough to attach it back (AttachInstances) and restore the
 * desired capacity. `group: null` when the instance is in no group.
 */
export type AsgState =
  | { readonly instanceId: string; readonly group: null }
  | {
      readonly instanceId: string;
      readonly group: string;
      readonly lifecycleState: string;
      readonly desiredCapacity: number;
      readonly minSize: number;
      readonly maxSize: number;
    };

const INSTANCE_ID = z.string().regex(/^i-[0-9a-f]{8,17}$/);

/** A recorded state a rollback can act on: an instance, in no group or in one with its capacities. */
export const AsgStateSchema = z.union([
  z.object({ instanceId: INSTANCE_ID, group: z.null() }),
  z.object({
    instanceId: INSTANCE_ID,
    group: z.string().min(1).max(255),
    lifecycleState: z.string(),
    desiredCapacity: z.number().int(),
    minSize: z.number().int(),
    maxSize: z.number().int(),
  }),
]);

/** The instance is in no Auto Scaling group. */
export const inNoGroup = (state: AsgState) => state.group === null;

/** The instance's group and the group's capacities; undefined when the instance is gone. */
export async function readAsg(
  ec2: EC2Client,
  autoScaling: AutoScalingClient,
  instanceId: string,
): Promise<AsgState | undefined> {
  if (!(await instanceExists(ec2, instanceId))) return undefined;
  const membership = await autoScaling.send(
    new DescribeAutoScalingInstancesCommand({ InstanceIds: [instanceId] }),
  );
  const member = membership.AutoScalingInstances?.find((i) => i.InstanceId === instanceId);
  const group = member?.AutoScalingGroupName;
  if (group === undefined) return { instanceId, group: null };
  const groups = await autoScaling.send(
    new DescribeAutoScalingGroupsCommand({ AutoScalingGroupNames: [group] }),
  );
  const found = groups.AutoScalingGroups?.find((g) => g.AutoScalingGroupName === group);
  return {
    instanceId,
    group,
    lifecycleState: member?.LifecycleState ?? 'Unknown',
    desiredCapacity: found?.DesiredCapacity ?? 0,
    minSize: found?.MinSize ?? 0,
    maxSize: found?.MaxSize ?? 0,
  };
}

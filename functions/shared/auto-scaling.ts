import {
  type AutoScalingClient,
  DescribeAutoScalingInstancesCommand,
} from '@aws-sdk/client-auto-scaling';
import { z } from './z.js';

/** An instance's place in its Auto Scaling group, as Auto Scaling reports it. */
export interface Membership {
  readonly group: string;
  /** `InService`, `Standby`, `Warmed:Running`, ... */
  readonly lifecycleState: string;
  readonly protectedFromScaleIn: boolean;
}

/** A recorded membership, as the ledger holds it. */
export const MembershipSchema = z.object({
  group: z.string().min(1).max(255),
  lifecycleState: z.string(),
  protectedFromScaleIn: z.boolean(),
});

/**
 * SetInstanceProtection cannot be called on an instance in a warm pool
 * (AWS's API reference says so), and a warm-pool instance serves nothing a
 * scale-in could end: its lifecycle states all start with `Warmed:`.
 */
export const inWarmPool = (membership: Membership) =>
  membership.lifecycleState.startsWith('Warmed:');

/** The instance's group membership; null when it belongs to no group. */
export async function readMembership(
  autoScaling: AutoScalingClient,
  instanceId: string,
): Promise<Membership | null> {
  const out = await autoScaling.send(
    new DescribeAutoScalingInstancesCommand({ InstanceIds: [instanceId] }),
  );
  const member = out.AutoScalingInstances?.find((i) => i.InstanceId === instanceId);
  if (member?.AutoScalingGroupName === undefined) return null;
  return {
    group: member.AutoScalingGroupName,
    lifecycleState: member.LifecycleState ?? 'Unknown',
    protectedFromScaleIn: member.ProtectedFromScaleIn ?? false,
  };
}

import { AttachInstancesCommand, type AutoScalingClient } from '@aws-sdk/client-auto-scaling';
import type { EC2Client } from '@aws-sdk/client-ec2';
import { z } from 'zod';
import { type AsgState, readAsg } from '../detach-from-asg/read.js';
import { InvalidTaskInputError } from '../shared/errors.js';
import {
  differs,
  NotRestorableError,
  type Rollback,
  type RollbackDeps,
  type RollbackInput,
  type RollbackResult,
  runRollback,
} from '../shared/rollback.js';

export interface RollbackAsgDetachDeps extends RollbackDeps {
  readonly ec2: EC2Client;
  readonly autoScaling: AutoScalingClient;
}

export interface InstanceTarget {
  readonly instanceId: string;
  readonly arn: string;
}

const INSTANCE_ID = z.string().regex(/^i-[0-9a-f]{8,17}$/);
const AsgStateSchema = z.union([
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

/**
 * Attaches the instance to the Auto Scaling group it was detached from.
 * AttachInstances raises the group's desired capacity by one, which undoes
 * the decrement of the detach; a group already at its maximum refuses.
 */
export function asgDetachRollback(
  ec2: EC2Client,
  autoScaling: AutoScalingClient,
): Rollback<InstanceTarget, AsgState> {
  const read = ({ instanceId }: InstanceTarget) => readAsg(ec2, autoScaling, instanceId);
  return {
    action: 'rollback-asg-detach',
    undoes: 'detach-from-asg',
    state: AsgStateSchema,
    target(entry, before) {
      if (!entry.targetArn?.endsWith(`:instance/${before.instanceId}`)) {
        throw new InvalidTaskInputError(
          `rollback-asg-detach: ${JSON.stringify(entry.targetArn ?? null)} is not instance ${before.instanceId}`,
        );
      }
      return { instanceId: before.instanceId, arn: entry.targetArn };
    },
    read,
    drift: (current, after) => differs('its Auto Scaling group', current.group, after.group),
    isRestored: (current, before) => current.group === before.group,
    describe: ({ instanceId }, before) =>
      `attach instance ${instanceId} to Auto Scaling group ${before.group ?? '(none)'} again (its desired capacity goes up by one): the group manages it, and may replace it, again`,
    async restore(target, before, current) {
      const { instanceId } = target;
      if (before.group === null) {
        throw new NotRestorableError(`the ledger records no Auto Scaling group of ${instanceId}`);
      }
      if (current.group !== null) {
        throw new NotRestorableError(
          `instance ${instanceId} is in Auto Scaling group ${current.group} now; detach it from there first`,
        );
      }
      await autoScaling.send(
        new AttachInstancesCommand({
          AutoScalingGroupName: before.group,
          InstanceIds: [instanceId],
        }),
      );
      return (await read(target)) ?? { ...before };
    },
  };
}

export function rollbackAsgDetach(
  input: RollbackInput,
  deps: RollbackAsgDetachDeps,
): Promise<RollbackResult> {
  return runRollback(input, asgDetachRollback(deps.ec2, deps.autoScaling), deps);
}

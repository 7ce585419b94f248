import { AttachInstancesCommand, AutoScalingClient } from '@aws-sdk/client-auto-scaling';
import { EC2Client } from '@aws-sdk/client-ec2';
import { clientOptions } from '../../shared/aws.js';
import { type RecordedInstance, recordedInstance } from '../../shared/ec2.js';
import type { Environment } from '../../shared/env.js';
import {
  NotRestorableError,
  type RollbackInput,
  type RollbackResult,
} from '../../shared/rollback.js';
import { rollbackNameOf } from '../definition.js';
import { rollbackHandler } from '../handlers.js';
import { differs, type Rollback, type RollbackDeps, runRollback } from '../rollback.js';
import { action } from './action.js';
import { type AsgState, AsgStateSchema, readAsg } from './state.js';

export interface RollbackAsgDetachDeps extends RollbackDeps {
  readonly ec2: EC2Client;
  readonly autoScaling: AutoScalingClient;
}

const NAME = rollbackNameOf(action.name);

/**
 * Attaches the instance to the Auto Scaling group it was detached from.
 * AttachInstances raises the group's desired capacity by one, which undoes
 * the decrement of the detach; a group already at its maximum refuses.
 */
export function asgDetachRollback(
  ec2: EC2Client,
  autoScaling: AutoScalingClient,
): Rollback<RecordedInstance, AsgState> {
  const read = ({ instanceId }: RecordedInstance) => readAsg(ec2, autoScaling, instanceId);
  return {
    action: NAME,
    undoes: action.name,
    state: AsgStateSchema,
    target: (entry, before) => recordedInstance(entry, before.instanceId, NAME),
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

export function makeRollbackHandler(
  env: Environment,
  clients = {
    ec2: new EC2Client(clientOptions),
    autoScaling: new AutoScalingClient(clientOptions),
  },
) {
  return rollbackHandler(env, NAME, (input, deps) =>
    rollbackAsgDetach(input, { ...deps, ...clients }),
  );
}

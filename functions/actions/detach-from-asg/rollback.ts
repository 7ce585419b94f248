import {
  AttachInstancesCommand,
  AutoScalingClient,
  SetInstanceProtectionCommand,
} from '@aws-sdk/client-auto-scaling';
import { EC2Client } from '@aws-sdk/client-ec2';
import { clientOptions } from '../../shared/aws.js';
import { type RecordedInstance, recordedInstance } from '../../shared/ec2.js';
import type { Environment } from '../../shared/env.js';
import {
  NotRestorableError,
  type RollbackInput,
  type RollbackResult,
} from '../../shared/rollback.js';
import { type Clients, type PlaceConfig, placedClients } from '../../shared/spoke.js';
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
 * Attaches the instance to the Auto Scaling group it was detached from, and
 * sets its scale-in protection as it was when it left (an attached instance
 * takes the group's default instead). AttachInstances raises the group's
 * desired capacity by one, which undoes the decrement of the detach; after a
 * detach without one (the group was at its minimum and launched a
 * replacement), the group keeps one instance more than before. A group
 * already at its maximum refuses.
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
    // Back in its recorded group already (an earlier attempt attached it and
    // stopped before the protection): no drift, the rest is finished.
    drift: (current, after, before) =>
      current.group !== null && current.group === before.group
        ? []
        : differs('its Auto Scaling group', current.group, after.group),
    isRestored: (current, before) =>
      current.group === before.group &&
      (protectionOf(before) === undefined || protectionOf(current) === protectionOf(before)),
    describe: ({ instanceId }, before) =>
      `attach instance ${instanceId} to Auto Scaling group ${before.group ?? '(none)'} again (its desired capacity goes up by one${protectionText(before)}): the group manages it, and may replace it, again`,
    async restore(target, before, current) {
      const { instanceId } = target;
      if (before.group === null) {
        throw new NotRestorableError(`the ledger records no Auto Scaling group of ${instanceId}`);
      }
      // Attached already (an earlier attempt stopped before the protection):
      // only the protection is left to put back.
      if (current.group !== null && current.group !== before.group) {
        throw new NotRestorableError(
          `instance ${instanceId} is in Auto Scaling group ${current.group} now; detach it from there first`,
        );
      }
      if (current.group === null) {
        await autoScaling.send(
          new AttachInstancesCommand({
            AutoScalingGroupName: before.group,
            InstanceIds: [instanceId],
          }),
        );
      }
      const wanted = protectionOf(before);
      const attached = await read(target);
      if (wanted !== undefined && protectionOf(attached) !== wanted) {
        await autoScaling.send(
          new SetInstanceProtectionCommand({
            AutoScalingGroupName: before.group,
            InstanceIds: [instanceId],
            ProtectedFromScaleIn: wanted,
          }),
        );
      }
      return (await read(target)) ?? { ...before };
    },
  };
}

/** The recorded protection; undefined when the state is in no group or predates it. */
const protectionOf = (state: AsgState | undefined) =>
  state?.group ? state.protectedFromScaleIn : undefined;

function protectionText(before: AsgState): string {
  const wanted = protectionOf(before);
  return wanted === undefined ? '' : `; scale-in protection ${wanted ? 'on' : 'off'}, as it was`;
}

export function rollbackAsgDetach(
  input: RollbackInput,
  deps: RollbackAsgDetachDeps,
): Promise<RollbackResult> {
  return runRollback(input, asgDetachRollback(deps.ec2, deps.autoScaling), deps);
}

/** The function's AWS clients where the incident's calls are made. */
const placed = (config: PlaceConfig) => ({
  ec2: new EC2Client({ ...clientOptions, ...config }),
  autoScaling: new AutoScalingClient({ ...clientOptions, ...config }),
});

export function makeRollbackHandler(
  env: Environment,
  clients: Clients<ReturnType<typeof placed>> = placedClients(env, NAME, placed),
) {
  return rollbackHandler(env, NAME, clients, rollbackAsgDetach);
}

import { AutoScalingClient, DetachInstancesCommand } from '@aws-sdk/client-auto-scaling';
import { EC2Client } from '@aws-sdk/client-ec2';
import { clientOptions } from '../../shared/aws.js';
import type { Environment } from '../../shared/env.js';
import { CordonError } from '../../shared/errors.js';
import {
  type ActionInput,
  type ActionResult,
  type Instance,
  requireInstance,
} from '../../shared/incident.js';
import { incidentTagRefusal } from '../../shared/incident-tag.js';
import { type Containment, type ContainmentDeps, runContainment } from '../containment.js';
import { containmentHandler } from '../handlers.js';
import { action } from './action.js';
import { type AsgState, inNoGroup, readAsg } from './state.js';

export interface DetachFromAsgDeps extends ContainmentDeps {
  readonly ec2: EC2Client;
  readonly autoScaling: AutoScalingClient;
}

/**
 * Detaching with a decrement would put the group's desired capacity below its
 * minimum, which Auto Scaling refuses. Terminal: Cordon does not lower a
 * group's minimum on its own; a person decides.
 */
export class BelowMinimumCapacityError extends CordonError {
  override readonly name = 'Cordon.BelowMinimumCapacity';
  readonly retryable = false;
}

// Auto Scaling's message: "AutoScalingGroup x has min-size=1, max-size=4, and
// desired-size=1. To detach 1 instance, please update the AutoScalingGroup sizes appropriately."
const BELOW_MINIMUM = /min-?size|minimum/i;

function belowMinimum(instanceId: string, group: string, desired: number, min: number) {
  return `cannot detach ${instanceId} from Auto Scaling group ${group} without a replacement: its desired capacity (${desired}) would fall below its minimum size (${min}). Lower the group's minimum size to ${Math.max(0, desired - 1)} or less (aws autoscaling update-auto-scaling-group --auto-scaling-group-name ${group} --min-size ${Math.max(0, desired - 1)}), then retry this step`;
}

/**
 * Takes the instance out of its Auto Scaling group with DetachInstances,
 * decrementing the desired capacity.
 *
 * Why detach rather than standby: a detached instance leaves the group's
 * lifecycle entirely. The group neither terminates it (scale-in, health-check
 * replacement, instance refresh, rebalancing) nor, because the desired capacity
 * is decremented, launches a replacement that would receive the same traffic
 * and configuration. Standby keeps the instance under the group: anyone allowed
 * to call ExitStandby puts it straight back in service, it stays registered
 * for lifecycle hooks and group actions, and it still counts as a member.
 * Detaching also deregisters it from the group's load balancer target groups.
 */
export function asgContainment(
  ec2: EC2Client,
  autoScaling: AutoScalingClient,
): Containment<Instance, AsgState> {
  const read = (target: Instance) => readAsg(ec2, autoScaling, target.instanceId);

  return {
    action: action.name,
    target: (incident) => requireInstance(incident, action.name),
    targetArn: (target) => target.arn,
    read,
    isContained: inNoGroup,
    describe: (target, state) =>
      state.group === null
        ? `take instance ${target.instanceId} out of its Auto Scaling group (it is in none)`
        : `detach instance ${target.instanceId} from Auto Scaling group ${state.group}, desired capacity ${state.desiredCapacity} -> ${state.desiredCapacity - 1}, no replacement launched`,
    // First the isolate step's gate: this detach needs no tag of its own,
    // but it comes first in the step, and leaving the group while the
    // network and profile actions after it must refuse would half-isolate
    // the instance (functions/shared/incident-tag.ts).
    // The minimum is checked here as well as by Auto Scaling, so the refusal
    // is the same everywhere (emulators do not enforce it). A Standby
    // instance is left to Auto Scaling to judge: it may already be outside
    // the desired capacity.
    refusal: async (target, state) =>
      (await incidentTagRefusal(ec2, action.name, target.instanceId)) ??
      (state.group !== null &&
      state.lifecycleState !== 'Standby' &&
      state.desiredCapacity - 1 < state.minSize
        ? new BelowMinimumCapacityError(
            belowMinimum(target.instanceId, state.group, state.desiredCapacity, state.minSize),
          )
        : undefined),
    async apply(target, state) {
      if (state.group === null) return state;
      const { instanceId, group, desiredCapacity, minSize } = state;
      try {
        await autoScaling.send(
          new DetachInstancesCommand({
            AutoScalingGroupName: group,
            InstanceIds: [instanceId],
            ShouldDecrementDesiredCapacity: true,
          }),
        );
      } catch (error) {
        if (!(error instanceof Error) || error.name !== 'ValidationError') throw error;
        if (BELOW_MINIMUM.test(error.message)) {
          throw new BelowMinimumCapacityError(
            belowMinimum(instanceId, group, desiredCapacity, minSize),
            { cause: error },
          );
        }
        // "not part of Auto Scaling group": it left the group since the read
        // (scale-in, someone else). Out of the group is the goal; anything else
        // is reported as it is.
        const now = await read(target);
        if (now?.group === null) return now;
        throw error;
      }
      return { instanceId, group: null };
    },
  };
}

export function detachFromAsg(input: ActionInput, deps: DetachFromAsgDeps): Promise<ActionResult> {
  return runContainment(input, asgContainment(deps.ec2, deps.autoScaling), deps);
}

export function makeHandler(
  env: Environment,
  clients = {
    ec2: new EC2Client(clientOptions),
    autoScaling: new AutoScalingClient(clientOptions),
  },
) {
  return containmentHandler(env, action.name, (input, deps) =>
    detachFromAsg(input, { ...deps, ...clients }),
  );
}

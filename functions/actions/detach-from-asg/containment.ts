import { AutoScalingClient, DetachInstancesCommand } from '@aws-sdk/client-auto-scaling';
import { EC2Client } from '@aws-sdk/client-ec2';
import { clientOptions } from '../../shared/aws.js';
import type { Environment } from '../../shared/env.js';
import { ServiceUnavailableError } from '../../shared/errors.js';
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
import { type AsgState, decrements, type InGroup, inNoGroup, readAsg } from './state.js';

export interface DetachFromAsgDeps extends ContainmentDeps {
  readonly ec2: EC2Client;
  readonly autoScaling: AutoScalingClient;
}

// Auto Scaling's message when a decrement would go below the minimum size:
// "AutoScalingGroup x has min-size=1, max-size=4, and desired-size=1. To
// detach 1 instance, please update the AutoScalingGroup sizes appropriately."
const BELOW_MINIMUM = /min-?size|minimum/i;

/**
 * Takes the instance out of its Auto Scaling group with DetachInstances,
 * decrementing the desired capacity when the group's minimum allows it.
 *
 * Why detach rather than standby: a detached instance leaves the group's
 * lifecycle entirely. The group never terminates it (scale-in, health-check
 * replacement, instance refresh, rebalancing) and, when the desired capacity
 * is decremented, launches no replacement that would receive the same
 * traffic and configuration. Standby keeps the instance under the group:
 * anyone allowed to call ExitStandby puts it straight back in service, it
 * stays registered for lifecycle hooks and group actions, and it still
 * counts as a member. Detaching also deregisters it from the group's load
 * balancer target groups.
 *
 * At the group's minimum size a decrement is refused, and a responder has
 * approved isolation: the instance leaves without one, and the group
 * launches a replacement (the approval request said so before the decision;
 * the ledger's summary says so after, and its before-state holds the sizes
 * that decided it). Cordon never changes the group's sizes itself.
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
        : `detach instance ${target.instanceId} from Auto Scaling group ${state.group}, ${capacityChange(state)}`,
    // The isolate step's gate: this detach needs no tag of its own, but it
    // comes first in the step, and leaving the group while the network and
    // profile actions after it must refuse would half-isolate the instance
    // (functions/shared/incident-tag.ts). A group at its minimum is no
    // reason to refuse: see `decrements`.
    refusal: (target) => incidentTagRefusal(ec2, action.name, target.instanceId),
    async apply(target, state) {
      if (state.group === null) return state;
      const { instanceId, group } = state;
      const detach = (decrement: boolean) =>
        autoScaling.send(
          new DetachInstancesCommand({
            AutoScalingGroupName: group,
            InstanceIds: [instanceId],
            ShouldDecrementDesiredCapacity: decrement,
          }),
        );
      try {
        await detach(decrements(state));
      } catch (error) {
        if (!isValidation(error)) throw error;
        // The minimum was raised (or the capacity lowered) since the read, so
        // the decrement this attempt described is refused: the retry reads
        // the sizes again and leaves without one, saying so.
        if (BELOW_MINIMUM.test(error.message)) {
          throw new ServiceUnavailableError(
            `Auto Scaling group ${group} changed size since it was read: ${error.message}`,
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

const isValidation = (error: unknown): error is Error =>
  error instanceof Error && error.name === 'ValidationError';

/** What leaving does to the group's size, as the approval and the ledger say it. */
function capacityChange(state: InGroup): string {
  return decrements(state)
    ? `desired capacity ${state.desiredCapacity} -> ${state.desiredCapacity - 1}, no replacement launched`
    : `desired capacity stays ${state.desiredCapacity} (the group is at its minimum size, ${state.minSize}): the group launches a replacement instance`;
}

export function detachFromAsg(input: ActionInput, deps: DetachFromAsgDeps): Promise<ActionResult> {
  return runContainment(input, asgContainment(deps.ec2, deps.autoScaling), deps);
}

/** The function's AWS clients where the incident's calls are made. */
const placed = (config: PlaceConfig) => ({
  ec2: new EC2Client({ ...clientOptions, ...config }),
  autoScaling: new AutoScalingClient({ ...clientOptions, ...config }),
});

export function makeHandler(
  env: Environment,
  clients: Clients<ReturnType<typeof placed>> = placedClients(env, action.name, placed),
) {
  return containmentHandler(env, action.name, clients, detachFromAsg);
}

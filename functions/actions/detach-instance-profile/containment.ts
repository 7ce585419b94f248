import { DisassociateIamInstanceProfileCommand, EC2Client } from '@aws-sdk/client-ec2';
import { clientOptions } from '../../shared/aws.js';
import type { Environment } from '../../shared/env.js';
import { isNotFound } from '../../shared/errors.js';
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
import { isDetached, type ProfileState, readProfile } from './state.js';

export interface DetachInstanceProfileDeps extends ContainmentDeps {
  readonly ec2: EC2Client;
}

/**
 * Disassociates the instance profile, so the instance metadata service stops
 * handing out (and refreshing) the role's credentials. Credentials already
 * issued stay valid until they expire: revoking the role's older sessions is
 * the playbook's separate revoke-sessions step.
 */
export function profileContainment(ec2: EC2Client): Containment<Instance, ProfileState> {
  const read = ({ instanceId }: Instance) => readProfile(ec2, instanceId);

  return {
    action: action.name,
    target: (incident) => requireInstance(incident, action.name),
    targetArn: (target) => target.arn,
    read,
    isContained: isDetached,
    // Its role may disassociate only from an incident-tagged instance.
    refusal: (target) => incidentTagRefusal(ec2, action.name, target.instanceId),
    describe: (target, state) =>
      state.association === null
        ? `detach the instance profile from instance ${target.instanceId} (it has none)`
        : `detach instance profile ${state.association.profileArn} from instance ${target.instanceId}; its role's credentials on the instance stop being refreshed (revoking the role's older sessions is a separate step)`,
    async apply(target, state) {
      if (state.association === null) return state;
      try {
        await ec2.send(
          new DisassociateIamInstanceProfileCommand({
            AssociationId: state.association.associationId,
          }),
        );
      } catch (error) {
        // The association went away since the read. If the instance is still
        // there without a profile, the goal is met; if the instance is gone,
        // the runner's own re-read records TARGET_NOT_FOUND.
        if (!isNotFound(error)) throw error;
        const now = await read(target);
        if (now?.association === null) return now;
        throw error;
      }
      return { instanceId: state.instanceId, association: null };
    },
  };
}

export function detachInstanceProfile(
  input: ActionInput,
  deps: DetachInstanceProfileDeps,
): Promise<ActionResult> {
  return runContainment(input, profileContainment(deps.ec2), deps);
}

/** The function's AWS clients where the incident's calls are made. */
const placed = (config: PlaceConfig) => ({ ec2: new EC2Client({ ...clientOptions, ...config }) });

export function makeHandler(
  env: Environment,
  clients: Clients<ReturnType<typeof placed>> = placedClients(env, action.name, placed),
) {
  return containmentHandler(env, action.name, clients, detachInstanceProfile);
}

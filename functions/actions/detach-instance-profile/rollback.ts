import {
  AssociateIamInstanceProfileCommand,
  EC2Client,
  ReplaceIamInstanceProfileAssociationCommand,
} from '@aws-sdk/client-ec2';
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
import { type ProfileState, ProfileStateSchema, readProfile } from './state.js';

export interface RollbackInstanceProfileDeps extends RollbackDeps {
  readonly ec2: EC2Client;
}

const NAME = rollbackNameOf(action.name);

const profileOf = (state: ProfileState) => state.association?.profileArn ?? null;

/**
 * Associates the instance profile detach-instance-profile removed, so the
 * instance gets its role's credentials again. A different profile
 * associated since (only with force) is replaced by the recorded one.
 */
export function instanceProfileRollback(ec2: EC2Client): Rollback<RecordedInstance, ProfileState> {
  return {
    action: NAME,
    undoes: action.name,
    state: ProfileStateSchema,
    target: (entry, before) => recordedInstance(entry, before.instanceId, NAME),
    read: ({ instanceId }) => readProfile(ec2, instanceId),
    drift: (current, after) =>
      differs('the associated instance profile', profileOf(current), profileOf(after)),
    isRestored: (current, before) => profileOf(current) === profileOf(before),
    describe: ({ instanceId }, before) =>
      `associate instance profile ${profileOf(before) ?? '(none)'} with instance ${instanceId} again: the instance gets its role's credentials again`,
    async restore({ instanceId }, before, current) {
      const profileArn = profileOf(before);
      if (profileArn === null) {
        throw new NotRestorableError(`the ledger records no profile on ${instanceId} to restore`);
      }
      const out = current.association
        ? await ec2.send(
            new ReplaceIamInstanceProfileAssociationCommand({
              AssociationId: current.association.associationId,
              IamInstanceProfile: { Arn: profileArn },
            }),
          )
        : await ec2.send(
            new AssociateIamInstanceProfileCommand({
              InstanceId: instanceId,
              IamInstanceProfile: { Arn: profileArn },
            }),
          );
      const association = out.IamInstanceProfileAssociation;
      return {
        instanceId,
        association: {
          associationId: association?.AssociationId ?? 'unknown',
          profileArn: association?.IamInstanceProfile?.Arn ?? profileArn,
          state: association?.State ?? 'associating',
        },
      };
    },
  };
}

export function rollbackInstanceProfile(
  input: RollbackInput,
  deps: RollbackInstanceProfileDeps,
): Promise<RollbackResult> {
  return runRollback(input, instanceProfileRollback(deps.ec2), deps);
}

/** The function's AWS clients where the incident's calls are made. */
const placed = (config: PlaceConfig) => ({ ec2: new EC2Client({ ...clientOptions, ...config }) });

export function makeRollbackHandler(
  env: Environment,
  clients: Clients<ReturnType<typeof placed>> = placedClients(env, NAME, placed),
) {
  return rollbackHandler(env, NAME, clients, rollbackInstanceProfile);
}

import { AutoScalingClient, SetInstanceProtectionCommand } from '@aws-sdk/client-auto-scaling';
import { EC2Client } from '@aws-sdk/client-ec2';
import { MembershipSchema, readMembership } from '../../shared/auto-scaling.js';
import { clientOptions } from '../../shared/aws.js';
import { instanceExists, type RecordedInstance, recordedInstance } from '../../shared/ec2.js';
import type { Environment } from '../../shared/env.js';
import {
  NotRestorableError,
  type RollbackInput,
  type RollbackResult,
} from '../../shared/rollback.js';
import { type Clients, type PlaceConfig, placedClients } from '../../shared/spoke.js';
import { z } from '../../shared/z.js';
import { rollbackNameOf } from '../definition.js';
import { rollbackHandler } from '../handlers.js';
import { differs, type Rollback, type RollbackDeps, runRollback } from '../rollback.js';
import { action } from './action.js';

export interface RollbackEvidenceDeps extends RollbackDeps {
  readonly ec2: EC2Client;
  readonly autoScaling: AutoScalingClient;
}

const NAME = rollbackNameOf(action.name);

/**
 * The part of preserve-evidence's recorded state its rollback restores: the
 * instance's group and scale-in protection. `autoScaling` is absent from
 * entries recorded before Cordon set the protection: nothing to restore.
 */
export const ScaleInStateSchema = z.object({
  instanceId: z.string().regex(/^i-[0-9a-f]{8,17}$/),
  autoScaling: MembershipSchema.nullable().optional(),
});
export type ScaleInState = z.infer<typeof ScaleInStateSchema>;

const protection = (state: ScaleInState) =>
  state.autoScaling ? `${state.autoScaling.protectedFromScaleIn ? 'on' : 'off'}` : 'none';

/**
 * Puts the instance's scale-in protection back as it was before the
 * evidence step, and nothing else: the incident tag, termination
 * protection, stop on shutdown, kept volumes and snapshots are evidence and
 * stay. Rollbacks run newest first, so an isolated instance is back in its
 * group (detach-from-asg's rollback) before this runs.
 */
export function evidenceRollback(
  ec2: EC2Client,
  autoScaling: AutoScalingClient,
): Rollback<RecordedInstance, ScaleInState> {
  const read = async ({ instanceId }: RecordedInstance): Promise<ScaleInState | undefined> =>
    (await instanceExists(ec2, instanceId))
      ? { instanceId, autoScaling: await readMembership(autoScaling, instanceId) }
      : undefined;
  return {
    action: NAME,
    undoes: action.name,
    state: ScaleInStateSchema,
    target: (entry, before) => recordedInstance(entry, before.instanceId, NAME),
    read,
    drift: (current, after) => [
      ...differs(
        'its Auto Scaling group',
        current.autoScaling?.group ?? null,
        after.autoScaling?.group ?? null,
      ),
      ...(current.autoScaling && after.autoScaling
        ? differs(
            'its scale-in protection',
            current.autoScaling.protectedFromScaleIn,
            after.autoScaling.protectedFromScaleIn,
          )
        : []),
    ],
    // In no group before (or recorded before the protection was): Cordon set none.
    isRestored: (current, before) =>
      !before.autoScaling ||
      (current.autoScaling?.group === before.autoScaling.group &&
        current.autoScaling.protectedFromScaleIn === before.autoScaling.protectedFromScaleIn),
    describe: ({ instanceId }, before) =>
      `scale-in protection of instance ${instanceId} in Auto Scaling group ${before.autoScaling?.group ?? '(none)'} back to ${protection(before)}; the evidence (incident tag, termination protection, stop on shutdown, kept volumes, snapshots) stays`,
    async restore(target, before, current) {
      const { instanceId } = target;
      const wanted = before.autoScaling;
      if (!wanted) {
        throw new NotRestorableError(`the ledger records no Auto Scaling group of ${instanceId}`);
      }
      if (current.autoScaling?.group !== wanted.group) {
        throw new NotRestorableError(
          `instance ${instanceId} is not in Auto Scaling group ${wanted.group} now; attach it there first`,
        );
      }
      await autoScaling.send(
        new SetInstanceProtectionCommand({
          AutoScalingGroupName: wanted.group,
          InstanceIds: [instanceId],
          ProtectedFromScaleIn: wanted.protectedFromScaleIn,
        }),
      );
      return (await read(target)) ?? current;
    },
  };
}

export function rollbackEvidence(
  input: RollbackInput,
  deps: RollbackEvidenceDeps,
): Promise<RollbackResult> {
  return runRollback(input, evidenceRollback(deps.ec2, deps.autoScaling), deps);
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
  return rollbackHandler(env, NAME, clients, rollbackEvidence);
}

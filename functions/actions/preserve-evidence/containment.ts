import { AutoScalingClient, SetInstanceProtectionCommand } from '@aws-sdk/client-auto-scaling';
import {
  CreateSnapshotCommand,
  CreateTagsCommand,
  EC2Client,
  ModifyInstanceAttributeCommand,
} from '@aws-sdk/client-ec2';
import { clientOptions } from '../../shared/aws.js';
import { FINDING_TAG, INCIDENT_TAG, INSTANCE_TAG, VOLUME_TAG } from '../../shared/ec2-tags.js';
import type { Environment } from '../../shared/env.js';
import { sha256Hex } from '../../shared/hash.js';
import {
  type ActionInput,
  type ActionResult,
  type Incident,
  requireInstance,
} from '../../shared/incident.js';
import { type Clients, type PlaceConfig, placedClients } from '../../shared/spoke.js';
import { type Containment, type ContainmentDeps, runContainment } from '../containment.js';
import { containmentHandler } from '../handlers.js';
import { action } from './action.js';
import {
  canStopOnShutdown,
  type EvidenceState,
  type EvidenceTarget,
  isPreserved,
  readEvidence,
  scaleInPreserved,
  shutdownPreserved,
} from './state.js';

/** A finding's key: stable across its re-emissions, short enough for a tag value. */
export function findingKey(incident: Incident): string {
  return sha256Hex(`${incident.source}|${incident.findingId}`).slice(0, 32);
}

export interface PreserveEvidenceDeps extends ContainmentDeps {
  readonly ec2: EC2Client;
  readonly autoScaling: AutoScalingClient;
}

/**
 * Keeps the evidence of an instance without changing what the workload does:
 * tags it (and its interfaces and volumes) with the incident, turns on
 * termination protection, makes an OS shutdown stop rather than terminate,
 * keeps every EBS volume on termination, protects it from scale-in when it is
 * in an Auto Scaling group, and snapshots every volume once per incident.
 * Each change is made only when needed, so a retry repeats nothing.
 *
 * Scale-in protection is evidence too: termination protection does not stop
 * Auto Scaling, and the isolate step, which takes the instance out of its
 * group, may wait hours for its approval (or be rejected). Its rollback puts
 * the protection back as it was; the rest is kept.
 */
export function evidenceContainment(
  ec2: EC2Client,
  autoScaling: AutoScalingClient,
): Containment<EvidenceTarget, EvidenceState> {
  return {
    action: action.name,
    target: (incident) => ({
      instance: requireInstance(incident, action.name),
      incidentId: incident.incidentId,
      findingKey: findingKey(incident),
    }),
    targetArn: (target) => target.instance.arn,
    read: (target) => readEvidence(ec2, autoScaling, target),
    isContained: isPreserved,
    describe(target, state) {
      const n = state.volumes.length;
      const shutdown = canStopOnShutdown(state)
        ? 'stop on shutdown'
        : 'no stop on shutdown (instance-store root)';
      const scaleIn = scaleInPreserved(state)
        ? ''
        : `, protection from scale-in in Auto Scaling group ${state.autoScaling?.group}`;
      return `preserve evidence of instance ${target.instance.instanceId}: termination protection, ${shutdown}${scaleIn}, keep ${n} volume${n === 1 ? '' : 's'}, snapshot them`;
    },
    async apply({ instance: { instanceId }, incidentId, findingKey: key }, state) {
      const toSnapshot = state.volumes.filter((v) => v.snapshotId === null);
      // (a) The incident tag first: the calls after it are authorised by it. It
      // is written again when a volume still needs its snapshot, because a
      // volume attached after the first run does not carry it yet.
      if (!state.tagged || toSnapshot.length > 0) {
        await ec2.send(
          new CreateTagsCommand({
            Resources: [
              instanceId,
              ...state.networkInterfaceIds,
              ...state.volumes.map((v) => v.volumeId),
            ],
            Tags: [{ Key: INCIDENT_TAG, Value: incidentId }],
          }),
        );
      }
      // (b), (c), (d): one attribute per ModifyInstanceAttribute call, as EC2 requires.
      if (!state.terminationProtection) {
        await ec2.send(
          new ModifyInstanceAttributeCommand({
            InstanceId: instanceId,
            DisableApiTermination: { Value: true },
          }),
        );
      }
      if (!shutdownPreserved(state)) {
        await ec2.send(
          new ModifyInstanceAttributeCommand({
            InstanceId: instanceId,
            InstanceInitiatedShutdownBehavior: { Value: 'stop' },
          }),
        );
      }
      const toKeep = state.volumes.filter((v) => v.deleteOnTermination);
      if (toKeep.length > 0) {
        await ec2.send(
          new ModifyInstanceAttributeCommand({
            InstanceId: instanceId,
            BlockDeviceMappings: toKeep.map((v) => ({
              DeviceName: v.deviceName,
              Ebs: { DeleteOnTermination: false },
            })),
          }),
        );
      }
      // Scale-in protection: IAM scopes it to the group, not the instance, so
      // the incident tag cannot limit it (functions/actions/preserve-evidence/iam.ts).
      const { autoScaling: member } = state;
      if (member && !scaleInPreserved(state)) {
        await autoScaling.send(
          new SetInstanceProtectionCommand({
            AutoScalingGroupName: member.group,
            InstanceIds: [instanceId],
            ProtectedFromScaleIn: true,
          }),
        );
      }
      // (e) Snapshots last, one per volume still without one for this finding.
      // Each is tagged at creation, so a retry after a partial run finds it.
      const snapshotIds = new Map<string, string>();
      for (const volume of toSnapshot) {
        const created = await ec2.send(
          new CreateSnapshotCommand({
            VolumeId: volume.volumeId,
            Description: `Cordon evidence for incident ${incidentId}: ${volume.volumeId} (${volume.deviceName}) of ${instanceId}`,
            TagSpecifications: [
              {
                ResourceType: 'snapshot',
                Tags: [
                  { Key: INCIDENT_TAG, Value: incidentId },
                  { Key: FINDING_TAG, Value: key },
                  { Key: INSTANCE_TAG, Value: instanceId },
                  { Key: VOLUME_TAG, Value: volume.volumeId },
                ],
              },
            ],
          }),
        );
        if (created.SnapshotId) snapshotIds.set(volume.volumeId, created.SnapshotId);
      }
      return {
        ...state,
        tagged: true,
        terminationProtection: true,
        shutdownBehavior: canStopOnShutdown(state) ? 'stop' : state.shutdownBehavior,
        autoScaling:
          member && !scaleInPreserved(state) ? { ...member, protectedFromScaleIn: true } : member,
        volumes: state.volumes.map((v) => ({
          ...v,
          deleteOnTermination: false,
          snapshotId: v.snapshotId ?? snapshotIds.get(v.volumeId) ?? null,
        })),
      };
    },
  };
}

export function preserveEvidence(
  input: ActionInput,
  deps: PreserveEvidenceDeps,
): Promise<ActionResult> {
  return runContainment(input, evidenceContainment(deps.ec2, deps.autoScaling), deps);
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
  return containmentHandler(env, action.name, clients, preserveEvidence);
}

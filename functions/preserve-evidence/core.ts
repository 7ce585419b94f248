import {
  CreateSnapshotCommand,
  CreateTagsCommand,
  DescribeInstanceAttributeCommand,
  DescribeSnapshotsCommand,
  type DescribeSnapshotsCommandOutput,
  type EC2Client,
  ModifyInstanceAttributeCommand,
} from '@aws-sdk/client-ec2';
import { type Containment, type ContainmentDeps, runContainment } from '../shared/action.js';
import { describeLiveInstance } from '../shared/ec2.js';
import {
  FINDING_TAG,
  INCIDENT_TAG,
  INSTANCE_TAG,
  tagValue,
  VOLUME_TAG,
} from '../shared/ec2-tags.js';
import { sha256Hex } from '../shared/hash.js';
import {
  type ActionInput,
  type ActionResult,
  type Incident,
  type Instance,
  requireInstance,
} from '../shared/incident.js';

/** One EBS volume of the instance, as preserve-evidence sees and leaves it. */
export interface EvidenceVolume {
  readonly deviceName: string;
  readonly volumeId: string;
  readonly deleteOnTermination: boolean;
  /** Cordon's snapshot of the volume for this incident, or null while there is none. */
  readonly snapshotId: string | null;
}

/** What the ledger records before and after: enough to undo every setting. */
export interface EvidenceState {
  readonly instanceId: string;
  /** `ebs` or `instance-store`: an instance-store root cannot stop on shutdown. */
  readonly rootDeviceType: string;
  /** The instance carries `cordon:incident` = this incident. */
  readonly tagged: boolean;
  readonly terminationProtection: boolean;
  readonly shutdownBehavior: string;
  readonly networkInterfaceIds: readonly string[];
  readonly volumes: readonly EvidenceVolume[];
}

export interface EvidenceTarget {
  readonly instance: Instance;
  readonly incidentId: string;
  /** Same for every incident of one finding, so re-emissions reuse the snapshots. */
  readonly findingKey: string;
}

/** A finding's key: stable across its re-emissions, short enough for a tag value. */
export function findingKey(incident: Incident): string {
  return sha256Hex(`${incident.source}|${incident.findingId}`).slice(0, 32);
}

export interface PreserveEvidenceDeps extends ContainmentDeps {
  readonly ec2: EC2Client;
}

const ACTION = 'preserve-evidence';

/** Cordon's snapshots for this finding, by volume id; failed snapshots do not count. */
async function findingSnapshots(ec2: EC2Client, key: string): Promise<Map<string, string>> {
  const byVolume = new Map<string, string>();
  let token: string | undefined;
  do {
    const page: DescribeSnapshotsCommandOutput = await ec2.send(
      new DescribeSnapshotsCommand({
        OwnerIds: ['self'],
        Filters: [{ Name: `tag:${FINDING_TAG}`, Values: [key] }],
        NextToken: token,
      }),
    );
    for (const snapshot of page.Snapshots ?? []) {
      const volumeId = tagValue(snapshot.Tags, VOLUME_TAG) ?? snapshot.VolumeId;
      if (volumeId && snapshot.SnapshotId && snapshot.State !== 'error') {
        byVolume.set(volumeId, snapshot.SnapshotId);
      }
    }
    token = page.NextToken;
  } while (token);
  return byVolume;
}

const canStopOnShutdown = (state: EvidenceState) => state.rootDeviceType !== 'instance-store';
const shutdownPreserved = (state: EvidenceState) =>
  state.shutdownBehavior === 'stop' || !canStopOnShutdown(state);

/**
 * Keeps the evidence of an instance without changing what the workload does:
 * tags it (and its interfaces and volumes) with the incident, turns on
 * termination protection, makes an OS shutdown stop rather than terminate,
 * keeps every EBS volume on termination, and snapshots every volume once per
 * incident. Each change is made only when needed, so a retry repeats nothing.
 */
export function evidenceContainment(ec2: EC2Client): Containment<EvidenceTarget, EvidenceState> {
  return {
    action: ACTION,
    target: (incident) => ({
      instance: requireInstance(incident, ACTION),
      incidentId: incident.incidentId,
      findingKey: findingKey(incident),
    }),
    targetArn: (target) => target.instance.arn,
    async read({ instance: { instanceId }, findingKey: key }) {
      const instance = await describeLiveInstance(ec2, instanceId);
      if (instance === undefined) return undefined;
      const termination = await ec2.send(
        new DescribeInstanceAttributeCommand({
          InstanceId: instanceId,
          Attribute: 'disableApiTermination',
        }),
      );
      const shutdown = await ec2.send(
        new DescribeInstanceAttributeCommand({
          InstanceId: instanceId,
          Attribute: 'instanceInitiatedShutdownBehavior',
        }),
      );
      const snapshots = await findingSnapshots(ec2, key);
      const volumes: EvidenceVolume[] = [];
      for (const mapping of instance.BlockDeviceMappings ?? []) {
        const volumeId = mapping.Ebs?.VolumeId;
        if (!mapping.DeviceName || !volumeId) continue;
        volumes.push({
          deviceName: mapping.DeviceName,
          volumeId,
          deleteOnTermination: mapping.Ebs?.DeleteOnTermination ?? false,
          snapshotId: snapshots.get(volumeId) ?? null,
        });
      }
      return {
        instanceId,
        rootDeviceType: instance.RootDeviceType ?? 'ebs',
        // Any incident's tag will do: it authorises the later changes, and a
        // re-emitted finding must not re-tag what an earlier incident tagged.
        tagged: tagValue(instance.Tags, INCIDENT_TAG) !== undefined,
        terminationProtection: termination.DisableApiTermination?.Value ?? false,
        shutdownBehavior: shutdown.InstanceInitiatedShutdownBehavior?.Value ?? 'unknown',
        networkInterfaceIds: (instance.NetworkInterfaces ?? []).flatMap((n) =>
          n.NetworkInterfaceId ? [n.NetworkInterfaceId] : [],
        ),
        volumes,
      };
    },
    isContained: (state) =>
      state.tagged &&
      state.terminationProtection &&
      shutdownPreserved(state) &&
      state.volumes.every((v) => !v.deleteOnTermination && v.snapshotId !== null),
    describe(target, state) {
      const n = state.volumes.length;
      const shutdown = canStopOnShutdown(state)
        ? 'stop on shutdown'
        : 'no stop on shutdown (instance-store root)';
      return `preserve evidence of instance ${target.instance.instanceId}: termination protection, ${shutdown}, keep ${n} volume${n === 1 ? '' : 's'}, snapshot them`;
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
  return runContainment(input, evidenceContainment(deps.ec2), deps);
}

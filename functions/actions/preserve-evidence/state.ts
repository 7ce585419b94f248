import type { AutoScalingClient } from '@aws-sdk/client-auto-scaling';
import {
  DescribeInstanceAttributeCommand,
  DescribeSnapshotsCommand,
  type DescribeSnapshotsCommandOutput,
  type EC2Client,
} from '@aws-sdk/client-ec2';
import { inWarmPool, type Membership, readMembership } from '../../shared/auto-scaling.js';
import { describeLiveInstance } from '../../shared/ec2.js';
import { FINDING_TAG, INCIDENT_TAG, tagValue, VOLUME_TAG } from '../../shared/ec2-tags.js';
import { inFlight } from '../../shared/in-flight.js';
import type { Instance } from '../../shared/incident.js';

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
  /**
   * Its Auto Scaling group and scale-in protection; null when it is in none.
   * Absent in entries recorded before Cordon set the protection.
   */
  readonly autoScaling?: Membership | null;
}

export interface EvidenceTarget {
  readonly instance: Instance;
  readonly incidentId: string;
  /** Same for every incident of one finding, so re-emissions reuse the snapshots. */
  readonly findingKey: string;
}

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

export const canStopOnShutdown = (state: EvidenceState) =>
  state.rootDeviceType !== 'instance-store';
export const shutdownPreserved = (state: EvidenceState) =>
  state.shutdownBehavior === 'stop' || !canStopOnShutdown(state);

/**
 * The group cannot end the instance by scaling in while isolation waits for
 * its approval: it is in no group, protected, or in a warm pool (which
 * cannot be protected, and serves nothing).
 */
export const scaleInPreserved = ({ autoScaling }: EvidenceState) =>
  !autoScaling || autoScaling.protectedFromScaleIn || inWarmPool(autoScaling);

/** Every setting is in place and every volume kept and snapshotted. */
export const isPreserved = (state: EvidenceState) =>
  state.tagged &&
  state.terminationProtection &&
  shutdownPreserved(state) &&
  scaleInPreserved(state) &&
  state.volumes.every((v) => !v.deleteOnTermination && v.snapshotId !== null);

/**
 * The instance's evidence settings, its volumes and Cordon's snapshots of
 * them for this finding; undefined when the instance is gone.
 */
export async function readEvidence(
  ec2: EC2Client,
  autoScaling: AutoScalingClient,
  { instance: { instanceId }, findingKey: key }: EvidenceTarget,
): Promise<EvidenceState | undefined> {
  // Independent reads, together: one round trip, not five. The instance's
  // own read decides; when it is gone, the others' answers are not used.
  const attribute = (Attribute: 'disableApiTermination' | 'instanceInitiatedShutdownBehavior') =>
    inFlight(ec2.send(new DescribeInstanceAttributeCommand({ InstanceId: instanceId, Attribute })));
  const reads = {
    termination: attribute('disableApiTermination'),
    shutdown: attribute('instanceInitiatedShutdownBehavior'),
    snapshots: inFlight(findingSnapshots(ec2, key)),
    membership: inFlight(readMembership(autoScaling, instanceId)),
  };
  const instance = await describeLiveInstance(ec2, instanceId);
  if (instance === undefined) return undefined;
  const termination = await reads.termination;
  const shutdown = await reads.shutdown;
  const snapshots = await reads.snapshots;
  const autoScalingMembership = await reads.membership;
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
    autoScaling: autoScalingMembership,
  };
}

import type { Tag } from '@aws-sdk/client-ec2';

/**
 * Tags Cordon writes on EC2 resources. They are part of the IAM contract: the
 * roles of the ec2-instance actions are scoped with tag conditions, so the
 * first call of preserve-evidence (tagging the instance, its interfaces and
 * its volumes with INCIDENT_TAG) is what authorises the calls after it.
 */

/** On the instance, its network interfaces, its volumes and Cordon's snapshots; value = incident id. */
export const INCIDENT_TAG = 'cordon:incident';
/** On Cordon's snapshots: the instance whose volume was snapshotted. */
export const INSTANCE_TAG = 'cordon:instance';
/**
 * On snapshots: the finding they keep evidence for (`findingKey`). A finding
 * re-emitted with a new updatedAt is a new incident but the same evidence.
 */
export const FINDING_TAG = 'cordon:finding';
/** On Cordon's snapshots: the volume snapshotted. */
export const VOLUME_TAG = 'cordon:volume';
/** On Cordon's isolation security groups; value is one of ISOLATION_KINDS. */
export const ISOLATION_TAG = 'cordon:isolation';
/** On an isolated network interface: its groups before isolation, comma-separated. */
export const ORIGINAL_GROUPS_TAG = 'cordon:original-groups';

export const ISOLATION_KINDS = ['allow-all', 'no-traffic'] as const;
export type IsolationKind = (typeof ISOLATION_KINDS)[number];

/** The value of tag `key`, or undefined when the resource does not carry it. */
export function tagValue(tags: readonly Tag[] | undefined, key: string): string | undefined {
  return tags?.find((t) => t.Key === key)?.Value;
}

/** IAM condition: the resource carries an incident's tag (preserve-evidence wrote it). */
export const TAGGED_BY_INCIDENT = {
  StringLike: { [`aws:ResourceTag/${INCIDENT_TAG}`]: 'inc-*' },
};

/** IAM condition: a CreateTags call writes no tag key but these. */
export const onlyTagKeys = (...keys: string[]) => ({
  'ForAllValues:StringEquals': { 'aws:TagKeys': keys },
});

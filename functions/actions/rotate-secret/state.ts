import {
  DescribeSecretCommand,
  ListSecretVersionIdsCommand,
  type SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import { isNotFound } from '../../shared/errors.js';
import type { Incident, Secret } from '../../shared/incident.js';

/**
 * What the ledger records: which version was AWSCURRENT before and after (the
 * version ids, never a value). Rolling back is moving AWSCURRENT back to the
 * before version with UpdateSecretVersionStage, which rarely makes sense for a
 * leaked value, but the record says exactly what changed.
 */
export interface RotationState {
  readonly rotationEnabled: boolean;
  /** The version labelled AWSCURRENT; null for a secret that has no value yet. */
  readonly currentVersionId: string | null;
  /** When that version was created (ISO 8601). */
  readonly currentVersionCreatedDate: string | null;
  /** A version labelled AWSPENDING but not AWSCURRENT: a rotation in progress (or a failed one). */
  readonly pendingVersionId: string | null;
  readonly lastRotatedDate: string | null;
}

export type Versions = Omit<RotationState, 'currentVersionCreatedDate'>;

/**
 * Contained when the AWSCURRENT version was created after the finding was
 * last updated. The exposure happened at or before that time, so the
 * exposed value is no longer the current one, whoever replaced it (this
 * action, a scheduled rotation, or an owner's PutSecretValue). It may
 * rotate once more than strictly needed (a rotation between the exposure
 * and the finding's last update), never once less. LastRotatedDate is not
 * used: it says a rotation ran, not that its version became AWSCURRENT,
 * and it misses values put by hand.
 */
export const isRotated = (state: RotationState, incident: Incident): boolean =>
  state.currentVersionCreatedDate !== null &&
  Date.parse(state.currentVersionCreatedDate) > Date.parse(incident.updatedAt);

/** DescribeSecret's view of the version labels; undefined when the secret is gone or deleted. */
export async function describeVersions(
  secrets: SecretsManagerClient,
  secretId: string,
): Promise<Versions | undefined> {
  let out: Awaited<ReturnType<typeof describeSecret>>;
  try {
    out = await describeSecret(secrets, secretId);
  } catch (error) {
    if (isNotFound(error)) return undefined;
    throw error;
  }
  // A secret scheduled for deletion cannot be rotated or read: it is gone.
  if (out.DeletedDate !== undefined) return undefined;
  const stages = Object.entries(out.VersionIdsToStages ?? {});
  const current = stages.find(([, labels]) => labels.includes('AWSCURRENT'))?.[0];
  // AWSPENDING on the AWSCURRENT version is a finished rotation, not a pending one.
  const pending = stages.find(
    ([id, labels]) => labels.includes('AWSPENDING') && id !== current,
  )?.[0];
  return {
    rotationEnabled: out.RotationEnabled === true,
    currentVersionId: current ?? null,
    pendingVersionId: pending ?? null,
    lastRotatedDate: out.LastRotatedDate?.toISOString() ?? null,
  };
}

function describeSecret(secrets: SecretsManagerClient, secretId: string) {
  return secrets.send(new DescribeSecretCommand({ SecretId: secretId }));
}

/** When a version was created (ListSecretVersionIds holds ids, labels and dates, no values). */
async function versionCreatedDate(
  secrets: SecretsManagerClient,
  secretId: string,
  versionId: string,
): Promise<string | null> {
  let nextToken: string | undefined;
  // A secret has a handful of labelled versions; the bound only guards a looping token.
  for (let page = 0; page < 20; page += 1) {
    const out = await secrets.send(
      new ListSecretVersionIdsCommand({ SecretId: secretId, NextToken: nextToken }),
    );
    const found = out.Versions?.find((v) => v.VersionId === versionId);
    if (found) return found.CreatedDate?.toISOString() ?? null;
    nextToken = out.NextToken;
    if (nextToken === undefined) return null;
  }
  return null;
}

/** The secret's rotation state, or undefined when it is gone or scheduled for deletion. */
export async function readRotation(
  secrets: SecretsManagerClient,
  target: Secret,
): Promise<RotationState | undefined> {
  const versions = await describeVersions(secrets, target.arn);
  if (versions === undefined) return undefined;
  const currentVersionCreatedDate =
    versions.currentVersionId === null
      ? null
      : await versionCreatedDate(secrets, target.arn, versions.currentVersionId);
  return { ...versions, currentVersionCreatedDate };
}

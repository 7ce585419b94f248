import { DescribeSecretCommand, type SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { isNotFound } from '../../shared/errors.js';
import type { Secret } from '../../shared/incident.js';

export const AWSCURRENT = 'AWSCURRENT';
export const AWSPREVIOUS = 'AWSPREVIOUS';
export const AWSPENDING = 'AWSPENDING';

/**
 * What the ledger records: the version triage found AWSCURRENT (the one the
 * finding may have exposed) and the labels it carries now, and which
 * versions are current, previous and pending. Version ids and labels only,
 * never a value. A rotation is not rolled back: there is nothing to restore.
 */
export interface RotationState {
  readonly rotationEnabled: boolean;
  /** The version labelled AWSCURRENT when triage read the secret; null when triage recorded none. */
  readonly exposedVersionId: string | null;
  /** The labels that version carries now: none once two rotations have passed it by. */
  readonly exposedStages: readonly string[];
  /** The version labelled AWSCURRENT; null for a secret that has no value. */
  readonly currentVersionId: string | null;
  /** The version labelled AWSPREVIOUS; null when none is. */
  readonly previousVersionId: string | null;
  /** A version labelled AWSPENDING but not AWSCURRENT: a rotation in progress (or a failed one). */
  readonly pendingVersionId: string | null;
  readonly lastRotatedDate: string | null;
}

/**
 * Contained when the exposed version is neither AWSCURRENT nor AWSPREVIOUS.
 * One rotation only moves it to AWSPREVIOUS, and under the alternating-users
 * strategy the credential it holds stays valid then: the rotation changed
 * the other user's password. The next rotation changes that one, and takes
 * AWSPREVIOUS away from it. Which strategy a rotation function follows is
 * in its code, which Cordon does not read, so it always waits for the
 * second: under single-user rotation that one is more than was needed.
 */
export const isRotated = (state: RotationState): boolean =>
  state.exposedVersionId !== null &&
  !state.exposedStages.includes(AWSCURRENT) &&
  !state.exposedStages.includes(AWSPREVIOUS);

/**
 * What the exposed version's labels say is still valid, in one sentence
 * (for a responder, when a rotation has not finished).
 */
export function stillValid(state: RotationState): string {
  const exposed = state.exposedVersionId;
  if (exposed === null) {
    return 'triage recorded no exposed version, so Cordon cannot tell whether the exposed credential is still valid: assume it is';
  }
  if (state.exposedStages.includes(AWSCURRENT)) {
    return `the exposed version ${exposed} is still AWSCURRENT: its credential is valid, and it is the value applications read`;
  }
  if (state.exposedStages.includes(AWSPREVIOUS)) {
    return `the exposed version ${exposed} is AWSPREVIOUS: with single-user rotation its credential was changed, but with alternating users it is still valid until one more rotation`;
  }
  return `the exposed version ${exposed} is neither AWSCURRENT nor AWSPREVIOUS: its credential has been rotated away`;
}

/** The rotation state from DescribeSecret (labels, never a value); undefined when the secret is gone or deleted. */
export async function readRotation(
  secrets: SecretsManagerClient,
  target: Secret,
): Promise<RotationState | undefined> {
  let out: Awaited<ReturnType<typeof describeSecret>>;
  try {
    out = await describeSecret(secrets, target.arn);
  } catch (error) {
    if (isNotFound(error)) return undefined;
    throw error;
  }
  // A secret scheduled for deletion cannot be rotated or read: it is gone.
  if (out.DeletedDate !== undefined) return undefined;
  const stages = Object.entries(out.VersionIdsToStages ?? {});
  const labelled = (label: string) => stages.find(([, labels]) => labels.includes(label))?.[0];
  const current = labelled(AWSCURRENT);
  // AWSPENDING on the AWSCURRENT version is a finished rotation, not a pending one.
  const pending = stages.find(([id, labels]) => labels.includes(AWSPENDING) && id !== current)?.[0];
  const exposedVersionId = target.exposedVersionId ?? null;
  return {
    rotationEnabled: out.RotationEnabled === true,
    exposedVersionId,
    exposedStages: [...(stages.find(([id]) => id === exposedVersionId)?.[1] ?? [])].sort(),
    currentVersionId: current ?? null,
    previousVersionId: labelled(AWSPREVIOUS) ?? null,
    pendingVersionId: pending ?? null,
    lastRotatedDate: out.LastRotatedDate?.toISOString() ?? null,
  };
}

function describeSecret(secrets: SecretsManagerClient, secretId: string) {
  return secrets.send(new DescribeSecretCommand({ SecretId: secretId }));
}

import { setTimeout as delay } from 'node:timers/promises';
import {
  DescribeSecretCommand,
  ListSecretVersionIdsCommand,
  RotateSecretCommand,
  type SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import { type Containment, type ContainmentDeps, runContainment } from '../shared/action.js';
import { CordonError, isNotFound } from '../shared/errors.js';
import type { ActionInput, ActionResult, Secret } from '../shared/incident.js';
import { secretOfIncident } from '../shared/secret-arn.js';

/**
 * The rotation started (or was already running) but no new version became
 * AWSCURRENT within the polling bound. Retryable: a retry re-reads the secret,
 * finds the new version (CONTAINED, "finished by an earlier attempt") or the
 * rotation still pending (it polls again without starting another one).
 */
export class RotationPendingError extends CordonError {
  override readonly name = 'Cordon.RotationPending';
  readonly retryable = true;
}

/** The secret has no rotation configured: this action cannot rotate it. */
export class RotationNotConfiguredError extends CordonError {
  override readonly name = 'Cordon.RotationNotConfigured';
  readonly retryable = false;
}

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

export interface RotateSecretDeps extends ContainmentDeps {
  readonly secrets: SecretsManagerClient;
  /** Waits between polls; tests pass one that does not wait. */
  readonly sleep?: (ms: number) => Promise<void>;
}

const ACTION = 'rotate-secret';

/**
 * Waits before each DescribeSecret poll: exponential from 1 s, capped at 3 s,
 * 8 polls, 21 s in all, so a whole run (reads, RotateSecret, polls, ledger)
 * stays inside the function's 30 s timeout.
 */
export const POLL_DELAYS_MS: readonly number[] = Array.from({ length: 8 }, (_, i) =>
  Math.min(1000 * 2 ** i, 3000),
);

type Versions = Omit<RotationState, 'currentVersionCreatedDate'>;

/** DescribeSecret's view of the version labels; undefined when the secret is gone or deleted. */
async function describeVersions(
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

const IN_PROGRESS = /rotation.*(in progress|isn't complete|is not complete|not yet complete)/i;

/**
 * Rotates the secret with its configured rotation and checks that a new
 * version became AWSCURRENT. It never reads a value: DescribeSecret and
 * ListSecretVersionIds return ids, labels and dates only.
 */
export function rotationContainment(
  secrets: SecretsManagerClient,
  sleep: (ms: number) => Promise<void> = (ms) => delay(ms),
): Containment<Secret, RotationState> {
  const read = async (target: Secret): Promise<RotationState | undefined> => {
    const versions = await describeVersions(secrets, target.arn);
    if (versions === undefined) return undefined;
    const currentVersionCreatedDate =
      versions.currentVersionId === null
        ? null
        : await versionCreatedDate(secrets, target.arn, versions.currentVersionId);
    return { ...versions, currentVersionCreatedDate };
  };

  /** RotateSecret refused because a rotation is already running: that is progress. */
  const rotationInProgress = async (target: Secret, error: unknown): Promise<boolean> => {
    if (!(error instanceof Error) || error.name !== 'InvalidRequestException') return false;
    if (IN_PROGRESS.test(error.message)) return true;
    const now = await describeVersions(secrets, target.arn);
    return now !== undefined && now.pendingVersionId !== null;
  };

  return {
    action: ACTION,
    target: (incident) => secretOfIncident(incident, ACTION),
    targetArn: (target) => target.arn,
    read,
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
    isContained: (state, incident) =>
      state.currentVersionCreatedDate !== null &&
      Date.parse(state.currentVersionCreatedDate) > Date.parse(incident.updatedAt),
    describe: (target, state) => {
      if (!state.rotationEnabled) {
        return `rotate secret ${target.name}: not possible, rotation is not configured for it (lock it and rotate it by hand)`;
      }
      const current = state.currentVersionId ?? 'none';
      return state.pendingVersionId === null
        ? `rotate secret ${target.name} now with its rotation function and check that a new version replaced AWSCURRENT ${current}`
        : `finish the rotation of secret ${target.name} already in progress (pending version ${state.pendingVersionId}) and check that it replaced AWSCURRENT ${current}`;
    },
    refusal: (target, state) =>
      state.rotationEnabled
        ? undefined
        : new RotationNotConfiguredError(
            `rotate-secret ${target.arn}: rotation is not configured; lock the secret and rotate it by hand`,
          ),
    async apply(target, state) {
      // With a version already AWSPENDING, Secrets Manager refuses a new
      // rotation: a retry after Cordon.RotationPending only polls again.
      if (state.pendingVersionId === null) {
        try {
          await secrets.send(
            new RotateSecretCommand({ SecretId: target.arn, RotateImmediately: true }),
          );
        } catch (error) {
          if (!(await rotationInProgress(target, error))) throw error;
        }
      }
      for (const ms of POLL_DELAYS_MS) {
        await sleep(ms);
        const now = await describeVersions(secrets, target.arn);
        // Gone mid-rotation: the retry's fresh read records TARGET_NOT_FOUND.
        if (now === undefined) break;
        if (now.currentVersionId !== null && now.currentVersionId !== state.currentVersionId) {
          const after = await read(target);
          if (after !== undefined) return after;
          break;
        }
      }
      throw new RotationPendingError(
        `rotate-secret ${target.arn}: no new version became AWSCURRENT within ${POLL_DELAYS_MS.reduce((a, b) => a + b, 0) / 1000} s; a retry checks again (a version left AWSPENDING by a failed rotation must be cleared by hand)`,
      );
    },
  };
}

export function rotateSecret(input: ActionInput, deps: RotateSecretDeps): Promise<ActionResult> {
  return runContainment(input, rotationContainment(deps.secrets, deps.sleep), deps);
}

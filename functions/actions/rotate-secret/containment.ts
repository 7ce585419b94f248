import { setTimeout as delay } from 'node:timers/promises';
import { RotateSecretCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { clientOptions } from '../../shared/aws.js';
import type { Environment } from '../../shared/env.js';
import { CordonError } from '../../shared/errors.js';
import type { ActionInput, ActionResult, Secret } from '../../shared/incident.js';
import { secretOfIncident } from '../../shared/secret-arn.js';
import { type Containment, type ContainmentDeps, runContainment } from '../containment.js';
import { containmentHandler } from '../handlers.js';
import { action } from './action.js';
import { describeVersions, isRotated, type RotationState, readRotation } from './state.js';

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

export interface RotateSecretDeps extends ContainmentDeps {
  readonly secrets: SecretsManagerClient;
  /** Waits between polls; tests pass one that does not wait. */
  readonly sleep: (ms: number) => Promise<void>;
}

/**
 * Waits before each DescribeSecret poll: exponential from 1 s, capped at 3 s,
 * 8 polls, 21 s in all, so a whole run (reads, RotateSecret, polls, ledger)
 * stays well inside the function's 60 s timeout.
 */
export const POLL_DELAYS_MS: readonly number[] = Array.from({ length: 8 }, (_, i) =>
  Math.min(1000 * 2 ** i, 3000),
);

const IN_PROGRESS = /rotation.*(in progress|isn't complete|is not complete|not yet complete)/i;

/**
 * Rotates the secret with its configured rotation and checks that a new
 * version became AWSCURRENT. It never reads a value: DescribeSecret and
 * ListSecretVersionIds return ids, labels and dates only.
 */
export function rotationContainment(
  secrets: SecretsManagerClient,
  sleep: (ms: number) => Promise<void>,
): Containment<Secret, RotationState> {
  const read = (target: Secret) => readRotation(secrets, target);

  /** RotateSecret refused because a rotation is already running: that is progress. */
  const rotationInProgress = async (target: Secret, error: unknown): Promise<boolean> => {
    if (!(error instanceof Error) || error.name !== 'InvalidRequestException') return false;
    if (IN_PROGRESS.test(error.message)) return true;
    const now = await describeVersions(secrets, target.arn);
    return now !== undefined && now.pendingVersionId !== null;
  };

  return {
    action: action.name,
    target: (incident) => secretOfIncident(incident, action.name),
    targetArn: (target) => target.arn,
    read,
    isContained: isRotated,
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
            `${action.name} ${target.arn}: rotation is not configured; lock the secret and rotate it by hand`,
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
        `${action.name} ${target.arn}: no new version became AWSCURRENT within ${POLL_DELAYS_MS.reduce((a, b) => a + b, 0) / 1000} s; a retry checks again (a version left AWSPENDING by a failed rotation must be cleared by hand)`,
      );
    },
  };
}

export function rotateSecret(input: ActionInput, deps: RotateSecretDeps): Promise<ActionResult> {
  return runContainment(input, rotationContainment(deps.secrets, deps.sleep), deps);
}

export function makeHandler(
  env: Environment,
  clients = { secrets: new SecretsManagerClient(clientOptions) },
) {
  return containmentHandler(env, action.name, (input, deps) =>
    rotateSecret(input, { ...deps, ...clients, sleep: (ms) => delay(ms) }),
  );
}

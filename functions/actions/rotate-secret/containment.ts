import { RotateSecretCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { clientOptions } from '../../shared/aws.js';
import type { Environment } from '../../shared/env.js';
import { CordonError } from '../../shared/errors.js';
import type { ActionInput, ActionResult, Secret } from '../../shared/incident.js';
import { secretOfIncident } from '../../shared/secret-arn.js';
import { type Clients, type PlaceConfig, placedClients } from '../../shared/spoke.js';
import { type Containment, type ContainmentDeps, runContainment } from '../containment.js';
import { containmentHandler } from '../handlers.js';
import { action } from './action.js';
import { isRotated, type RotationState, readRotation, stillValid } from './state.js';

/**
 * The exposed version still carries AWSCURRENT or AWSPREVIOUS: a rotation
 * is running, or this attempt just started one. Retryable: the state
 * machine waits and calls again (catalog `pollsOn`); each call starts at
 * most one rotation, and only when none is running. When its checks run
 * out, the playbook asks a responder to lock the secret instead.
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
 * Triage recorded no exposed version (the secret had no AWSCURRENT version,
 * or the incident was triaged before triage recorded one): Cordon could
 * rotate, but could not tell when the exposed credential is gone.
 */
export class ExposedVersionUnknownError extends CordonError {
  override readonly name = 'Cordon.ExposedVersionUnknown';
  readonly retryable = false;
}

export interface RotateSecretDeps extends ContainmentDeps {
  readonly secrets: SecretsManagerClient;
}

const IN_PROGRESS = /rotation.*(in progress|isn't complete|is not complete|not yet complete)/i;

/**
 * Rotates the secret with its configured rotation until the version triage
 * found AWSCURRENT is neither AWSCURRENT nor AWSPREVIOUS (state.ts says
 * why both). It never waits: each call reads the labels, starts a rotation
 * when none is running and the exposed version still holds a label, and
 * fails with Cordon.RotationPending until the labels show it done; the
 * state machine's retry is the wait. It never reads a value: DescribeSecret
 * returns ids and labels only.
 */
export function rotationContainment(
  secrets: SecretsManagerClient,
): Containment<Secret, RotationState> {
  const read = (target: Secret) => readRotation(secrets, target);

  /** RotateSecret refused because a rotation is already running: that is progress. */
  const rotationInProgress = async (target: Secret, error: unknown): Promise<boolean> => {
    if (!(error instanceof Error) || error.name !== 'InvalidRequestException') return false;
    if (IN_PROGRESS.test(error.message)) return true;
    const now = await read(target);
    return now !== undefined && now.pendingVersionId !== null;
  };

  const pending = (target: Secret, state: RotationState, started: boolean) =>
    new RotationPendingError(
      `${action.name} ${target.arn}: not rotated away yet: ${
        state.pendingVersionId !== null
          ? `version ${state.pendingVersionId} is AWSPENDING (a rotation is running, or a failed one left it: it must then be cleared by hand)`
          : started
            ? 'a rotation was started'
            : 'the rotation before has finished, and the next check starts another'
      }; ${stillValid(state)}. Cordon checks again; if the rotation does not finish, it asks a responder to lock the secret instead`,
    );

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
      if (state.exposedVersionId === null) {
        return `rotate secret ${target.name}: not done, triage recorded no exposed version to rotate away from`;
      }
      return `rotate secret ${target.name} with its rotation function until the exposed version ${state.exposedVersionId} is neither AWSCURRENT nor AWSPREVIOUS (now ${
        state.exposedStages.length > 0 ? state.exposedStages.join(', ') : 'no label'
      }${state.pendingVersionId === null ? '' : `; version ${state.pendingVersionId} pending`})`;
    },
    refusal: (target, state) => {
      if (!state.rotationEnabled) {
        return new RotationNotConfiguredError(
          `${action.name} ${target.arn}: rotation is not configured; lock the secret and rotate it by hand`,
        );
      }
      if (state.exposedVersionId === null) {
        return new ExposedVersionUnknownError(
          `${action.name} ${target.arn}: triage recorded no exposed version, so Cordon cannot tell when a rotation has retired it; nothing was rotated; ${stillValid(state)}`,
        );
      }
      return undefined;
    },
    async apply(target, state) {
      // With a version already AWSPENDING, Secrets Manager refuses a new
      // rotation: this attempt only checks again.
      let started = false;
      if (state.pendingVersionId === null) {
        try {
          await secrets.send(
            new RotateSecretCommand({ SecretId: target.arn, RotateImmediately: true }),
          );
          started = true;
        } catch (error) {
          if (!(await rotationInProgress(target, error))) throw error;
        }
      }
      // A rotation that finishes at once (a quick function) needs no second call.
      const now = await read(target);
      if (now !== undefined && isRotated(now)) return now;
      // Gone mid-rotation: the retry's fresh read records TARGET_NOT_FOUND.
      throw pending(target, now ?? state, started);
    },
  };
}

export function rotateSecret(input: ActionInput, deps: RotateSecretDeps): Promise<ActionResult> {
  return runContainment(input, rotationContainment(deps.secrets), deps);
}

/** The function's AWS clients where the incident's calls are made. */
const placed = (config: PlaceConfig) => ({
  secrets: new SecretsManagerClient({ ...clientOptions, ...config }),
});

export function makeHandler(
  env: Environment,
  clients: Clients<ReturnType<typeof placed>> = placedClients(env, action.name, placed),
) {
  return containmentHandler(env, action.name, clients, rotateSecret);
}

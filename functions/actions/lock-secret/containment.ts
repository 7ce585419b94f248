import { PutResourcePolicyCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { clientOptions } from '../../shared/aws.js';
import { type Environment, requireJsonEnv } from '../../shared/env.js';
import type { ActionInput, ActionResult, Secret } from '../../shared/incident.js';
import { ENV } from '../../shared/runtime-config.js';
import { secretOfIncident } from '../../shared/secret-arn.js';
import { type Clients, type PlaceConfig, placedClients } from '../../shared/spoke.js';
import { z } from '../../shared/z.js';
import { type Containment, type ContainmentDeps, runContainment } from '../containment.js';
import { containmentHandler } from '../handlers.js';
import { action } from './action.js';
import {
  isCordons,
  isLocked,
  isPublicPolicyRefusal,
  LOCK_SID,
  type LockState,
  PublicSecretPolicyError,
  parsePolicy,
  readLock,
  statementsOf,
} from './state.js';

export interface LockSecretDeps extends ContainmentDeps {
  readonly secrets: SecretsManagerClient;
  /** ARN patterns of the principals that may still read a locked secret; may be empty. */
  readonly breakGlass: readonly string[];
}

/** Break-glass ARN patterns: IAM users and roles, `*` and `?` allowed, no whitespace. */
export const BreakGlassSchema = z.array(
  z
    .string()
    .max(2048)
    .regex(/^arn:[\w*?-]+:iam::[\d*?]+:(user|role)\/[\x21-\x7e]+$/, {
      message: 'must be an IAM user or role ARN pattern (arn:aws:iam::<account>:role/<name>)',
    }),
);

/**
 * Cordon's statement: deny reading the value to everyone but break-glass.
 * Only GetSecretValue is denied (BatchGetSecretValue is authorised per secret
 * as GetSecretValue): an owner must still be able to PutSecretValue a new
 * value and manage the secret. With no break-glass principals there is no
 * condition and nobody can read it until the statement is removed.
 */
export function lockStatement(breakGlass: readonly string[]): Record<string, unknown> {
  return {
    Sid: LOCK_SID,
    Effect: 'Deny',
    Principal: '*',
    Action: 'secretsmanager:GetSecretValue',
    Resource: '*',
    ...(breakGlass.length > 0
      ? { Condition: { StringNotLike: { 'aws:PrincipalArn': [...breakGlass] } } }
      : {}),
  };
}

/**
 * Locks a secret whose rotation is not configured: a resource policy
 * statement denies reading its value to every principal but the break-glass
 * ones. Existing statements are kept; only Cordon's own is added or replaced.
 * It never reads the value.
 */
export function lockContainment(
  secrets: SecretsManagerClient,
  breakGlass: readonly string[],
): Containment<Secret, LockState> {
  return {
    action: action.name,
    target: (incident) => secretOfIncident(incident, action.name),
    targetArn: (target) => target.arn,
    read: (target) => readLock(secrets, target, breakGlass),
    isContained: isLocked,
    describe: (target) =>
      `lock secret ${target.name}: deny secretsmanager:GetSecretValue to every principal ${
        breakGlass.length > 0
          ? `except ${breakGlass.length} break-glass principal pattern(s)`
          : '(no break-glass principals are configured)'
      }, keeping its other policy statements; manual rotation required: rotating the value does not change the credential at its back end; rotate it there too`,
    async apply(target, state) {
      const existing = state.policy === null ? {} : parsePolicy(state.policy, target.arn);
      const kept = statementsOf(existing).filter((st) => !isCordons(st));
      const policy = JSON.stringify({
        ...existing,
        Version: existing.Version ?? '2012-10-17',
        Statement: [...kept, lockStatement(breakGlass)],
      });
      try {
        await secrets.send(
          new PutResourcePolicyCommand({
            SecretId: target.arn,
            ResourcePolicy: policy,
            // Required by this role's IAM condition (secretsmanager:BlockPublicPolicy):
            // it can never make a secret public, whatever it is given to write.
            BlockPublicPolicy: true,
          }),
        );
      } catch (error) {
        if (!isPublicPolicyRefusal(error)) throw error;
        throw new PublicSecretPolicyError(
          `cannot lock secret ${target.name}: its resource policy already allows broad (public) access, and Secrets Manager refuses to store a public policy from Cordon, whose role may only put policies it checks are not public (BlockPublicPolicy). Nothing was changed: the secret is NOT locked, and whoever that policy allows can still read its value. Remove or narrow the public statement (aws secretsmanager get-resource-policy --secret-id ${target.arn}), then retry this step, or lock it by hand; in any case rotate the credential at its back end`,
          { cause: error },
        );
      }
      return { policy, locked: true };
    },
  };
}

export function lockSecret(input: ActionInput, deps: LockSecretDeps): Promise<ActionResult> {
  return runContainment(input, lockContainment(deps.secrets, deps.breakGlass), deps);
}

/** The function's AWS clients where the incident's calls are made. */
const placed = (config: PlaceConfig) => ({
  secrets: new SecretsManagerClient({ ...clientOptions, ...config }),
});

export function makeHandler(
  env: Environment,
  clients: Clients<ReturnType<typeof placed>> = placedClients(env, action.name, placed),
) {
  const handler = containmentHandler(env, action.name, clients, (input, deps) =>
    lockSecret(input, { ...deps, breakGlass }),
  );
  // Read after the boot's checks (deployed as this function, ledger, actor), as before.
  const breakGlass = requireJsonEnv(env, ENV.breakGlass, BreakGlassSchema);
  return handler;
}

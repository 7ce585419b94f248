import { DescribeSecretCommand, type SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { classifyAwsError, isNotFound } from '../shared/errors.js';
import type { Secret } from '../shared/incident.js';
import type { RuntimeConfig } from '../shared/runtime-config.js';
import { parseSecretArn } from './arn.js';
import { type Decision, otherRegionRefusal, proceedReason, refuse } from './decision.js';
import type { SecretFinding } from './finding.js';
import { exemptTagGuard, findingRefusal, protectedGuard, type ResourceTag } from './guards.js';
import { planSecretSteps } from './plan.js';

/**
 * Verifies the secret a finding names against Secrets Manager (DescribeSecret,
 * never the value): it must exist, not be scheduled for deletion, be the
 * home account's and be the secret the finding named. The answer also says
 * whether rotation is configured, which chooses between rotating and locking.
 */
export type SecretResolution =
  | {
      readonly status: 'verified';
      readonly secret: Secret;
      readonly tags: ReadonlyArray<ResourceTag>;
    }
  /** The secret is gone, going, elsewhere, or not the one the finding named. */
  | { readonly status: 'refused'; readonly secret: Secret; readonly reason: string }
  /** Secrets Manager could not be read (terminally): guards cannot decide. */
  | { readonly status: 'unverified'; readonly secret: Secret; readonly reason: string };

export interface SecretDeps {
  readonly secretsManager: SecretsManagerClient;
  readonly config: RuntimeConfig;
}

/**
 * The secret as the finding claims it. A secret named without an ARN gets a
 * partial ARN (no random suffix) that Secrets Manager accepts as an id; it
 * is never trusted for guards alone. Rotation is unknown until read.
 */
export function claimedSecret(finding: SecretFinding): Secret {
  const { secret, partition, region, account } = finding;
  if (secret.arn !== undefined) {
    return { arn: secret.secretId, name: secret.arn.name, rotationEnabled: false };
  }
  return {
    arn: `arn:${partition}:secretsmanager:${region}:${account}:secret:${secret.secretId}`,
    name: secret.secretId,
    rotationEnabled: false,
  };
}

export async function resolveSecret(
  finding: SecretFinding,
  secretsManager: SecretsManagerClient,
  homeAccount: string,
): Promise<SecretResolution> {
  const claimed = claimedSecret(finding);
  const { secretId } = finding.secret;
  const refused = (reason: string) => ({ status: 'refused', secret: claimed, reason }) as const;

  const elsewhere = await otherRegionRefusal(
    secretsManager,
    finding.region,
    `secret ${claimed.name}`,
    'Secrets Manager',
  );
  if (elsewhere !== undefined) return refused(elsewhere);

  let output: Awaited<ReturnType<typeof describe>>;
  try {
    output = await describe(secretsManager, secretId);
  } catch (error) {
    if (isNotFound(error)) return refused(`secret: secret ${claimed.name} does not exist`);
    const failure = classifyAwsError(error, `describe secret ${claimed.name}`);
    if (failure.retryable) throw failure;
    return { status: 'unverified', secret: claimed, reason: failure.message };
  }
  if (output.ARN === undefined || output.Name === undefined) {
    return {
      status: 'unverified',
      secret: claimed,
      reason: `describe secret ${claimed.name}: Secrets Manager returned no secret`,
    };
  }
  if (finding.secret.arn !== undefined && output.ARN !== secretId) {
    return refused(
      `secret arn mismatch: the finding names ${secretId}, Secrets Manager has ${output.ARN}`,
    );
  }
  const secret: Secret = {
    arn: output.ARN,
    name: output.Name,
    rotationEnabled: output.RotationEnabled === true,
  };
  const owner = parseSecretArn(secret.arn)?.account;
  if (owner !== homeAccount) {
    return {
      status: 'refused',
      secret,
      reason: `account: secret ${secret.arn} is in account ${owner ?? 'unknown'}, not home account ${homeAccount}`,
    };
  }
  if (output.DeletedDate !== undefined) {
    return {
      status: 'refused',
      secret,
      reason: `secret: secret ${secret.name} is scheduled for deletion`,
    };
  }
  return { status: 'verified', secret, tags: output.Tags ?? [] };
}

function describe(secretsManager: SecretsManagerClient, secretId: string) {
  return secretsManager.send(new DescribeSecretCommand({ SecretId: secretId }));
}

/**
 * The secret guards, after the finding guards: the secret must be the home
 * account's and still exist (Secrets Manager says so), and neither its ARN
 * nor its tags may protect it. Then one of the two steps: rotate when
 * rotation is configured, else lock.
 */
export async function decideSecret(finding: SecretFinding, deps: SecretDeps): Promise<Decision> {
  const { config } = deps;
  const claimed = claimedSecret(finding);
  const early = findingRefusal(finding, config);
  if (early !== undefined) return refuse(early, claimed.arn, finding.playbook, { secret: claimed });

  const resolution = await resolveSecret(finding, deps.secretsManager, config.homeAccount);
  const { secret } = resolution;
  if (resolution.status === 'refused') {
    return refuse(resolution.reason, secret.arn, finding.playbook, { secret });
  }
  const refusal =
    protectedGuard(secret.arn, config) ??
    (resolution.status === 'verified'
      ? exemptTagGuard(secret.arn, resolution.tags, config)
      : undefined);
  if (refusal !== undefined) return refuse(refusal, secret.arn, finding.playbook, { secret });

  // Guards fail closed: an unread secret means no step runs unattended, and
  // with rotation unknown only locking (by a human's decision) is offered.
  const failClosedReason =
    resolution.status === 'unverified'
      ? `the secret could not be read: ${resolution.reason}`
      : undefined;
  const plan = planSecretSteps(
    {
      rotationEnabled: resolution.status === 'verified' ? secret.rotationEnabled : undefined,
      ...(failClosedReason === undefined ? {} : { failClosedReason }),
    },
    config,
  );
  return {
    decision: 'PROCEED',
    reason: proceedReason(failClosedReason),
    arn: secret.arn,
    plan,
    secret,
  };
}

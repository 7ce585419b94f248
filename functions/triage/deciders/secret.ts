import { DescribeSecretCommand, type SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { classifyAwsError, isNotFound } from '../../shared/errors.js';
import type { Secret } from '../../shared/incident.js';
import type { ResourceTag } from '../../shared/protection.js';
import { protectionOf } from '../guards/protection.js';
import { parseSecretArn } from '../parse/arn.js';
import type { SecretFinding } from '../parse/finding.js';
import { planPlaybook } from '../plan.js';
import {
  type Decider,
  type Decision,
  otherRegionRefusal,
  proceedReason,
  refuse,
} from './decision.js';

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
  account: string,
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
    exposedVersionId: currentVersionOf(output.VersionIdsToStages),
  };
  const owner = parseSecretArn(secret.arn)?.account;
  if (owner !== account) {
    return {
      status: 'refused',
      secret,
      reason: `account: secret ${secret.arn} is in account ${owner ?? 'unknown'}, not the finding's account ${account}`,
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

/**
 * The version labelled AWSCURRENT now (null: none), recorded as the one the
 * finding may have exposed: the closest to the finding's own time Cordon can
 * read, and covered by the claim's digest, so no invoker can swap it.
 */
export function currentVersionOf(stages: Record<string, string[]> | undefined): string | null {
  return (
    Object.entries(stages ?? {}).find(([, labels]) => labels.includes('AWSCURRENT'))?.[0] ?? null
  );
}

function describe(secretsManager: SecretsManagerClient, secretId: string) {
  return secretsManager.send(new DescribeSecretCommand({ SecretId: secretId }));
}

export const ROTATION_CONFIGURED =
  'rotation is configured: only if the rotation does not finish, a responder decides whether to lock it instead';
export const ROTATION_NOT_CONFIGURED = 'rotation is not configured';
export const ROTATION_UNKNOWN =
  'rotation could not be read: only locking is offered; rotate the secret by hand';

/**
 * secret-exposure: the secret must be the home account's and still exist
 * (Secrets Manager says so), and neither its ARN nor its tags may protect
 * it. Then rotate when rotation is configured (until the exposed version
 * is neither AWSCURRENT nor AWSPREVIOUS), with the lock as the fallback a
 * responder decides on should the rotation not finish; else lock it (and
 * someone rotates it by hand). Locking a secret that rotation fixes would
 * break its readers for nothing, and leaving one neither rotated nor locked
 * would leave the exposed value working.
 */
export const secretDecider: Decider<SecretFinding> = {
  configurationChecksAct: true,
  claimed: (finding) => {
    const secret = claimedSecret(finding);
    return { arn: secret.arn, subject: { secret } };
  },
  location(finding) {
    const { arn } = finding.secret;
    return arn === undefined
      ? undefined
      : { what: 'secret', arn: finding.secret.secretId, account: arn.account, region: arn.region };
  },
  // A secret GuardDuty saw an access key touch is not the finding's resource: the key is.
  sourceIdentifier: (finding) =>
    finding.source === 'guardduty' ? undefined : finding.secret.secretId,
  async decide(finding, deps): Promise<Decision> {
    const { config } = deps;
    const resolution = await resolveSecret(finding, deps.secretsManager, finding.account);
    const { secret } = resolution;
    const claimed = { arn: secret.arn, subject: { secret } };
    if (resolution.status === 'refused') {
      return refuse(resolution.reason, claimed, finding.playbook);
    }
    const { refusal, approval } = protectionOf(secret.arn, resolution, config);
    if (refusal !== undefined) return refuse(refusal, claimed, finding.playbook);

    // Guards fail closed: an unread secret means no step runs unattended, and
    // with rotation unknown only locking (by a human's decision) is offered.
    const failClosedReason =
      resolution.status === 'unverified'
        ? `the secret could not be read: ${resolution.reason}`
        : undefined;
    const rotationEnabled = resolution.status === 'verified' ? secret.rotationEnabled : undefined;
    const plan = planPlaybook(
      finding.playbook,
      {
        ...(rotationEnabled === undefined
          ? { skip: { rotateSecret: ROTATION_UNKNOWN } }
          : rotationEnabled
            ? { fallback: { lockSecret: ROTATION_CONFIGURED } }
            : { inapplicable: { rotateSecret: ROTATION_NOT_CONFIGURED } }),
        failClosedReason,
        humanReason: approval,
      },
      config,
    );
    return {
      decision: 'PROCEED',
      reason: proceedReason(failClosedReason ?? approval),
      arn: secret.arn,
      plan,
      secret,
    };
  },
};

import 'aws-sdk-client-mock-vitest/extend';
import {
  DescribeSecretCommand,
  GetSecretValueCommand,
  ListSecretVersionIdsCommand,
  RotateSecretCommand,
  SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import {
  POLL_DELAYS_MS,
  rotateSecret,
} from '../../../../functions/actions/rotate-secret/containment.js';
import { INTENT } from '../../../../functions/shared/intents.js';
import {
  ACTOR,
  APPROVALS,
  actionInput,
  approved,
  awsError,
  fakeLedger,
  SECRET_ARN,
  SECRET_NAME,
  secretIncident,
} from '../../shared/containment-fixtures.js';

const STEP = 'rotateSecret';
const BEFORE_FINDING = new Date('2026-02-01T00:00:00.000Z');
const AFTER_FINDING = new Date('2026-03-01T10:03:00.000Z');
const secretsMock = mockClient(SecretsManagerClient);
const secrets = new SecretsManagerClient({ region: 'us-east-1' });

interface Version {
  id: string;
  stages: string[];
  created: Date;
}

interface World {
  exists: boolean;
  deletedDate?: Date;
  rotationEnabled: boolean;
  lastRotated?: Date;
  versions: Version[];
  /** DescribeSecret calls after RotateSecret before the new version becomes AWSCURRENT. */
  finishAfterDescribes: number;
  describesSinceRotate: number;
}

/** Secrets Manager holding one secret whose rotation function finishes after a few polls. */
function secretsWith(world: World): World {
  const promotePending = () => {
    const pending = world.versions.find((v) => v.stages.includes('AWSPENDING'));
    if (!pending) return;
    for (const v of world.versions) v.stages = v.stages.filter((s) => s !== 'AWSCURRENT');
    pending.stages = ['AWSCURRENT'];
  };
  secretsMock.on(DescribeSecretCommand).callsFake(() => {
    if (!world.exists) throw awsError('ResourceNotFoundException');
    world.describesSinceRotate += 1;
    if (world.describesSinceRotate > world.finishAfterDescribes) promotePending();
    return {
      ARN: SECRET_ARN,
      Name: SECRET_NAME,
      RotationEnabled: world.rotationEnabled,
      LastRotatedDate: world.lastRotated,
      DeletedDate: world.deletedDate,
      VersionIdsToStages: Object.fromEntries(world.versions.map((v) => [v.id, [...v.stages]])),
    };
  });
  secretsMock.on(ListSecretVersionIdsCommand).callsFake(() => ({
    Versions: world.versions.map((v) => ({
      VersionId: v.id,
      VersionStages: [...v.stages],
      CreatedDate: v.created,
    })),
  }));
  secretsMock.on(RotateSecretCommand).callsFake(() => {
    world.describesSinceRotate = 0;
    world.versions.push({ id: 'v2', stages: ['AWSPENDING'], created: AFTER_FINDING });
    return { ARN: SECRET_ARN, VersionId: 'v2' };
  });
  return world;
}

const exposed = (overrides: Partial<World> = {}): World => ({
  exists: true,
  rotationEnabled: true,
  versions: [{ id: 'v1', stages: ['AWSCURRENT'], created: BEFORE_FINDING }],
  finishAfterDescribes: 1,
  describesSinceRotate: 0,
  ...overrides,
});

/** What the ledger records for `exposed()` before any change. */
const EXPOSED_STATE = {
  rotationEnabled: true,
  currentVersionId: 'v1',
  currentVersionCreatedDate: BEFORE_FINDING.toISOString(),
  pendingVersionId: null,
  lastRotatedDate: null,
};

const invalidRequest = (message: string): Error =>
  Object.assign(new Error(message), {
    name: 'InvalidRequestException',
    $metadata: { httpStatusCode: 400 },
  });

describe('rotate-secret', () => {
  let fake: ReturnType<typeof fakeLedger>;
  let slept: number[];
  beforeEach(() => {
    secretsMock.reset();
    fake = fakeLedger();
    slept = [];
  });
  const deps = () => ({
    secrets,
    ledger: fake.ledger,
    actor: ACTOR,
    approvals: APPROVALS,
    sleep: async (ms: number) => {
      slept.push(ms);
    },
  });
  const input = (mode: 'auto' | 'dry-run' | 'approve' = 'auto') =>
    actionInput(STEP, { incident: secretIncident(), mode });

  it('rotates the secret now and returns CONTAINED once a new version is AWSCURRENT', async () => {
    // Arrange
    secretsWith(exposed({ finishAfterDescribes: 1 }));
    // Act
    const result = await rotateSecret(input(), deps());
    // Assert
    expect(result).toEqual({
      step: STEP,
      action: 'rotate-secret',
      outcome: 'CONTAINED',
      mode: 'auto',
      targetArn: SECRET_ARN,
      summary: `rotate secret ${SECRET_NAME} now with its rotation function and check that a new version replaced AWSCURRENT v1`,
    });
    expect(secretsMock).toHaveReceivedCommandTimes(RotateSecretCommand, 1);
    expect(secretsMock).toHaveReceivedCommandWith(RotateSecretCommand, {
      SecretId: SECRET_ARN,
      RotateImmediately: true,
    });
  });

  it('verifies the rotation by polling DescribeSecret with growing waits', async () => {
    // Arrange
    secretsWith(exposed({ finishAfterDescribes: 3 }));
    // Act
    const result = await rotateSecret(input(), deps());
    // Assert
    expect(result.outcome).toBe('CONTAINED');
    expect(slept).toEqual([1000, 2000, 3000, 3000]);
  });

  it('records the AWSCURRENT version ids before and after, never a value', async () => {
    // Arrange
    secretsWith(exposed());
    // Act
    await rotateSecret(input(), deps());
    // Assert
    expect(fake.entries()).toEqual([
      expect.objectContaining({
        outcome: INTENT,
        summary: `about to rotate secret ${SECRET_NAME} now with its rotation function and check that a new version replaced AWSCURRENT v1`,
        before: EXPOSED_STATE,
      }),
      expect.objectContaining({
        outcome: 'CONTAINED',
        before: EXPOSED_STATE,
        after: expect.objectContaining({
          currentVersionId: 'v2',
          currentVersionCreatedDate: AFTER_FINDING.toISOString(),
          pendingVersionId: null,
        }),
      }),
    ]);
  });

  it('sends only DescribeSecret, ListSecretVersionIds and RotateSecret: never GetSecretValue', async () => {
    // Arrange
    secretsWith(exposed());
    // Act
    await rotateSecret(input(), deps());
    // Assert
    const sent = new Set(secretsMock.calls().map((call) => call.args[0].constructor.name));
    expect([...sent].sort()).toEqual([
      'DescribeSecretCommand',
      'ListSecretVersionIdsCommand',
      'RotateSecretCommand',
    ]);
    expect(secretsMock).not.toHaveReceivedCommand(GetSecretValueCommand);
    expect(JSON.stringify(fake.entries())).not.toMatch(/SecretString|SecretBinary/);
  });

  it('fails with retryable Cordon.RotationPending when no new version is AWSCURRENT within the bound', async () => {
    // Arrange
    secretsWith(exposed({ finishAfterDescribes: Number.POSITIVE_INFINITY }));
    // Act
    const attempt = rotateSecret(input(), deps());
    // Assert
    await expect(attempt).rejects.toMatchObject({
      name: 'Cordon.RotationPending',
      retryable: true,
    });
    expect(slept).toEqual([...POLL_DELAYS_MS]);
    expect(slept.reduce((a, b) => a + b, 0)).toBeLessThanOrEqual(25_000);
    // Only the intent: a retryable failure leaves the step open for the retry.
    expect(fake.entries()).toEqual([
      expect.objectContaining({ outcome: INTENT, before: EXPOSED_STATE }),
    ]);
  });

  it('converges on retry after Cordon.RotationPending without starting a second rotation', async () => {
    // Arrange
    const world = secretsWith(exposed({ finishAfterDescribes: Number.POSITIVE_INFINITY }));
    await expect(rotateSecret(input(), deps())).rejects.toMatchObject({
      name: 'Cordon.RotationPending',
    });
    // The rotation is still running when the retry reads, and finishes while it polls.
    world.finishAfterDescribes = 2;
    world.describesSinceRotate = 0;
    // Act
    const result = await rotateSecret(input(), deps());
    // Assert
    expect(result.outcome).toBe('CONTAINED');
    expect(result.summary).toContain('already in progress (pending version v2)');
    expect(secretsMock).toHaveReceivedCommandTimes(RotateSecretCommand, 1);
  });

  it('polls without calling RotateSecret when a rotation is already in progress', async () => {
    // Arrange
    secretsWith(
      exposed({
        versions: [
          { id: 'v1', stages: ['AWSCURRENT'], created: BEFORE_FINDING },
          { id: 'v2', stages: ['AWSPENDING'], created: AFTER_FINDING },
        ],
      }),
    );
    // Act
    const result = await rotateSecret(input(), deps());
    // Assert
    expect(result.outcome).toBe('CONTAINED');
    expect(secretsMock).not.toHaveReceivedCommand(RotateSecretCommand);
  });

  it('treats RotateSecret’s "previous rotation isn’t complete" as progress and keeps polling', async () => {
    // Arrange
    const world = secretsWith(exposed());
    secretsMock.on(RotateSecretCommand).callsFake(() => {
      // A rotation started between our read and our call.
      world.versions.push({ id: 'v3', stages: ['AWSPENDING'], created: AFTER_FINDING });
      throw invalidRequest(
        "A previous rotation isn't complete. That rotation will be reattempted.",
      );
    });
    // Act
    const result = await rotateSecret(input(), deps());
    // Assert
    expect(result.outcome).toBe('CONTAINED');
    expect(fake.entries().map((e) => e.outcome)).toEqual([INTENT, 'CONTAINED']);
    expect(fake.entries()[1]?.after).toMatchObject({ currentVersionId: 'v3' });
  });

  it('treats another InvalidRequestException as a failure', async () => {
    // Arrange
    secretsWith(exposed());
    secretsMock
      .on(RotateSecretCommand)
      .rejects(invalidRequest('The secret is managed by another service.'));
    // Act
    const attempt = rotateSecret(input(), deps());
    // Assert
    await expect(attempt).rejects.toMatchObject({ name: 'Cordon.UnexpectedAwsError' });
    expect(fake.entries().map((e) => e.outcome)).toEqual([INTENT, 'FAILED']);
    expect(slept).toEqual([]);
  });

  it('fails with Cordon.RotationNotConfigured and calls no RotateSecret when the secret has no rotation', async () => {
    // Arrange
    secretsWith(exposed({ rotationEnabled: false }));
    // Act
    const attempt = rotateSecret(input(), deps());
    // Assert
    await expect(attempt).rejects.toMatchObject({
      name: 'Cordon.RotationNotConfigured',
      retryable: false,
      message: expect.stringContaining('rotation is not configured'),
    });
    expect(secretsMock).not.toHaveReceivedCommand(RotateSecretCommand);
    // Refused before any change: no intent is left open for a rollback to list.
    expect(fake.entries()).toEqual([expect.objectContaining({ outcome: 'FAILED' })]);
  });

  it('rotates on a re-run once the owner configured rotation, saying what this run did', async () => {
    // Arrange: the first run refused (no rotation configured); the owner then set it up.
    const world = secretsWith(exposed({ rotationEnabled: false }));
    await expect(rotateSecret(input(), deps())).rejects.toMatchObject({
      name: 'Cordon.RotationNotConfigured',
    });
    world.rotationEnabled = true;
    // Act
    const result = await rotateSecret(input(), deps());
    // Assert
    expect(result.outcome).toBe('CONTAINED');
    expect(result.summary).toMatch(
      /^rotate secret prod\/payments\/db now with its rotation function/,
    );
    expect(secretsMock).toHaveReceivedCommandTimes(RotateSecretCommand, 1);
    const entries = fake.entries();
    // The refusal changed nothing and left no intent: this run's is the first.
    expect(entries.map((e) => e.outcome)).toEqual(['FAILED', INTENT, 'CONTAINED']);
    expect(entries[1]?.before).toEqual(EXPOSED_STATE);
    expect(entries[2]?.before).toEqual(EXPOSED_STATE);
    expect(entries[2]?.after).toMatchObject({ currentVersionId: 'v2' });
  });

  it('returns ALREADY_CONTAINED when the AWSCURRENT version was created after the finding', async () => {
    // Arrange
    secretsWith(
      exposed({
        versions: [
          { id: 'v1', stages: ['AWSPREVIOUS'], created: BEFORE_FINDING },
          { id: 'v2', stages: ['AWSCURRENT'], created: AFTER_FINDING },
        ],
      }),
    );
    // Act
    const result = await rotateSecret(input(), deps());
    // Assert
    expect(result.outcome).toBe('ALREADY_CONTAINED');
    expect(secretsMock).not.toHaveReceivedCommand(RotateSecretCommand);
  });

  it('rotates when only LastRotatedDate is after the finding but AWSCURRENT is still the old version', async () => {
    // Arrange
    secretsWith(exposed({ lastRotated: AFTER_FINDING }));
    // Act
    const result = await rotateSecret(input(), deps());
    // Assert
    expect(result.outcome).toBe('CONTAINED');
    expect(secretsMock).toHaveReceivedCommandTimes(RotateSecretCommand, 1);
  });

  it('records DRY_RUN and makes no RotateSecret call in dry-run mode', async () => {
    // Arrange
    secretsWith(exposed());
    // Act
    const result = await rotateSecret(input('dry-run'), deps());
    // Assert
    expect(result.outcome).toBe('DRY_RUN');
    expect(result.summary).toMatch(/^would rotate secret /);
    expect(secretsMock).not.toHaveReceivedCommand(RotateSecretCommand);
  });

  it('fails with Cordon.ApprovalMissing and makes no AWS call in approve mode without an approval', async () => {
    // Arrange
    secretsWith(exposed());
    // Act
    const attempt = rotateSecret(input('approve'), deps());
    // Assert
    await expect(attempt).rejects.toMatchObject({ name: 'Cordon.ApprovalMissing' });
    expect(secretsMock).not.toHaveReceivedAnyCommand();
  });

  it('acts in approve mode with an approval for its step', async () => {
    // Arrange
    secretsWith(exposed());
    // Act
    const result = await rotateSecret(
      actionInput(STEP, { incident: secretIncident(), approval: approved(STEP) }),
      deps(),
    );
    // Assert
    expect(result).toMatchObject({ outcome: 'CONTAINED', mode: 'approve' });
  });

  it('returns TARGET_NOT_FOUND when the secret does not exist', async () => {
    // Arrange
    secretsWith(exposed({ exists: false }));
    // Act
    const result = await rotateSecret(input(), deps());
    // Assert
    expect(result.outcome).toBe('TARGET_NOT_FOUND');
    expect(fake.entries().map((e) => e.outcome)).toEqual(['TARGET_NOT_FOUND']);
  });

  it('returns TARGET_NOT_FOUND when the secret is scheduled for deletion', async () => {
    // Arrange
    secretsWith(exposed({ deletedDate: AFTER_FINDING }));
    // Act
    const result = await rotateSecret(input(), deps());
    // Assert
    expect(result.outcome).toBe('TARGET_NOT_FOUND');
    expect(secretsMock).not.toHaveReceivedCommand(RotateSecretCommand);
  });

  it('refuses a secret of another account with Cordon.InvalidTaskInput and makes no AWS call', async () => {
    // Arrange
    secretsWith(exposed());
    const foreign = secretIncident(
      {},
      { arn: 'arn:aws:secretsmanager:us-east-1:210987654321:secret:prod/payments/db-AbCdEf' },
    );
    // Act
    const attempt = rotateSecret(actionInput(STEP, { incident: foreign, mode: 'auto' }), deps());
    // Assert
    await expect(attempt).rejects.toMatchObject({ name: 'Cordon.InvalidTaskInput' });
    expect(secretsMock).not.toHaveReceivedAnyCommand();
  });

  it('surfaces throttling as retryable Cordon.Throttled without a ledger entry', async () => {
    // Arrange
    secretsWith(exposed());
    secretsMock.on(DescribeSecretCommand).rejects(awsError('ThrottlingException'));
    // Act
    const attempt = rotateSecret(input(), deps());
    // Assert
    await expect(attempt).rejects.toMatchObject({ name: 'Cordon.Throttled', retryable: true });
    expect(fake.entries()).toEqual([]);
  });

  it('records AccessDeniedException as a FAILED ledger entry and throws Cordon.AccessDenied', async () => {
    // Arrange
    secretsWith(exposed());
    secretsMock.on(RotateSecretCommand).rejects(awsError('AccessDeniedException', 400));
    // Act
    const attempt = rotateSecret(input(), deps());
    // Assert
    await expect(attempt).rejects.toMatchObject({ name: 'Cordon.AccessDenied', retryable: false });
    expect(fake.entries()).toEqual([
      expect.objectContaining({ outcome: INTENT, targetArn: SECRET_ARN, before: EXPOSED_STATE }),
      expect.objectContaining({
        outcome: 'FAILED',
        targetArn: SECRET_ARN,
        before: expect.objectContaining({ currentVersionId: 'v1' }),
      }),
    ]);
  });
});

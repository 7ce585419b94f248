/**
 * rotate-secret against a client mock of Secrets Manager that keeps version
 * labels as the service does: RotateSecret adds an AWSPENDING version, and
 * the "rotation function" finishes a few DescribeSecret calls later, moving
 * AWSCURRENT to it and AWSPREVIOUS to the version it replaced. `settle`
 * calls the action again after each Cordon.RotationPending, as the state
 * machine's retrier does (its waits are the state machine's, not tested here).
 */
import 'aws-sdk-client-mock-vitest/extend';
import {
  DescribeSecretCommand,
  GetSecretValueCommand,
  RotateSecretCommand,
  SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { rotateSecret } from '../../../../functions/actions/rotate-secret/containment.js';
import type { ActionInput, ActionResult } from '../../../../functions/shared/incident.js';
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
const secretsMock = mockClient(SecretsManagerClient);
const secrets = new SecretsManagerClient({ region: 'us-east-1' });

interface World {
  exists: boolean;
  deletedDate?: Date;
  rotationEnabled: boolean;
  /** Version id → labels, as DescribeSecret's VersionIdsToStages. */
  stages: Record<string, string[]>;
  /** DescribeSecret calls after RotateSecret before the rotation finishes (Infinity: it stalls). */
  finishAfterDescribes: number;
  describesSinceRotate: number;
  rotations: number;
}

/** Moves AWSCURRENT to `to`, and AWSPREVIOUS to the version it leaves, as Secrets Manager does. */
function moveCurrent(world: World, to: string): void {
  const from = Object.keys(world.stages).find((id) => world.stages[id]?.includes('AWSCURRENT'));
  for (const id of Object.keys(world.stages)) {
    world.stages[id] = (world.stages[id] ?? []).filter(
      (s) => s !== 'AWSPREVIOUS' && s !== 'AWSPENDING' && s !== 'AWSCURRENT',
    );
  }
  if (from !== undefined && from !== to) world.stages[from] = ['AWSPREVIOUS'];
  world.stages[to] = ['AWSCURRENT'];
}

function secretsWith(world: World): World {
  const finishPending = () => {
    const pending = Object.keys(world.stages).find((id) =>
      world.stages[id]?.includes('AWSPENDING'),
    );
    if (pending !== undefined) moveCurrent(world, pending);
  };
  secretsMock.on(DescribeSecretCommand).callsFake(() => {
    if (!world.exists) throw awsError('ResourceNotFoundException');
    world.describesSinceRotate += 1;
    if (world.describesSinceRotate > world.finishAfterDescribes) finishPending();
    return {
      ARN: SECRET_ARN,
      Name: SECRET_NAME,
      RotationEnabled: world.rotationEnabled,
      DeletedDate: world.deletedDate,
      VersionIdsToStages: Object.fromEntries(
        Object.entries(world.stages).map(([id, labels]) => [id, [...labels]]),
      ),
    };
  });
  secretsMock.on(RotateSecretCommand).callsFake(() => {
    world.rotations += 1;
    world.describesSinceRotate = 0;
    const id = `r${world.rotations}`;
    world.stages[id] = ['AWSPENDING'];
    return { ARN: SECRET_ARN, VersionId: id };
  });
  return world;
}

/** The secret as triage saw it: v1 (the exposed version) AWSCURRENT, v0 before it. */
const exposed = (overrides: Partial<World> = {}): World => ({
  exists: true,
  rotationEnabled: true,
  stages: { v0: ['AWSPREVIOUS'], v1: ['AWSCURRENT'] },
  finishAfterDescribes: 0,
  describesSinceRotate: 0,
  rotations: 0,
  ...overrides,
});

/** What the ledger records for `exposed()` before any change. */
const EXPOSED_STATE = {
  rotationEnabled: true,
  exposedVersionId: 'v1',
  exposedStages: ['AWSCURRENT'],
  currentVersionId: 'v1',
  previousVersionId: 'v0',
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
  beforeEach(() => {
    secretsMock.reset();
    fake = fakeLedger();
  });
  const deps = () => ({ secrets, ledger: fake.ledger, actor: ACTOR, approvals: APPROVALS });
  const input = (mode: 'auto' | 'dry-run' | 'approve' = 'auto') =>
    actionInput(STEP, { incident: secretIncident(), mode });

  /** Calls the action again after each Cordon.RotationPending, as the state machine's retrier does. */
  async function settle(
    attempt: ActionInput = input(),
    maxAttempts = 10,
  ): Promise<{ result: ActionResult; attempts: number }> {
    for (let attempts = 1; ; attempts += 1) {
      try {
        return { result: await rotateSecret(attempt, deps()), attempts };
      } catch (error) {
        const pending = error instanceof Error && error.name === 'Cordon.RotationPending';
        if (!pending || attempts >= maxAttempts) throw error;
      }
    }
  }

  it('starts a rotation and fails with retryable Cordon.RotationPending while the exposed version is AWSCURRENT', async () => {
    // Arrange
    secretsWith(exposed({ finishAfterDescribes: Number.POSITIVE_INFINITY }));
    // Act
    const attempt = rotateSecret(input(), deps());
    // Assert
    await expect(attempt).rejects.toMatchObject({
      name: 'Cordon.RotationPending',
      retryable: true,
      message: expect.stringContaining(
        'version r1 is AWSPENDING (a rotation is running, or a failed one left it',
      ),
    });
    await expect(attempt).rejects.toThrow(
      'the exposed version v1 is still AWSCURRENT: its credential is valid',
    );
    expect(secretsMock).toHaveReceivedCommandTimes(RotateSecretCommand, 1);
    expect(secretsMock).toHaveReceivedCommandWith(RotateSecretCommand, {
      SecretId: SECRET_ARN,
      RotateImmediately: true,
    });
    // Only the intent: a retryable failure leaves the step open for the retry.
    expect(fake.entries()).toEqual([
      expect.objectContaining({ outcome: INTENT, before: EXPOSED_STATE }),
    ]);
  });

  it('rotates a second time when one rotation leaves the exposed version AWSPREVIOUS (alternating users keeps it valid)', async () => {
    // Arrange
    const world = secretsWith(exposed({ finishAfterDescribes: 1 }));
    // Act
    const { result } = await settle();
    // Assert
    expect(world.rotations).toBe(2);
    expect(world.stages).toEqual({ v0: [], v1: [], r1: ['AWSPREVIOUS'], r2: ['AWSCURRENT'] });
    expect(result).toMatchObject({ outcome: 'CONTAINED', targetArn: SECRET_ARN, mode: 'auto' });
    const entries = fake.entries();
    expect(entries.map((e) => e.outcome)).toEqual([INTENT, 'CONTAINED']);
    expect(entries[1]).toMatchObject({
      before: EXPOSED_STATE,
      after: {
        exposedVersionId: 'v1',
        exposedStages: [],
        currentVersionId: 'r2',
        previousVersionId: 'r1',
        pendingVersionId: null,
      },
    });
  });

  it('does not call it done after one rotation, though a new version is AWSCURRENT', async () => {
    // Arrange: the first rotation finishes; the second stalls.
    const world = secretsWith(exposed({ finishAfterDescribes: 1 }));
    secretsMock.on(RotateSecretCommand).callsFake(() => {
      world.rotations += 1;
      world.describesSinceRotate = 0;
      world.finishAfterDescribes = world.rotations === 1 ? 1 : Number.POSITIVE_INFINITY;
      world.stages[`r${world.rotations}`] = ['AWSPENDING'];
      return { VersionId: `r${world.rotations}` };
    });
    // Act
    const attempt = settle(input(), 10);
    // Assert
    await expect(attempt).rejects.toMatchObject({ name: 'Cordon.RotationPending' });
    await expect(attempt).rejects.toThrow(
      'the exposed version v1 is AWSPREVIOUS: with single-user rotation its credential was changed, but with alternating users it is still valid until one more rotation',
    );
    expect(world.stages.r1).toEqual(['AWSCURRENT']);
    expect(world.rotations).toBe(2);
    expect(fake.entries().map((e) => e.outcome)).toEqual([INTENT]);
  });

  it('never starts a rotation while one is running: a version AWSPENDING is only checked', async () => {
    // Arrange: a rotation Cordon did not start is running.
    secretsWith(
      exposed({
        stages: { v0: ['AWSPREVIOUS'], v1: ['AWSCURRENT'], other: ['AWSPENDING'] },
        finishAfterDescribes: Number.POSITIVE_INFINITY,
      }),
    );
    // Act
    const attempt = settle(input(), 5);
    // Assert
    await expect(attempt).rejects.toMatchObject({
      name: 'Cordon.RotationPending',
      message: expect.stringContaining('version other is AWSPENDING'),
    });
    expect(secretsMock).not.toHaveReceivedCommand(RotateSecretCommand);
  });

  it('starts at most one rotation per call', async () => {
    // Arrange: every rotation finishes at once.
    const world = secretsWith(exposed({ finishAfterDescribes: 0 }));
    // Act
    await expect(rotateSecret(input(), deps())).rejects.toMatchObject({
      name: 'Cordon.RotationPending',
    });
    // Assert: the first rotation finished at once, leaving v1 AWSPREVIOUS; the next call rotates again.
    expect(world.rotations).toBe(1);
    const { result } = await settle();
    expect(result.outcome).toBe('CONTAINED');
    expect(world.rotations).toBe(2);
  });

  it('rotates once more when a rotation since triage already made the exposed version AWSPREVIOUS', async () => {
    // Arrange: a scheduled rotation ran after triage read the secret.
    const world = secretsWith(
      exposed({ stages: { v0: [], v1: ['AWSPREVIOUS'], s1: ['AWSCURRENT'] } }),
    );
    // Act
    const { result, attempts } = await settle();
    // Assert
    expect(attempts).toBe(1);
    expect(result.outcome).toBe('CONTAINED');
    expect(world.rotations).toBe(1);
    expect(world.stages.v1).toEqual([]);
  });

  it('returns ALREADY_CONTAINED when the exposed version is neither AWSCURRENT nor AWSPREVIOUS', async () => {
    // Arrange
    secretsWith(exposed({ stages: { v1: [], s1: ['AWSPREVIOUS'], s2: ['AWSCURRENT'] } }));
    // Act
    const result = await rotateSecret(input(), deps());
    // Assert
    expect(result.outcome).toBe('ALREADY_CONTAINED');
    expect(secretsMock).not.toHaveReceivedCommand(RotateSecretCommand);
  });

  it('does not take a new AWSCURRENT for a rotation: a value put back on the exposed version keeps it rotating', async () => {
    // Arrange: the contained principal (secretsmanager:UpdateSecretVersionStage
    // on the secret) moves AWSCURRENT back to the exposed version after each
    // rotation, so applications read the exposed value again.
    const world = secretsWith(exposed({ finishAfterDescribes: 0 }));
    secretsMock.on(RotateSecretCommand).callsFake(() => {
      world.rotations += 1;
      world.stages[`r${world.rotations}`] = ['AWSPENDING'];
      moveCurrent(world, `r${world.rotations}`);
      moveCurrent(world, 'v1');
      return { VersionId: `r${world.rotations}` };
    });
    // Act
    const attempt = settle(input(), 6);
    // Assert: never CONTAINED; the state machine's checks run out and the lock is offered.
    await expect(attempt).rejects.toMatchObject({
      name: 'Cordon.RotationPending',
      message: expect.stringContaining('the exposed version v1 is still AWSCURRENT'),
    });
    expect(world.rotations).toBe(6);
    expect(fake.entries().map((e) => e.outcome)).toEqual([INTENT]);
  });

  it('sends only DescribeSecret and RotateSecret: never GetSecretValue, never a value in the ledger', async () => {
    // Arrange
    secretsWith(exposed({ finishAfterDescribes: 1 }));
    // Act
    await settle();
    // Assert
    const sent = new Set(secretsMock.calls().map((call) => call.args[0].constructor.name));
    expect([...sent].sort()).toEqual(['DescribeSecretCommand', 'RotateSecretCommand']);
    expect(secretsMock).not.toHaveReceivedCommand(GetSecretValueCommand);
    expect(JSON.stringify(fake.entries())).not.toMatch(/SecretString|SecretBinary/);
  });

  it('treats RotateSecret’s "previous rotation isn’t complete" as progress', async () => {
    // Arrange
    const world = secretsWith(exposed({ finishAfterDescribes: Number.POSITIVE_INFINITY }));
    secretsMock.on(RotateSecretCommand).callsFake(() => {
      // A rotation started between our read and our call.
      world.stages.x = ['AWSPENDING'];
      throw invalidRequest(
        "A previous rotation isn't complete. That rotation will be reattempted.",
      );
    });
    // Act
    const attempt = rotateSecret(input(), deps());
    // Assert
    await expect(attempt).rejects.toMatchObject({ name: 'Cordon.RotationPending' });
    expect(fake.entries().map((e) => e.outcome)).toEqual([INTENT]);
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

  it.each([
    ['null (the secret had no AWSCURRENT version)', null],
    ['absent (triaged before it was recorded)', undefined],
  ])(
    'fails with Cordon.ExposedVersionUnknown and rotates nothing when the exposed version is %s',
    async (_label, exposedVersionId) => {
      // Arrange
      secretsWith(exposed());
      const incident = secretIncident({}, { exposedVersionId });
      if (exposedVersionId === undefined && incident.secret)
        delete incident.secret.exposedVersionId;
      // Act
      const attempt = rotateSecret(actionInput(STEP, { incident, mode: 'auto' }), deps());
      // Assert
      await expect(attempt).rejects.toMatchObject({
        name: 'Cordon.ExposedVersionUnknown',
        retryable: false,
      });
      expect(secretsMock).not.toHaveReceivedCommand(RotateSecretCommand);
      expect(fake.entries().map((e) => e.outcome)).toEqual(['FAILED']);
    },
  );

  it('records DRY_RUN and makes no RotateSecret call in dry-run mode', async () => {
    // Arrange
    secretsWith(exposed());
    // Act
    const result = await rotateSecret(input('dry-run'), deps());
    // Assert
    expect(result.outcome).toBe('DRY_RUN');
    expect(result.summary).toBe(
      `would rotate secret ${SECRET_NAME} with its rotation function until the exposed version v1 is neither AWSCURRENT nor AWSPREVIOUS (now AWSCURRENT)`,
    );
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
    secretsWith(exposed({ finishAfterDescribes: 1 }));
    // Act
    const { result } = await settle(
      actionInput(STEP, { incident: secretIncident(), approval: approved(STEP) }),
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
    secretsWith(exposed({ deletedDate: new Date('2026-03-01T10:03:00.000Z') }));
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
      expect.objectContaining({ outcome: 'FAILED', targetArn: SECRET_ARN, before: EXPOSED_STATE }),
    ]);
  });
});

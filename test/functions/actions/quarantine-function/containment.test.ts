import 'aws-sdk-client-mock-vitest/extend';
import {
  GetFunctionCommand,
  GetFunctionConcurrencyCommand,
  LambdaClient,
  PutFunctionConcurrencyCommand,
} from '@aws-sdk/client-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { quarantineFunction } from '../../../../functions/actions/quarantine-function/containment.js';
import { INTENT } from '../../../../functions/shared/intents.js';
import {
  ACTOR,
  APPROVALS,
  actionInput,
  approved,
  awsError,
  FUNCTION_ARN,
  FUNCTION_NAME,
  fakeLedger,
  lambdaIncident,
} from '../../shared/containment-fixtures.js';

const STEP = 'stopInvocations';
const lambdaMock = mockClient(LambdaClient);
const lambda = new LambdaClient({ region: 'us-east-1' });

interface World {
  exists: boolean;
  reserved: number | undefined;
}

/** Lambda holding the function with, maybe, a reserved concurrency. */
function lambdaWith(world: World): World {
  lambdaMock.on(GetFunctionConcurrencyCommand).callsFake(() => {
    if (!world.exists) throw awsError('ResourceNotFoundException', 404);
    return { ReservedConcurrentExecutions: world.reserved };
  });
  lambdaMock
    .on(PutFunctionConcurrencyCommand)
    .callsFake((input: { ReservedConcurrentExecutions: number }) => {
      if (!world.exists) throw awsError('ResourceNotFoundException', 404);
      world.reserved = input.ReservedConcurrentExecutions;
      return { ReservedConcurrentExecutions: input.ReservedConcurrentExecutions };
    });
  return world;
}

describe('quarantine-function', () => {
  let fake: ReturnType<typeof fakeLedger>;
  beforeEach(() => {
    lambdaMock.reset();
    fake = fakeLedger();
  });
  const deps = () => ({ lambda, ledger: fake.ledger, actor: ACTOR, approvals: APPROVALS });
  const input = (mode: 'auto' | 'dry-run' | 'approve' = 'auto') =>
    actionInput(STEP, { incident: lambdaIncident(), mode });

  it('sets the reserved concurrency to 0 so no new invocation starts', async () => {
    // Arrange
    const world = lambdaWith({ exists: true, reserved: 50 });
    // Act
    const result = await quarantineFunction(input(), deps());
    // Assert
    expect(result).toEqual({
      step: STEP,
      action: 'quarantine-function',
      outcome: 'CONTAINED',
      mode: 'auto',
      targetArn: FUNCTION_ARN,
      summary: `set the reserved concurrency of function ${FUNCTION_NAME} to 0 (was reserved 50): no new invocation starts, running ones finish`,
    });
    expect(lambdaMock).toHaveReceivedCommandWith(PutFunctionConcurrencyCommand, {
      FunctionName: FUNCTION_ARN,
      ReservedConcurrentExecutions: 0,
    });
    expect(world.reserved).toBe(0);
  });

  it("records 'unreserved' before for a function without a reservation, for a rollback", async () => {
    // Arrange
    lambdaWith({ exists: true, reserved: undefined });
    // Act
    await quarantineFunction(input(), deps());
    // Assert
    expect(fake.entries()).toEqual([
      expect.objectContaining({
        outcome: INTENT,
        actor: ACTOR,
        summary: `about to set the reserved concurrency of function ${FUNCTION_NAME} to 0 (was unreserved): no new invocation starts, running ones finish`,
        before: { reservedConcurrency: 'unreserved' },
      }),
      expect.objectContaining({
        outcome: 'CONTAINED',
        actor: ACTOR,
        before: { reservedConcurrency: 'unreserved' },
        after: { reservedConcurrency: 0 },
      }),
    ]);
    expect(fake.entries()[0]).not.toHaveProperty('after');
  });

  it('acts on the unqualified function when the finding names a version or alias', async () => {
    // Arrange
    lambdaWith({ exists: true, reserved: 5 });
    const incident = lambdaIncident({}, { arn: `${FUNCTION_ARN}:live` });
    // Act
    await quarantineFunction(actionInput(STEP, { incident, mode: 'auto' }), deps());
    // Assert
    expect(lambdaMock).toHaveReceivedCommandWith(PutFunctionConcurrencyCommand, {
      FunctionName: FUNCTION_ARN,
    });
  });

  it('reads with GetFunctionConcurrency only: never GetFunction, which returns environment variables', async () => {
    // Arrange
    lambdaWith({ exists: true, reserved: undefined });
    // Act
    await quarantineFunction(input(), deps());
    // Assert
    expect(lambdaMock).not.toHaveReceivedCommand(GetFunctionCommand);
  });

  it('returns ALREADY_CONTAINED and makes no Put call when the reserved concurrency is 0', async () => {
    // Arrange
    lambdaWith({ exists: true, reserved: 0 });
    // Act
    const result = await quarantineFunction(input(), deps());
    // Assert
    expect(result.outcome).toBe('ALREADY_CONTAINED');
    expect(lambdaMock).not.toHaveReceivedCommand(PutFunctionConcurrencyCommand);
    expect(fake.entries().map((e) => e.outcome)).toEqual(['ALREADY_CONTAINED']);
  });

  it('records DRY_RUN and makes no Put call in dry-run mode', async () => {
    // Arrange
    lambdaWith({ exists: true, reserved: 10 });
    // Act
    const result = await quarantineFunction(input('dry-run'), deps());
    // Assert
    expect(result.outcome).toBe('DRY_RUN');
    expect(fake.entries().map((e) => e.outcome)).toEqual(['DRY_RUN']);
    expect(fake.entries()[0]?.before).toEqual({ reservedConcurrency: 10 });
    expect(lambdaMock).not.toHaveReceivedCommand(PutFunctionConcurrencyCommand);
  });

  it('fails with Cordon.ApprovalMissing and makes no AWS call in approve mode without an approval', async () => {
    // Arrange
    lambdaWith({ exists: true, reserved: 10 });
    // Act
    const attempt = quarantineFunction(input('approve'), deps());
    // Assert
    await expect(attempt).rejects.toMatchObject({ name: 'Cordon.ApprovalMissing' });
    expect(lambdaMock).not.toHaveReceivedAnyCommand();
  });

  it('acts in approve mode with an approval for its step', async () => {
    // Arrange
    lambdaWith({ exists: true, reserved: 10 });
    // Act
    const result = await quarantineFunction(
      actionInput(STEP, { incident: lambdaIncident(), approval: approved(STEP) }),
      deps(),
    );
    // Assert
    expect(result).toMatchObject({ outcome: 'CONTAINED', mode: 'approve' });
  });

  it('returns TARGET_NOT_FOUND when the function does not exist', async () => {
    // Arrange
    lambdaWith({ exists: false, reserved: undefined });
    // Act
    const result = await quarantineFunction(input(), deps());
    // Assert
    expect(result.outcome).toBe('TARGET_NOT_FOUND');
    expect(lambdaMock).not.toHaveReceivedCommand(PutFunctionConcurrencyCommand);
    expect(fake.entries().map((e) => e.outcome)).toEqual(['TARGET_NOT_FOUND']);
  });

  it('returns TARGET_NOT_FOUND when the function is deleted mid-run', async () => {
    // Arrange
    const world = lambdaWith({ exists: true, reserved: 10 });
    lambdaMock.on(PutFunctionConcurrencyCommand).callsFake(() => {
      world.exists = false;
      throw awsError('ResourceNotFoundException', 404);
    });
    // Act
    const result = await quarantineFunction(input(), deps());
    // Assert
    expect(result.outcome).toBe('TARGET_NOT_FOUND');
    expect(fake.entries().map((e) => e.outcome)).toEqual([INTENT, 'TARGET_NOT_FOUND']);
    const [intent, notFound] = fake.entries();
    expect(notFound?.before).toEqual({ reservedConcurrency: 10 });
    expect(intent?.before).toEqual(notFound?.before);
  });

  it('refuses a function of another account with Cordon.InvalidTaskInput and makes no AWS call', async () => {
    // Arrange
    lambdaWith({ exists: true, reserved: 10 });
    const incident = lambdaIncident(
      {},
      { arn: `arn:aws:lambda:us-east-1:210987654321:function:${FUNCTION_NAME}` },
    );
    // Act
    const attempt = quarantineFunction(actionInput(STEP, { incident, mode: 'auto' }), deps());
    // Assert
    await expect(attempt).rejects.toMatchObject({ name: 'Cordon.InvalidTaskInput' });
    expect(lambdaMock).not.toHaveReceivedAnyCommand();
  });

  it('surfaces throttling as retryable Cordon.Throttled without a ledger entry', async () => {
    // Arrange
    lambdaWith({ exists: true, reserved: 10 });
    lambdaMock.on(GetFunctionConcurrencyCommand).rejects(awsError('TooManyRequestsException', 429));
    // Act
    const attempt = quarantineFunction(input(), deps());
    // Assert
    await expect(attempt).rejects.toMatchObject({ name: 'Cordon.Throttled', retryable: true });
    expect(fake.entries()).toEqual([]);
  });

  it('records AccessDeniedException as a FAILED ledger entry and throws Cordon.AccessDenied', async () => {
    // Arrange
    lambdaWith({ exists: true, reserved: 10 });
    lambdaMock.on(PutFunctionConcurrencyCommand).rejects(awsError('AccessDeniedException', 403));
    // Act
    const attempt = quarantineFunction(input(), deps());
    // Assert
    await expect(attempt).rejects.toMatchObject({ name: 'Cordon.AccessDenied', retryable: false });
    expect(fake.entries()).toEqual([
      expect.objectContaining({
        outcome: INTENT,
        targetArn: FUNCTION_ARN,
        before: { reservedConcurrency: 10 },
      }),
      expect.objectContaining({
        outcome: 'FAILED',
        targetArn: FUNCTION_ARN,
        before: { reservedConcurrency: 10 },
      }),
    ]);
  });
});

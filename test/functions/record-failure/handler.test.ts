import type { Context } from 'aws-lambda';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { ENV } from '../../../functions/shared/runtime-config.js';

const context: Context = {
  callbackWaitsForEmptyEventLoop: false,
  functionName: 'cordon-record-failure',
  functionVersion: '$LATEST',
  invokedFunctionArn: 'arn:aws:lambda:us-east-1:123456789012:function:cordon-record-failure',
  memoryLimitInMB: '256',
  awsRequestId: 'req-1',
  logGroupName: '/aws/lambda/cordon-record-failure',
  logStreamName: 'stream',
  getRemainingTimeInMillis: () => 30_000,
  done: () => undefined,
  fail: () => undefined,
  succeed: () => undefined,
};

function stubEnv(action = 'record-failure'): void {
  vi.stubEnv(ENV.action, action);
  vi.stubEnv(ENV.actor, 'arn:aws:iam::123456789012:role/cordon/cordon-record-failure');
  vi.stubEnv(ENV.ledgerTable, 'cordon-ledger');
}

const load = () => import('../../../functions/record-failure/handler.js');

describe('record-failure handler', () => {
  afterEach(() => {
    vi.unstubAllEnvs();
    vi.resetModules();
  });

  it('fails at cold start when the ledger table is not configured', async () => {
    // Arrange
    stubEnv();
    vi.stubEnv(ENV.ledgerTable, '');
    // Act
    const attempt = load();
    // Assert
    await expect(attempt).rejects.toMatchObject({ name: 'Cordon.ConfigError' });
  });

  it('fails at cold start when deployed as another action', async () => {
    // Arrange
    stubEnv('triage');
    // Act
    const attempt = load();
    // Assert
    await expect(attempt).rejects.toMatchObject({ name: 'Cordon.ConfigError' });
  });

  it('fails with Cordon.InvalidTaskInput for input that breaks its contract', async () => {
    // Arrange
    stubEnv();
    const { handler } = await load();
    // Act
    const attempt = handler({ unexpected: true }, context);
    // Assert
    await expect(attempt).rejects.toMatchObject({ name: 'Cordon.InvalidTaskInput' });
  });
});

import type { Context } from 'aws-lambda';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { ENV } from '../../../functions/shared/runtime-config.js';

const context: Context = {
  callbackWaitsForEmptyEventLoop: false,
  functionName: 'cordon-disable-access-key',
  functionVersion: '$LATEST',
  invokedFunctionArn: 'arn:aws:lambda:us-east-1:123456789012:function:cordon-disable-access-key',
  memoryLimitInMB: '256',
  awsRequestId: 'req-1',
  logGroupName: '/aws/lambda/cordon-disable-access-key',
  logStreamName: 'stream',
  getRemainingTimeInMillis: () => 30_000,
  done: () => undefined,
  fail: () => undefined,
  succeed: () => undefined,
};

function stubEnv(action = 'disable-access-key'): void {
  vi.stubEnv(ENV.action, action);
  vi.stubEnv(ENV.actor, 'arn:aws:iam::123456789012:role/cordon/cordon-disable-access-key');
  vi.stubEnv(ENV.ledgerTable, 'cordon-ledger');
}

const load = () => import('../../../functions/disable-access-key/handler.js');

describe('disable-access-key handler', () => {
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

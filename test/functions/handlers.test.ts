import type { Context } from 'aws-lambda';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { ActionName } from '../../functions/shared/catalog.js';
import { ENV } from '../../functions/shared/runtime-config.js';

/**
 * The contract every task handler shares: it fails its cold start when it is
 * deployed as another action or misses configuration (not halfway through a
 * containment), and it refuses task input that breaks its strict schema.
 * Triage takes raw events and has its own handler test; the approval
 * function serves HTTP requests and is tested at the end.
 */

type Handler = (event: unknown, context: Context) => Promise<unknown>;

const HANDLERS: Record<
  Exclude<ActionName, 'triage' | 'approval'>,
  () => Promise<{ handler: Handler }>
> = {
  'disable-access-key': () => import('../../functions/disable-access-key/handler.js'),
  'revoke-sessions': () => import('../../functions/revoke-sessions/handler.js'),
  'quarantine-user': () => import('../../functions/quarantine-user/handler.js'),
  'update-finding': () => import('../../functions/update-finding/handler.js'),
  notify: () => import('../../functions/notify/handler.js'),
  'record-failure': () => import('../../functions/record-failure/handler.js'),
  'request-approval': () => import('../../functions/request-approval/handler.js'),
  'preserve-evidence': () => import('../../functions/preserve-evidence/handler.js'),
  'detach-from-asg': () => import('../../functions/detach-from-asg/handler.js'),
  'isolate-network': () => import('../../functions/isolate-network/handler.js'),
  'detach-instance-profile': () => import('../../functions/detach-instance-profile/handler.js'),
  'rotate-secret': () => import('../../functions/rotate-secret/handler.js'),
  'lock-secret': () => import('../../functions/lock-secret/handler.js'),
  'quarantine-function': () => import('../../functions/quarantine-function/handler.js'),
  'block-public-access': () => import('../../functions/block-public-access/handler.js'),
  'rollback-plan': () => import('../../functions/rollback-plan/handler.js'),
  'rollback-access-key': () => import('../../functions/rollback-access-key/handler.js'),
  'rollback-session-revocation': () =>
    import('../../functions/rollback-session-revocation/handler.js'),
  'rollback-user-quarantine': () => import('../../functions/rollback-user-quarantine/handler.js'),
  'rollback-network-isolation': () =>
    import('../../functions/rollback-network-isolation/handler.js'),
  'rollback-instance-profile': () => import('../../functions/rollback-instance-profile/handler.js'),
  'rollback-asg-detach': () => import('../../functions/rollback-asg-detach/handler.js'),
  'rollback-secret-lock': () => import('../../functions/rollback-secret-lock/handler.js'),
  'rollback-function-quarantine': () =>
    import('../../functions/rollback-function-quarantine/handler.js'),
  'rollback-public-access': () => import('../../functions/rollback-public-access/handler.js'),
};

function context(action: string): Context {
  return {
    callbackWaitsForEmptyEventLoop: false,
    functionName: `cordon-${action}`,
    functionVersion: '$LATEST',
    invokedFunctionArn: `arn:aws:lambda:us-east-1:123456789012:function:cordon-${action}`,
    memoryLimitInMB: '256',
    awsRequestId: 'req-1',
    logGroupName: `/aws/lambda/cordon-${action}`,
    logStreamName: 'stream',
    getRemainingTimeInMillis: () => 30_000,
    done: () => undefined,
    fail: () => undefined,
    succeed: () => undefined,
  };
}

function stubEnv(action: string): void {
  vi.stubEnv(ENV.action, action);
  vi.stubEnv(ENV.actor, `arn:aws:iam::123456789012:role/cordon/cordon-${action}`);
  vi.stubEnv(ENV.ledgerTable, 'cordon-ledger');
  vi.stubEnv(ENV.topicArn, 'arn:aws:sns:us-east-1:123456789012:cordon');
  vi.stubEnv(ENV.breakGlass, '[]');
  vi.stubEnv(ENV.approvalsTable, 'cordon-approvals');
  vi.stubEnv(
    ENV.approvalSettings,
    JSON.stringify({ timeoutSeconds: 3600, twoPersonSteps: {}, endpointUrl: 'https://x.on.aws/' }),
  );
  vi.stubEnv(ENV.responders, '["arn:aws:iam::123456789012:role/Responder"]');
  vi.stubEnv(ENV.guardrailsTable, 'cordon-guardrails');
  vi.stubEnv(
    ENV.rollbackStateMachine,
    'arn:aws:states:us-east-1:123456789012:stateMachine:cordon-rollback',
  );
}

afterEach(() => {
  vi.unstubAllEnvs();
  vi.resetModules();
});

describe.each(Object.entries(HANDLERS))('%s handler', (action, load) => {
  it('fails at cold start when the ledger table is not configured', async () => {
    stubEnv(action);
    vi.stubEnv(ENV.ledgerTable, '');

    await expect(load()).rejects.toMatchObject({ name: 'Cordon.ConfigError' });
  });

  it('fails at cold start when deployed as another action', async () => {
    stubEnv(action === 'notify' ? 'record-failure' : 'notify');

    await expect(load()).rejects.toMatchObject({ name: 'Cordon.ConfigError' });
  });

  it('fails with Cordon.InvalidTaskInput for input that breaks its contract', async () => {
    stubEnv(action);
    const { handler } = await load();

    const attempt = handler({ unexpected: true }, context(action));

    await expect(attempt).rejects.toMatchObject({ name: 'Cordon.InvalidTaskInput' });
  });
});

describe('request-approval handler', () => {
  it('refuses to start when Powertools is told to log events, which would log the task token', async () => {
    stubEnv('request-approval');
    vi.stubEnv('POWERTOOLS_LOGGER_LOG_EVENT', 'true');

    await expect(HANDLERS['request-approval']()).rejects.toMatchObject({
      name: 'Cordon.ConfigError',
    });
  });
});

describe('request-approval handler settings', () => {
  it('fails at cold start without the approvals table', async () => {
    stubEnv('request-approval');
    vi.stubEnv(ENV.approvalsTable, '');

    await expect(HANDLERS['request-approval']()).rejects.toMatchObject({
      name: 'Cordon.ConfigError',
    });
  });

  it('fails at cold start when its approval settings are malformed', async () => {
    stubEnv('request-approval');
    vi.stubEnv(ENV.approvalSettings, '{"timeoutSeconds": -1}');

    await expect(HANDLERS['request-approval']()).rejects.toThrow();
  });
});

describe('approval handler', () => {
  const load = () => import('../../functions/approval/handler.js');

  it('fails at cold start without its responder list', async () => {
    stubEnv('approval');
    vi.stubEnv(ENV.responders, '');

    await expect(load()).rejects.toMatchObject({ name: 'Cordon.ConfigError' });
  });

  it('fails at cold start when deployed as another action', async () => {
    stubEnv('notify');

    await expect(load()).rejects.toMatchObject({ name: 'Cordon.ConfigError' });
  });

  it('fails at cold start without the rollback state machine it starts', async () => {
    stubEnv('approval');
    vi.stubEnv(ENV.rollbackStateMachine, '');

    await expect(load()).rejects.toMatchObject({ name: 'Cordon.ConfigError' });
  });

  it('answers 403 to a request that carries no signed caller, before reading anything', async () => {
    stubEnv('approval');
    const { handler } = await load();
    const event = {
      version: '2.0',
      rawPath: '/pending',
      rawQueryString: '',
      headers: {},
      requestContext: { http: { method: 'GET', path: '/pending' } },
      isBase64Encoded: false,
    };

    const result = await handler(event as never, context('approval'));

    expect(result.statusCode).toBe(403);
    expect(JSON.parse(String(result.body))).toMatchObject({ error: 'forbidden' });
  });
});

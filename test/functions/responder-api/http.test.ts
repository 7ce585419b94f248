import { Logger } from '@aws-lambda-powertools/logger';
import { describe, expect, it, vi } from 'vitest';
import { isResponder } from '../../../functions/responder-api/api.js';
import { responderApi, route } from '../../../functions/responder-api/http.js';
import { ThrottledError } from '../../../functions/shared/errors.js';
import { localApprovalKey } from '../../support/approval-key.js';
import { provenCallers } from '../../support/sts.js';
import { localTokens } from '../../support/token-seal.js';

const ROLE = 'arn:aws:iam::123456789012:role/teams/SecurityResponder';
const USER = 'arn:aws:iam::123456789012:user/ops/bob';
const ALICE = 'arn:aws:sts::123456789012:assumed-role/SecurityResponder/alice';
const callers = provenCallers({
  ASIAEXAMPLEALICE0001: {
    secretAccessKey: 'alice-secret',
    sessionToken: 'alice-token',
    arn: ALICE,
  },
});

describe('isResponder', () => {
  it.each([
    ['a session of a responder role (the session ARN drops the role path)', ALICE, true],
    ['a responder user, by exact ARN', USER, true],
    ['a user of the same name on another path', 'arn:aws:iam::123456789012:user/bob', false],
    [
      'a session of a same-named role in another account',
      'arn:aws:sts::210987654321:assumed-role/SecurityResponder/alice',
      false,
    ],
    [
      'a session of a same-named role in another partition',
      'arn:aws-cn:sts::123456789012:assumed-role/SecurityResponder/alice',
      false,
    ],
    [
      'a role whose name starts like a responder',
      'arn:aws:sts::123456789012:assumed-role/SecurityResponderX/alice',
      false,
    ],
    ['the account root', 'arn:aws:iam::123456789012:root', false],
    ['a federated user', 'arn:aws:sts::123456789012:federated-user/alice', false],
    ['an empty string', '', false],
  ])('%s: %s', (_label, caller, expected) => {
    expect(isResponder(caller, [ROLE, USER])).toBe(expected);
  });

  it('does not let a user name match a role of the same name', () => {
    const sameName = 'arn:aws:iam::123456789012:role/bob';
    expect(isResponder('arn:aws:iam::123456789012:user/bob', [sameName])).toBe(false);
  });
});

function harness(fail?: Error) {
  const store = {
    get: vi.fn(async () => undefined),
    ofIncident: vi.fn(async () => []),
    waiting: vi.fn(async () => {
      if (fail) throw fail;
      return [];
    }),
    addFirstApproval: vi.fn(async () => false),
    decide: vi.fn(async () => false),
    delivered: vi.fn(async () => undefined),
  };
  const ledger = { append: vi.fn(), appendOnce: vi.fn(), entries: vi.fn(async () => []) };
  const logger = new Logger({ logLevel: 'SILENT' });
  const service = responderApi({
    store,
    ledger,
    sfn: { send: vi.fn() },
    breaker: { state: vi.fn(), reset: vi.fn() },
    responders: [ROLE],
    logger,
    approvalKey: localApprovalKey(),
    tokens: localTokens(),
    rollbackStateMachineArn: 'arn:aws:states:us-east-1:123456789012:stateMachine:Cordon-rollback',
    now: () => new Date(),
    identify: callers.identify,
  });
  const call = async (method: 'GET' | 'POST', path: string, body?: unknown, raw?: string) => {
    const event = await callers.event('ASIAEXAMPLEALICE0001', {
      method,
      path,
      ...(body === undefined ? {} : { body }),
      ...(raw === undefined ? {} : { rawBody: raw }),
    });
    const result = await route(event, service, logger);
    return { status: result.statusCode, body: JSON.parse(String(result.body)), result };
  };
  return { call, store };
}

describe('route', () => {
  it('answers JSON that is never cached', async () => {
    const { call } = harness();

    const { result, body } = await call('GET', '/pending');

    expect(result.headers).toEqual({
      'content-type': 'application/json',
      'cache-control': 'no-store',
    });
    expect(body).toEqual({ pending: [] });
  });

  it('refuses a method a route does not take', async () => {
    const { call } = harness();

    const res = await call('GET', '/decisions');

    expect(res.status).toBe(405);
    expect(res.body).toEqual({ error: 'method_not_allowed', message: 'use POST, not GET' });
  });

  it('answers 404 for an unknown route', async () => {
    const { call } = harness();

    expect((await call('GET', '/tokens')).body.error).toBe('not_found');
  });

  it('refuses a body that is not JSON, and one over 16 KiB, before any read', async () => {
    const { call, store } = harness();

    const notJson = await call('POST', '/decisions', undefined, '{"incidentId":');
    const huge = await call('POST', '/decisions', undefined, `"${'x'.repeat(17 * 1024)}"`);

    expect(notJson.body).toEqual({ error: 'invalid_request', message: 'body is not JSON' });
    expect(huge.body.message).toBe('body larger than 16384 bytes');
    expect(store.get).not.toHaveBeenCalled();
  });

  it('refuses a decision without a reason, naming the field', async () => {
    const { call } = harness();

    const res = await call('POST', '/decisions', {
      incidentId: 'inc-0123456789abcdef0123',
      decision: 'approve',
      reason: '   ',
    });

    expect(res.body).toEqual({ error: 'invalid_request', message: 'reason: a reason is required' });
  });

  it('refuses a malformed incident id in a timeline path', async () => {
    const { call } = harness();

    expect((await call('GET', '/incidents/..%2F..%2Fetc')).status).toBe(400);
  });

  it('says to retry when AWS throttles, and gives no detail of an unexpected failure', async () => {
    const throttled = await harness(new ThrottledError('slow down')).call('GET', '/pending');
    const broken = await harness(new Error('secret internals')).call('GET', '/pending');

    expect(throttled.status).toBe(500);
    expect(throttled.body.message).toContain('run the same command again');
    expect(broken.body).toEqual({
      error: 'internal',
      message: 'the approval service failed; see its logs',
    });
  });
});

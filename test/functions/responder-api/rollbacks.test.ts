import { Logger } from '@aws-lambda-powertools/logger';
import { StartExecutionCommand } from '@aws-sdk/client-sfn';
import { describe, expect, it, vi } from 'vitest';
import { RollbackResponseSchema } from '../../../functions/responder-api/contract.js';
import { responderApi, route } from '../../../functions/responder-api/http.js';
import type { LedgerEntry } from '../../../functions/shared/ledger.js';
import { localApprovalKey } from '../../support/approval-key.js';
import { provenCallers } from '../../support/sts.js';
import { localTokens } from '../../support/token-seal.js';

/** POST /rollbacks: a responder starts the rollback state machine; the body names nobody. */

const ROLE = 'arn:aws:iam::123456789012:role/SecurityResponder';
const ALICE = 'arn:aws:sts::123456789012:assumed-role/SecurityResponder/alice';
const MALLORY = 'arn:aws:sts::123456789012:assumed-role/Developer/mallory';
const KEYS: Record<string, string> = {
  [ALICE]: 'ASIAEXAMPLEALICE0001',
  [MALLORY]: 'AKIAEXAMPLEMALLORY01',
};
const callers = provenCallers({
  ASIAEXAMPLEALICE0001: { secretAccessKey: 'alice-secret', arn: ALICE },
  AKIAEXAMPLEMALLORY01: { secretAccessKey: 'mallory-secret', arn: MALLORY },
});
const MACHINE = 'arn:aws:states:us-east-1:123456789012:stateMachine:Cordon-rollback';
const INCIDENT = 'inc-0123456789abcdef0123';
const NOW = new Date('2026-03-01T12:00:00.000Z');

function harness(entries: Partial<LedgerEntry>[] = [{ step: 'triage' }, { step: 'isolate' }]) {
  const send = vi.fn(async (_command: unknown) => ({
    executionArn: `${MACHINE.replace(':stateMachine:', ':execution:')}:run-1`,
  }));
  const ledger = {
    append: vi.fn(),
    appendOnce: vi.fn(),
    entries: vi.fn(async () => entries as LedgerEntry[]),
  };
  const logger = new Logger({ logLevel: 'SILENT' });
  const service = responderApi({
    store: {
      get: vi.fn(),
      ofIncident: vi.fn(),
      waiting: vi.fn(),
      addFirstApproval: vi.fn(),
      decide: vi.fn(),
      delivered: vi.fn(),
    },
    ledger,
    sfn: { send },
    breaker: { state: vi.fn(), reset: vi.fn() },
    responders: [ROLE],
    logger,
    approvalKey: localApprovalKey(),
    tokens: localTokens(),
    rollbackStateMachineArn: MACHINE,
    now: () => NOW,
    identify: callers.identify,
  });
  const post = async (body: unknown, callerArn = ALICE) => {
    const event = await callers.event(KEYS[callerArn] ?? '', {
      method: 'POST',
      path: '/rollbacks',
      body,
    });
    const result = await route(event, service, logger);
    return { status: result.statusCode, body: JSON.parse(String(result.body)) };
  };
  return { post, send, ledger };
}

const started = (send: ReturnType<typeof harness>['send']) =>
  send.mock.calls.map(([command]) => {
    if (!(command instanceof StartExecutionCommand)) throw new Error('not StartExecution');
    return { ...command.input, input: JSON.parse(command.input.input ?? 'null') };
  });

describe('POST /rollbacks', () => {
  it('starts the rollback state machine with the signed caller as requester, and answers the execution', async () => {
    const { post, send } = harness();

    const res = await post({ incidentId: INCIDENT, step: 'isolate', force: true, reason: ' fp ' });

    expect(res.status).toBe(200);
    expect(RollbackResponseSchema.parse(res.body)).toEqual({
      incidentId: INCIDENT,
      step: 'isolate',
      force: true,
      requestedBy: ALICE,
      executionArn: 'arn:aws:states:us-east-1:123456789012:execution:Cordon-rollback:run-1',
      startedAt: NOW.toISOString(),
      message: `rollback of step isolate of ${INCIDENT} started: it waits for a responder to approve exactly what it would restore (cordon pending)`,
    });
    expect(started(send)).toEqual([
      {
        stateMachineArn: MACHINE,
        name: expect.stringMatching(new RegExp(`^${INCIDENT}-${NOW.getTime()}-[0-9a-f]{8}$`)),
        input: {
          incidentId: INCIDENT,
          step: 'isolate',
          force: true,
          requestedBy: ALICE,
          reason: 'fp',
        },
      },
    ]);
  });

  it('defaults force to false and leaves the step out when none is named', async () => {
    const { post, send } = harness();

    await post({ incidentId: INCIDENT, reason: 'fp' });

    expect(started(send)[0]?.input).toEqual({
      incidentId: INCIDENT,
      force: false,
      requestedBy: ALICE,
      reason: 'fp',
    });
  });

  it('refuses a body naming a requester (strict), and a missing reason, starting nothing', async () => {
    const { post, send } = harness();

    const named = await post({ incidentId: INCIDENT, reason: 'fp', requestedBy: 'someone-else' });
    const silent = await post({ incidentId: INCIDENT, reason: '  ' });

    expect(named.status).toBe(400);
    expect(named.body.error).toBe('invalid_request');
    expect(silent.body).toEqual({
      error: 'invalid_request',
      message: 'reason: a reason is required',
    });
    expect(send).not.toHaveBeenCalled();
  });

  it('refuses a caller who is not a responder, starting nothing', async () => {
    const { post, send } = harness();

    const res = await post({ incidentId: INCIDENT, reason: 'fp' }, MALLORY);

    expect(res.status).toBe(403);
    expect(send).not.toHaveBeenCalled();
  });

  it('answers 404 for an incident the ledger does not know, or a step it does not have', async () => {
    const unknown = harness([]);
    const noStep = harness();

    const a = await unknown.post({ incidentId: INCIDENT, reason: 'fp' });
    const b = await noStep.post({ incidentId: INCIDENT, step: 'quarantineUser', reason: 'fp' });

    expect(a).toEqual({
      status: 404,
      body: { error: 'unknown_incident', message: `no incident ${INCIDENT} in the ledger` },
    });
    expect(b).toEqual({
      status: 404,
      body: { error: 'unknown_step', message: `${INCIDENT} has no step "quarantineUser"` },
    });
    expect(unknown.send).not.toHaveBeenCalled();
    expect(noStep.send).not.toHaveBeenCalled();
  });
});

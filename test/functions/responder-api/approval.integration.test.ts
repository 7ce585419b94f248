/**
 * The approval service end to end below HTTP: request-approval stores a
 * token, the approval endpoint handler decides, against moto's DynamoDB
 * (the approvals and ledger tables as the synthesized template declares
 * them, so conditional writes and the token-free index are the real ones).
 * Step Functions is a client mock: moto knows no token of ours; the state
 * machine tests run the same path against the local engine.
 */
import 'aws-sdk-client-mock-vitest/extend';
import { Logger } from '@aws-lambda-powertools/logger';
import {
  SendTaskFailureCommand,
  SendTaskSuccessCommand,
  SFNClient,
  TaskTimedOut,
} from '@aws-sdk/client-sfn';
import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import type { LambdaFunctionURLEventWithIAMAuthorizer } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import {
  type RequestApprovalDeps,
  requestApproval,
} from '../../../functions/request-approval/core.js';
import { sendToSts, stsEndpoint } from '../../../functions/responder-api/caller-proof.js';
import { responderApi, route } from '../../../functions/responder-api/http.js';
import { proofIdentifier } from '../../../functions/responder-api/identify.js';
import { ProofReplayGuard } from '../../../functions/responder-api/replay.js';
import { ApprovalStore } from '../../../functions/responder-api/store.js';
import { documentClient } from '../../../functions/shared/aws.js';
import { CircuitBreaker } from '../../../functions/shared/breaker.js';
import { checkDismissal, subjectsOf } from '../../../functions/shared/dismissal.js';
import { Ledger } from '../../../functions/shared/ledger.js';
import {
  assumeSession,
  functionUrlEvent,
  provenFunctionUrlEvent,
} from '../../../rehearsal/approvals.js';
import { ensureTable } from '../../../rehearsal/resources.js';
import { localApprovalKey, localVerifier } from '../../support/approval-key.js';
import { fakeLedgerMac } from '../../support/ledger-mac.js';
import { useMoto } from '../../support/moto.js';
import { defaultTemplate } from '../../support/template.js';
import { localTokens } from '../../support/token-seal.js';
import {
  ACCOUNT,
  ACTOR,
  EXECUTION_ARN,
  ec2Incident,
  ROLE_ARN,
  roleIncident,
} from '../shared/containment-fixtures.js';

useMoto();

const RESPONDER_ROLE = `arn:aws:iam::${ACCOUNT}:role/SecurityResponder`;
const ALICE = `arn:aws:sts::${ACCOUNT}:assumed-role/SecurityResponder/alice`;
const BOB = `arn:aws:sts::${ACCOUNT}:assumed-role/SecurityResponder/bob`;
const MALLORY = `arn:aws:sts::${ACCOUNT}:assumed-role/Developer/mallory`;
const TOKEN = `AQCEAAAAKgAAAAMAAAAAAAAAA${'tokenSecretPart'.repeat(20)}==`;

const sfnMock = mockClient(SFNClient);
const snsMock = mockClient(SNSClient);

let tableProps: { ledger: unknown; approvals: unknown; guardrails: unknown };
let clock: Date;
let logged: string[];

beforeAll(() => {
  const resources = Object.values(defaultTemplate().json.Resources);
  const tables = resources.filter((r) => r.Type === 'AWS::DynamoDB::GlobalTable');
  const withSortKey = (key: string) =>
    tables.find((t) => JSON.stringify(t.Properties?.KeySchema).includes(`"${key}"`))?.Properties;
  tableProps = {
    ledger: withSortKey('seq'),
    approvals: withSortKey('step'),
    guardrails: tables.find((t) => JSON.stringify(t.Properties?.KeySchema).includes('"id"'))
      ?.Properties,
  };
});

beforeEach(async () => {
  sfnMock.reset();
  snsMock.reset();
  sfnMock.on(SendTaskSuccessCommand).resolves({});
  sfnMock.on(SendTaskFailureCommand).resolves({});
  snsMock.on(PublishCommand).resolves({ MessageId: 'm-1' });
  await ensureTable('cordon-ledger', tableProps.ledger);
  await ensureTable('cordon-approvals', tableProps.approvals);
  await ensureTable('cordon-guardrails', tableProps.guardrails);
  clock = new Date('2026-11-27T10:00:00.000Z');
  logged = [];
});

function system(options: { twoPerson?: string[]; responders?: string[] } = {}) {
  const now = () => clock;
  const client = documentClient();
  const ledger = new Ledger({ client, tableName: 'cordon-ledger', now, mac: fakeLedgerMac() });
  const store = new ApprovalStore({ client, tableName: 'cordon-approvals' });
  const breaker = new CircuitBreaker({ client, tableName: 'cordon-guardrails', now });
  const logger = new Logger({ serviceName: 'cordon-test', logLevel: 'SILENT' });
  for (const level of ['info', 'warn', 'error'] as const) {
    vi.spyOn(logger, level).mockImplementation((...args: unknown[]) => {
      logged.push(JSON.stringify(args));
    });
  }
  const service = responderApi({
    store,
    ledger,
    sfn: new SFNClient({}),
    breaker,
    responders: options.responders ?? [RESPONDER_ROLE],
    logger,
    approvalKey: localApprovalKey(),
    tokens: localTokens(),
    rollbackStateMachineArn: `arn:aws:states:us-east-1:${ACCOUNT}:stateMachine:Cordon-rollback`,
    now,
    // Proofs are checked against the real clock; `now` is the approvals' clock.
    identify: proofIdentifier({
      replay: new ProofReplayGuard({ client, tableName: 'cordon-guardrails' }),
      region: 'us-east-1',
      sts: stsEndpoint(process.env, 'us-east-1'),
      send: sendToSts,
      now: () => new Date(),
    }),
  });
  const requestDeps: RequestApprovalDeps = {
    sns: new SNSClient({}),
    topicArn: `arn:aws:sns:us-east-1:${ACCOUNT}:cordon`,
    ledger,
    approvals: store,
    tokens: localTokens(),
    settings: {
      timeoutSeconds: 3600,
      twoPersonSteps: options.twoPerson ? { 'iam-credentials': options.twoPerson } : {},
      endpointUrl: 'https://abc.lambda-url.us-east-1.on.aws/',
    },
    actor: ACTOR,
    logger,
    now,
  };
  const request = (incident = roleIncident({ revokeRoleSessions: { mode: 'approve' } })) =>
    requestApproval(
      {
        incident,
        step: incident.playbook === 'ec2-instance' ? 'isolate' : 'revokeRoleSessions',
        taskToken: TOKEN,
        executionArn: EXECUTION_ARN,
      },
      requestDeps,
    );
  /** A rollback of the role incident's revocation, requested by `requestedBy`. */
  const requestRollback = (requestedBy: string) =>
    requestApproval(
      {
        rollback: {
          plan: {
            incidentId,
            approvalStep: ROLLBACK_STEP,
            findingId: 'f-1',
            findingType: 'UnauthorizedAccess:IAMUser/InstanceCredentialExfiltration.OutsideAWS',
            items: [
              {
                seq: 3,
                step: 'revokeRoleSessions',
                action: 'revoke-sessions',
                rollbackAction: 'rollback-revoke-sessions',
                targetArn: ROLE_ARN,
                restores: `${ROLE_ARN}: sessions issued before the revocation work again`,
              },
            ],
            skipped: [],
          },
          force: false,
          requestedBy,
          reason: 'false positive, confirmed with the owner',
        },
        taskToken: TOKEN,
        executionArn: `${EXECUTION_ARN}-rollback`,
      },
      requestDeps,
    );
  /** The function's answer to `event`, as the function URL would return it. */
  const respond = async (event: LambdaFunctionURLEventWithIAMAuthorizer) => {
    const result = await route(event, service, logger);
    return { status: result.statusCode, body: JSON.parse(String(result.body)) };
  };
  /** A request as the CLI sends it, from the emulator's session `callerArn`; unsigned when undefined. */
  const call = async (
    callerArn: string | undefined,
    method: 'GET' | 'POST',
    path: string,
    body?: unknown,
  ) => {
    const request = {
      callerArn: callerArn ?? '',
      account: ACCOUNT,
      method,
      path,
      ...(body === undefined ? {} : { body }),
    };
    const event =
      callerArn === undefined
        ? functionUrlEvent(request)
        : await provenFunctionUrlEvent({
            ...request,
            credentials: await assumeSession(callerArn),
            region: 'us-east-1',
          });
    if (callerArn === undefined) {
      Object.assign(event.requestContext, { authorizer: undefined });
    }
    return respond(event);
  };
  const decide = (callerArn: string | undefined, body: Record<string, unknown>) =>
    call(callerArn, 'POST', '/decisions', body);
  return { ledger, store, breaker, request, requestRollback, call, decide, respond };
}

const ROLLBACK_STEP = 'rollback0123456789ab';

const incidentId = roleIncident().incidentId;
const approve = (reason = 'confirmed with the app owner') => ({
  incidentId,
  step: 'revokeRoleSessions',
  decision: 'approve',
  reason,
});
const reject = {
  incidentId,
  step: 'revokeRoleSessions',
  decision: 'reject',
  reason: 'false positive',
};

describe('the approver cannot be forged (anyone with lambda:InvokeFunction can hand the function any event)', () => {
  /** A direct invocation: the event says ALICE signed the URL request; the proof is `signer`'s. */
  async function invokeDirectly(signer: string | undefined, body: unknown) {
    const request = {
      callerArn: ALICE,
      account: ACCOUNT,
      method: 'POST' as const,
      path: '/decisions',
      body,
    };
    return signer === undefined
      ? functionUrlEvent(request)
      : provenFunctionUrlEvent({
          ...request,
          credentials: await assumeSession(signer),
          region: 'us-east-1',
        });
  }

  it('refuses an event naming a responder in requestContext.authorizer, with no proof', async () => {
    const { request, ledger, respond } = system();
    await request();

    const res = await respond(await invokeDirectly(undefined, approve()));

    expect(res.status).toBe(401);
    expect(res.body.message).toContain('no caller proof');
    expect(sfnMock).not.toHaveReceivedAnyCommand();
    expect((await ledger.entries(incidentId)).map((e) => e.outcome)).toEqual([
      'APPROVAL_REQUESTED',
    ]);
  });

  it("takes STS's word over the event: Mallory's own proof makes Mallory the caller", async () => {
    const { request, respond } = system();
    await request();

    const res = await respond(await invokeDirectly(MALLORY, approve()));

    expect(res.status).toBe(403);
    expect(res.body.message).toBe(`${MALLORY} is not a Cordon responder (responderPrincipalArns)`);
    expect(sfnMock).not.toHaveReceivedAnyCommand();
  });

  it("refuses a responder's proof used a second time", async () => {
    const { request, ledger, respond } = system();
    await request();
    const event = await invokeDirectly(ALICE, { ...approve(), step: 'revokeRoleSessions' });

    const first = await respond(structuredClone(event));
    const replayed = await respond(structuredClone(event));

    expect(first.status).toBe(200);
    expect(replayed.status).toBe(401);
    expect(replayed.body.message).toContain('was used before');
    expect((await ledger.entries(incidentId)).map((e) => e.outcome)).toEqual([
      'APPROVAL_REQUESTED',
      'APPROVAL_GRANTED',
    ]);
  });

  it("refuses a responder's proof carried over to another request (approve becomes reject)", async () => {
    const { request, respond } = system();
    await request();
    const event = await invokeDirectly(ALICE, approve());
    event.body = JSON.stringify(reject);

    const res = await respond(event);

    expect(res.status).toBe(401);
    expect(res.body.message).toBe('the caller proof was made for another request');
    expect(sfnMock).not.toHaveReceivedAnyCommand();
  });
});

describe('nobody decides about themselves', () => {
  it('refuses the contained role deciding its own revocation, even when it is a responder', async () => {
    const { request, decide, ledger } = system({ responders: [RESPONDER_ROLE, ROLE_ARN] });
    await request();
    const containedSession = `arn:aws:sts::${ACCOUNT}:assumed-role/app-role/i-0stolen`;

    const approved = await decide(containedSession, approve());
    const rejected = await decide(containedSession, reject);

    for (const res of [approved, rejected]) {
      expect(res.status).toBe(403);
      expect(res.body).toMatchObject({ error: 'forbidden' });
      expect(res.body.message).toContain(`which incident ${incidentId} is about`);
    }
    expect(sfnMock).not.toHaveReceivedAnyCommand();
    expect((await ledger.entries(incidentId)).map((e) => e.outcome)).toEqual([
      'APPROVAL_REQUESTED',
    ]);
  });

  it("refuses the rollback's requester approving it; another responder may", async () => {
    const { requestRollback, decide } = system();
    await requestRollback(ALICE);
    const decision = { incidentId, step: ROLLBACK_STEP, decision: 'approve', reason: 'ok' };

    const own = await decide(ALICE, decision);
    const other = await decide(BOB, decision);

    expect(own.status).toBe(403);
    expect(own.body.message).toContain('requested this rollback');
    expect(other.status).toBe(200);
    expect(other.body).toMatchObject({ status: 'APPROVED', approver: BOB });
  });
});

describe('approve', () => {
  it('records the signed caller and sends SendTaskSuccess with the approval for that step', async () => {
    const { request, decide, ledger } = system();
    await request();

    const res = await decide(ALICE, approve());

    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({
      status: 'APPROVED',
      approver: ALICE,
      step: 'revokeRoleSessions',
    });
    expect(sfnMock).toHaveReceivedCommandTimes(SendTaskSuccessCommand, 1);
    const sent = sfnMock.commandCalls(SendTaskSuccessCommand)[0]?.args[0].input;
    expect(sent?.taskToken).toBe(TOKEN);
    const output = JSON.parse(sent?.output ?? '');
    expect(output).toEqual({
      decision: 'APPROVED',
      step: 'revokeRoleSessions',
      approver: ALICE,
      reason: 'confirmed with the app owner',
      decidedAt: '2026-11-27T10:00:00.000Z',
      grant: { record: expect.any(String), mac: expect.any(String) },
    });
    // The grant the action acts on: MAC'd, for this incident, step and execution.
    expect(await localApprovalKey().verify(output.grant.record, output.grant.mac)).toBe(true);
    expect(JSON.parse(output.grant.record)).toEqual({
      kind: 'grant',
      incidentId,
      step: 'revokeRoleSessions',
      executionArn: EXECUTION_ARN,
      approvers: [ALICE],
      approvalsRequired: 1,
      decidedAt: '2026-11-27T10:00:00.000Z',
    });
    const entries = await ledger.entries(incidentId);
    expect(entries.map((e) => [e.outcome, e.actor])).toEqual([
      ['APPROVAL_REQUESTED', ACTOR],
      ['APPROVAL_GRANTED', ALICE],
    ]);
    expect(entries[1]?.targetArn).toBe(ROLE_ARN);
  });

  it('takes the approver from the caller proof, never from the body', async () => {
    const { request, decide } = system();
    await request();

    const res = await decide(ALICE, { ...approve(), approver: BOB });

    expect(res.status).toBe(400);
    expect(res.body.error).toBe('invalid_request');
    expect(sfnMock).not.toHaveReceivedAnyCommand();
  });

  it('finds the only waiting step when none is named', async () => {
    const { request, decide } = system();
    await request();

    const res = await decide(ALICE, { incidentId, decision: 'approve', reason: 'ok' });

    expect(res.body).toMatchObject({ status: 'APPROVED', step: 'revokeRoleSessions' });
  });
});

describe('reject', () => {
  it('records the rejection and fails the task with Cordon.ApprovalRejected', async () => {
    const { request, decide, ledger } = system();
    await request();

    const res = await decide(BOB, reject);

    expect(res.body).toMatchObject({ status: 'REJECTED', approver: BOB });
    expect(sfnMock).toHaveReceivedCommandWith(SendTaskFailureCommand, {
      taskToken: TOKEN,
      error: 'Cordon.ApprovalRejected',
    });
    const cause = JSON.parse(
      sfnMock.commandCalls(SendTaskFailureCommand)[0]?.args[0].input.cause ?? '',
    );
    expect(cause.summary).toBe(`rejected by ${BOB}: false positive`);
    // The rejection record-failure verifies before it records a responder's rejection.
    expect(await localApprovalKey().verify(cause.rejection.record, cause.rejection.mac)).toBe(true);
    expect(JSON.parse(cause.rejection.record)).toMatchObject({
      kind: 'rejection',
      incidentId,
      step: 'revokeRoleSessions',
      approvers: [BOB],
    });
    expect(sfnMock).not.toHaveReceivedCommand(SendTaskSuccessCommand);
    expect((await ledger.entries(incidentId)).at(-1)).toMatchObject({
      outcome: 'APPROVAL_DENIED',
      actor: BOB,
      summary: `rejected by ${BOB}: false positive`,
    });
  });
});

describe('a decision is single-use', () => {
  it('refuses a second decision with who decided and when, and sends nothing more', async () => {
    const { request, decide } = system();
    await request();
    await decide(ALICE, approve());
    clock = new Date('2026-11-27T10:05:00.000Z');

    const second = await decide(BOB, reject);

    expect(second.status).toBe(409);
    expect(second.body).toEqual({
      error: 'already_decided',
      message: `step revokeRoleSessions of ${incidentId} was already approved by ${ALICE} at 2026-11-27T10:00:00.000Z; a decision is final`,
    });
    expect(sfnMock).toHaveReceivedCommandTimes(SendTaskSuccessCommand, 1);
    expect(sfnMock).not.toHaveReceivedCommand(SendTaskFailureCommand);
  });

  it('lets exactly one of two racing decisions through: the loser sees the conditional write fail', async () => {
    // Deterministic interleaving (moto does not serialise concurrent
    // requests the way DynamoDB does): Alice reads the waiting step, then Bob
    // decides completely, then Alice's conditional write runs.
    const { request, decide, ledger, store } = system();
    await request();
    const realDecide = store.decide.bind(store);
    let bobResult: Awaited<ReturnType<typeof decide>> | undefined;
    vi.spyOn(store, 'decide').mockImplementationOnce(async (...args) => {
      bobResult = await decide(BOB, reject);
      return realDecide(...args);
    });

    const alice = await decide(ALICE, approve());

    expect(bobResult?.status).toBe(200);
    expect(alice.status).toBe(409);
    expect(alice.body.message).toContain(`already rejected by ${BOB}`);
    expect(sfnMock).toHaveReceivedCommandTimes(SendTaskFailureCommand, 1);
    expect(sfnMock).not.toHaveReceivedCommand(SendTaskSuccessCommand);
    const decisions = (await ledger.entries(incidentId)).filter((e) =>
      ['APPROVAL_GRANTED', 'APPROVAL_DENIED'].includes(e.outcome),
    );
    expect(decisions.map((e) => e.actor)).toEqual([BOB]);
  });

  it('still refuses once the decided item has expired from the table, from the ledger', async () => {
    const { request, decide, store } = system();
    await request();
    await decide(ALICE, approve());
    // What DynamoDB TTL does to a decided item: it is gone.
    const { DeleteCommand } = await import('@aws-sdk/lib-dynamodb');
    await documentClient().send(
      new DeleteCommand({
        TableName: 'cordon-approvals',
        Key: { incidentId, step: 'revokeRoleSessions' },
      }),
    );
    expect(await store.get(incidentId, 'revokeRoleSessions')).toBeUndefined();

    const again = await decide(BOB, approve());

    expect(again.status).toBe(409);
    expect(again.body.message).toContain(`already approved by ${ALICE}`);
  });

  it('resumes a delivery that failed after the decision was stored, for the same responder only', async () => {
    const { request, decide, ledger } = system();
    await request();
    sfnMock
      .on(SendTaskSuccessCommand)
      .rejectsOnce(
        Object.assign(new Error('slow down'), { name: 'ThrottlingException', $metadata: {} }),
      );

    const first = await decide(ALICE, approve());
    const other = await decide(BOB, approve());
    const retry = await decide(ALICE, approve());

    expect(first.status).toBe(500);
    expect(first.body.message).toContain('run the same command again');
    expect(other.status).toBe(409);
    expect(retry.status).toBe(200);
    expect(sfnMock).toHaveReceivedCommandTimes(SendTaskSuccessCommand, 2);
    const granted = (await ledger.entries(incidentId)).filter(
      (e) => e.outcome === 'APPROVAL_GRANTED',
    );
    expect(granted).toHaveLength(1);
  });
});

describe('who may decide', () => {
  it('refuses a principal that is not a configured responder, and records nothing', async () => {
    const { request, decide, ledger } = system();
    await request();

    const res = await decide(MALLORY, approve());

    expect(res.status).toBe(403);
    expect(res.body).toEqual({
      error: 'forbidden',
      message: `${MALLORY} is not a Cordon responder (responderPrincipalArns)`,
    });
    expect(sfnMock).not.toHaveReceivedAnyCommand();
    expect((await ledger.entries(incidentId)).map((e) => e.outcome)).toEqual([
      'APPROVAL_REQUESTED',
    ]);
  });

  it('refuses a request with no caller proof', async () => {
    const { request, call } = system();
    await request();

    const res = await call(undefined, 'GET', '/pending');

    expect(res.status).toBe(401);
    expect(res.body.error).toBe('unauthenticated');
  });

  it('does not take a role of the same name in another account for a responder', async () => {
    const { request, decide } = system();
    await request();

    const res = await decide(
      'arn:aws:sts::210987654321:assumed-role/SecurityResponder/eve',
      approve(),
    );

    expect(res.status).toBe(403);
  });
});

describe('a tampered or unknown step', () => {
  it('refuses a step name that is not a step id, before reading anything', async () => {
    const { request, decide } = system();
    await request();

    const res = await decide(ALICE, { ...approve(), step: 'revokeRoleSessions" OR 1=1' });

    expect(res.status).toBe(400);
    expect(res.body.message).toContain('step');
    expect(sfnMock).not.toHaveReceivedAnyCommand();
  });

  it('refuses a real step that is not waiting, naming the incident', async () => {
    const { request, decide } = system();
    await request();

    const res = await decide(ALICE, { ...approve(), step: 'quarantineUser' });

    expect(res.status).toBe(404);
    expect(res.body).toEqual({
      error: 'unknown_step',
      message: `${incidentId} has no step "quarantineUser" waiting for a decision`,
    });
  });

  it('refuses an unknown incident', async () => {
    const { decide } = system();

    const res = await decide(ALICE, { ...approve(), incidentId: 'inc-00000000000000000000' });

    expect(res.status).toBe(404);
    expect(res.body.error).toBe('unknown_incident');
  });
});

describe('timeouts', () => {
  it('refuses a decision after the timeout, and sends nothing', async () => {
    const { request, decide } = system();
    await request();
    clock = new Date('2026-11-27T11:00:00.000Z');

    const res = await decide(ALICE, approve());

    expect(res.status).toBe(410);
    expect(res.body.message).toContain('timed out at 2026-11-27T11:00:00.000Z: Cordon did not act');
    expect(sfnMock).not.toHaveReceivedAnyCommand();
  });

  it('records a decision Step Functions no longer waits for, and says nothing was done', async () => {
    const { request, decide, ledger } = system();
    await request();
    sfnMock
      .on(SendTaskSuccessCommand)
      .rejects(new TaskTimedOut({ message: 'Task Timed Out', $metadata: {} }));

    const res = await decide(ALICE, approve());

    expect(res.status).toBe(410);
    expect(res.body.message).toContain('your decision is recorded, but Cordon did not act');
    expect((await ledger.entries(incidentId)).map((e) => e.outcome)).toEqual([
      'APPROVAL_REQUESTED',
      'APPROVAL_GRANTED',
      'DECISION_UNDELIVERED',
    ]);
  });
});

describe('two-person rule', () => {
  it('runs the step only after two different responders approve', async () => {
    const { request, decide, ledger } = system({ twoPerson: ['revokeRoleSessions'] });
    await request();

    const first = await decide(ALICE, approve('seen in CloudTrail'));
    const same = await decide(ALICE, approve('me again'));
    expect(sfnMock).not.toHaveReceivedAnyCommand();
    const second = await decide(BOB, approve('agreed'));

    expect(first.body).toMatchObject({ status: 'AWAITING_SECOND_APPROVER', approvalsRequired: 2 });
    expect(same.status).toBe(409);
    expect(same.body.error).toBe('same_approver');
    expect(second.body).toMatchObject({ status: 'APPROVED', approver: BOB });
    const output = JSON.parse(
      sfnMock.commandCalls(SendTaskSuccessCommand)[0]?.args[0].input.output ?? '',
    );
    expect(output.approvers).toEqual([ALICE, BOB]);
    expect((await ledger.entries(incidentId)).map((e) => [e.outcome, e.actor])).toEqual([
      ['APPROVAL_REQUESTED', ACTOR],
      ['FIRST_APPROVAL', ALICE],
      ['APPROVAL_GRANTED', BOB],
    ]);
  });

  it('lets one rejection stop a two-person step', async () => {
    const { request, decide } = system({ twoPerson: ['revokeRoleSessions'] });
    await request();
    await decide(ALICE, approve());

    const res = await decide(BOB, reject);

    expect(res.body.status).toBe('REJECTED');
    expect(sfnMock).toHaveReceivedCommandTimes(SendTaskFailureCommand, 1);
  });
});

describe('pending and show', () => {
  it('lists waiting steps with what they would do, from an index that holds no token', async () => {
    const { request, call, decide } = system();
    await request();
    clock = new Date('2026-11-27T10:01:00.000Z');
    await request(ec2Incident({ isolate: { mode: 'approve' } }));

    const before = await call(ALICE, 'GET', '/pending');
    await decide(ALICE, approve());
    const after = await call(ALICE, 'GET', '/pending');

    expect(before.status).toBe(200);
    expect(before.body.pending.map((p: { step: string }) => p.step)).toEqual([
      'revokeRoleSessions',
      'isolate',
    ]);
    expect(before.body.pending[0]).toMatchObject({
      incidentId,
      playbook: 'iam-credentials',
      action: 'revoke-sessions',
      targetArn: ROLE_ARN,
      expiresAt: '2026-11-27T11:00:00.000Z',
      approvalsRequired: 1,
      proposal: expect.stringContaining('Deny every session of the role'),
    });
    expect(JSON.stringify(before.body)).not.toContain('tokenSecretPart');
    expect(after.body.pending.map((p: { step: string }) => p.step)).toEqual(['isolate']);
  });

  it('leaves expired steps out of the pending list', async () => {
    const { request, call } = system();
    await request();
    clock = new Date('2026-11-27T11:00:01.000Z');

    const res = await call(ALICE, 'GET', '/pending');

    expect(res.body).toEqual({ pending: [] });
  });

  it('shows the timeline of an incident, and 404 for one that does not exist', async () => {
    const { request, call, decide } = system();
    await request();
    await decide(ALICE, approve());

    const shown = await call(ALICE, 'GET', `/incidents/${incidentId}`);
    const missing = await call(ALICE, 'GET', '/incidents/inc-00000000000000000000');

    expect(shown.body.entries.map((e: { outcome: string }) => e.outcome)).toEqual([
      'APPROVAL_REQUESTED',
      'APPROVAL_GRANTED',
    ]);
    expect(missing.status).toBe(404);
  });
});

describe('the task token', () => {
  it('appears in no notification, ledger entry, response or log line', async () => {
    const { request, call, decide, ledger } = system({ twoPerson: ['revokeRoleSessions'] });
    await request();
    const responses = [
      await call(ALICE, 'GET', '/pending'),
      await decide(ALICE, approve()),
      await decide(ALICE, approve()),
      await decide(BOB, approve()),
      await decide(BOB, reject),
      await call(ALICE, 'GET', `/incidents/${incidentId}`),
    ];

    const seen = [
      JSON.stringify(snsMock.calls().map((c) => c.args[0].input)),
      JSON.stringify(await ledger.entries(incidentId)),
      JSON.stringify(responses),
      logged.join('\n'),
    ];
    expect(logged.length).toBeGreaterThan(0);
    for (const text of seen) expect(text).not.toContain('tokenSecretPart');
  });

  it('is removed from the table once the decision is delivered', async () => {
    const { request, decide, store } = system();
    await request();
    // Stored sealed: the item holds no token in clear.
    const sealed = (await store.get(incidentId, 'revokeRoleSessions'))?.taskToken;
    expect(sealed).toEqual(expect.any(String));
    expect(sealed).not.toContain('tokenSecretPart');

    await decide(ALICE, approve());

    const item = await store.get(incidentId, 'revokeRoleSessions');
    expect(item?.taskToken).toBeUndefined();
    expect(item).toMatchObject({ status: 'APPROVED', delivered: true, decidedBy: ALICE });
  });
});

describe('the circuit breaker, through the endpoint', () => {
  const limits = { maxContainments: 2, windowSeconds: 3600 };

  it('shows a tripped breaker and lets a responder reset it, recorded with who and why', async () => {
    const { breaker, call, ledger } = system();
    for (const id of ['inc-a', 'inc-b', 'inc-c']) await breaker.count(id, limits);

    const status = await call(ALICE, 'GET', '/breaker');
    const reset = await call(BOB, 'POST', '/breaker/reset', { reason: 'flood was a scanner' });
    const again = await call(BOB, 'POST', '/breaker/reset', { reason: 'twice' });

    expect(status.body).toMatchObject({ state: 'TRIPPED', trippedBy: 'inc-c', count: 3 });
    expect(reset.status).toBe(200);
    expect(reset.body).toMatchObject({ state: 'CLOSED', generation: 1, resetBy: BOB });
    expect(again.status).toBe(409);
    expect(again.body.error).toBe('not_tripped');
    const [entry] = await ledger.entries('guardrail-breaker');
    expect(entry).toMatchObject({
      outcome: 'BREAKER_RESET',
      actor: BOB,
      summary: `circuit breaker reset by ${BOB}: flood was a scanner`,
      before: expect.objectContaining({ state: 'TRIPPED' }),
    });
    // A new generation counts from zero.
    expect(await breaker.count('inc-d', limits)).toEqual({ status: 'counted', count: 1 });
  });

  it('does not let anyone but a responder reset it', async () => {
    const { breaker, call } = system();
    for (const id of ['inc-a', 'inc-b', 'inc-c']) await breaker.count(id, limits);

    const res = await call(MALLORY, 'POST', '/breaker/reset', { reason: 'let me' });

    expect(res.status).toBe(403);
    expect((await breaker.state()).state).toBe('TRIPPED');
  });
});

describe('dismiss: a responder judges a finding a false positive', () => {
  const dismissal = { incidentId, reason: 'the owner ran the job: a false positive' };
  const dismiss = (callerArn: string | undefined, body: unknown = dismissal) => {
    const { call } = system();
    return call(callerArn, 'POST', '/dismissals', body);
  };

  it("records the proven responder's dismissal, with a record only the responder API can MAC", async () => {
    const { request, call, ledger } = system();
    await request();

    const res = await call(ALICE, 'POST', '/dismissals', dismissal);

    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ incidentId, dismissedBy: ALICE });
    // It decides nothing that waits, and says so.
    expect(res.body.waiting).toEqual(['revokeRoleSessions']);
    const entries = await ledger.entries(incidentId);
    const entry = entries.at(-1);
    expect(entry).toMatchObject({ step: 'dismiss', outcome: 'DISMISSED', actor: ALICE });
    const check = await checkDismissal(
      entry?.detail?.dismissal,
      { incidentId, subjects: subjectsOf(entries) },
      localVerifier([RESPONDER_ROLE]),
    );
    expect(check).toMatchObject({ valid: true, record: { dismissedBy: ALICE } });
    expect(sfnMock).not.toHaveReceivedAnyCommand();
  });

  it('refuses a dismissal invoked directly with no caller proof, whoever the event names', async () => {
    const { request, ledger } = system();
    await request();

    const res = await dismiss(undefined);

    expect(res.status).toBe(401);
    expect((await ledger.entries(incidentId)).map((e) => e.outcome)).toEqual([
      'APPROVAL_REQUESTED',
    ]);
  });

  it('refuses a principal that is not a configured responder, and records nothing', async () => {
    const { request, ledger } = system();
    await request();

    const res = await dismiss(MALLORY);

    expect(res.status).toBe(403);
    expect(res.body.error).toBe('forbidden');
    expect((await ledger.entries(incidentId)).map((e) => e.outcome)).toEqual([
      'APPROVAL_REQUESTED',
    ]);
  });

  it('refuses the contained role dismissing its own incident, even when it is a responder', async () => {
    const { request, call, ledger } = system({ responders: [RESPONDER_ROLE, ROLE_ARN] });
    await request();
    const containedSession = `arn:aws:sts::${ACCOUNT}:assumed-role/app-role/i-0stolen`;

    const res = await call(containedSession, 'POST', '/dismissals', dismissal);

    expect(res.status).toBe(403);
    expect(res.body.message).toContain(`which incident ${incidentId} is about`);
    expect((await ledger.entries(incidentId)).map((e) => e.outcome)).toEqual([
      'APPROVAL_REQUESTED',
    ]);
  });

  it('is final: a second dismissal is refused with who dismissed and when', async () => {
    const { request, call } = system();
    await request();
    await call(ALICE, 'POST', '/dismissals', dismissal);

    const again = await call(BOB, 'POST', '/dismissals', dismissal);

    expect(again.status).toBe(409);
    expect(again.body.error).toBe('already_decided');
    expect(again.body.message).toContain(`already dismissed by ${ALICE}`);
  });

  it('refuses an incident the ledger does not hold, and a body that names the responder', async () => {
    const { call } = system();

    const unknown = await call(ALICE, 'POST', '/dismissals', dismissal);
    const named = await call(ALICE, 'POST', '/dismissals', { ...dismissal, dismissedBy: BOB });

    expect(unknown.status).toBe(404);
    expect(named.status).toBe(400);
  });
});

import 'aws-sdk-client-mock-vitest/extend';
import { PublishCommand, type PublishCommandInput, SNSClient } from '@aws-sdk/client-sns';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { NotifyInputSchema, notify } from '../../../functions/notify/core.js';
import { asEmail } from '../../support/notices.js';
import { ACTOR, fakeLedger, USER_ARN } from '../shared/containment-fixtures.js';
import { INCIDENT_ID, REQUESTER, ROLLBACK_EXECUTION } from '../shared/rollback-fixtures.js';

/** The ROLLBACK notification: who asked, what each item did, what stays. */

const snsMock = mockClient(SNSClient);
const sns = new SNSClient({ region: 'us-east-1' });

const rollback = (over: Record<string, unknown> = {}) =>
  NotifyInputSchema.parse({
    kind: 'ROLLBACK',
    rollback: {
      incidentId: INCIDENT_ID,
      requestedBy: REQUESTER,
      reason: 'owner confirmed',
      force: false,
      results: [
        {
          seq: 3,
          step: 'quarantineUser',
          action: 'rollback-quarantine-user',
          outcome: 'ROLLBACK_REFUSED',
          targetArn: USER_ARN,
          summary: 'refused: changed',
        },
        {
          seq: 1,
          step: 'disableAccessKey',
          action: 'rollback-disable-access-key',
          outcome: 'ROLLBACK_SKIPPED',
          targetArn: USER_ARN,
          summary: 'not attempted',
        },
      ],
      skipped: [],
      ...over,
    },
    executionArn: ROLLBACK_EXECUTION,
  });

describe('notify ROLLBACK', () => {
  let fake: ReturnType<typeof fakeLedger>;
  beforeEach(() => {
    snsMock.reset();
    snsMock.on(PublishCommand).resolves({ MessageId: 'm-1' });
    fake = fakeLedger();
  });
  const published = (): PublishCommandInput => {
    const call = snsMock.commandCalls(PublishCommand)[0];
    if (!call) throw new Error('nothing was published');
    return asEmail(call.args[0].input);
  };

  it("reports each item's outcome and records the notice in the incident's ledger", async () => {
    await notify(rollback(), {
      sns,
      topicArn: 'arn:aws:sns:us-east-1:1:t',
      ledger: fake.ledger,
      actor: ACTOR,
    });

    expect(published().Subject).toBe(`Cordon rollback: ${INCIDENT_ID}: 0 restored, 1 refused`);
    expect(published().Message?.split('\n')).toEqual([
      'Cordon rollback',
      '',
      `Incident: ${INCIDENT_ID}`,
      `Requested by: ${REQUESTER}`,
      'Reason: "owner confirmed"',
      '',
      'Restored:',
      '- quarantineUser #3 rollback-quarantine-user: ROLLBACK_REFUSED refused: changed',
      '- disableAccessKey #1 rollback-disable-access-key: ROLLBACK_SKIPPED not attempted',
      '',
      `Execution: ${ROLLBACK_EXECUTION}`,
    ]);
    expect(fake.entries().map((e) => [e.incidentId, e.step, e.outcome])).toEqual([
      [INCIDENT_ID, 'notify', 'NOTIFIED'],
    ]);
  });

  it('says nothing was rolled back when the approval was rejected', async () => {
    await notify(
      rollback({
        results: [],
        decision: {
          step: 'rollback0123456789ab',
          action: 'playbook',
          outcome: 'REJECTED',
          mode: 'approve',
          summary: 'rejected by a responder: not acted on',
        },
      }),
      { sns, topicArn: 'arn:aws:sns:us-east-1:1:t', ledger: fake.ledger, actor: ACTOR },
    );

    expect(published().Subject).toBe(`Cordon rollback: ${INCIDENT_ID}: not rolled back (REJECTED)`);
    expect(published().Message).toContain(
      'Not rolled back: REJECTED: rejected by a responder: not acted on',
    );
  });
});

describe("notify FAILURE of a rollback (the rollback machine's failure path names the incident by id)", () => {
  beforeEach(() => {
    snsMock.reset();
    snsMock.on(PublishCommand).resolves({ MessageId: 'm-1' });
  });

  it('tells responders which incident the rollback failed on, and records the notice there', async () => {
    const fake = fakeLedger();
    const input = NotifyInputSchema.parse({
      kind: 'FAILURE',
      incidentId: INCIDENT_ID,
      error: { Error: 'Cordon.NothingToRollBack', Cause: 'nothing to roll back' },
      executionArn: ROLLBACK_EXECUTION,
    });

    await notify(input, {
      sns,
      topicArn: 'arn:aws:sns:us-east-1:123456789012:cordon',
      ledger: fake.ledger,
      actor: ACTOR,
    });

    const [call] = snsMock.commandCalls(PublishCommand);
    if (!call) throw new Error('nothing was published');
    expect(asEmail(call.args[0].input).Message).toContain(`Incident: ${INCIDENT_ID}`);
    expect(fake.entries().map((e) => [e.incidentId, e.outcome])).toEqual([
      [INCIDENT_ID, 'NOTIFIED'],
    ]);
  });

  it('refuses an incident id that is not one', () => {
    expect(() =>
      NotifyInputSchema.parse({
        kind: 'FAILURE',
        incidentId: 'guardrail-rules\nForged: line',
        executionArn: ROLLBACK_EXECUTION,
      }),
    ).toThrow();
  });
});

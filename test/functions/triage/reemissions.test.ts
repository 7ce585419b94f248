/**
 * One incident per finding: what triage makes of an emission given what
 * the incident's ledger already holds (functions/triage/reemissions.ts).
 * The ledger is a client mock here: each test says what the incident's
 * entries are; test/integration/reemissions.test.ts runs the same rules
 * through the playbooks against the emulator.
 */
import 'aws-sdk-client-mock-vitest/extend';
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { PutCommand, QueryCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { describe, expect, it } from 'vitest';
import { signDismissal } from '../../../functions/shared/dismissal.js';
import type { LedgerEntry } from '../../../functions/shared/ledger.js';
import { findingCreatedAt } from '../../../functions/triage/reemissions.js';
import { localApprovalKey, signedRecord } from '../../support/approval-key.js';
import {
  ACCOUNT,
  ddbMock,
  fixture,
  RESPONDER_ARN,
  setup,
  USER_ARN,
  userExists,
  withValue,
} from './helpers.js';
import { runTriage } from './run.js';

const FIRST_AT = '2024-05-14T03:31:27.405Z';
/** The fixture's own updatedAt: the emission each test triages. */
const NOW_AT = '2024-05-14T09:31:27.405Z';
const FIRST_RUN = `arn:aws:states:us-east-1:${ACCOUNT}:execution:Cordon-iam-credentials:first`;
const ROLLBACK_RUN = `arn:aws:states:us-east-1:${ACCOUNT}:execution:Cordon-rollback:undo`;
const ROLLBACK_STEP = 'rollback0123456789ab';
const REQUESTER = `arn:aws:iam::${ACCOUNT}:user/requester`;
const INCIDENT = 'inc-b41ad8854a610cf833f9';

/** The fixture, emitted again: a later updatedAt is the fixture's own; the count is `count`. */
const reemitted = (count: number) =>
  withValue(fixture('guardduty-iam-user'), ['detail', 'service', 'count'], count);

function entry(seq: number, fields: Partial<LedgerEntry>): LedgerEntry {
  return {
    incidentId: INCIDENT,
    seq,
    at: '2024-05-14T03:32:00.000Z',
    prevHash: '0'.repeat(64),
    hash: `${seq}`.padStart(64, '0'),
    step: 'triage',
    action: 'triage',
    actor: 'arn:aws:iam::123456789012:role/cordon/triage',
    outcome: 'CLAIMED',
    ...fields,
  };
}

const claimed = (modes: Record<string, string>, updatedAt = FIRST_AT) =>
  entry(0, {
    outcome: 'CLAIMED',
    executionArn: FIRST_RUN,
    targetArn: USER_ARN,
    detail: { updatedAt, subjects: [USER_ARN], validated: { incident: 'x', modes } },
  });
const refused = entry(0, {
  outcome: 'REFUSED',
  executionArn: FIRST_RUN,
  targetArn: USER_ARN,
  detail: { updatedAt: FIRST_AT, subjects: [USER_ARN] },
});
const ACTING = { disableAccessKey: 'auto', revokeUserSessions: 'auto', quarantineUser: 'approve' };

async function dismissed(
  seq: number,
  by = `arn:aws:sts::${ACCOUNT}:assumed-role/responders/alice`,
  options: { key?: ReturnType<typeof localApprovalKey>; incidentId?: string } = {},
): Promise<LedgerEntry> {
  const dismissal = await signDismissal(options.key ?? localApprovalKey(), {
    incidentId: options.incidentId ?? INCIDENT,
    dismissedBy: by,
    reason: 'false positive',
    decidedAt: '2024-05-14T05:00:00.000Z',
  });
  return entry(seq, {
    step: 'dismiss',
    action: 'responder-api',
    actor: by,
    outcome: 'DISMISSED',
    detail: { reason: 'false positive', dismissal },
  });
}

/** The incident's entries, as the ledger's Query returns them. */
function ledgerHolds(entries: readonly LedgerEntry[]): void {
  ddbMock.on(QueryCommand).resolves({ Items: [...entries] });
}

function appended(): Array<Record<string, unknown>> {
  return ddbMock
    .commandCalls(PutCommand)
    .map((c) => (c.args[0].input as { Item: Record<string, unknown> }).Item);
}

describe('a re-emission joins its incident', () => {
  it('keeps one incident: the re-emission lands in the ledger of the first', async () => {
    const deps = setup();
    userExists();
    ledgerHolds([claimed(ACTING)]);

    const result = await runTriage(reemitted(5), deps);

    expect(result.incident.incidentId).toBe(INCIDENT);
    expect(ddbMock).toHaveReceivedCommandWith(QueryCommand, {
      ExpressionAttributeValues: { ':pk': INCIDENT },
    });
  });

  it('while the execution runs or waits for an approval: recorded with its count, nothing acts, the breaker is not counted', async () => {
    const deps = setup();
    userExists();
    ledgerHolds([
      claimed(ACTING),
      entry(1, { step: 'quarantineUser', outcome: 'APPROVAL_REQUESTED', executionArn: FIRST_RUN }),
    ]);

    const result = await runTriage(reemitted(5), deps);

    expect(result.decision).toBe('JOINED');
    expect(Object.values(result.incident.plan).every((p) => p.mode === 'off')).toBe(true);
    const [put] = appended();
    expect(put).toMatchObject({
      seq: 2,
      step: 'triage',
      outcome: 'REEMITTED',
      detail: { updatedAt: NOW_AT, count: 5, joined: { seq: 0, executionArn: FIRST_RUN } },
    });
    expect(String(put?.summary)).toContain('emitted again (count 5)');
    expect(appended()).toHaveLength(1);
    expect(ddbMock).not.toHaveReceivedCommand(UpdateCommand);
  });

  it('after containment finished: recorded, never acted on again unattended', async () => {
    const deps = setup();
    userExists();
    ledgerHolds([
      claimed(ACTING),
      entry(1, { step: 'disableAccessKey', outcome: 'CONTAINED', executionArn: FIRST_RUN }),
      entry(2, { step: 'notify', outcome: 'NOTIFIED', executionArn: FIRST_RUN }),
    ]);

    const result = await runTriage(reemitted(9), deps);

    expect(result.decision).toBe('JOINED');
    expect(appended().map((e) => [e.seq, e.outcome])).toEqual([[3, 'REEMITTED']]);
  });

  it('is a quiet duplicate when the same re-emission is delivered again', async () => {
    const deps = setup();
    userExists();
    ledgerHolds([
      claimed(ACTING),
      entry(1, { outcome: 'REEMITTED', executionArn: 'arn:other', detail: { updatedAt: NOW_AT } }),
    ]);

    const result = await runTriage(reemitted(5), deps);

    expect(result.decision).toBe('DUPLICATE');
    expect(appended()).toEqual([]);
  });

  it('returns the same decision, appending nothing, when its own triage is retried', async () => {
    const deps = setup();
    userExists();
    const executionArn = `arn:aws:states:us-east-1:${ACCOUNT}:execution:Cordon-iam-credentials:again`;
    ledgerHolds([
      claimed(ACTING),
      entry(1, {
        outcome: 'REEMITTED',
        executionArn,
        summary: 'emitted again: joins the incident',
        detail: { updatedAt: NOW_AT, joined: { seq: 0 } },
      }),
    ]);

    const result = await runTriage(reemitted(5), deps, { executionArn });

    expect(result).toMatchObject({
      decision: 'JOINED',
      reason: 'emitted again: joins the incident',
    });
    expect(appended()).toEqual([]);
  });

  it('decides again on what a concurrent emission wrote: two emissions never both claim', async () => {
    const deps = setup();
    userExists();
    // Both read an empty ledger; the other emission's claim lands first.
    ddbMock
      .on(QueryCommand)
      .resolvesOnce({ Items: [] })
      .resolves({ Items: [claimed(ACTING, '2024-05-14T09:31:27.000Z')] });
    ddbMock
      .on(PutCommand)
      .rejectsOnce(new ConditionalCheckFailedException({ message: 'taken', $metadata: {} }))
      .resolves({});

    const result = await runTriage(reemitted(2), deps);

    expect(result.decision).toBe('JOINED');
    expect(appended().map((e) => [e.seq, e.outcome])).toEqual([
      [0, 'CLAIMED'],
      [1, 'REEMITTED'],
    ]);
  });
});

describe('what does not hold a finding', () => {
  it('a refusal: a first emission refused, later updated and emitted again, may act', async () => {
    const deps = setup();
    userExists();
    ledgerHolds([refused]);

    const result = await runTriage(reemitted(3), deps);

    expect(result.decision).toBe('PROCEED');
    expect(result.incident.plan.disableAccessKey?.mode).toBe('auto');
    expect(appended()).toEqual([
      expect.objectContaining({ seq: 1, outcome: 'CLAIMED', detail: expect.anything() }),
    ]);
  });

  it('a claim whose every step was off or dry-run (the runtime mode switched off, say)', async () => {
    const deps = setup();
    userExists();
    ledgerHolds([
      claimed({ disableAccessKey: 'off', revokeUserSessions: 'dry-run', quarantineUser: 'off' }),
    ]);

    const result = await runTriage(reemitted(3), deps);

    expect(result.decision).toBe('PROCEED');
    expect(appended().map((e) => [e.seq, e.outcome])).toEqual([[1, 'CLAIMED']]);
  });
});

describe('a suppressed finding is recorded and notified, never acted on', () => {
  it('after a dismissal the responder API made, even a finding whose first emission was refused', async () => {
    const deps = setup();
    userExists();
    ledgerHolds([refused, await dismissed(1)]);

    const result = await runTriage(reemitted(4), deps);

    expect(result.decision).toBe('SUPPRESSED');
    expect(Object.values(result.incident.plan).every((p) => p.mode === 'off')).toBe(true);
    const [put] = appended();
    expect(put).toMatchObject({
      seq: 2,
      outcome: 'REEMITTED',
      detail: { count: 4, suppressed: { cause: 'dismissed', seq: 1 } },
    });
    expect(String(put?.summary)).toContain('suppressed, not acted on');
  });

  it('after a rollback a responder approved', async () => {
    const deps = setup();
    userExists();
    const grant = await signedRecord({
      kind: 'grant',
      incidentId: INCIDENT,
      step: ROLLBACK_STEP,
      executionArn: ROLLBACK_RUN,
      approvers: [RESPONDER_ARN],
      approvalsRequired: 1,
      decidedAt: '2024-05-14T06:00:00.000Z',
      requestedBy: REQUESTER,
    });
    ledgerHolds([
      claimed(ACTING),
      entry(1, { step: 'disableAccessKey', outcome: 'CONTAINED', executionArn: FIRST_RUN }),
      entry(2, {
        step: ROLLBACK_STEP,
        outcome: 'ROLLBACK_REQUESTED',
        executionArn: ROLLBACK_RUN,
        detail: { requestedBy: REQUESTER },
      }),
      entry(3, {
        step: ROLLBACK_STEP,
        action: 'responder-api',
        actor: RESPONDER_ARN,
        outcome: 'APPROVAL_GRANTED',
        executionArn: ROLLBACK_RUN,
        detail: { grant },
      }),
    ]);

    const result = await runTriage(reemitted(6), deps);

    expect(result.decision).toBe('SUPPRESSED');
    expect(appended()).toEqual([
      expect.objectContaining({
        seq: 4,
        outcome: 'REEMITTED',
        detail: expect.objectContaining({
          suppressed: expect.objectContaining({ cause: 'rolled back', by: [RESPONDER_ARN] }),
        }),
      }),
    ]);
  });
});

describe('a suppression nobody but the responder API can write', () => {
  const forgeries: Array<[string, () => Promise<LedgerEntry>]> = [
    [
      'no record at all (a compromised Cordon function appended the entry)',
      async () => entry(1, { step: 'dismiss', outcome: 'DISMISSED', actor: RESPONDER_ARN }),
    ],
    [
      'a record MAC’d with another key',
      () => dismissed(1, RESPONDER_ARN, { key: localApprovalKey('not-the-approval-key') }),
    ],
    [
      'a genuine record of another incident, replayed',
      () => dismissed(1, RESPONDER_ARN, { incidentId: 'inc-00000000000000000000' }),
    ],
    [
      'a record naming someone who is not a responder',
      () => dismissed(1, `arn:aws:iam::${ACCOUNT}:user/mallory`),
    ],
  ];

  for (const [what, forged] of forgeries) {
    it(`ignores a dismissal with ${what}: the finding still acts`, async () => {
      const deps = setup();
      userExists();
      ledgerHolds([refused, await forged()]);

      const result = await runTriage(reemitted(3), deps);

      expect(result.decision).toBe('PROCEED');
      expect(appended().map((e) => e.outcome)).toEqual(['CLAIMED']);
    });
  }

  it('ignores a dismissal by the principal the incident is about, even one configured as a responder', async () => {
    const deps = setup();
    const subject = { ...deps, approvals: { ...deps.approvals, responders: [USER_ARN] } };
    userExists();
    ledgerHolds([refused, await dismissed(1, USER_ARN)]);

    const result = await runTriage(reemitted(3), subject);

    expect(result.decision).toBe('PROCEED');
  });

  it('ignores a rollback grant that does not verify: the re-emission joins, quietly, as any other', async () => {
    const deps = setup();
    userExists();
    const forged = await signedRecord(
      {
        kind: 'grant',
        incidentId: INCIDENT,
        step: ROLLBACK_STEP,
        executionArn: ROLLBACK_RUN,
        approvers: [RESPONDER_ARN],
        approvalsRequired: 1,
        decidedAt: '2024-05-14T06:00:00.000Z',
      },
      localApprovalKey('not-the-approval-key'),
    );
    ledgerHolds([
      claimed(ACTING),
      entry(1, {
        step: ROLLBACK_STEP,
        outcome: 'APPROVAL_GRANTED',
        executionArn: ROLLBACK_RUN,
        detail: { grant: forged },
      }),
    ]);

    const result = await runTriage(reemitted(3), deps);

    expect(result.decision).toBe('JOINED');
  });
});

describe('when the finding was created', () => {
  it("is recorded on the claim, from GuardDuty's createdAt, for cordon report", async () => {
    const deps = setup();
    userExists();
    ledgerHolds([]);
    const event = withValue(
      fixture('guardduty-iam-user'),
      ['detail', 'createdAt'],
      '2024-05-14T09:01:02.000Z',
    );

    await runTriage(event, deps);

    expect(appended()).toEqual([
      expect.objectContaining({
        outcome: 'CLAIMED',
        detail: expect.objectContaining({ createdAt: '2024-05-14T09:01:02.000Z' }),
      }),
    ]);
  });

  it("reads Security Hub's CreatedAt, and nothing that is not an ISO 8601 time", () => {
    const securityHub = fixture('securityhub-iam-access-key');
    const mangled = withValue(fixture('guardduty-iam-user'), ['detail', 'createdAt'], 'yesterday');
    const missing = withValue(fixture('guardduty-iam-user'), ['detail', 'createdAt'], undefined);

    expect(findingCreatedAt(securityHub)).toBe('2024-05-14T10:05:31.118Z');
    expect(findingCreatedAt(mangled)).toBeUndefined();
    expect(findingCreatedAt(missing)).toBeUndefined();
  });
});

import { beforeEach, describe, expect, it } from 'vitest';
import {
  mapFailure,
  RecordFailureInputSchema,
  recordFailure,
} from '../../../functions/record-failure/core.js';
import type { ApprovalRecord } from '../../../functions/shared/approval-record.js';
import { sha256Hex } from '../../../functions/shared/hash.js';
import { orphanIncidentId } from '../../../functions/shared/incident.js';
import { signedRecordSync } from '../../support/approval-key.js';
import {
  ACCOUNT,
  ACTOR,
  APPROVALS,
  claimSequence,
  EXECUTION_ARN,
  fakeLedger,
  INSTANCE_ROLE_ARN,
  incident,
  RESPONDER,
  SEQUENCE_ID,
  sequenceIncident,
  USER_ARN,
} from '../shared/containment-fixtures.js';

/** The approval timeout request-approval recorded. */
const EXPIRES_AT = '2026-03-01T11:00:00.000Z';

/** A rejection's cause as the responder API sends it: a line, and its MAC'd record. */
function rejectionCause(record: Partial<ApprovalRecord> = {}, secret?: string): string {
  return JSON.stringify({
    summary: `rejected by ${RESPONDER}: not this one`,
    rejection: signedRecordSync(
      {
        kind: 'rejection',
        incidentId: incident().incidentId,
        step: 'revokeRoleSessions',
        executionArn: EXECUTION_ARN,
        approvers: [RESPONDER],
        approvalsRequired: 1,
        decidedAt: '2026-03-01T10:05:00.000Z',
        ...record,
      },
      secret,
    ),
  });
}

describe('record-failure', () => {
  let fake: ReturnType<typeof fakeLedger>;
  let clock: Date;
  beforeEach(() => {
    fake = fakeLedger();
    clock = new Date('2026-03-01T11:00:05.000Z');
  });
  const deps = () => ({
    ledger: fake.ledger,
    actor: ACTOR,
    approvals: APPROVALS,
    now: () => clock,
  });
  /** request-approval's entry for quarantineUser of this execution. */
  const requested = () =>
    fake.ledger.append(incident().incidentId, {
      step: 'quarantineUser',
      action: 'request-approval',
      actor: 'request-approval-role',
      outcome: 'APPROVAL_REQUESTED',
      executionArn: EXECUTION_ARN,
      detail: { approvalsRequired: 1, expiresAt: EXPIRES_AT },
    });
  const timeout = () =>
    recordFailure(
      {
        step: 'quarantineUser',
        incident: incident(),
        error: { Error: 'States.Timeout' },
        waited: 'approval',
        executionArn: EXECUTION_ARN,
      },
      deps(),
    );
  const rejection = (cause: string) =>
    recordFailure(
      {
        step: 'revokeRoleSessions',
        incident: incident(),
        error: { Error: 'Cordon.ApprovalRejected', Cause: cause },
        waited: 'approval',
        executionArn: EXECUTION_ARN,
      },
      deps(),
    );

  it('records an approval timeout as NOT_ACTED_ON', async () => {
    // Arrange: the approval timeout is up.
    await requested();
    // Act
    const result = await timeout();
    // Assert
    expect(result).toEqual({
      step: 'quarantineUser',
      action: 'quarantine-user',
      outcome: 'NOT_ACTED_ON',
      mode: 'approve',
      targetArn: USER_ARN,
      summary: 'approval timed out: not acted on',
    });
    expect(fake.entries().map((e) => e.outcome)).toEqual(['APPROVAL_REQUESTED', 'NOT_ACTED_ON']);
    expect(fake.entries().at(-1)).toEqual(
      expect.objectContaining({
        incidentId: incident().incidentId,
        step: 'quarantineUser',
        action: 'quarantine-user',
        actor: ACTOR,
        outcome: 'NOT_ACTED_ON',
        findingId: incident().findingId,
      }),
    );
  });

  it('records a task timeout as FAILED, not as an approval timeout', async () => {
    expect(mapFailure({ Error: 'States.Timeout' }, 'task').outcome).toBe('FAILED');
    expect(mapFailure({ Error: 'States.Timeout' }, 'approval').outcome).toBe('NOT_ACTED_ON');
    expect(mapFailure({ Error: 'States.Timeout' }, 'approval', { timeout: 'early' }).outcome).toBe(
      'TIMEOUT_UNVERIFIED',
    );
  });

  it('records a responder rejection as REJECTED, with its verified record', async () => {
    // Act
    const result = await rejection(rejectionCause());
    // Assert
    expect(result).toMatchObject({
      action: 'revoke-sessions',
      outcome: 'REJECTED',
      summary: 'rejected by a responder: not acted on',
    });
    expect(fake.entries()[0]?.outcome).toBe('REJECTED');
    expect(fake.entries()[0]?.detail).toMatchObject({
      rejection: { record: expect.stringContaining(RESPONDER) },
    });
  });

  describe('a rejection sent by whoever holds the task token (SendTaskFailure)', () => {
    it.each([
      ['a bare cause, as the contained principal would send', 'I reject my own containment'],
      ["a record MAC'd with another key", rejectionCause({}, 'not-the-approval-key')],
      ['a record of another step', rejectionCause({ step: 'quarantineUser' })],
      ['a record of another execution', rejectionCause({ executionArn: `${EXECUTION_ARN}-other` })],
      ['a record of another incident', rejectionCause({ incidentId: 'inc-ffffffffffffffffffff' })],
      [
        'a record by a non-responder',
        rejectionCause({ approvers: ['arn:aws:iam::123456789012:user/mallory'] }),
      ],
    ])(
      "records %s as REJECTED_UNVERIFIED, not as a responder's rejection",
      async (_what, cause) => {
        // Act
        const result = await rejection(cause);
        // Assert
        expect(result.outcome).toBe('REJECTED_UNVERIFIED');
        expect(result.summary).toMatch(
          /^UNVERIFIED rejection: not acted on, and nobody verifiably rejected it/,
        );
        expect(fake.entries().map((e) => e.outcome)).toEqual(['REJECTED_UNVERIFIED']);
      },
    );

    it("records a valid record of the incident's own principal as REJECTED_UNVERIFIED", async () => {
      // Arrange: the contained user is also a configured responder.
      const approvals = { ...APPROVALS, responders: [...APPROVALS.responders, USER_ARN] };
      // Act
      const result = await recordFailure(
        {
          step: 'revokeRoleSessions',
          incident: incident(),
          error: {
            Error: 'Cordon.ApprovalRejected',
            Cause: rejectionCause({ approvers: [USER_ARN] }),
          },
          waited: 'approval',
          executionArn: EXECUTION_ARN,
        },
        { ...deps(), approvals },
      );
      // Assert
      expect(result.outcome).toBe('REJECTED_UNVERIFIED');
    });
  });

  it('records a States.Timeout sent before the approval timeout as TIMEOUT_UNVERIFIED', async () => {
    // Arrange: SendTaskFailure may name any error, States.Timeout included.
    await requested();
    clock = new Date('2026-03-01T10:10:00.000Z');
    // Act
    const result = await timeout();
    // Assert
    expect(result.outcome).toBe('TIMEOUT_UNVERIFIED');
    expect(result.summary).toContain("before the approval's timeout at 2026-03-01T11:00:00.000Z");
    expect(fake.entries().at(-1)?.outcome).toBe('TIMEOUT_UNVERIFIED');
  });

  it('records a States.Timeout with no approval request of this execution as TIMEOUT_UNVERIFIED', async () => {
    // Act
    const result = await timeout();
    // Assert
    expect(result.outcome).toBe('TIMEOUT_UNVERIFIED');
  });

  it('records any other error as FAILED with its name and a bounded, one-line cause', async () => {
    // Arrange
    const cause = JSON.stringify({
      errorType: 'Cordon.AccessDenied',
      errorMessage: `denied\nInjected: line ${'x'.repeat(2000)}`,
      trace: ['frame'],
    });
    // Act
    const result = await recordFailure(
      {
        step: 'disableAccessKey',
        incident: incident(),
        error: { Error: 'Cordon.AccessDenied', Cause: cause },
        waited: 'task',
        executionArn: EXECUTION_ARN,
      },
      deps(),
    );
    // Assert
    expect(result.outcome).toBe('FAILED');
    expect(result.action).toBe('disable-access-key');
    expect(
      result.summary.startsWith('failed: Cordon.AccessDenied: denied Injected: line xxx'),
    ).toBe(true);
    expect(result.summary).not.toContain('\n');
    expect(result.summary.length).toBeLessThan(600);
    expect(fake.entries()[0]?.detail).toMatchObject({ error: 'Cordon.AccessDenied' });
  });

  it('keys a failure without an incident by a hash of the execution ARN', async () => {
    // Act
    const result = await recordFailure(
      {
        step: 'triage',
        error: { Error: 'Cordon.InvalidFinding', Cause: 'detail.resource is required' },
        waited: 'task',
        executionArn: EXECUTION_ARN,
      },
      deps(),
    );
    // Assert
    expect(result).toEqual({
      step: 'triage',
      action: 'playbook',
      outcome: 'FAILED',
      mode: 'off',
      summary: 'failed: Cordon.InvalidFinding: detail.resource is required',
    });
    const id = `inc-${sha256Hex(EXECUTION_ARN).slice(0, 20)}`;
    expect(orphanIncidentId(EXECUTION_ARN)).toBe(id);
    expect(fake.entries()).toEqual([expect.objectContaining({ incidentId: id, step: 'triage' })]);
  });

  it('uses the playbook action for a step the catalog does not know', async () => {
    // Act
    const result = await recordFailure(
      {
        step: 'notify',
        incident: incident(),
        error: { Error: 'States.TaskFailed' },
        waited: 'task',
        executionArn: EXECUTION_ARN,
      },
      deps(),
    );
    // Assert
    expect(result).toMatchObject({ action: 'playbook', mode: 'off', outcome: 'FAILED' });
  });

  describe("an attack sequence's approval of its set", () => {
    /** A rejection of the parent's one step, its record naming `approvers`. */
    const sequenceRejection = (approvers: string[], responders: string[] = []) =>
      recordFailure(
        {
          step: 'containSequence',
          incident: sequenceIncident(),
          error: {
            Error: 'Cordon.ApprovalRejected',
            Cause: rejectionCause({ incidentId: SEQUENCE_ID, step: 'containSequence', approvers }),
          },
          waited: 'approval',
          executionArn: EXECUTION_ARN,
        },
        {
          ...deps(),
          approvals: { ...APPROVALS, responders: [...APPROVALS.responders, ...responders] },
        },
      );

    it('records a responder rejection as REJECTED, under the attack-sequence action', async () => {
      // Act
      const result = await sequenceRejection([RESPONDER]);
      // Assert
      expect(result).toMatchObject({
        step: 'containSequence',
        action: 'attack-sequence',
        outcome: 'REJECTED',
        mode: 'approve',
      });
      expect(result.targetArn).toBeUndefined();
      expect(fake.entries()).toEqual([
        expect.objectContaining({
          incidentId: SEQUENCE_ID,
          step: 'containSequence',
          action: 'attack-sequence',
          outcome: 'REJECTED',
        }),
      ]);
    });

    it.each([
      ['the user whose key a member disables', USER_ARN],
      ["a member instance's role", INSTANCE_ROLE_ARN],
    ])(
      'records a valid rejection by %s, configured as a responder, as REJECTED_UNVERIFIED',
      async (_who, principal) => {
        // Act: the parent names no principal of its own; its members do.
        const result = await sequenceRejection([principal], [principal]);
        // Assert
        expect(result.outcome).toBe('REJECTED_UNVERIFIED');
        expect(result.summary).toContain(
          `${principal} decided it, and the decision is about that principal`,
        );
      },
    );

    it('records a rejection by an actor the set leaves out (a protected role), named in the claim, as REJECTED_UNVERIFIED', async () => {
      // Arrange: triage listed the role as not acted on; its claim bars it from deciding.
      const breakGlass = `arn:aws:iam::${ACCOUNT}:role/break-glass`;
      await claimSequence(fake.ledger, sequenceIncident(), EXECUTION_ARN, [breakGlass]);
      // Act
      const result = await sequenceRejection([breakGlass], [breakGlass]);
      // Assert
      expect(result.outcome).toBe('REJECTED_UNVERIFIED');
      expect(result.summary).toContain(`${breakGlass} decided it`);
    });

    it('records a timeout of the approval as NOT_ACTED_ON for the whole set', async () => {
      // Arrange
      await fake.ledger.append(SEQUENCE_ID, {
        step: 'containSequence',
        action: 'request-approval',
        actor: 'request-approval-role',
        outcome: 'APPROVAL_REQUESTED',
        executionArn: EXECUTION_ARN,
        detail: { approvalsRequired: 1, expiresAt: EXPIRES_AT },
      });
      // Act
      const result = await recordFailure(
        {
          step: 'containSequence',
          incident: sequenceIncident(),
          error: { Error: 'States.Timeout' },
          waited: 'approval',
          executionArn: EXECUTION_ARN,
        },
        deps(),
      );
      // Assert
      expect(result).toMatchObject({ action: 'attack-sequence', outcome: 'NOT_ACTED_ON' });
    });
  });

  it('rejects an input with an unknown field (strict contract)', () => {
    expect(
      RecordFailureInputSchema.safeParse({
        step: 's',
        error: { Error: 'x' },
        executionArn: EXECUTION_ARN,
        taskToken: 't',
      }).success,
    ).toBe(false);
  });
});

import { beforeEach, describe, expect, it } from 'vitest';
import {
  mapFailure,
  RecordFailureInputSchema,
  recordFailure,
} from '../../../functions/record-failure/core.js';
import { sha256Hex } from '../../../functions/shared/hash.js';
import { orphanIncidentId } from '../../../functions/shared/incident.js';
import {
  ACTOR,
  EXECUTION_ARN,
  fakeLedger,
  incident,
  USER_ARN,
} from '../shared/containment-fixtures.js';

describe('record-failure', () => {
  let fake: ReturnType<typeof fakeLedger>;
  beforeEach(() => {
    fake = fakeLedger();
  });
  const deps = () => ({ ledger: fake.ledger, actor: ACTOR });

  it('records an approval timeout as NOT_ACTED_ON', async () => {
    // Act
    const result = await recordFailure(
      {
        step: 'quarantineUser',
        incident: incident(),
        error: { Error: 'States.Timeout' },
        waited: 'approval',
        executionArn: EXECUTION_ARN,
      },
      deps(),
    );
    // Assert
    expect(result).toEqual({
      step: 'quarantineUser',
      action: 'quarantine-user',
      outcome: 'NOT_ACTED_ON',
      mode: 'approve',
      targetArn: USER_ARN,
      summary: 'approval timed out: not acted on',
    });
    expect(fake.entries()).toEqual([
      expect.objectContaining({
        incidentId: incident().incidentId,
        step: 'quarantineUser',
        action: 'quarantine-user',
        actor: ACTOR,
        outcome: 'NOT_ACTED_ON',
        findingId: incident().findingId,
      }),
    ]);
  });

  it('records a task timeout as FAILED, not as an approval timeout', async () => {
    expect(mapFailure({ Error: 'States.Timeout' }, 'task').outcome).toBe('FAILED');
    expect(mapFailure({ Error: 'States.Timeout' }, 'approval').outcome).toBe('NOT_ACTED_ON');
  });

  it('records a responder rejection as REJECTED', async () => {
    // Act
    const result = await recordFailure(
      {
        step: 'revokeRoleSessions',
        incident: incident(),
        error: { Error: 'Cordon.ApprovalRejected', Cause: 'not this one' },
        waited: 'approval',
        executionArn: EXECUTION_ARN,
      },
      deps(),
    );
    // Assert
    expect(result).toMatchObject({
      action: 'revoke-sessions',
      outcome: 'REJECTED',
      summary: 'rejected by a responder: not acted on',
    });
    expect(fake.entries()[0]?.outcome).toBe('REJECTED');
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

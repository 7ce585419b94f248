import { describe, expect, it } from 'vitest';
import type { Mode } from '../../../functions/shared/catalog.js';
import type { ActionInput, Incident } from '../../../functions/shared/incident.js';
import type { LedgerEntry } from '../../../functions/shared/ledger.js';
import {
  claimedPlace,
  incidentDigest,
  notValidated,
  validatedRecord,
} from '../../../functions/shared/validated.js';
import { EXECUTION_ARN, incident as fixtureIncident } from './containment-fixtures.js';

const validatedIncident = fixtureIncident({
  plan: { disableAccessKey: { mode: 'auto' }, quarantineUser: { mode: 'approve' } },
});
const ID = validatedIncident.incidentId;

/** An entry of the incident's ledger, as Cordon writes them. */
function entry(seq: number, fields: Partial<LedgerEntry>): LedgerEntry {
  return {
    incidentId: ID,
    seq,
    at: '2026-03-01T10:05:00.000Z',
    prevHash: '0'.repeat(64),
    hash: String(seq).padStart(64, '0'),
    step: 'triage',
    action: 'triage',
    actor: 'arn:aws:iam::123456789012:role/cordon/triage',
    outcome: 'CLAIMED',
    executionArn: EXECUTION_ARN,
    ...fields,
  };
}

const claim = (incident: Incident = validatedIncident) =>
  entry(0, { detail: { validated: validatedRecord(incident) } });

/** The step input the state machine would send, with `mode` for `step`. */
function handed(step: string, mode: Mode, incident: Incident = validatedIncident): ActionInput {
  return {
    incident: { ...incident, plan: { ...incident.plan, [step]: { mode } } },
    step,
    executionArn: EXECUTION_ARN,
    approval: { decision: 'NOT_REQUIRED', step },
  };
}

describe('notValidated', () => {
  it('accepts the incident triage validated, its steps as planned', () => {
    // Arrange
    const entries = [claim()];
    // Act
    const auto = notValidated(handed('disableAccessKey', 'auto'), entries);
    const approve = notValidated(handed('quarantineUser', 'approve'), entries);
    // Assert
    expect(auto).toBeUndefined();
    expect(approve).toBeUndefined();
  });

  it('accepts a step made stricter since the claim (the breaker asks a responder)', () => {
    // Act
    const why = notValidated(handed('disableAccessKey', 'approve'), [claim()]);
    // Assert
    expect(why).toBeUndefined();
  });

  it('refuses an incident with no claim, or whose first entry is not a claim by triage', () => {
    // Arrange
    const refusedClaim = entry(0, { outcome: 'REFUSED' });
    const notTriage = entry(0, { step: 'disableAccessKey', action: 'disable-access-key' });
    // Act
    const reasons = [[], [refusedClaim], [notTriage]].map((entries) =>
      notValidated(handed('disableAccessKey', 'auto'), entries),
    );
    // Assert
    expect(reasons).toEqual(Array(3).fill(`triage claimed no incident ${ID}`));
  });

  it("runs under its own execution's claim, a later emission's in the incident (one incident per finding)", () => {
    // Arrange: the first emission was refused; this one claimed the incident after it.
    const entries = [
      entry(0, { outcome: 'REFUSED', executionArn: `${EXECUTION_ARN}-first` }),
      entry(1, { detail: { validated: validatedRecord(validatedIncident) } }),
    ];
    // Act
    const why = notValidated(handed('disableAccessKey', 'auto'), entries);
    // Assert
    expect(why).toBeUndefined();
  });

  it('refuses a step handed by the execution of a re-emission, which joined and claimed nothing', () => {
    // Arrange: another execution holds the incident; this one only recorded its re-emission.
    const entries = [
      entry(0, {
        executionArn: `${EXECUTION_ARN}-first`,
        detail: { validated: validatedRecord(validatedIncident) },
      }),
      entry(1, { outcome: 'REEMITTED', detail: { validated: validatedRecord(validatedIncident) } }),
    ];
    // Act
    const why = notValidated(handed('disableAccessKey', 'auto'), entries);
    // Assert
    expect(why).toBe(
      `incident ${ID} was claimed by execution ${EXECUTION_ARN}-first, not ${EXECUTION_ARN}`,
    );
  });

  it("is not held by another emission's breaker hold, only by its own", () => {
    // Arrange
    const entries = [
      entry(0, {
        executionArn: `${EXECUTION_ARN}-first`,
        detail: { validated: validatedRecord(validatedIncident) },
      }),
      entry(1, { outcome: 'BREAKER_HOLDING', executionArn: `${EXECUTION_ARN}-first` }),
      entry(2, { detail: { validated: validatedRecord(validatedIncident) } }),
    ];
    // Act
    const mine = notValidated(handed('disableAccessKey', 'auto'), entries);
    const held = notValidated(handed('disableAccessKey', 'auto'), [
      ...entries,
      entry(3, { outcome: 'BREAKER_HOLDING' }),
    ]);
    // Assert
    expect(mine).toBeUndefined();
    expect(held).toContain('the circuit breaker held incident');
  });

  it('refuses a claim that records no validated incident (written before this version, or by hand)', () => {
    // Act
    const why = notValidated(handed('disableAccessKey', 'auto'), [entry(0, { detail: {} })]);
    // Assert
    expect(why).toBe(`the claim of incident ${ID} records no validated incident`);
  });

  it('refuses the incident under another execution', () => {
    // Arrange
    const input = { ...handed('disableAccessKey', 'auto'), executionArn: `${EXECUTION_ARN}-2` };
    // Act
    const why = notValidated(input, [claim()]);
    // Assert
    expect(why).toContain(`was claimed by execution ${EXECUTION_ARN}, not ${EXECUTION_ARN}-2`);
  });

  it('refuses an incident changed in anything but its plan: its principal, its key, its severity', () => {
    // Arrange
    const changes: Partial<Incident>[] = [
      {
        principal: {
          ...validatedIncident.principal,
          arn: 'arn:aws:iam::123456789012:user/bob',
          kind: 'IAMUser',
        },
      },
      {
        principal: {
          ...validatedIncident.principal,
          kind: 'IAMUser',
          arn: validatedIncident.principal?.arn ?? '',
          accessKeyId: 'AKIAOTHER0000000000',
        },
      },
      { severity: 9.9 },
    ];
    // Act
    const reasons = changes.map((change) =>
      notValidated(handed('disableAccessKey', 'auto', { ...validatedIncident, ...change }), [
        claim(),
      ]),
    );
    // Assert
    for (const why of reasons) expect(why).toContain('is not the one triage validated');
  });

  it('refuses a step less guarded than planned: auto for approve, or acting for a dry run', () => {
    // Arrange
    const dryRun = fixtureIncident({ plan: { disableAccessKey: { mode: 'dry-run' } } });
    // Act
    const unattended = notValidated(handed('quarantineUser', 'auto'), [claim()]);
    const forReal = notValidated(handed('disableAccessKey', 'auto', dryRun), [claim(dryRun)]);
    // Assert
    expect(unattended).toBe(
      'step quarantineUser was handed mode auto, but triage planned it approve',
    );
    expect(forReal).toBe(
      'step disableAccessKey was handed mode auto, but triage planned it dry-run',
    );
  });

  it('refuses a step triage did not plan', () => {
    // Act
    const why = notValidated(handed('revokeRoleSessions', 'auto'), [claim()]);
    // Assert
    expect(why).toBe(`triage planned no step revokeRoleSessions for ${ID}`);
  });

  it('refuses an automatic step once the breaker held the incident', () => {
    // Arrange
    const held = entry(1, { outcome: 'BREAKER_HOLDING' });
    // Act
    const why = notValidated(handed('disableAccessKey', 'auto'), [claim(), held]);
    const approved = notValidated(handed('disableAccessKey', 'approve'), [claim(), held]);
    // Assert
    expect(why).toBe(
      `the circuit breaker held incident ${ID}: step disableAccessKey cannot run unattended`,
    );
    expect(approved).toBeUndefined();
  });
});

describe('incidentDigest', () => {
  it('leaves the plan out and does not depend on key order', () => {
    // Arrange
    const reordered = Object.fromEntries(Object.entries(validatedIncident).reverse()) as Incident;
    // Act
    const digests = [
      incidentDigest(validatedIncident),
      incidentDigest({ ...validatedIncident, plan: {} }),
      incidentDigest(reordered),
    ];
    // Assert
    expect(new Set(digests).size).toBe(1);
    expect(digests[0]).toMatch(/^[0-9a-f]{64}$/);
  });
});

describe('claimedPlace', () => {
  it("reads the account and region from the claim of the entry's own execution", () => {
    const member = { ...validatedIncident, account: '222222222222', region: 'eu-west-1' };
    const other = 'arn:aws:states:us-east-1:123456789012:execution:cordon-iam-credentials:other';
    const entries = [
      entry(0, { executionArn: other, detail: { validated: validatedRecord(validatedIncident) } }),
      entry(1, { detail: { validated: validatedRecord(member) } }),
    ];

    expect(claimedPlace(entries, EXECUTION_ARN)).toEqual({
      account: '222222222222',
      region: 'eu-west-1',
    });
  });

  it('finds none in a claim written before it was recorded, nor in a refusal or another step', () => {
    const { account: _a, region: _r, ...older } = validatedRecord(validatedIncident);

    expect(
      claimedPlace([entry(0, { detail: { validated: older } })], EXECUTION_ARN),
    ).toBeUndefined();
    expect(
      claimedPlace(
        [
          entry(0, {
            outcome: 'REFUSED',
            detail: { validated: validatedRecord(validatedIncident) },
          }),
        ],
        EXECUTION_ARN,
      ),
    ).toBeUndefined();
    expect(claimedPlace([claim()], undefined)).toBeUndefined();
  });
});

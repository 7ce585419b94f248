/**
 * Where a rollback acts (functions/actions/handlers.ts, rollbackPlace): the
 * account and region triage's claim recorded for the execution that made
 * the change, never the rollback's input. An attack each: a claim of
 * another execution, a claim with no place organization-wide, and an
 * organization-wide incident rolled back after the organization key was
 * removed, which would otherwise restore a namesake in the hub.
 */
import { describe, expect, it } from 'vitest';
import { rollbackPlace } from '../../../functions/actions/handlers.js';
import { InvalidTaskInputError } from '../../../functions/shared/errors.js';
import type { LedgerEntry } from '../../../functions/shared/ledger.js';
import type { RollbackInput } from '../../../functions/shared/rollback.js';

const INCIDENT = 'inc-0123456789abcdef0123';
const HUB = '111111111111';
const MEMBER = '222222222222';
const CONTAINING = 'arn:aws:states:us-east-1:111111111111:execution:cordon-iam-credentials:a';
const OTHER = 'arn:aws:states:us-east-1:111111111111:execution:cordon-iam-credentials:b';
const OWN = { account: HUB, region: 'us-east-1' };

const input = { incidentId: INCIDENT, item: { seq: 3 } } as RollbackInput;

function entry(seq: number, fields: Partial<LedgerEntry>): LedgerEntry {
  return {
    incidentId: INCIDENT,
    seq,
    at: '2026-03-01T10:05:00.000Z',
    prevHash: '0'.repeat(64),
    hash: String(seq).padStart(64, '0'),
    step: 'triage',
    action: 'triage',
    actor: `arn:aws:iam::${HUB}:role/cordon/triage`,
    outcome: 'CLAIMED',
    ...fields,
  };
}

const claim = (seq: number, executionArn: string, place?: { account: string; region: string }) =>
  entry(seq, {
    executionArn,
    detail: { validated: { incident: 'f'.repeat(64), modes: {}, ...place } },
  });
const contained = entry(3, {
  step: 'disableAccessKey',
  action: 'disable-access-key',
  outcome: 'CONTAINED',
  executionArn: CONTAINING,
});

describe('rollbackPlace', () => {
  it("acts where the containing execution's claim says, not where another claim does", () => {
    const entries = [
      claim(0, OTHER, { account: HUB, region: 'us-east-1' }),
      claim(1, CONTAINING, { account: MEMBER, region: 'eu-west-1' }),
      contained,
    ];

    expect(rollbackPlace(input, entries, true, OWN)).toEqual({
      account: MEMBER,
      region: 'eu-west-1',
      incidentId: INCIDENT,
    });
  });

  it('organization-wide, refuses a claim that records no place rather than guess', () => {
    expect(() => rollbackPlace(input, [claim(1, CONTAINING), contained], true, OWN)).toThrow(
      InvalidTaskInputError,
    );
  });

  it("single-account, refuses a member's incident (the organization key since removed)", () => {
    const entries = [claim(1, CONTAINING, { account: MEMBER, region: 'us-east-1' }), contained];

    expect(() => rollbackPlace(input, entries, false, OWN)).toThrow(
      `was made in account ${MEMBER}; this Cordon acts only in ${HUB}`,
    );
  });

  it('single-account, takes its own account and region for a claim from before places were recorded', () => {
    expect(rollbackPlace(input, [claim(1, CONTAINING), contained], false, OWN)).toEqual({
      ...OWN,
      incidentId: INCIDENT,
    });
  });
});

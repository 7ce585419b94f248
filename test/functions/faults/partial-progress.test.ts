import { describe, expect, it } from 'vitest';
import { fakeLedger } from '../shared/containment-fixtures.js';
import { rollbackEntries } from '../shared/rollback-fixtures.js';
import { Faults, UNAVAILABLE } from './faults.js';
import { QUARANTINE_USER, ROLLBACK_ROWS } from './rows.js';
import { type ContainmentRow, containedWorld, readyToRollBack } from './suite.js';
import { type IamWorld, resetMocks } from './worlds.js';

/**
 * Containment, then its rollback, when the first attempt of a multi-call
 * action got part of the way before a retryable fault: the retry's before-
 * state must still be what the target was before Cordon touched it, or the
 * rollback restores the wrong thing.
 */

const rollbackOf = (name: string) => {
  const row = ROLLBACK_ROWS.find((r) => r.name === name);
  if (!row) throw new Error(`no rollback row ${name}`);
  return row;
};

/**
 * Contains with a retryable fault at `command`, retries, and returns the
 * world, the retry's CONTAINED entry and a ledger ready for its rollback.
 */
async function containedAfterPartialAttempt(
  row: ContainmentRow,
  rollback: string,
  command: string,
) {
  const faults = new Faults();
  resetMocks();
  const world = row.setup(faults);
  const scratch = fakeLedger();
  faults.inject({ command, error: UNAVAILABLE.error, when: 'before' });
  await expect(row.run(scratch.ledger)).rejects.toMatchObject({
    name: 'Cordon.ServiceUnavailable',
  });
  const retried = await row.run(scratch.ledger);
  expect(retried.outcome).toBe('CONTAINED');
  return { world, ...(await readyToRollBack(rollbackOf(rollback).name, scratch.entries())) };
}

describe('partial progress, then rollback', () => {
  it('rollback-isolate-network finishes a restore that was throttled after its first interface', async () => {
    const rollback = rollbackOf('rollback-isolate-network');
    const { faults, fake, input } = await containedWorld(rollback);
    faults.inject({
      command: 'ModifyNetworkInterfaceAttribute',
      occurrence: 2,
      error: () => Object.assign(new Error('Rate exceeded'), { name: 'RequestLimitExceeded' }),
      when: 'before',
    });

    await expect(rollback.run(input, fake.ledger)).rejects.toMatchObject({
      name: 'Cordon.Throttled',
    });
    const retried = await rollback.run(input, fake.ledger);

    expect(retried.outcome).toBe('ROLLED_BACK');
    expect(faults.writes()).toEqual({ ModifyNetworkInterfaceAttribute: 2 });
    expect(rollbackEntries(fake).map((e) => e.outcome)).toEqual(['ROLLED_BACK']);
  });

  // The retry reads Cordon's own deny-all policy on the user; the intent
  // entry of the first attempt says it was not there before Cordon.
  it('rollback-quarantine-user removes the deny-all policy after a quarantine whose login-profile delete was throttled', async () => {
    const { world, entry, fake, input } = await containedAfterPartialAttempt(
      QUARANTINE_USER,
      'rollback-quarantine-user',
      'DeleteLoginProfile',
    );
    expect(entry.before).toMatchObject({ quarantinePolicy: false });

    const result = await rollbackOf('rollback-quarantine-user').run(input, fake.ledger);

    expect(result.outcome).toBe('ROLLED_BACK');
    expect((world as IamWorld).users.alice?.policies).toEqual({});
  });
});

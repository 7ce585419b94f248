import { describe, expect, it } from 'vitest';
import type { RollbackFunctionName } from '../../../functions/actions/registry.js';
import type { ActionResult } from '../../../functions/shared/incident.js';
import { INTENT } from '../../../functions/shared/intents.js';
import type { Ledger, LedgerEntry } from '../../../functions/shared/ledger.js';
import type { RollbackInput, RollbackResult } from '../../../functions/shared/rollback.js';
import { fakeLedger } from '../shared/containment-fixtures.js';
import { containedThenApproved, rollbackEntries } from '../shared/rollback-fixtures.js';
import {
  expectChainIntact,
  FAULT_CASES,
  type FaultCase,
  Faults,
  LEDGER_CRASH,
  UNAVAILABLE,
} from './faults.js';
import { resetMocks } from './worlds.js';

/**
 * The fault scenarios every containment and rollback action must pass, run
 * for one action from its row: which commands it reads with, which it writes
 * with, and a fresh world in which it has something to do. Adding an action
 * is adding a row.
 */

export interface ContainmentRow {
  /** The describe block's name: the action, and a variant when there is more than one. */
  readonly name: string;
  readonly step: string;
  /** Builds a fresh world, not yet contained, behind the client mocks, and returns it. */
  setup(faults: Faults): unknown;
  run(ledger: Ledger): Promise<ActionResult>;
  /** Commands of its read; the first is where every kind of fault is injected. */
  readonly reads: readonly string[];
  /** Commands that change AWS; the first is where every kind of fault is injected. */
  readonly writes: readonly string[];
  /** Writes that set what is already set (a tag) and may repeat on a retry by design. */
  readonly idempotentWrites?: readonly string[];
}

export interface RollbackRow {
  readonly name: RollbackFunctionName;
  /** The containment whose CONTAINED entry this rolls back, run first in a clean world. */
  readonly contained: ContainmentRow;
  run(
    input: RollbackInput,
    ledger: ReturnType<typeof fakeLedger>['ledger'],
  ): Promise<RollbackResult>;
  readonly reads: readonly string[];
  readonly writes: readonly string[];
}

type Fake = ReturnType<typeof fakeLedger>;

/** Resolves to the error an attempt failed with; fails the test when it succeeded. */
async function failure(attempt: Promise<unknown>): Promise<unknown> {
  const settled = await attempt.then(
    (result) => ({ failed: false as const, result }),
    (error: unknown) => ({ failed: true as const, error }),
  );
  if (!settled.failed) {
    expect.fail(`expected the attempt to fail, it returned ${JSON.stringify(settled.result)}`);
  }
  return settled.error;
}

const outcomes = (entries: readonly LedgerEntry[]) => entries.map((e) => e.outcome);

/**
 * Where a row's faults go: every kind at its first read and its first write,
 * and an unavailable service at each of its other reads and writes.
 */
function faultPoints(row: {
  readonly name: string;
  readonly reads: readonly string[];
  readonly writes: readonly string[];
}): { command: string; fault: FaultCase }[] {
  const [read] = row.reads;
  const [write] = row.writes;
  if (read === undefined || write === undefined) throw new Error(`${row.name}: no read or write`);
  return [
    ...FAULT_CASES.map((c) => ({ command: read, fault: c })),
    ...FAULT_CASES.map((c) => ({ command: write, fault: c })),
    ...row.reads.slice(1).map((command) => ({ command, fault: UNAVAILABLE })),
    ...row.writes.slice(1).map((command) => ({ command, fault: UNAVAILABLE })),
  ];
}

// ------------------------------------------------------------------ containment

function containmentWorld(row: ContainmentRow): { faults: Faults; fake: Fake } {
  const faults = new Faults();
  resetMocks();
  row.setup(faults);
  return { faults, fake: fakeLedger() };
}

/**
 * One clean run: the writes it makes and its CONTAINED entry, what every
 * faulted run must end with. Its intent entry, written before the first
 * change, holds the same before-state.
 */
async function cleanContainment(row: ContainmentRow) {
  const { faults, fake } = containmentWorld(row);
  const result = await row.run(fake.ledger);
  expect(result.outcome).toBe('CONTAINED');
  expect(outcomes(fake.entries())).toEqual([INTENT, 'CONTAINED']);
  const [intent, entry] = fake.entries();
  if (!entry) throw new Error('no CONTAINED entry');
  expect(intent?.before).toEqual(entry.before);
  return { writes: faults.writes(row.idempotentWrites), entry };
}

const stepEntries = (fake: Fake, row: ContainmentRow) =>
  fake.entries().filter((e) => e.step === row.step);

/**
 * What every retry after an interrupted attempt must leave: the change made
 * once, an intent and one CONTAINED entry whose before-state is the clean
 * run's (what the target was before Cordon touched it, which a rollback
 * restores) and whose after-state is the clean run's.
 */
function expectConverged(
  row: ContainmentRow,
  clean: Awaited<ReturnType<typeof cleanContainment>>,
  faults: Faults,
  fake: Fake,
  expected: readonly string[],
  label?: string,
): void {
  expect(faults.writes(row.idempotentWrites), label).toEqual(clean.writes);
  expectChainIntact(fake.entries());
  const entries = stepEntries(fake, row);
  expect(outcomes(entries), label).toEqual(expected);
  const done = entries.at(-1);
  expect(done?.before, label).toEqual(clean.entry.before);
  expect(done?.after, label).toEqual(clean.entry.after);
}

export function containmentFaults(row: ContainmentRow): void {
  const points = faultPoints(row);

  describe(`${row.name}: faults`, () => {
    it('a clean run contains, and a second run finds it contained as recorded', async () => {
      const { faults, fake } = containmentWorld(row);
      const first = await row.run(fake.ledger);
      const writes = faults.writes();
      const again = await row.run(fake.ledger);
      expect([first.outcome, again.outcome]).toEqual(['CONTAINED', 'ALREADY_CONTAINED']);
      expect(faults.writes()).toEqual(writes);
      const entries = fake.entries();
      expect(outcomes(entries)).toEqual([INTENT, 'CONTAINED', 'ALREADY_CONTAINED']);
      // What the action recorded as its after-state is what a fresh read sees.
      expect(entries[2]?.before).toEqual(entries[1]?.after);
      expectChainIntact(entries);
    });

    it.each(points)(
      '$fault.label at $command: classified, nothing CONTAINED, the retry converges',
      async ({ command, fault }: { command: string; fault: FaultCase }) => {
        const clean = await cleanContainment(row);
        const { faults, fake } = containmentWorld(row);
        faults.inject({ command, error: fault.error, when: 'before' });

        const error = await failure(row.run(fake.ledger));

        expect(faults.fired).toBe(command);
        expect(error).toMatchObject({ name: fault.expected, retryable: fault.retryable });
        // The intent is written after the read and before the first change.
        const failed = [
          ...(row.writes.includes(command) ? [INTENT] : []),
          ...(fault.retryable ? [] : ['FAILED']),
        ];
        const entries = stepEntries(fake, row);
        expect(outcomes(entries)).toEqual(failed);
        for (const entry of entries) expect(entry).not.toHaveProperty('after');

        const retried = await row.run(fake.ledger);

        expect(retried.outcome).toBe('CONTAINED');
        const retry = failed.includes(INTENT) ? ['CONTAINED'] : [INTENT, 'CONTAINED'];
        expectConverged(row, clean, faults, fake, [...failed, ...retry]);
      },
    );

    it.each(row.writes)(
      'a write to %s that took effect but whose answer was lost: the retry does not repeat it',
      async (command) => {
        const clean = await cleanContainment(row);
        const { faults, fake } = containmentWorld(row);
        faults.inject({ command, error: UNAVAILABLE.error, when: 'after' });

        const error = await failure(row.run(fake.ledger));

        expect(faults.fired).toBe(command);
        expect(error).toMatchObject({ name: 'Cordon.ServiceUnavailable', retryable: true });
        expect(outcomes(stepEntries(fake, row))).toEqual([INTENT]);

        const retried = await row.run(fake.ledger);

        expect(retried.outcome).toBe('CONTAINED');
        expectConverged(row, clean, faults, fake, [INTENT, 'CONTAINED']);
      },
    );

    it('a write that fails at its last repetition, before or after taking effect: the retry finishes without repeating a change', async () => {
      const clean = await cleanContainment(row);
      const repeated = Object.entries(clean.writes).filter(([, n]) => n > 1);
      for (const [command, occurrence] of repeated) {
        for (const when of ['before', 'after'] as const) {
          const label = `${command} #${occurrence} ${when}`;
          const { faults, fake } = containmentWorld(row);
          faults.inject({ command, error: UNAVAILABLE.error, when, occurrence });
          const error = await failure(row.run(fake.ledger));
          expect(faults.fired, label).toBe(command);
          expect(error).toMatchObject({ name: 'Cordon.ServiceUnavailable', retryable: true });
          expect(outcomes(stepEntries(fake, row)), label).toEqual([INTENT]);

          const retried = await row.run(fake.ledger);

          expect(retried.outcome, label).toBe('CONTAINED');
          expectConverged(row, clean, faults, fake, [INTENT, 'CONTAINED'], label);
        }
      }
    });

    it('a crash after the AWS calls, before the ledger write: the retry records CONTAINED with the state from before the first attempt', async () => {
      const clean = await cleanContainment(row);
      const { faults, fake } = containmentWorld(row);
      fake.failNextPut(LEDGER_CRASH(), (entry) => entry.outcome !== INTENT);

      const error = await failure(row.run(fake.ledger));

      expect(error).toMatchObject({ name: 'Cordon.ServiceUnavailable', retryable: true });
      expect(outcomes(fake.entries())).toEqual([INTENT]);
      expect(faults.writes(row.idempotentWrites)).toEqual(clean.writes);

      const retried = await row.run(fake.ledger);

      expect(retried.outcome).toBe('CONTAINED');
      expect(retried.summary).toMatch(/\(finished by an earlier attempt\)$/);
      expectConverged(row, clean, faults, fake, [INTENT, 'CONTAINED']);
    });
  });
}

// ------------------------------------------------------------------ rollback

/**
 * A world where the containment ran cleanly, and a ledger holding its
 * CONTAINED entry and a granted rollback approval; write counts start at zero.
 */
export async function containedWorld(row: RollbackRow) {
  const faults = new Faults();
  resetMocks();
  row.contained.setup(faults);
  const scratch = fakeLedger();
  const result = await row.contained.run(scratch.ledger);
  expect(result.outcome).toBe('CONTAINED');
  const { fake, input } = await readyToRollBack(row.name, scratch.entries());
  faults.resetCounts();
  return { faults, fake, input };
}

/**
 * A fresh ledger holding the CONTAINED entry among `entries` and a granted
 * approval to roll it back with `rollback`.
 */
export async function readyToRollBack(
  rollback: RollbackFunctionName,
  entries: readonly LedgerEntry[],
) {
  const entry = entries.find((e) => e.outcome === 'CONTAINED');
  if (!entry?.targetArn) throw new Error('no CONTAINED entry');
  const fake = fakeLedger();
  const input = await containedThenApproved(fake, rollback, {
    step: entry.step,
    action: entry.action,
    targetArn: entry.targetArn,
    before: entry.before,
    after: entry.after,
  });
  return { entry, fake, input };
}

async function cleanRollback(row: RollbackRow) {
  const { faults, fake, input } = await containedWorld(row);
  const result = await row.run(input, fake.ledger);
  expect(result.outcome).toBe('ROLLED_BACK');
  const [entry] = rollbackEntries(fake);
  if (!entry) throw new Error('no rollback entry');
  return { writes: faults.writes(), entry };
}

export function rollbackFaults(row: RollbackRow): void {
  const points = faultPoints(row);

  describe(`${row.name}: faults`, () => {
    it('a clean rollback restores, and a second run finds it restored as recorded', async () => {
      const { faults, fake, input } = await containedWorld(row);
      const first = await row.run(input, fake.ledger);
      const writes = faults.writes();
      const again = await row.run(input, fake.ledger);
      expect([first.outcome, again.outcome]).toEqual(['ROLLED_BACK', 'ALREADY_ROLLED_BACK']);
      expect(faults.writes()).toEqual(writes);
      expectChainIntact(fake.entries());
    });

    it.each(points)(
      '$fault.label at $command: classified, nothing ROLLED_BACK, the retry converges',
      async ({ command, fault }: { command: string; fault: FaultCase }) => {
        const clean = await cleanRollback(row);
        const { faults, fake, input } = await containedWorld(row);
        faults.inject({ command, error: fault.error, when: 'before' });

        const error = await failure(row.run(input, fake.ledger));

        expect(faults.fired).toBe(command);
        expect(error).toMatchObject({ name: fault.expected, retryable: fault.retryable });
        const failed = rollbackEntries(fake);
        expect(outcomes(failed)).toEqual(fault.retryable ? [] : ['FAILED']);
        for (const entry of failed) expect(entry).not.toHaveProperty('after');

        const retried = await row.run(input, fake.ledger);

        expect(retried.outcome).toBe('ROLLED_BACK');
        expect(faults.writes()).toEqual(clean.writes);
        expectChainIntact(fake.entries());
        const entries = rollbackEntries(fake);
        expect(outcomes(entries)).toEqual([...(fault.retryable ? [] : ['FAILED']), 'ROLLED_BACK']);
        expect(entries.at(-1)?.after).toEqual(clean.entry.after);
      },
    );

    it.each(row.writes)(
      'a write to %s that took effect but whose answer was lost: the retry does not repeat it',
      async (command) => {
        const clean = await cleanRollback(row);
        const { faults, fake, input } = await containedWorld(row);
        faults.inject({ command, error: UNAVAILABLE.error, when: 'after' });

        const error = await failure(row.run(input, fake.ledger));

        expect(faults.fired).toBe(command);
        expect(error).toMatchObject({ name: 'Cordon.ServiceUnavailable', retryable: true });
        expect(rollbackEntries(fake)).toEqual([]);

        const retried = await row.run(input, fake.ledger);

        expect(['ROLLED_BACK', 'ALREADY_ROLLED_BACK']).toContain(retried.outcome);
        expect(faults.writes()).toEqual(clean.writes);
        expectChainIntact(fake.entries());
        expect(outcomes(rollbackEntries(fake))).toEqual([retried.outcome]);
      },
    );

    it('a write that fails at its last repetition, before or after taking effect: the retry finishes without repeating a change', async () => {
      const clean = await cleanRollback(row);
      const repeated = Object.entries(clean.writes).filter(([, n]) => n > 1);
      for (const [command, occurrence] of repeated) {
        for (const when of ['before', 'after'] as const) {
          const { faults, fake, input } = await containedWorld(row);
          faults.inject({ command, error: UNAVAILABLE.error, when, occurrence });
          const error = await failure(row.run(input, fake.ledger));
          expect(faults.fired, `${command} #${occurrence} ${when}`).toBe(command);
          expect(error).toMatchObject({ name: 'Cordon.ServiceUnavailable', retryable: true });
          expect(rollbackEntries(fake)).toEqual([]);

          const retried = await row.run(input, fake.ledger);

          expect(['ROLLED_BACK', 'ALREADY_ROLLED_BACK']).toContain(retried.outcome);
          expect(faults.writes(), `${command} #${occurrence} ${when}`).toEqual(clean.writes);
          expectChainIntact(fake.entries());
          expect(outcomes(rollbackEntries(fake))).toEqual([retried.outcome]);
        }
      }
    });

    it('a crash after the AWS calls, before the ledger write: the retry sees the restore and records ALREADY_ROLLED_BACK', async () => {
      const clean = await cleanRollback(row);
      const { faults, fake, input } = await containedWorld(row);
      fake.failNextPut(LEDGER_CRASH());

      const error = await failure(row.run(input, fake.ledger));

      expect(error).toMatchObject({ name: 'Cordon.ServiceUnavailable', retryable: true });
      expect(rollbackEntries(fake)).toEqual([]);

      const retried = await row.run(input, fake.ledger);

      expect(retried.outcome).toBe('ALREADY_ROLLED_BACK');
      expect(faults.writes()).toEqual(clean.writes);
      expectChainIntact(fake.entries());
      const entries = rollbackEntries(fake);
      expect(outcomes(entries)).toEqual(['ALREADY_ROLLED_BACK']);
    });
  });
}

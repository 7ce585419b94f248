/**
 * The intent entry's rules in runContainment, on a containment with no AWS
 * behind it: which intents count as unfinished, and what a later attempt
 * records from one.
 */
import { describe, expect, it } from 'vitest';
import { type Containment, runContainment } from '../../../functions/actions/containment.js';
import { CordonError } from '../../../functions/shared/errors.js';
import { INTENT, unfinishedIntents } from '../../../functions/shared/intents.js';
import type { LedgerEntry } from '../../../functions/shared/ledger.js';
import { ACTOR, actionInput, fakeLedger, USER_ARN } from '../shared/containment-fixtures.js';

const STEP = 'disableAccessKey';
const ACTION = 'disable-access-key';

/** What an action appends for this step. */
const appended = (outcome: string, before?: unknown) => ({
  step: STEP,
  action: ACTION,
  actor: ACTOR,
  targetArn: USER_ARN,
  outcome,
  ...(before === undefined ? {} : { before }),
});

const entry = (seq: number, outcome: string, over: Partial<LedgerEntry> = {}): LedgerEntry => ({
  incidentId: 'inc-0123456789abcdef0123',
  seq,
  at: '2026-03-01T10:10:00.000Z',
  prevHash: '',
  hash: '',
  step: STEP,
  action: ACTION,
  actor: ACTOR,
  targetArn: USER_ARN,
  outcome,
  ...over,
});

describe('unfinishedIntents', () => {
  it('keeps the first intent until a conclusive outcome, and notes a FAILED after it', () => {
    const open = unfinishedIntents([
      entry(3, 'FAILED'),
      entry(1, INTENT),
      entry(2, INTENT),
      entry(0, 'CLAIMED', { step: 'triage', action: 'triage' }),
    ]);
    expect(open).toEqual([{ intent: entry(1, INTENT), failed: entry(3, 'FAILED') }]);
  });

  it.each(['CONTAINED', 'ALREADY_CONTAINED', 'TARGET_NOT_FOUND', 'DRY_RUN'])(
    '%s concludes an intent',
    (outcome) => {
      expect(unfinishedIntents([entry(1, INTENT), entry(2, outcome)])).toEqual([]);
      // An intent after the conclusion is a new attempt's.
      expect(unfinishedIntents([entry(1, INTENT), entry(2, outcome), entry(3, INTENT)])).toEqual([
        { intent: entry(3, INTENT) },
      ]);
    },
  );

  it('keeps steps, actions and targets apart', () => {
    const other = { targetArn: 'arn:aws:iam::123456789012:user/bob' };
    const open = unfinishedIntents([
      entry(1, INTENT),
      entry(2, INTENT, other),
      entry(3, 'CONTAINED', other),
      entry(4, INTENT, { action: 'quarantine-user', step: 'quarantineUser' }),
    ]);
    expect(open.map((o) => o.intent.seq)).toEqual([1, 4]);
  });
});

/** A key whose status the containment reads and sets, in memory. */
function keyContainment(world: { status: string }): Containment<string, { status: string }> {
  return {
    action: ACTION,
    target: () => USER_ARN,
    targetArn: (target) => target,
    read: async () => ({ ...world }),
    isContained: (state) => state.status === 'Inactive',
    describe: (_, state) => `disable the key (${state.status})`,
    apply: async () => {
      world.status = 'Inactive';
      return { ...world };
    },
  };
}

describe('runContainment after an earlier attempt', () => {
  it('records ALREADY_CONTAINED, not "finished by an earlier attempt", when that attempt failed', async () => {
    const fake = fakeLedger();
    const input = actionInput(STEP);
    await fake.ledger.append(input.incident.incidentId, appended(INTENT, { status: 'Active' }));
    await fake.ledger.append(input.incident.incidentId, appended('FAILED'));
    // Contained since, by someone else: a rollback must not undo it as Cordon's.
    const world = { status: 'Inactive' };

    const result = await runContainment(input, keyContainment(world), {
      ledger: fake.ledger,
      actor: ACTOR,
    });

    expect(result.outcome).toBe('ALREADY_CONTAINED');
    expect(fake.entries().at(-1)).toMatchObject({
      outcome: 'ALREADY_CONTAINED',
      before: { status: 'Inactive' },
      detail: { intentSeq: 0 },
    });
  });

  it('finishes from the intent when no attempt failed, pointing at it', async () => {
    const fake = fakeLedger();
    const input = actionInput(STEP);
    await fake.ledger.append(input.incident.incidentId, appended(INTENT, { status: 'Active' }));
    const world = { status: 'Inactive' };

    const result = await runContainment(input, keyContainment(world), {
      ledger: fake.ledger,
      actor: ACTOR,
    });

    expect(result.summary).toBe('disable the key (Active) (finished by an earlier attempt)');
    expect(fake.entries().at(-1)).toMatchObject({
      outcome: 'CONTAINED',
      before: { status: 'Active' },
      after: { status: 'Inactive' },
      detail: { intentSeq: 0 },
    });
  });

  it('records a refusal without an intent, and changes nothing', async () => {
    class Refused extends CordonError {
      override readonly name = 'Cordon.Refused';
      readonly retryable = false;
    }
    const fake = fakeLedger();
    const world = { status: 'Active' };
    const containment = { ...keyContainment(world), refusal: () => new Refused('not this key') };

    await expect(
      runContainment(actionInput(STEP), containment, { ledger: fake.ledger, actor: ACTOR }),
    ).rejects.toMatchObject({ name: 'Cordon.Refused' });

    expect(world.status).toBe('Active');
    expect(fake.entries().map((e) => [e.outcome, e.summary])).toEqual([['FAILED', 'not this key']]);
  });
});

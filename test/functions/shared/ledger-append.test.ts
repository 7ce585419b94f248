/**
 * Ledger.append with a chain head the caller already knows: no query when it
 * is right, and a correct chain when it is stale (another writer got there
 * first), because the put is conditional on a new key.
 */
import { QueryCommand } from '@aws-sdk/lib-dynamodb';
import { describe, expect, it } from 'vitest';
import { verifyChain } from '../../../functions/shared/ledger.js';
import { fakeLedger } from './containment-fixtures.js';

const INCIDENT = 'inc-0123456789abcdef0123';
const entry = (outcome: string) => ({
  step: 'disableAccessKey',
  action: 'disable-access-key',
  actor: 'arn:aws:iam::123456789012:role/cordon/DisableAccessKey',
  outcome,
});

describe('Ledger.append with a known head', () => {
  it('chains onto the head it is given without querying', async () => {
    const fake = fakeLedger();
    const first = await fake.ledger.append(INCIDENT, entry('CLAIMED'), null);
    const second = await fake.ledger.append(INCIDENT, entry('INTENT'), first);

    expect(fake.ddb.commandCalls(QueryCommand)).toHaveLength(0);
    expect([first.seq, second.seq]).toEqual([0, 1]);
    expect(second.prevHash).toBe(first.hash);
    expect(verifyChain(fake.entries())).toBeUndefined();
  });

  it('reads the latest entry and chains onto it when the head is stale', async () => {
    const fake = fakeLedger();
    const first = await fake.ledger.append(INCIDENT, entry('CLAIMED'));
    // Another writer appends after the head this caller holds.
    await fake.ledger.append(INCIDENT, entry('APPROVAL_REQUESTED'));

    const appended = await fake.ledger.append(INCIDENT, entry('INTENT'), first);

    expect(appended.seq).toBe(2);
    expect(fake.entries().map((e) => e.outcome)).toEqual([
      'CLAIMED',
      'APPROVAL_REQUESTED',
      'INTENT',
    ]);
    expect(verifyChain(fake.entries())).toBeUndefined();
  });

  it('recovers from a head of "no entries" when the incident has some', async () => {
    const fake = fakeLedger();
    await fake.ledger.append(INCIDENT, entry('CLAIMED'));

    const appended = await fake.ledger.append(INCIDENT, entry('INTENT'), null);

    expect(appended.seq).toBe(1);
    expect(verifyChain(fake.entries())).toBeUndefined();
  });
});

describe('Ledger.appendOnce', () => {
  const watched = (key: string) => ({ ...entry('ABORTED'), detail: { eventKey: key } });
  const sameKey = (key: string) => (e: { detail?: Record<string, unknown> }) =>
    e.detail?.eventKey === key;

  it('appends an entry the incident does not hold yet, after its latest', async () => {
    const fake = fakeLedger();
    await fake.ledger.append(INCIDENT, entry('CLAIMED'));

    const result = await fake.ledger.appendOnce(INCIDENT, watched('a'), sameKey('a'));

    expect(result.appended).toBe(true);
    expect(result.entry.seq).toBe(1);
    expect(result.entries.map((e) => e.outcome)).toEqual(['CLAIMED', 'ABORTED']);
    expect(verifyChain(fake.entries())).toBeUndefined();
  });

  it('appends nothing when the incident already holds the same entry (a repeated delivery)', async () => {
    const fake = fakeLedger();
    const first = await fake.ledger.appendOnce(INCIDENT, watched('a'), sameKey('a'));

    const again = await fake.ledger.appendOnce(INCIDENT, watched('a'), sameKey('a'));

    expect(again.appended).toBe(false);
    expect(again.entry).toEqual(first.entry);
    expect(fake.entries()).toHaveLength(1);
  });

  it('records two concurrent deliveries of one event once', async () => {
    const fake = fakeLedger();

    const results = await Promise.all([
      fake.ledger.appendOnce(INCIDENT, watched('a'), sameKey('a')),
      fake.ledger.appendOnce(INCIDENT, watched('a'), sameKey('a')),
    ]);

    expect(results.map((r) => r.appended).sort()).toEqual([false, true]);
    expect(fake.entries()).toHaveLength(1);
    expect(verifyChain(fake.entries())).toBeUndefined();
  });

  it('still appends an entry of another event while one was being written', async () => {
    const fake = fakeLedger();

    await Promise.all([
      fake.ledger.appendOnce(INCIDENT, watched('a'), sameKey('a')),
      fake.ledger.appendOnce(INCIDENT, watched('b'), sameKey('b')),
    ]);

    expect(fake.entries().map((e) => e.detail?.eventKey)).toEqual(['a', 'b']);
    expect(verifyChain(fake.entries())).toBeUndefined();
  });
});

describe('Ledger.appendDecided with entries read ahead', () => {
  it('decides on the entries the caller read, without reading them again', async () => {
    const fake = fakeLedger();
    const read = fake.ledger.entries(INCIDENT);
    fake.ddb.resetHistory();

    const decided = await fake.ledger.appendDecided(
      INCIDENT,
      async (entries) => ({ decision: entries.length, append: entry('CLAIMED') }),
      read,
    );

    expect(decided.decision).toBe(0);
    expect(fake.ddb.commandCalls(QueryCommand)).toHaveLength(0);
    expect(decided.entries.map((e) => e.outcome)).toEqual(['CLAIMED']);
  });

  it('reads again and decides again when another writer appended after that read', async () => {
    const fake = fakeLedger();
    const read = fake.ledger.entries(INCIDENT);
    await read;
    // Another delivery claims in between.
    await fake.ledger.append(INCIDENT, entry('CLAIMED'));
    const seen: number[] = [];

    const decided = await fake.ledger.appendDecided(
      INCIDENT,
      async (entries) => {
        seen.push(entries.length);
        return entries.length === 0
          ? { decision: 'claim', append: entry('CLAIMED') }
          : { decision: 'duplicate' };
      },
      read,
    );

    expect(seen).toEqual([0, 1]);
    expect(decided.decision).toBe('duplicate');
    expect(fake.entries().map((e) => e.outcome)).toEqual(['CLAIMED']);
    expect(verifyChain(fake.entries())).toBeUndefined();
  });
});

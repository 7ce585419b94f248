/**
 * verifyChain: the pure check behind `cordon ledger verify` and the
 * rollback's refusal of a tampered ledger. Chains are sealed exactly as the
 * Ledger class seals them (entryHash over the entry without its hash).
 */
import { describe, expect, it } from 'vitest';
import {
  entryHash,
  GENESIS_HASH,
  type LedgerEntry,
  verifyChain,
} from '../../../functions/shared/ledger.js';

const INCIDENT = 'inc-0123456789abcdef0123';

/** Re-seals an entry: its hash recomputed over its (possibly changed) content. */
function reseal(entry: LedgerEntry): LedgerEntry {
  const { hash: _old, ...body } = entry;
  return { ...body, hash: entryHash(body) };
}

/** A valid chain of `n` entries. */
function chain(n: number, incidentId = INCIDENT): LedgerEntry[] {
  const out: LedgerEntry[] = [];
  for (let seq = 0; seq < n; seq++) {
    const prevHash = out[seq - 1]?.hash ?? GENESIS_HASH;
    out.push(
      reseal({
        incidentId,
        seq,
        at: `2024-05-01T12:00:0${seq}.000Z`,
        step: seq === 0 ? 'triage' : 'disableAccessKey',
        action: seq === 0 ? 'triage' : 'disable-access-key',
        actor: 'arn:aws:iam::123456789012:role/cordon/Triage',
        outcome: seq === 0 ? 'CLAIMED' : 'CONTAINED',
        before: { status: 'Active', nested: { list: [1, 2, seq] } },
        after: { status: 'Inactive' },
        prevHash,
        hash: '',
      }),
    );
  }
  return out;
}

describe('verifyChain', () => {
  it('accepts a valid chain, in any order, and an empty one', () => {
    const entries = chain(5);
    expect(verifyChain(entries)).toBeUndefined();
    expect(verifyChain([...entries].reverse())).toBeUndefined();
    expect(verifyChain([])).toBeUndefined();
  });

  it('reports an edited field at its entry', () => {
    const entries = chain(5).map((e) => (e.seq === 2 ? { ...e, outcome: 'NOT_ACTED_ON' } : e));
    expect(verifyChain(entries)).toEqual({
      incidentId: INCIDENT,
      seq: 2,
      kind: 'edited',
      reason: 'its content does not match its hash',
    });
  });

  it('reports an edited nested before-state at its entry', () => {
    const entries = chain(4).map((e) =>
      e.seq === 1 ? { ...e, before: { status: 'Inactive', nested: { list: [1, 2, 1] } } } : e,
    );
    expect(verifyChain(entries)).toMatchObject({ seq: 1, kind: 'edited' });
  });

  it('reports a deleted middle entry as missing', () => {
    const entries = chain(5).filter((e) => e.seq !== 2);
    expect(verifyChain(entries)).toEqual({
      incidentId: INCIDENT,
      seq: 2,
      kind: 'missing',
      reason: 'entry #2 is missing',
    });
  });

  it('reports a missing first entry, and a gap of several', () => {
    expect(verifyChain(chain(3).slice(1))).toMatchObject({ seq: 0, kind: 'missing' });
    const gap = chain(6).filter((e) => e.seq < 2 || e.seq > 4);
    expect(verifyChain(gap)).toMatchObject({
      seq: 2,
      kind: 'missing',
      reason: 'entry #2 is missing (#2 to #4)',
    });
  });

  it('reports swapped entries: as edited when their contents moved, as reordered when re-hashed too', () => {
    const entries = chain(5);
    const [, , two, three] = entries;
    if (!two || !three) throw new Error('short chain');
    // Contents swapped under the keys (seq stays the key): the hashes no longer match.
    const swapped = entries.map((e) =>
      e.seq === 2 ? { ...three, seq: 2 } : e.seq === 3 ? { ...two, seq: 3 } : e,
    );
    expect(verifyChain(swapped)).toMatchObject({ seq: 2, kind: 'edited' });
    // The same swap, each entry re-hashed by someone who knows the scheme: the links break.
    const rehashed = swapped.map((e) => (e.seq === 2 || e.seq === 3 ? reseal(e) : e));
    expect(verifyChain(rehashed)).toEqual({
      incidentId: INCIDENT,
      seq: 2,
      kind: 'reordered',
      reason: 'its prevHash is not the hash of entry #1 (moved, replaced, or edited and re-hashed)',
    });
  });

  it('reports an entry edited and re-hashed at the next link', () => {
    const entries = chain(5).map((e) =>
      e.seq === 1 ? reseal({ ...e, after: { status: 'Active' } }) : e,
    );
    expect(verifyChain(entries)).toMatchObject({ seq: 2, kind: 'reordered' });
  });

  it('reports a tampered last entry', () => {
    const entries = chain(4).map((e) => (e.seq === 3 ? { ...e, summary: 'nothing happened' } : e));
    expect(verifyChain(entries)).toMatchObject({ incidentId: INCIDENT, seq: 3, kind: 'edited' });
  });

  it('reports two entries with one sequence number as a fork', () => {
    const entries = chain(3);
    const [, one] = entries;
    if (!one) throw new Error('short chain');
    const fork = reseal({ ...one, outcome: 'FAILED' });
    expect(verifyChain([...entries, fork])).toMatchObject({ seq: 1, kind: 'forked' });
  });

  it('reports a first entry that does not start from the genesis hash', () => {
    const entries = chain(2).map((e) =>
      e.seq === 0 ? reseal({ ...e, prevHash: 'f'.repeat(64) }) : e,
    );
    expect(verifyChain(entries)).toMatchObject({
      seq: 0,
      kind: 'reordered',
      reason: 'the first entry does not start from the genesis hash',
    });
  });

  it('reports an entry of another incident mixed in', () => {
    const entries = [...chain(2), ...chain(3, 'inc-ffffffffffffffffffff').slice(2)];
    expect(verifyChain(entries)).toMatchObject({ incidentId: INCIDENT, seq: 2, kind: 'edited' });
  });
});

/**
 * verifyChain, verifyMacs and verifyLedger: the checks behind `cordon ledger
 * verify` and the rollback's refusal of a tampered ledger. Chains are sealed
 * exactly as the Ledger class seals them (entryHash over the entry without
 * its hash and MAC; the MAC over the hash, here from a local stand-in key).
 */
import { describe, expect, it } from 'vitest';
import {
  entryHash,
  GENESIS_HASH,
  type LedgerEntry,
  verifyChain,
  verifyLedger,
  verifyMacs,
} from '../../../functions/shared/ledger.js';
import { fakeLedgerMac, fakeMacOf } from '../../support/ledger-mac.js';

const INCIDENT = 'inc-0123456789abcdef0123';

/** Re-seals an entry: its hash recomputed over its (possibly changed) content. */
function reseal(entry: LedgerEntry): LedgerEntry {
  const { hash: _old, mac: _mac, ...body } = entry;
  return { ...body, hash: entryHash(body) };
}

/** Re-seals with the Cordon key's MAC (a Cordon function's write). */
function sealKeyed(entry: LedgerEntry): LedgerEntry {
  const sealed = reseal(entry);
  return { ...sealed, mac: fakeMacOf(sealed.hash) };
}

/** Re-chains `entries` from the one at `from`, each re-hashed, as a forger without the key would. */
function rehashForward(entries: LedgerEntry[], from: number, mac?: (hash: string) => string) {
  const out: LedgerEntry[] = [];
  for (const e of entries) {
    if (e.seq < from) {
      out.push(e);
      continue;
    }
    const sealed = reseal({ ...e, prevHash: out.at(-1)?.hash ?? GENESIS_HASH });
    const { mac: _dropped, ...bare } = sealed;
    out.push(mac ? { ...bare, mac: mac(sealed.hash) } : bare);
  }
  return out;
}

/** A valid chain of `n` entries. */
function chain(n: number, incidentId = INCIDENT): LedgerEntry[] {
  const out: LedgerEntry[] = [];
  for (let seq = 0; seq < n; seq++) {
    const prevHash = out[seq - 1]?.hash ?? GENESIS_HASH;
    out.push(
      sealKeyed({
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

describe('verifyMacs and verifyLedger: the keyed chain', () => {
  const mac = fakeLedgerMac();

  it("accepts a chain every entry of which carries the key's MAC", async () => {
    expect(await verifyLedger(chain(4), mac)).toBeUndefined();
    expect(await verifyLedger([], mac)).toBeUndefined();
  });

  it('reports an entry rewritten and re-hashed forward (no key) as forged at that entry', async () => {
    // Arrange: #2's outcome changed, #2 and #3 re-hashed; the forger has no
    // key, so the MACs it writes are from a key of its own.
    const edited = chain(4).map((e) => (e.seq === 2 ? { ...e, outcome: 'NOT_ACTED_ON' } : e));
    const forged = rehashForward(edited, 2, (hash) => fakeMacOf(hash, 'a key of my own'));

    // Act
    const chainOnly = verifyChain(forged);
    const keyed = await verifyLedger(forged, mac);

    // Assert: the unkeyed chain holds, which is the whole attack; the MAC does not.
    expect(chainOnly).toBeUndefined();
    expect(keyed).toEqual({
      incidentId: INCIDENT,
      seq: 2,
      kind: 'forged',
      reason: "its MAC does not verify: written or rewritten without Cordon's ledger key",
    });
  });

  it('reports a re-hashed entry with no MAC at all as unkeyed', async () => {
    const forged = rehashForward(chain(3), 1);
    expect(await verifyLedger(forged, mac)).toMatchObject({ seq: 1, kind: 'unkeyed' });
  });

  it('rejects a MAC copied from another entry, and an entry replayed into another incident', async () => {
    // Arrange
    const entries = chain(3);
    const [zero, one] = entries;
    if (!zero || !one) throw new Error('short chain');
    const swapped = entries.map((e) => (e.seq === 1 ? { ...e, mac: zero.mac } : e));
    const other = chain(2, 'inc-ffffffffffffffffffff');
    // #1 of this incident, keyed by Cordon, re-labelled and re-hashed into the other one.
    const replayed = rehashForward(
      [...other, { ...one, incidentId: 'inc-ffffffffffffffffffff', seq: 2 }],
      2,
      () => one.mac ?? '',
    );

    // Act / Assert
    expect(await verifyMacs(swapped, mac)).toMatchObject({ seq: 1, kind: 'forged' });
    expect(await verifyLedger(replayed, mac)).toMatchObject({
      incidentId: 'inc-ffffffffffffffffffff',
      seq: 2,
      kind: 'forged',
    });
  });

  it("reports the lowest break, the chain's or the MAC's", async () => {
    const entries = chain(5);
    const macless = entries.map((e) => (e.seq === 3 ? { ...e, mac: undefined } : e));
    const edited = macless.map((e) => (e.seq === 1 ? { ...e, summary: 'edited' } : e));
    expect(await verifyLedger(macless, mac)).toMatchObject({ seq: 3, kind: 'unkeyed' });
    expect(await verifyLedger(edited, mac)).toMatchObject({ seq: 1, kind: 'edited' });
  });
});

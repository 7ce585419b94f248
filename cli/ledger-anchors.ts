import { ListObjectVersionsCommand, type S3Client } from '@aws-sdk/client-s3';
import {
  ANCHOR_PREFIX,
  type Anchor,
  parseAnchorKey,
  parseTamperingKey,
  TAMPERING_PREFIX,
  type Tampering,
} from '../functions/anchor/contract.js';
import type { LedgerEntry } from '../functions/shared/ledger.js';

/**
 * The anchors side of `cordon ledger verify`: what the Object Lock bucket
 * says the table held (functions/anchor/contract.ts), and where the table
 * no longer agrees with it.
 */

/** An anchored entry, with when the anchor was written. */
export interface ListedAnchor extends Omit<Anchor, 'mac' | 'at'> {
  readonly anchoredAt?: string;
}

/** Every anchor and tampering record, by incident. */
export interface AnchorIndex {
  readonly bucket: string;
  readonly anchors: ReadonlyMap<string, readonly ListedAnchor[]>;
  readonly tampering: ReadonlyMap<string, readonly (Tampering & { readonly at?: string })[]>;
}

/**
 * What the anchors show that the chain cannot: an anchored entry gone from
 * the table after the last one left (`truncated`) or in the middle
 * (`missing`), an incident with anchors and no entry at all (`deleted`), an
 * entry whose hash is not the one anchored (`rewritten`), or a rewrite or
 * removal the stream reported (`rewritten`, `removed`).
 */
export type AnchorBreakKind = 'truncated' | 'missing' | 'deleted' | 'rewritten' | 'removed';

export interface AnchorBreak {
  readonly seq: number;
  readonly kind: AnchorBreakKind;
  readonly reason: string;
}

/**
 * Every key under `prefix` that has a version, page by page. Versions, not
 * the current listing: a delete marker would hide an anchor from a plain
 * listing, though the locked version under it is still there.
 */
async function listKeys(
  s3: S3Client,
  bucket: string,
  prefix: string,
): Promise<{ key: string; at?: string }[]> {
  const out = new Map<string, { key: string; at?: string }>();
  let keyMarker: string | undefined;
  let versionMarker: string | undefined;
  do {
    const page = await s3.send(
      new ListObjectVersionsCommand({
        Bucket: bucket,
        Prefix: prefix,
        KeyMarker: keyMarker,
        VersionIdMarker: versionMarker,
      }),
    );
    for (const v of page.Versions ?? []) {
      if (!v.Key) continue;
      const at = v.LastModified?.toISOString();
      const seen = out.get(v.Key)?.at;
      // The first version of a key is when it was anchored.
      if (seen === undefined || (at !== undefined && at < seen)) {
        out.set(v.Key, { key: v.Key, ...(at ? { at } : {}) });
      }
    }
    keyMarker = page.IsTruncated ? page.NextKeyMarker : undefined;
    versionMarker = page.IsTruncated ? page.NextVersionIdMarker : undefined;
  } while (keyMarker);
  return [...out.values()];
}

function group<T extends { incidentId: string }>(items: readonly T[]): Map<string, T[]> {
  const out = new Map<string, T[]>();
  for (const item of items) out.set(item.incidentId, [...(out.get(item.incidentId) ?? []), item]);
  return out;
}

/** Reads the anchors (of one incident, or all) from the bucket. */
export async function readAnchors(
  s3: S3Client,
  bucket: string,
  incident: string | undefined,
): Promise<AnchorIndex> {
  const under = (prefix: string) => (incident === undefined ? prefix : `${prefix}${incident}/`);
  const anchors = (await listKeys(s3, bucket, under(ANCHOR_PREFIX))).flatMap(({ key, at }) => {
    const parsed = parseAnchorKey(key);
    return parsed ? [{ ...parsed, ...(at ? { anchoredAt: at } : {}) }] : [];
  });
  const tampering = (await listKeys(s3, bucket, under(TAMPERING_PREFIX))).flatMap(({ key, at }) => {
    const parsed = parseTamperingKey(key);
    return parsed ? [{ ...parsed, ...(at ? { at } : {}) }] : [];
  });
  return { bucket, anchors: group(anchors), tampering: group(tampering) };
}

/**
 * Compares one incident's entries with its anchors and tampering records:
 * the break with the lowest sequence number, or undefined when every
 * anchored entry is in the table with the hash anchored. Entries not
 * anchored yet are counted, not failed: the stream delivers within seconds,
 * and a gap that lasts is the anchor function's alarm to raise.
 */
export function compareAnchors(
  entries: readonly LedgerEntry[],
  anchors: readonly ListedAnchor[],
  tampering: readonly (Tampering & { readonly at?: string })[],
): { broken?: AnchorBreak; unanchored: number } {
  const bySeq = new Map(entries.map((e) => [e.seq, e]));
  const last = Math.max(-1, ...entries.map((e) => e.seq));
  const breaks: AnchorBreak[] = [];
  const when = (at?: string) => (at ? ` at ${at}` : '');
  for (const anchor of anchors) {
    const entry = bySeq.get(anchor.seq);
    const anchored = `entry #${anchor.seq} was anchored${when(anchor.anchoredAt)}`;
    if (entries.length === 0) {
      breaks.push({
        seq: anchor.seq,
        kind: 'deleted',
        reason: `the incident was deleted: ${anchors.length} entr${anchors.length === 1 ? 'y' : 'ies'} anchored, none left in the table`,
      });
    } else if (!entry) {
      breaks.push(
        anchor.seq > last
          ? {
              seq: anchor.seq,
              kind: 'truncated',
              reason: `${anchored} but is gone: the entries after #${last} were cut off`,
            }
          : { seq: anchor.seq, kind: 'missing', reason: `${anchored} but is gone` },
      );
    } else if (entry.hash !== anchor.hash) {
      breaks.push({
        seq: anchor.seq,
        kind: 'rewritten',
        reason: `its hash is not the one ${anchored.replace(`entry #${anchor.seq} `, '')}: rewritten since`,
      });
    }
  }
  for (const t of tampering) {
    breaks.push({
      seq: t.seq,
      kind: t.event === 'MODIFY' ? 'rewritten' : 'removed',
      reason: `the table's stream reported a ${t.event} of entry #${t.seq}${when(t.at)}`,
    });
  }
  const anchoredSeqs = new Set(anchors.map((a) => a.seq));
  const unanchored = entries.filter((e) => !anchoredSeqs.has(e.seq)).length;
  const [broken] = breaks.sort((a, b) => a.seq - b.seq);
  return broken ? { broken, unanchored } : { unanchored };
}

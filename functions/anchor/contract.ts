/**
 * The anchors: what the anchor function writes to the Object Lock bucket and
 * `cordon ledger verify` reads back. A hash chain and its MACs cannot show
 * entries cut off after the last one, or an incident deleted whole: nothing
 * left in the table points at them. Every entry's hash is therefore also
 * written, as it is inserted, to an S3 bucket whose objects no one can
 * delete or overwrite before their retention ends (Object Lock, compliance
 * mode), the way CloudTrail's digest files outlive the logs they cover.
 *
 * An anchor's key carries what verify compares (incident, sequence number,
 * hash), so a listing is enough; its body repeats them with the MAC and the
 * time. A rewrite or removal the stream reports leaves a tampering record.
 */

/** The stack output naming the anchors bucket, for `cordon ledger verify`. */
export const ANCHORS_BUCKET_OUTPUT = 'LedgerAnchorsBucket';

export const ANCHOR_PREFIX = 'anchors/';
export const TAMPERING_PREFIX = 'tampering/';

/** Sequence numbers padded, so a listing comes back in order. */
const SEQ_DIGITS = 10;

/** What an anchor holds: the entry's place in its chain, its hash and MAC. */
export interface Anchor {
  readonly incidentId: string;
  readonly seq: number;
  readonly hash: string;
  readonly mac?: string;
  /** The entry's own time. */
  readonly at?: string;
}

/** A rewrite (MODIFY) or removal (REMOVE) of an entry, as the stream reported it. */
export interface Tampering {
  readonly incidentId: string;
  readonly seq: number;
  readonly event: 'MODIFY' | 'REMOVE';
}

const pad = (seq: number) => String(seq).padStart(SEQ_DIGITS, '0');

/** `anchors/<incident>/<seq>.<hash>.json` */
export function anchorKey(anchor: Pick<Anchor, 'incidentId' | 'seq' | 'hash'>): string {
  return `${ANCHOR_PREFIX}${anchor.incidentId}/${pad(anchor.seq)}.${anchor.hash}.json`;
}

/** `tampering/<incident>/<seq>.<event>.<stream event id>.json` */
export function tamperingKey(tampering: Tampering, eventId: string): string {
  return `${TAMPERING_PREFIX}${tampering.incidentId}/${pad(tampering.seq)}.${tampering.event}.${eventId}.json`;
}

const ANCHOR_KEY = /^anchors\/(.+)\/(\d{10})\.([0-9a-f]{64})\.json$/;
const TAMPERING_KEY = /^tampering\/(.+)\/(\d{10})\.(MODIFY|REMOVE)\.[^/]+\.json$/;

/** An anchor's key read back, or undefined for any other object. */
export function parseAnchorKey(key: string): Omit<Anchor, 'mac' | 'at'> | undefined {
  const m = ANCHOR_KEY.exec(key);
  if (!m?.[1] || !m[2] || !m[3]) return undefined;
  return { incidentId: m[1], seq: Number(m[2]), hash: m[3] };
}

/** A tampering record's key read back, or undefined for any other object. */
export function parseTamperingKey(key: string): Tampering | undefined {
  const m = TAMPERING_KEY.exec(key);
  if (!m?.[1] || !m[2] || (m[3] !== 'MODIFY' && m[3] !== 'REMOVE')) return undefined;
  return { incidentId: m[1], seq: Number(m[2]), event: m[3] };
}

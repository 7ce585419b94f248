import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import {
  type DynamoDBDocumentClient,
  PutCommand,
  QueryCommand,
  type QueryCommandInput,
} from '@aws-sdk/lib-dynamodb';
import type { Mode } from './catalog.js';
import { classifyAwsError, LedgerConflictError } from './errors.js';
import { canonicalJson, sha256Hex } from './hash.js';
import type { LedgerMac } from './ledger-mac.js';

/**
 * The append-only audit ledger. Every write is a conditional put on a new key
 * (incidentId, seq); nothing updates or deletes. Each entry carries the hash
 * of the previous entry of its incident, its own hash over both, and a MAC of
 * that hash from a KMS key only Cordon's roles may generate MACs with: an
 * edited or removed entry breaks the chain, and an entry rewritten and
 * re-hashed forward has no valid MAC (`cordon ledger verify`). What the
 * chain cannot show (a cut-off tail, a whole incident deleted) the anchors
 * show (functions/anchor/).
 */

export const LEDGER_PARTITION_KEY = 'incidentId';
export const LEDGER_SORT_KEY = 'seq';
export const LEDGER_TARGET_INDEX = 'byTarget';
export const GENESIS_HASH = '0'.repeat(64);

export interface LedgerEntryInput {
  /** Playbook step id, or `triage`, `approval`, `playbook`. */
  readonly step: string;
  /** The function (action) that wrote the entry. */
  readonly action: string;
  /** Role ARN of the function, or the approver's ARN. */
  readonly actor: string;
  readonly outcome: string;
  readonly targetArn?: string;
  readonly mode?: Mode;
  /** One line a responder can read. */
  readonly summary?: string;
  readonly before?: unknown;
  readonly after?: unknown;
  readonly executionArn?: string;
  readonly findingId?: string;
  readonly detail?: Record<string, unknown>;
}

export interface LedgerEntry extends LedgerEntryInput {
  readonly incidentId: string;
  readonly seq: number;
  readonly at: string;
  readonly prevHash: string;
  readonly hash: string;
  /**
   * The ledger key's MAC of `hash`, base64. Every entry Cordon writes has
   * one; an entry read without one was written by something else (or before
   * the ledger was keyed) and does not verify.
   */
  readonly mac?: string;
}

export interface LedgerDeps {
  readonly client: DynamoDBDocumentClient;
  readonly tableName: string;
  readonly now: () => Date;
  /** MACs entries as they are sealed, and checks them for `verify`. */
  readonly mac: LedgerMac;
}

const MAX_APPEND_ATTEMPTS = 5;

/** The hash of an entry's content: everything but its hash and its MAC. */
export function entryHash(entry: Omit<LedgerEntry, 'hash' | 'mac'>): string {
  return sha256Hex(canonicalJson(entry));
}

/** An entry without its hash and MAC: what its hash covers. */
function contentOf(entry: LedgerEntry): Omit<LedgerEntry, 'hash' | 'mac'> {
  const { hash: _hash, mac: _mac, ...content } = entry;
  return content;
}

/** The stack output naming the ledger table, for `cordon ledger verify`. */
export const LEDGER_TABLE_OUTPUT = 'LedgerTableName';

/**
 * What is wrong at a broken link: an entry whose content no longer matches
 * its hash (`edited`), a sequence number with no entry (`missing`), two
 * entries with one sequence number (`forked`), an entry that does not chain
 * onto the one before it (`reordered`: moved, replaced, or edited and
 * re-hashed), an entry whose MAC does not verify (`forged`: written or
 * rewritten without Cordon's key), or an entry with no MAC at all
 * (`unkeyed`: written without the key, or before the ledger was keyed; the
 * two cannot be told apart, so neither passes).
 */
export type ChainBreakKind = 'edited' | 'missing' | 'forked' | 'reordered' | 'forged' | 'unkeyed';

/** The first link of an incident's chain that does not hold. */
export interface ChainBreak {
  readonly incidentId: string;
  /** The sequence number where the chain first breaks. */
  readonly seq: number;
  readonly kind: ChainBreakKind;
  /** One line saying what is wrong there. */
  readonly reason: string;
}

/**
 * Checks one incident's hash chain: sequence numbers contiguous from 0, each
 * entry's prevHash the hash of the entry before it (GENESIS_HASH first), each
 * hash the hash of its own entry. Order of `entries` does not matter. Returns
 * the first broken link, or undefined when the chain holds (or is empty).
 * A chain cannot show entries cut off after its last one: nothing follows
 * them to notice.
 */
export function verifyChain(entries: readonly LedgerEntry[]): ChainBreak | undefined {
  const [first] = entries;
  if (!first) return undefined;
  const { incidentId } = first;
  const broken = (seq: number, kind: ChainBreakKind, reason: string): ChainBreak => ({
    incidentId,
    seq,
    kind,
    reason,
  });
  const ordered = [...entries].sort((a, b) => a.seq - b.seq);
  let prevHash = GENESIS_HASH;
  for (const [i, entry] of ordered.entries()) {
    if (entry.incidentId !== incidentId) {
      return broken(entry.seq, 'edited', `it names incident ${entry.incidentId}`);
    }
    if (!Number.isInteger(entry.seq)) {
      return broken(i, 'edited', `its sequence number is ${entry.seq}`);
    }
    if (entry.seq < i) {
      return broken(entry.seq, 'forked', `two entries claim sequence number ${entry.seq}`);
    }
    if (entry.seq > i) {
      const next = i === entry.seq - 1 ? '' : ` (#${i} to #${entry.seq - 1})`;
      return broken(i, 'missing', `entry #${i} is missing${next}`);
    }
    const { hash } = entry;
    if (entryHash(contentOf(entry)) !== hash) {
      return broken(i, 'edited', 'its content does not match its hash');
    }
    if (entry.prevHash !== prevHash) {
      return broken(
        i,
        'reordered',
        i === 0
          ? 'the first entry does not start from the genesis hash'
          : `its prevHash is not the hash of entry #${i - 1} (moved, replaced, or edited and re-hashed)`,
      );
    }
    prevHash = hash;
  }
  return undefined;
}

/**
 * Checks the MAC of each of one incident's entries, in sequence order, with
 * the ledger key: the first entry without a MAC (`unkeyed`) or whose MAC
 * does not verify (`forged`), or undefined. The MAC covers the entry's
 * stored hash, so an entry edited without re-hashing passes here and fails
 * verifyChain; one re-hashed passes verifyChain and fails here.
 */
export async function verifyMacs(
  entries: readonly LedgerEntry[],
  mac: Pick<LedgerMac, 'verify'>,
): Promise<ChainBreak | undefined> {
  const ordered = [...entries].sort((a, b) => a.seq - b.seq);
  for (const entry of ordered) {
    const broken = (kind: ChainBreakKind, reason: string): ChainBreak => ({
      incidentId: entry.incidentId,
      seq: entry.seq,
      kind,
      reason,
    });
    if (typeof entry.mac !== 'string' || entry.mac === '') {
      return broken('unkeyed', 'it has no MAC: written without the ledger key');
    }
    if (typeof entry.hash !== 'string' || !(await mac.verify(entry.hash, entry.mac))) {
      return broken(
        'forged',
        "its MAC does not verify: written or rewritten without Cordon's ledger key",
      );
    }
  }
  return undefined;
}

/**
 * Checks one incident's chain and every MAC up to where the chain breaks:
 * the break with the lowest sequence number (the chain's at a tie), or
 * undefined when both hold.
 */
export async function verifyLedger(
  entries: readonly LedgerEntry[],
  mac: Pick<LedgerMac, 'verify'>,
): Promise<ChainBreak | undefined> {
  const chain = verifyChain(entries);
  const keyed = chain ? entries.filter((e) => e.seq < chain.seq) : entries;
  return (await verifyMacs(keyed, mac)) ?? chain;
}

export class Ledger {
  private readonly client: DynamoDBDocumentClient;
  private readonly tableName: string;
  private readonly now: () => Date;
  private readonly mac: LedgerMac;

  constructor(deps: LedgerDeps) {
    this.client = deps.client;
    this.tableName = deps.tableName;
    this.now = deps.now;
    this.mac = deps.mac;
  }

  /** The first break in an incident's chain or MACs (verifyLedger), or undefined. */
  verify(entries: readonly LedgerEntry[]): Promise<ChainBreak | undefined> {
    return verifyLedger(entries, this.mac);
  }

  /**
   * Claims an incident: writes its first entry (seq 0) only if no entry
   * exists. Returns false when the incident was already claimed, which makes
   * a duplicate delivery a no-op.
   */
  async claim(incidentId: string, entry: LedgerEntryInput): Promise<boolean> {
    const item = await this.seal(incidentId, 0, GENESIS_HASH, entry);
    try {
      await this.put(item);
      return true;
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return false;
      throw classifyAwsError(error, 'ledger claim');
    }
  }

  /**
   * Appends an entry after the incident's latest one. A caller that has just
   * read or written the incident's entries passes the latest as `head`
   * (`null` for none) to save the query; when another entry got there first,
   * the conditional put fails and the append reads the latest instead.
   */
  async append(
    incidentId: string,
    entry: LedgerEntryInput,
    head?: LedgerEntry | null,
  ): Promise<LedgerEntry> {
    for (let attempt = 0; attempt < MAX_APPEND_ATTEMPTS; attempt++) {
      const last =
        attempt === 0 && head !== undefined ? (head ?? undefined) : await this.latest(incidentId);
      const item = await this.putAfter(incidentId, last, entry);
      if (item) return item;
    }
    throw this.lostRace(incidentId);
  }

  /**
   * Appends an entry unless the incident already holds one that `same` picks
   * (a repeated delivery of the event it records): appendDecided, deciding
   * on that alone, so two deliveries of one event record it once. Returns the
   * entry (the earlier one when nothing was appended) and the incident's
   * entries after the append.
   */
  async appendOnce(
    incidentId: string,
    entry: LedgerEntryInput,
    same: (existing: LedgerEntry) => boolean,
  ): Promise<{ entry: LedgerEntry; appended: boolean; entries: LedgerEntry[] }> {
    const decided = await this.appendDecided(incidentId, async (entries) => {
      const earlier = entries.find(same);
      return earlier ? { decision: earlier } : { decision: undefined, append: entry };
    });
    const written = decided.decision ?? decided.entry;
    if (written === undefined) throw this.lostRace(incidentId);
    return { entry: written, appended: decided.entry !== undefined, entries: decided.entries };
  }

  /**
   * Decides on everything the incident has recorded so far and appends what
   * the decision says to (`append`), if anything. The put is on the next
   * sequence number, conditionally: when another writer got there first,
   * the next attempt reads what it wrote and decides again, so two
   * concurrent deciders never both decide on the same entries (triage
   * settling two emissions of one finding). Returns the decision, the entry
   * appended, if any, and the incident's entries after it. A caller that
   * started reading the incident's entries already (beside its other reads)
   * passes that read as `read`: the first attempt decides on it.
   */
  async appendDecided<T>(
    incidentId: string,
    decide: (
      entries: readonly LedgerEntry[],
    ) => Promise<{ readonly decision: T; readonly append?: LedgerEntryInput }>,
    read?: Promise<readonly LedgerEntry[]>,
  ): Promise<{ decision: T; entry?: LedgerEntry; entries: LedgerEntry[] }> {
    for (let attempt = 0; attempt < MAX_APPEND_ATTEMPTS; attempt++) {
      let entries: LedgerEntry[];
      try {
        entries =
          attempt === 0 && read !== undefined ? [...(await read)] : await this.entries(incidentId);
      } catch (error) {
        throw classifyAwsError(error, 'ledger read');
      }
      const { decision, append } = await decide(entries);
      if (append === undefined) return { decision, entries };
      const item = await this.putAfter(incidentId, entries.at(-1), append);
      if (item) return { decision, entry: item, entries: [...entries, item] };
    }
    throw this.lostRace(incidentId);
  }

  /**
   * Seals `entry` as the one after `last` (the first, for none) and puts it
   * conditionally; undefined when another writer took that sequence number.
   */
  private async putAfter(
    incidentId: string,
    last: LedgerEntry | undefined,
    entry: LedgerEntryInput,
  ): Promise<LedgerEntry | undefined> {
    const item = await this.seal(
      incidentId,
      last ? last.seq + 1 : 0,
      last ? last.hash : GENESIS_HASH,
      entry,
    );
    try {
      await this.put(item);
      return item;
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return undefined;
      throw classifyAwsError(error, 'ledger append');
    }
  }

  private lostRace(incidentId: string): LedgerConflictError {
    return new LedgerConflictError(
      `ledger append for ${incidentId} lost the race ${MAX_APPEND_ATTEMPTS} times`,
    );
  }

  /** Every entry of an incident, in order. */
  async entries(incidentId: string): Promise<LedgerEntry[]> {
    const out: LedgerEntry[] = [];
    let startKey: Record<string, unknown> | undefined;
    try {
      do {
        const page = await this.query(incidentId, { ExclusiveStartKey: startKey });
        out.push(...((page.Items ?? []) as LedgerEntry[]));
        startKey = page.LastEvaluatedKey;
      } while (startKey);
    } catch (error) {
      throw classifyAwsError(error, 'ledger read');
    }
    return out;
  }

  /** The incident's first entry: its claim. */
  first(incidentId: string): Promise<LedgerEntry | undefined> {
    return this.edge(incidentId, true);
  }

  private latest(incidentId: string): Promise<LedgerEntry | undefined> {
    return this.edge(incidentId, false);
  }

  private async edge(incidentId: string, first: boolean): Promise<LedgerEntry | undefined> {
    try {
      const page = await this.query(incidentId, { ScanIndexForward: first, Limit: 1 });
      return page.Items?.[0] as LedgerEntry | undefined;
    } catch (error) {
      throw classifyAwsError(error, 'ledger read');
    }
  }

  /** A strongly consistent query of one incident's entries. */
  private query(
    incidentId: string,
    options: Pick<QueryCommandInput, 'ExclusiveStartKey' | 'ScanIndexForward' | 'Limit'>,
  ) {
    return this.client.send(
      new QueryCommand({
        TableName: this.tableName,
        KeyConditionExpression: '#pk = :pk',
        ExpressionAttributeNames: { '#pk': LEDGER_PARTITION_KEY },
        ExpressionAttributeValues: { ':pk': incidentId },
        ConsistentRead: true,
        ...options,
      }),
    );
  }

  /** The entry as stored: its content, its hash, and the ledger key's MAC of that hash. */
  private async seal(
    incidentId: string,
    seq: number,
    prevHash: string,
    entry: LedgerEntryInput,
  ): Promise<LedgerEntry> {
    // Normalise through JSON so the hash covers exactly what DynamoDB stores.
    const body = JSON.parse(
      JSON.stringify({ ...entry, incidentId, seq, at: this.now().toISOString(), prevHash }),
    ) as Omit<LedgerEntry, 'hash' | 'mac'>;
    const hash = entryHash(body);
    let mac: string;
    try {
      mac = await this.mac.generate(hash);
    } catch (error) {
      throw classifyAwsError(error, 'ledger MAC');
    }
    return { ...body, hash, mac };
  }

  private async put(item: LedgerEntry): Promise<void> {
    await this.client.send(
      new PutCommand({
        TableName: this.tableName,
        Item: item,
        ConditionExpression: 'attribute_not_exists(#pk)',
        ExpressionAttributeNames: { '#pk': LEDGER_PARTITION_KEY },
      }),
    );
  }
}

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

/**
 * The append-only audit ledger. Every write is a conditional put on a new key
 * (incidentId, seq); nothing updates or deletes. Each entry carries the hash
 * of the previous entry of its incident and its own hash over both, so an
 * edited or removed entry breaks the chain (`cordon ledger verify`).
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
}

export interface LedgerDeps {
  readonly client: DynamoDBDocumentClient;
  readonly tableName: string;
  readonly now: () => Date;
}

const MAX_APPEND_ATTEMPTS = 5;

export function entryHash(entry: Omit<LedgerEntry, 'hash'>): string {
  return sha256Hex(canonicalJson(entry));
}

/** The stack output naming the ledger table, for `cordon ledger verify`. */
export const LEDGER_TABLE_OUTPUT = 'LedgerTableName';

/**
 * What is wrong at a broken link: an entry whose content no longer matches
 * its hash (`edited`), a sequence number with no entry (`missing`), two
 * entries with one sequence number (`forked`), or an entry that does not
 * chain onto the one before it (`reordered`: moved, replaced, or edited and
 * re-hashed).
 */
export type ChainBreakKind = 'edited' | 'missing' | 'forked' | 'reordered';

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
    const { hash, ...body } = entry;
    if (entryHash(body) !== hash) {
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

export class Ledger {
  private readonly client: DynamoDBDocumentClient;
  private readonly tableName: string;
  private readonly now: () => Date;

  constructor(deps: LedgerDeps) {
    this.client = deps.client;
    this.tableName = deps.tableName;
    this.now = deps.now;
  }

  /**
   * Claims an incident: writes its first entry (seq 0) only if no entry
   * exists. Returns false when the incident was already claimed, which makes
   * a duplicate delivery a no-op.
   */
  async claim(incidentId: string, entry: LedgerEntryInput): Promise<boolean> {
    const item = this.seal(incidentId, 0, GENESIS_HASH, entry);
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
      const item = this.seal(
        incidentId,
        last ? last.seq + 1 : 0,
        last ? last.hash : GENESIS_HASH,
        entry,
      );
      try {
        await this.put(item);
        return item;
      } catch (error) {
        if (error instanceof ConditionalCheckFailedException) continue;
        throw classifyAwsError(error, 'ledger append');
      }
    }
    throw new LedgerConflictError(
      `ledger append for ${incidentId} lost the race ${MAX_APPEND_ATTEMPTS} times`,
    );
  }

  /**
   * Appends an entry unless the incident already holds one that `same` picks
   * (a repeated delivery of the event it records). Each attempt reads the
   * incident's entries and puts on the next sequence number, conditionally:
   * when a concurrent writer got there first, the next attempt reads what it
   * wrote, so two deliveries of one event record it once. Returns the entry
   * (the earlier one when nothing was appended) and the incident's entries
   * after the append.
   */
  async appendOnce(
    incidentId: string,
    entry: LedgerEntryInput,
    same: (existing: LedgerEntry) => boolean,
  ): Promise<{ entry: LedgerEntry; appended: boolean; entries: LedgerEntry[] }> {
    for (let attempt = 0; attempt < MAX_APPEND_ATTEMPTS; attempt++) {
      let entries: LedgerEntry[];
      try {
        entries = await this.entries(incidentId);
      } catch (error) {
        throw classifyAwsError(error, 'ledger read');
      }
      const earlier = entries.find(same);
      if (earlier) return { entry: earlier, appended: false, entries };
      const last = entries.at(-1);
      const item = this.seal(
        incidentId,
        last ? last.seq + 1 : 0,
        last ? last.hash : GENESIS_HASH,
        entry,
      );
      try {
        await this.put(item);
        return { entry: item, appended: true, entries: [...entries, item] };
      } catch (error) {
        if (error instanceof ConditionalCheckFailedException) continue;
        throw classifyAwsError(error, 'ledger append');
      }
    }
    throw new LedgerConflictError(
      `ledger append for ${incidentId} lost the race ${MAX_APPEND_ATTEMPTS} times`,
    );
  }

  /** Every entry of an incident, in order. */
  async entries(incidentId: string): Promise<LedgerEntry[]> {
    const out: LedgerEntry[] = [];
    let startKey: Record<string, unknown> | undefined;
    do {
      const page = await this.query(incidentId, { ExclusiveStartKey: startKey });
      out.push(...((page.Items ?? []) as LedgerEntry[]));
      startKey = page.LastEvaluatedKey;
    } while (startKey);
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

  private seal(
    incidentId: string,
    seq: number,
    prevHash: string,
    entry: LedgerEntryInput,
  ): LedgerEntry {
    // Normalise through JSON so the hash covers exactly what DynamoDB stores.
    const body = JSON.parse(
      JSON.stringify({ ...entry, incidentId, seq, at: this.now().toISOString(), prevHash }),
    ) as Omit<LedgerEntry, 'hash'>;
    return { ...body, hash: entryHash(body) };
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

import { z } from 'zod';
import { INCIDENT_ID } from '../functions/shared/incident.js';
import { firstContainment, refusalGuard, timesToContain } from '../functions/shared/measures.js';

/**
 * What `cordon report` computes from the ledger, with no AWS and no clock of
 * its own: the window (`--since`), time to contain as a distribution
 * (nearest-rank percentiles and fixed buckets), and the steps' outcomes.
 * Everything is dated by when it happened: an outcome counts when its entry
 * falls in the window, a time to contain when its containment does.
 */

/** The forms `--since` accepts, for its error message and the usage line. */
export const SINCE_FORMS = 'a whole number of minutes, hours or days: 30m, 12h, 7d';

const SINCE = /^([1-9][0-9]{0,5})([mhd])$/;
const UNIT_MS = { m: 60_000, h: 3_600_000, d: 86_400_000 } as const;

/** `30m`, `12h`, `7d` in milliseconds; undefined for anything else. */
export function parseSince(text: string): number | undefined {
  const match = SINCE.exec(text.trim());
  if (!match) return undefined;
  const [, amount, unit] = match;
  return Number(amount) * UNIT_MS[unit as keyof typeof UNIT_MS];
}

/**
 * The nearest-rank percentile of `sorted` (ascending): the smallest value
 * with at least `q` of the values at or below it, so always one of the
 * values measured, never an interpolation. Undefined for no values.
 */
export function percentile(sorted: readonly number[], q: number): number | undefined {
  if (sorted.length === 0) return undefined;
  const rank = Math.max(1, Math.ceil(q * sorted.length));
  return sorted[Math.min(rank, sorted.length) - 1];
}

/** Histogram buckets, in seconds: each holds durations below `below` and at or above the one before. */
export const BUCKETS: readonly { readonly label: string; readonly below: number }[] = [
  { label: '< 1 s', below: 1 },
  { label: '1-5 s', below: 5 },
  { label: '5-15 s', below: 15 },
  { label: '15-60 s', below: 60 },
  { label: '1-5 m', below: 300 },
  { label: '5-15 m', below: 900 },
  { label: '15-60 m', below: 3_600 },
  { label: '1-4 h', below: 14_400 },
  { label: '4-24 h', below: 86_400 },
  { label: '>= 1 d', below: Number.POSITIVE_INFINITY },
];

export interface Bucket {
  readonly label: string;
  readonly count: number;
}

/** How many of `seconds` fall in each of BUCKETS (a negative duration, from clock skew, in the first). */
export function bucketize(seconds: readonly number[]): Bucket[] {
  const counts = BUCKETS.map(() => 0);
  for (const value of seconds) {
    const index = BUCKETS.findIndex((b) => value < b.below);
    counts[index] = (counts[index] ?? 0) + 1;
  }
  return BUCKETS.map((b, i) => ({ label: b.label, count: counts[i] ?? 0 }));
}

/** A distribution of durations, in seconds; the percentiles are null when nothing was measured. */
export interface Distribution {
  readonly unit: 'seconds';
  readonly count: number;
  readonly p50: number | null;
  readonly p90: number | null;
  readonly p99: number | null;
  readonly max: number | null;
  readonly histogram: readonly Bucket[];
  /** Containments in the window this measure has no start for (see TimeToContain). */
  readonly unmeasured: number;
}

export function distribution(seconds: readonly number[], unmeasured = 0): Distribution {
  const sorted = [...seconds].sort((a, b) => a - b);
  const at = (q: number) => percentile(sorted, q) ?? null;
  return {
    unit: 'seconds',
    count: sorted.length,
    p50: at(0.5),
    p90: at(0.9),
    p99: at(0.99),
    max: sorted.at(-1) ?? null,
    histogram: bucketize(sorted),
    unmeasured,
  };
}

/** The ledger fields the report reads; every other field is left alone. */
export const ReportEntrySchema = z.looseObject({
  incidentId: z.string(),
  seq: z.number(),
  at: z.string(),
  step: z.string(),
  outcome: z.string(),
  executionArn: z.string().optional(),
  summary: z.string().optional(),
  detail: z.record(z.string(), z.unknown()).optional(),
});
export type ReportEntry = z.infer<typeof ReportEntrySchema>;

/**
 * The outcome categories, in the order shown: each counts the entries of
 * its outcomes. An approval is counted by its decision (the responder
 * API's entry), a timeout by the step's NOT_ACTED_ON.
 */
export const CATEGORIES = [
  { key: 'contained', label: 'contained', outcomes: ['CONTAINED'] },
  { key: 'alreadyContained', label: 'already contained', outcomes: ['ALREADY_CONTAINED'] },
  { key: 'dryRun', label: 'dry run', outcomes: ['DRY_RUN'] },
  { key: 'refused', label: 'refused by triage', outcomes: ['REFUSED'] },
  { key: 'approved', label: 'approved', outcomes: ['APPROVAL_GRANTED'] },
  { key: 'denied', label: 'denied', outcomes: ['APPROVAL_DENIED'] },
  { key: 'timedOut', label: 'approval timed out', outcomes: ['NOT_ACTED_ON'] },
  {
    key: 'unverified',
    label: 'ended unverified',
    outcomes: ['REJECTED_UNVERIFIED', 'TIMEOUT_UNVERIFIED'],
  },
  { key: 'rolledBack', label: 'rolled back', outcomes: ['ROLLED_BACK', 'ALREADY_ROLLED_BACK'] },
  { key: 'rollbackRefused', label: 'rollback refused', outcomes: ['ROLLBACK_REFUSED'] },
  { key: 'targetNotFound', label: 'target not found', outcomes: ['TARGET_NOT_FOUND'] },
  { key: 'failed', label: 'failed', outcomes: ['FAILED'] },
  { key: 'dismissed', label: 'dismissed', outcomes: ['DISMISSED'] },
] as const;
export type CategoryKey = (typeof CATEGORIES)[number]['key'];

const CATEGORY_OF = new Map<string, CategoryKey>(
  CATEGORIES.flatMap((c) => c.outcomes.map((o): [string, CategoryKey] => [o, c.key])),
);

/** Outcomes after which a step's FAILED attempt was not its last word. */
const CONCLUSIVE: ReadonlySet<string> = new Set([
  'CONTAINED',
  'ALREADY_CONTAINED',
  'DRY_RUN',
  'TARGET_NOT_FOUND',
  'ROLLED_BACK',
  'ALREADY_ROLLED_BACK',
]);

/** A rollback's approval step (rollback-plan's approvalStepOf), shown as `rollback`. */
const ROLLBACK_STEP = /^rollback[0-9a-f]{12}$/;

export interface TimeToContain {
  /** From the finding's creation (its createdAt, as triage recorded it on the claim). */
  readonly fromFindingCreated: Distribution;
  /** From the event's arrival (triage's claim of it). */
  readonly fromEventArrival: Distribution;
}

export interface Report {
  readonly since: string;
  readonly from: string;
  readonly to: string;
  /** Incidents with an entry in the window. */
  readonly incidents: number;
  /** Incidents whose first containment change was made in the window. */
  readonly contained: number;
  readonly timeToContain: TimeToContain;
  readonly outcomes: Record<CategoryKey, number>;
  /** Refusals by the guard that refused. */
  readonly refusedBy: Record<string, number>;
  /** Each step's outcome categories (rollback approvals under `rollback`). */
  readonly byStep: Record<string, Partial<Record<CategoryKey, number>>>;
  /** Every outcome in the window, by its ledger name: what the categories leave out too. */
  readonly byOutcome: Record<string, number>;
  /** Items of incidents that are not ledger entries the report can read (cordon ledger verify says more). */
  readonly unreadable: number;
}

export interface Window {
  /** What `--since` said, for the report. */
  readonly since: string;
  readonly sinceMs: number;
  readonly now: Date;
}

const increment = <K extends string>(record: Partial<Record<K, number>>, key: K): void => {
  record[key] = (record[key] ?? 0) + 1;
};

const timeOf = (text: unknown): number | undefined => {
  if (typeof text !== 'string') return undefined;
  const ms = Date.parse(text);
  return Number.isNaN(ms) ? undefined : ms;
};

/** Whether a FAILED entry was the last word of its step in its execution. */
function failedForGood(entry: ReportEntry, incident: readonly ReportEntry[]): boolean {
  return !incident.some(
    (e) =>
      e.seq > entry.seq &&
      e.step === entry.step &&
      e.executionArn === entry.executionArn &&
      CONCLUSIVE.has(e.outcome),
  );
}

/**
 * The report over `items` (the ledger table's items, in any order) for the
 * window ending at `window.now`. Items outside incidents (the guardrails'
 * chains) are left out.
 */
export function summarize(items: readonly unknown[], window: Window): Report {
  const to = window.now.getTime();
  const from = to - window.sinceMs;
  const inWindow = (at: string) => {
    const ms = timeOf(at);
    return ms !== undefined && ms >= from && ms <= to;
  };

  const incidents = new Map<string, ReportEntry[]>();
  let unreadable = 0;
  for (const item of items) {
    const parsed = ReportEntrySchema.safeParse(item);
    if (!parsed.success) {
      const key = z.looseObject({ incidentId: z.string() }).safeParse(item);
      if (!key.success || INCIDENT_ID.test(key.data.incidentId)) unreadable += 1;
      continue;
    }
    if (!INCIDENT_ID.test(parsed.data.incidentId)) continue;
    const entries = incidents.get(parsed.data.incidentId) ?? [];
    entries.push(parsed.data);
    incidents.set(parsed.data.incidentId, entries);
  }

  const outcomes = Object.fromEntries(CATEGORIES.map((c) => [c.key, 0])) as Record<
    CategoryKey,
    number
  >;
  const refusedBy: Record<string, number> = {};
  const byStep: Record<string, Partial<Record<CategoryKey, number>>> = {};
  const byOutcome: Record<string, number> = {};
  const fromCreated: number[] = [];
  const fromArrival: number[] = [];
  let noCreatedAt = 0;
  let noClaim = 0;
  let active = 0;
  let contained = 0;

  for (const entries of incidents.values()) {
    entries.sort((a, b) => a.seq - b.seq);
    const seen = entries.filter((e) => inWindow(e.at));
    if (seen.length > 0) active += 1;
    for (const entry of seen) {
      increment(byOutcome, entry.outcome);
      const category = CATEGORY_OF.get(entry.outcome);
      if (category === undefined) continue;
      if (category === 'failed' && !failedForGood(entry, entries)) continue;
      outcomes[category] += 1;
      const step = ROLLBACK_STEP.test(entry.step) ? 'rollback' : entry.step;
      byStep[step] ??= {};
      increment(byStep[step], category);
      if (category === 'refused') {
        increment(refusedBy, refusalGuard(entry.summary));
      }
    }

    const first = firstContainment(entries);
    if (!first || timeOf(first.contained.at) === undefined || !inWindow(first.contained.at)) {
      continue;
    }
    contained += 1;
    const times = timesToContain(first);
    if (times.fromEventArrival === undefined) noClaim += 1;
    else fromArrival.push(times.fromEventArrival / 1000);
    if (times.fromFindingCreated === undefined) noCreatedAt += 1;
    else fromCreated.push(times.fromFindingCreated / 1000);
  }

  return {
    since: window.since,
    from: new Date(from).toISOString(),
    to: window.now.toISOString(),
    incidents: active,
    contained,
    timeToContain: {
      fromFindingCreated: distribution(fromCreated, noCreatedAt),
      fromEventArrival: distribution(fromArrival, noClaim),
    },
    outcomes,
    refusedBy,
    byStep,
    byOutcome,
    unreadable,
  };
}

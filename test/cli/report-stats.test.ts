/**
 * What `cordon report` computes (cli/report-stats.ts): the --since window,
 * nearest-rank percentiles, the histogram's buckets, and the summary of a
 * ledger's items. No AWS: the items are written here.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  BUCKETS,
  bucketize,
  parseSince,
  percentile,
  type ReportEntry,
  summarize,
} from '../../cli/report-stats.js';

const NOW = new Date('2026-12-05T12:00:00.000Z');
const DAY = 86_400_000;
const WEEK = { since: '7d', sinceMs: 7 * DAY, now: NOW };
const ALPHA = 'inc-aaaaaaaaaaaaaaaaaaaa';
const BRAVO = 'inc-bbbbbbbbbbbbbbbbbbbb';
const CHARLIE = 'inc-cccccccccccccccccccc';
const RUN = 'arn:aws:states:us-east-1:123456789012:execution:Cordon-iam-credentials:run';

/** `seconds` after `base`, as a ledger time. */
const later = (base: string, seconds: number) =>
  new Date(Date.parse(base) + seconds * 1000).toISOString();

/** An incident's entries, numbered in order. */
function incident(
  incidentId: string,
  entries: ReadonlyArray<Partial<ReportEntry> & Pick<ReportEntry, 'at' | 'step' | 'outcome'>>,
): ReportEntry[] {
  return entries.map((e, seq) => ({ incidentId, seq, executionArn: RUN, ...e }));
}

/** A claim at `at` of a finding created at `createdAt`, contained `seconds` after the claim. */
function containedAfter(
  incidentId: string,
  at: string,
  seconds: number,
  createdAt?: string,
): ReportEntry[] {
  return incident(incidentId, [
    {
      at,
      step: 'triage',
      outcome: 'CLAIMED',
      detail: createdAt === undefined ? {} : { createdAt },
    },
    { at: later(at, seconds / 2), step: 'disableAccessKey', outcome: 'INTENT' },
    { at: later(at, seconds), step: 'disableAccessKey', outcome: 'CONTAINED' },
  ]);
}

describe('--since', () => {
  it('reads minutes, hours and days', () => {
    expect(parseSince('30m')).toBe(30 * 60_000);
    expect(parseSince('12h')).toBe(12 * 3_600_000);
    expect(parseSince('7d')).toBe(7 * DAY);
  });

  it.each(['', '7', 'd', '0d', '-1d', '1.5h', '7 days', '7w', '30s', '7D', '9999999d'])(
    'refuses %j',
    (text) => {
      expect(parseSince(text)).toBeUndefined();
    },
  );
});

describe('percentiles', () => {
  it('are nearest-rank: always a value measured, never an interpolation', () => {
    const values = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10];

    expect(percentile(values, 0.5)).toBe(5);
    expect(percentile(values, 0.9)).toBe(9);
    expect(percentile(values, 0.99)).toBe(10);
    expect(percentile([42], 0.5)).toBe(42);
    expect(percentile([42], 0.99)).toBe(42);
  });

  it('of nothing are undefined, not NaN', () => {
    expect(percentile([], 0.5)).toBeUndefined();
  });

  it('hold for any values: one of them, at least as many at or below, rising with q', () => {
    fc.assert(
      fc.property(
        fc.array(fc.double({ min: -1e6, max: 1e6, noNaN: true }), { minLength: 1 }),
        fc.double({ min: 0, max: 1, noNaN: true }),
        fc.double({ min: 0, max: 1, noNaN: true }),
        (values, q1, q2) => {
          const sorted = [...values].sort((a, b) => a - b);
          const p = percentile(sorted, q1);
          expect(sorted).toContain(p);
          const atOrBelow = sorted.filter((v) => v <= (p ?? Number.NaN)).length;
          expect(atOrBelow).toBeGreaterThanOrEqual(q1 * sorted.length);
          const [lo, hi] = q1 <= q2 ? [q1, q2] : [q2, q1];
          expect(percentile(sorted, lo) ?? 0).toBeLessThanOrEqual(percentile(sorted, hi) ?? 0);
        },
      ),
    );
  });
});

describe('buckets', () => {
  it('hold each duration in exactly one bucket, the lower bound included', () => {
    const counts = (seconds: number) =>
      bucketize([seconds])
        .filter((b) => b.count > 0)
        .map((b) => b.label);

    expect(counts(0)).toEqual(['< 1 s']);
    expect(counts(0.999)).toEqual(['< 1 s']);
    expect(counts(1)).toEqual(['1-5 s']);
    expect(counts(59.9)).toEqual(['15-60 s']);
    expect(counts(60)).toEqual(['1-5 m']);
    expect(counts(86_399)).toEqual(['4-24 h']);
    expect(counts(86_400)).toEqual(['>= 1 d']);
    expect(counts(3 * 365 * 86_400)).toEqual(['>= 1 d']);
    // Clock skew between the finding's source and the ledger: still counted, first.
    expect(counts(-2)).toEqual(['< 1 s']);
  });

  it('count every duration once', () => {
    fc.assert(
      fc.property(fc.array(fc.double({ min: -10, max: 1e7, noNaN: true })), (values) => {
        const buckets = bucketize(values);
        expect(buckets.map((b) => b.label)).toEqual(BUCKETS.map((b) => b.label));
        expect(buckets.reduce((sum, b) => sum + b.count, 0)).toBe(values.length);
      }),
    );
  });
});

describe('summarize', () => {
  it('an empty ledger: zero counts and null percentiles, nothing NaN', () => {
    const report = summarize([], WEEK);

    expect(report.incidents).toBe(0);
    expect(report.contained).toBe(0);
    expect(report.timeToContain.fromEventArrival).toMatchObject({
      count: 0,
      p50: null,
      p90: null,
      p99: null,
      max: null,
    });
    expect(JSON.stringify(report)).not.toContain('NaN');
  });

  it('measures from the finding and from its arrival to the first containment change, not the intent', () => {
    const claimedAt = '2026-12-05T10:00:00.000Z';
    const items = [
      ...containedAfter(ALPHA, claimedAt, 2, later(claimedAt, -300)),
      ...containedAfter(BRAVO, claimedAt, 40, later(claimedAt, -60)),
      ...containedAfter(CHARLIE, claimedAt, 0.5, later(claimedAt, -7_200)),
    ];

    const { timeToContain, contained } = summarize(items, WEEK);

    expect(contained).toBe(3);
    expect(timeToContain.fromEventArrival).toMatchObject({ count: 3, p50: 2, p90: 40, max: 40 });
    expect(timeToContain.fromFindingCreated).toMatchObject({
      count: 3,
      p50: 302,
      p99: 7_200.5,
      max: 7_200.5,
    });
    const histogram = timeToContain.fromEventArrival.histogram.filter((b) => b.count > 0);
    expect(histogram).toEqual([
      { label: '< 1 s', count: 1 },
      { label: '1-5 s', count: 1 },
      { label: '15-60 s', count: 1 },
    ]);
  });

  it("counts a containment without the finding's creation time as unmeasured from the finding only", () => {
    const items = containedAfter(ALPHA, '2026-12-05T10:00:00.000Z', 3);

    const { timeToContain } = summarize(items, WEEK);

    expect(timeToContain.fromEventArrival).toMatchObject({ count: 1, unmeasured: 0 });
    expect(timeToContain.fromFindingCreated).toMatchObject({ count: 0, p50: null, unmeasured: 1 });
  });

  it('starts from the claim of the execution that contained, not an earlier refused or inert claim', () => {
    const first = '2026-12-05T08:00:00.000Z';
    const second = '2026-12-05T09:00:00.000Z';
    const items = incident(ALPHA, [
      { at: first, step: 'triage', outcome: 'CLAIMED', executionArn: 'arn:first' },
      {
        at: later(first, 1),
        step: 'disableAccessKey',
        outcome: 'DRY_RUN',
        executionArn: 'arn:first',
      },
      { at: second, step: 'triage', outcome: 'CLAIMED', executionArn: 'arn:second' },
      {
        at: later(second, 4),
        step: 'disableAccessKey',
        outcome: 'CONTAINED',
        executionArn: 'arn:second',
      },
    ]);

    const { timeToContain } = summarize(items, WEEK);

    expect(timeToContain.fromEventArrival.p50).toBe(4);
  });

  it('keeps to the window: a containment counts when it happened, an outcome when its entry was written', () => {
    const old = later(NOW.toISOString(), -8 * 86_400);
    const edge = later(NOW.toISOString(), -7 * 86_400 + 5);
    const items = [
      ...containedAfter(ALPHA, old, 1),
      // Claimed before the window, contained in it.
      ...containedAfter(BRAVO, later(edge, -20), 20),
    ];

    const report = summarize(items, WEEK);

    expect(report.contained).toBe(1);
    expect(report.timeToContain.fromEventArrival.p50).toBe(20);
    expect(report.incidents).toBe(1);
    expect(report.outcomes.contained).toBe(1);
    expect(report.byOutcome).toEqual({ CONTAINED: 1 });
    expect(summarize(items, { ...WEEK, since: '30m', sinceMs: 1_800_000 }).incidents).toBe(0);
  });

  it('counts outcomes by kind: refusals by guard, decisions, timeouts, rollbacks, failures a retry did not recover', () => {
    const at = '2026-12-05T11:00:00.000Z';
    const items = [
      ...incident(ALPHA, [
        { at, step: 'triage', outcome: 'CLAIMED' },
        { at, step: 'disableAccessKey', outcome: 'INTENT' },
        { at, step: 'disableAccessKey', outcome: 'FAILED' },
        { at, step: 'disableAccessKey', outcome: 'CONTAINED' },
        { at, step: 'quarantineUser', outcome: 'APPROVAL_REQUESTED' },
        { at, step: 'quarantineUser', outcome: 'APPROVAL_GRANTED' },
        { at, step: 'quarantineUser', outcome: 'FAILED' },
        { at, step: 'rollback0123456789ab', outcome: 'APPROVAL_GRANTED', executionArn: 'arn:undo' },
        { at, step: 'disableAccessKey', outcome: 'ROLLED_BACK', executionArn: 'arn:undo' },
      ]),
      ...incident(BRAVO, [
        { at, step: 'triage', outcome: 'REFUSED', summary: 'severity: 5 is below the threshold 7' },
      ]),
      ...incident(CHARLIE, [
        { at, step: 'triage', outcome: 'REFUSED', summary: 'sample: the finding is a sample' },
        { at, step: 'triage', outcome: 'REFUSED', summary: 'severity: 4 is below the threshold 7' },
        { at, step: 'triage', outcome: 'CLAIMED' },
        { at, step: 'revokeRoleSessions', outcome: 'APPROVAL_DENIED' },
        { at, step: 'revokeRoleSessions', outcome: 'REJECTED' },
        { at, step: 'quarantineUser', outcome: 'NOT_ACTED_ON' },
      ]),
      // The guardrails' chains are not incidents.
      { incidentId: 'guardrail-breaker', seq: 0, at, step: 'breaker', outcome: 'BREAKER_RESET' },
    ];

    const report = summarize(items, WEEK);

    expect(report.incidents).toBe(3);
    expect(report.outcomes).toMatchObject({
      contained: 1,
      refused: 3,
      approved: 2,
      denied: 1,
      timedOut: 1,
      rolledBack: 1,
      // disableAccessKey's failure was retried to CONTAINED; quarantineUser's was its last word.
      failed: 1,
      dismissed: 0,
    });
    expect(report.refusedBy).toEqual({ severity: 2, sample: 1 });
    expect(report.byStep).toMatchObject({
      disableAccessKey: { contained: 1, rolledBack: 1 },
      quarantineUser: { approved: 1, failed: 1, timedOut: 1 },
      rollback: { approved: 1 },
      triage: { refused: 3 },
    });
    expect(report.byStep.disableAccessKey).not.toHaveProperty('failed');
    expect(report.byOutcome).toMatchObject({ REJECTED: 1, INTENT: 1, FAILED: 2 });
    expect(report.byOutcome).not.toHaveProperty('BREAKER_RESET');
  });

  it('counts items of an incident that are not readable entries, and reads the rest', () => {
    const items = [
      ...containedAfter(ALPHA, '2026-12-05T10:00:00.000Z', 3),
      { incidentId: BRAVO, seq: 0, step: 'triage' },
      { incidentId: 'guardrail-rules', seq: 0 },
    ];

    const report = summarize(items, WEEK);

    expect(report.unreadable).toBe(1);
    expect(report.contained).toBe(1);
  });
});

/**
 * A burst of GuardDuty deliveries: distinct findings (one seeded user with
 * a leaked key each, in the hub or, organization-wide, in member accounts:
 * the seeder says) delivered once, plus repeats of those exact deliveries,
 * shuffled, through the local engine a few at a time with nobody answering
 * approvals. Throughput and memory are reported; correctness is read back
 * from real state (the ledger table and IAM), not from the engine's reports.
 */

import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { type IAMClient, ListAccessKeysCommand } from '@aws-sdk/client-iam';
import { DynamoDBDocumentClient, ScanCommand } from '@aws-sdk/lib-dynamodb';
import { z } from 'zod';
import type * as Scenario from '../demo/scenario.js';
import type { RehearsalEngine } from '../rehearsal/engine.js';
import { type CountingProxy, callsMatching, countsSince, takeTrace } from './observe.js';

/** One distinct finding of a burst: its seeded user, IAM where that user lives, and its event. */
export interface BurstFinding {
  readonly user: Scenario.CompromisedUser;
  /** IAM in the user's account: the hub's, or a member's. */
  readonly iam: IAMClient;
  readonly event: unknown;
}

export interface BurstOptions {
  readonly engine: RehearsalEngine;
  readonly proxy: CountingProxy;
  readonly clientOptions: { readonly maxAttempts: number; readonly customUserAgent: string };
  readonly ledgerTable: string;
  /** Deliveries in all: each finding once, the rest repeats. */
  readonly total: number;
  /** Seeds the distinct findings (timed apart from the burst). */
  readonly seed: () => Promise<readonly BurstFinding[]>;
  readonly concurrency: number;
  readonly log?: (line: string) => void;
}

/**
 * The seeder of the hub's burst: `distinct` users named `<prefix>-<i>` in the
 * hub, each named by one finding (ids `<idPrefix>` and the index in hex, 32
 * characters, so two bursts in one moto never share a finding).
 */
export function hubFindings(options: {
  readonly scenario: typeof Scenario;
  readonly iam: IAMClient;
  readonly distinct: number;
  readonly concurrency: number;
  readonly prefix: string;
  readonly idPrefix: string;
}): () => Promise<BurstFinding[]> {
  const { scenario, iam } = options;
  return async () => {
    const indexes = Array.from({ length: options.distinct }, (_, i) => i);
    const findings: BurstFinding[] = new Array(options.distinct);
    await pool(indexes, options.concurrency, async (i) => {
      const user = await scenario.seedCompromisedUser(`${options.prefix}-${i}`, iam);
      const event = scenario.userKeyFinding(user, { findingId: findingId(options.idPrefix, i) });
      findings[i] = { user, iam, event };
    });
    return findings;
  };
}

/** A GuardDuty finding id (32 hex characters): `prefix`, then `index` in hex. */
export function findingId(prefix: string, index: number): string {
  return `${prefix}${index.toString(16).padStart(32 - prefix.length, '0')}`;
}

export interface BurstFigures {
  readonly total: number;
  readonly distinct: number;
  readonly concurrency: number;
  readonly seedSeconds: number;
  readonly wallSeconds: number;
  readonly deliveriesPerSecond: number;
  /** Distinct findings contained per second of the burst. */
  readonly findingsPerSecond: number;
  readonly medianExecutionMs: number;
  readonly p95ExecutionMs: number;
  readonly rssBeforeMb: number;
  /** Highest RSS sampled (every 50 ms) during the burst. */
  readonly rssPeakMb: number;
  /** Process lifetime maximum (includes CDK synthesis and bundling earlier). */
  readonly maxRssMb: number;
  readonly failedExecutions: number;
  readonly retries: number;
  /** Executions that acted (claimed the incident) and those that ended DUPLICATE. */
  readonly proceeded: number;
  readonly duplicates: number;
  /** Findings whose deliveries did not end as exactly one claimer and the rest DUPLICATE. */
  readonly findingsWithWrongClaims: number;
  /** Ledger disableAccessKey CONTAINED entries beyond one per user. */
  readonly duplicateSideEffects: number;
  /** Users with no disableAccessKey CONTAINED entry. */
  readonly uncontainedUsers: number;
  /** Leaked keys still Active, healthy keys not Active. */
  readonly leakedKeysActive: number;
  readonly healthyKeysTouched: number;
  /** IAM UpdateAccessKey and PutUserPolicy requests during the burst (from the proxy). */
  readonly updateAccessKeyCalls: number;
  readonly putUserPolicyCalls: number;
}

/** Deterministic PRNG (mulberry32), so every run delivers the same sequence. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Runs `work` over `items` with at most `concurrency` in flight. */
export async function pool<T>(
  items: readonly T[],
  concurrency: number,
  work: (item: T, index: number) => Promise<void>,
): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const index = next++;
      const item = items[index];
      if (item !== undefined) await work(item, index);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, items.length) }, worker));
}

const mb = (bytes: number) => Math.round((bytes / 1024 / 1024) * 10) / 10;
const Decided = z.looseObject({ decision: z.string() });
const LedgerItem = z.looseObject({
  step: z.string(),
  outcome: z.string(),
  targetArn: z.string().optional(),
});

export async function runBurst(options: BurstOptions): Promise<BurstFigures> {
  const log = options.log ?? (() => undefined);
  const { engine, proxy } = options;

  const seedStarted = performance.now();
  const findings = await options.seed();
  const users = findings.map((f) => f.user);
  const seedSeconds = (performance.now() - seedStarted) / 1000;
  log(`burst: seeded ${users.length} users in ${seedSeconds.toFixed(1)} s`);

  // Each finding delivered once, the rest exact repeats of those deliveries, shuffled.
  const random = prng(0xc0bd0);
  const deliveries = findings.map((_, i) => i);
  while (deliveries.length < options.total) {
    deliveries.push(Math.floor(random() * findings.length));
  }
  for (let i = deliveries.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    const a = deliveries[i] ?? 0;
    deliveries[i] = deliveries[j] ?? 0;
    deliveries[j] = a;
  }
  const events = findings.map((f) => f.event);

  const outcomes = users.map(() => ({ proceeded: 0, duplicates: 0 }));
  const durations: number[] = [];
  let failedExecutions = 0;
  let retries = 0;
  let done = 0;

  const rssBefore = process.memoryUsage().rss;
  let rssPeak = rssBefore;
  const sampler = setInterval(() => {
    rssPeak = Math.max(rssPeak, process.memoryUsage().rss);
  }, 50);
  const before = proxy.snapshot();
  const started = performance.now();
  try {
    await pool(deliveries, options.concurrency, async (userIndex) => {
      const t0 = performance.now();
      const report = await engine.rehearse(events[userIndex]);
      durations.push(performance.now() - t0);
      const outcome = outcomes[userIndex];
      for (const execution of report.executions) {
        retries += takeTrace(execution.executionArn).retried;
        if (execution.status !== 'SUCCEEDED') failedExecutions++;
        const decided = Decided.safeParse(execution.output);
        if (outcome && decided.success && decided.data.decision === 'DUPLICATE')
          outcome.duplicates++;
        else if (outcome) outcome.proceeded++;
      }
      done++;
      if (done % 100 === 0) {
        const seconds = (performance.now() - started) / 1000;
        log(`burst: ${done}/${deliveries.length} deliveries in ${seconds.toFixed(1)} s`);
      }
    });
  } finally {
    clearInterval(sampler);
  }
  const wallSeconds = (performance.now() - started) / 1000;
  rssPeak = Math.max(rssPeak, process.memoryUsage().rss);
  const counts = countsSince(before, proxy.snapshot());

  // Real state: every ledger entry of the table, and every user's keys.
  const documents = DynamoDBDocumentClient.from(new DynamoDBClient(options.clientOptions));
  const containedPerArn = new Map<string, number>();
  let startKey: Record<string, unknown> | undefined;
  do {
    const page = await documents.send(
      new ScanCommand({ TableName: options.ledgerTable, ExclusiveStartKey: startKey }),
    );
    for (const raw of page.Items ?? []) {
      const item = LedgerItem.safeParse(raw);
      if (!item.success || item.data.step !== 'disableAccessKey') continue;
      if (item.data.outcome !== 'CONTAINED' || !item.data.targetArn) continue;
      containedPerArn.set(item.data.targetArn, (containedPerArn.get(item.data.targetArn) ?? 0) + 1);
    }
    startKey = page.LastEvaluatedKey;
  } while (startKey);

  let duplicateSideEffects = 0;
  let uncontainedUsers = 0;
  for (const user of users) {
    const contained = containedPerArn.get(user.arn) ?? 0;
    if (contained === 0) uncontainedUsers++;
    duplicateSideEffects += Math.max(0, contained - 1);
  }

  let leakedKeysActive = 0;
  let healthyKeysTouched = 0;
  await pool(findings, options.concurrency, async ({ user, iam }) => {
    const keys = await iam.send(new ListAccessKeysCommand({ UserName: user.userName }));
    const status = (id: string) =>
      keys.AccessKeyMetadata?.find((k) => k.AccessKeyId === id)?.Status;
    if (status(user.leakedKeyId) !== 'Inactive') leakedKeysActive++;
    if (status(user.healthyKeyId) !== 'Active') healthyKeysTouched++;
  });

  const sorted = [...durations].sort((a, b) => a - b);
  const quantile = (q: number) =>
    sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? 0;
  return {
    total: deliveries.length,
    distinct: users.length,
    concurrency: options.concurrency,
    seedSeconds,
    wallSeconds,
    deliveriesPerSecond: deliveries.length / wallSeconds,
    findingsPerSecond: users.length / wallSeconds,
    medianExecutionMs: quantile(0.5),
    p95ExecutionMs: quantile(0.95),
    rssBeforeMb: mb(rssBefore),
    rssPeakMb: mb(rssPeak),
    maxRssMb: mb(process.resourceUsage().maxRSS * 1024),
    failedExecutions,
    retries,
    proceeded: outcomes.reduce((s, o) => s + o.proceeded, 0),
    duplicates: outcomes.reduce((s, o) => s + o.duplicates, 0),
    findingsWithWrongClaims: outcomes.filter((o) => o.proceeded !== 1).length,
    duplicateSideEffects,
    uncontainedUsers,
    leakedKeysActive,
    healthyKeysTouched,
    updateAccessKeyCalls: callsMatching(counts, /^iam:UpdateAccessKey$/),
    putUserPolicyCalls: callsMatching(counts, /^iam:PutUserPolicy$/),
  };
}

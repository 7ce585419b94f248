import { parseArgs } from 'node:util';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { describeStackOutput, EXIT } from './endpoint.js';
import { CliError } from './errors.js';
import { bold, dim } from './format.js';
import { ledgerClient, readError, readItems, resolveTable } from './ledger.js';
import {
  type Bucket,
  CATEGORIES,
  type Distribution,
  parseSince,
  type Report,
  SINCE_FORMS,
  summarize,
} from './report-stats.js';

/**
 * `cordon report`: how fast Cordon contains and what its steps came to,
 * read from the ledger table directly with the caller's own credentials
 * (dynamodb:Scan), like `cordon ledger verify`. The numbers come from
 * ./report-stats.ts; this file reads the table and draws them.
 */

export const REPORT_USAGE =
  'usage: cordon report [--since 7d] [--json] [--table NAME] [--stack NAME] [--region REGION]';

const DEFAULT_SINCE = '7d';
/** The longest bar of a chart, in characters. */
const BAR_WIDTH = 30;
const FROM_CREATION = 'from finding creation';
const FROM_ARRIVAL = 'from event arrival';

export interface ReportDeps {
  /** @default process.env */
  readonly env: NodeJS.ProcessEnv;
  /** A document client for the region (undefined: the SDK's own). */
  readonly client: (region?: string) => DynamoDBDocumentClient;
  /** @default CloudFormation DescribeStacks */
  readonly stackOutput: (
    stack: string,
    output: string,
    region?: string,
  ) => Promise<string | undefined>;
  /** @default the system clock */
  readonly now: () => Date;
}

export interface ReportIO {
  /** @default console.log */
  readonly print?: (text: string) => void;
  readonly deps?: Partial<ReportDeps>;
}

/** What `--json` prints: the report and the table it read. */
export type ReportDocument = { readonly table: string } & Report;

function defaults(deps: Partial<ReportDeps>): ReportDeps {
  return {
    env: deps.env ?? process.env,
    client: deps.client ?? ledgerClient,
    stackOutput: deps.stackOutput ?? describeStackOutput,
    now: deps.now ?? (() => new Date()),
  };
}

/** A duration for a reader: `0.25 s`, `12.4 s`, `4 m 05 s`, `2 h 03 m`, `3 d 04 h`. */
export function formatSeconds(seconds: number): string {
  if (seconds < 0) return `-${formatSeconds(-seconds)}`;
  if (seconds < 1) return `${seconds.toFixed(2)} s`;
  if (seconds < 60) return `${seconds.toFixed(1)} s`;
  const two = (n: number) => String(Math.floor(n)).padStart(2, '0');
  if (seconds < 3_600) return `${Math.floor(seconds / 60)} m ${two(seconds % 60)} s`;
  if (seconds < 86_400) return `${Math.floor(seconds / 3_600)} h ${two((seconds % 3_600) / 60)} m`;
  return `${Math.floor(seconds / 86_400)} d ${two((seconds % 86_400) / 3_600)} h`;
}

/** `2026-12-05T12:00:00.000Z` → `2026-12-05 12:00 UTC`; anything else as it is. */
function minute(iso: string): string {
  const match = /^(\d{4}-\d{2}-\d{2})T(\d{2}:\d{2})/.exec(iso);
  return match ? `${match[1]} ${match[2]} UTC` : iso;
}

/** A bar of `count` against `most`: at least one character for anything above zero. */
export function bar(count: number, most: number): string {
  if (count <= 0 || most <= 0) return '';
  return '█'.repeat(Math.max(1, Math.round((count / most) * BAR_WIDTH)));
}

/** The buckets from the first that holds a duration to the last: the shape, gaps included. */
function histogram(buckets: readonly Bucket[], indent: string): string[] {
  const first = buckets.findIndex((b) => b.count > 0);
  const last = buckets.findLastIndex((b) => b.count > 0);
  if (first < 0) return [];
  const shown = buckets.slice(first, last + 1);
  const most = Math.max(...shown.map((b) => b.count));
  const width = Math.max(...shown.map((b) => b.label.length));
  return shown.map((b) => `${indent}${b.label.padEnd(width)}  ${bar(b.count, most)} ${b.count}`);
}

function percentiles(label: string, d: Distribution): string {
  const cell = (value: number | null) => (value === null ? '-' : formatSeconds(value)).padEnd(11);
  const row = [d.p50, d.p90, d.p99, d.max].map(cell).join('');
  return `  ${label.padEnd(22)}${String(d.count).padStart(3)}   ${row}`.trimEnd();
}

function timeToContain(report: Report, window: string): string[] {
  const { fromFindingCreated: created, fromEventArrival: arrival } = report.timeToContain;
  if (report.contained === 0) {
    return [`${bold('time to contain')}: no containment change ${window}, nothing to measure`];
  }
  const lines = [
    `${bold('time to contain')} ${dim('(to the first containment change of each incident)')}`,
    dim(
      `  ${''.padEnd(22)}  n   ${['p50', 'p90', 'p99', 'max'].map((h) => h.padEnd(11)).join('')}`.trimEnd(),
    ),
    percentiles(FROM_CREATION, created),
    percentiles(FROM_ARRIVAL, arrival),
  ];
  if (created.unmeasured > 0) {
    lines.push(
      dim(
        `  ${created.unmeasured} of ${report.contained} without the finding's creation time (claimed before triage recorded it)`,
      ),
    );
  }
  if (arrival.unmeasured > 0) {
    lines.push(dim(`  ${arrival.unmeasured} of ${report.contained} without a claim to start from`));
  }
  for (const [label, d] of [
    [FROM_CREATION, created],
    [FROM_ARRIVAL, arrival],
  ] as const) {
    if (d.count === 0) continue;
    lines.push('', `  ${label}`, ...histogram(d.histogram, '    '));
  }
  return lines;
}

function outcomes(report: Report, window: string): string[] {
  const counted = CATEGORIES.filter((c) => report.outcomes[c.key] > 0);
  if (counted.length === 0) return [`${bold('step outcomes')}: none ${window}`];
  const most = Math.max(...counted.map((c) => report.outcomes[c.key]));
  const width = Math.max(...counted.map((c) => c.label.length));
  const lines = [`${bold('step outcomes')} ${dim('(ledger entries; one incident has several)')}`];
  for (const c of counted) {
    const count = report.outcomes[c.key];
    const refusals =
      c.key === 'refused'
        ? `  ${dim(
            Object.entries(report.refusedBy)
              .sort(([a], [b]) => a.localeCompare(b))
              .map(([guard, n]) => `${guard} ${n}`)
              .join(', '),
          )}`
        : '';
    lines.push(
      `  ${c.label.padEnd(width)}  ${String(count).padStart(4)}  ${bar(count, most)}${refusals}`,
    );
  }
  const steps = Object.keys(report.byStep).sort();
  const stepWidth = Math.max(...steps.map((s) => s.length));
  lines.push('', bold('by step'));
  for (const step of steps) {
    const counts = report.byStep[step] ?? {};
    const parts = CATEGORIES.flatMap((c) => {
      const n = counts[c.key];
      return n ? [`${c.label} ${n}`] : [];
    });
    lines.push(`  ${step.padEnd(stepWidth)}  ${parts.join(', ')}`);
  }
  return lines;
}

/** The report as a reader sees it: percentiles, histograms of time to contain, outcomes. */
export function formatReport(document: ReportDocument): string {
  const window = `in the last ${document.since}`;
  const head = `${bold('cordon report')}: ledger ${document.table}, ${window} (${minute(document.from)} to ${minute(document.to)})`;
  const unreadable =
    document.unreadable > 0
      ? [
          '',
          `${document.unreadable} ledger item(s) could not be read as entries: run cordon ledger verify`,
        ]
      : [];
  if (document.incidents === 0) {
    return [
      head,
      `no incident has a ledger entry ${window}: nothing to report`,
      ...unreadable,
    ].join('\n');
  }
  const incidents = document.incidents === 1 ? '1 incident' : `${document.incidents} incidents`;
  return [
    head,
    `${incidents} with entries ${window}, ${document.contained} first contained in it`,
    '',
    ...timeToContain(document, window),
    '',
    ...outcomes(document, window),
    ...unreadable,
  ].join('\n');
}

/** `cordon report`: exit 0 with a report, empty or not. */
export async function reportCommand(argv: string[], io: ReportIO = {}): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    strict: true,
    options: {
      since: { type: 'string', default: DEFAULT_SINCE },
      json: { type: 'boolean', default: false },
      table: { type: 'string' },
      stack: { type: 'string' },
      region: { type: 'string' },
    },
  });
  if (positionals.length > 0) {
    throw new CliError(`unexpected argument "${positionals[0]}"\n${REPORT_USAGE}`, EXIT.usage);
  }
  const sinceMs = parseSince(values.since);
  if (sinceMs === undefined) {
    throw new CliError(`--since: "${values.since}" is not ${SINCE_FORMS}`, EXIT.usage);
  }
  const deps = defaults(io.deps ?? {});
  const table = await resolveTable(values, deps);
  const client = deps.client(values.region);
  let items: Record<string, unknown>[];
  try {
    items = await readItems(client, table, undefined);
  } catch (error) {
    throw readError(error, table, 'report needs dynamodb:Scan on it');
  } finally {
    client.destroy();
  }
  const report = summarize(items, { since: values.since, sinceMs, now: deps.now() });
  const document: ReportDocument = { table, ...report };
  const print = io.print ?? ((text: string) => console.log(text));
  print(values.json ? JSON.stringify(document, null, 2) : formatReport(document));
  return 0;
}

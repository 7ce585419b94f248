/**
 * `npm run bench`: what each function costs to load, what each playbook path
 * costs to run, and how a burst of repeated deliveries is absorbed, in one
 * account and from many member accounts organization-wide.
 *
 *   npm run bench                       # full: 7 init samples, 3 path rounds, 1,000 deliveries
 *   npm run bench -- --quick            # 3 init samples, 1 path round (burst unchanged)
 *   npm run bench -- --burst 200        # fewer burst deliveries (distinct = 30 %)
 *   npm run bench -- --paths-only       # only the playbook paths (no bundles, no burst)
 *   npm run bench -- --organization-only  # only the organization burst (and its single-account twin)
 *   npm run bench -- --organization-findings 2   # members x findings each (default 50 x 1)
 *   npm run bench -- --timelines        # also print each path's starts and AWS calls, in time
 *   npm run bench -- --update-doc       # also rewrite the results block of docs/BENCHMARKS.md
 *
 * Exits non-zero when a burst shows a duplicate side effect or any finding
 * not contained exactly once, or the organization burst a hub user changed
 * or a spoke session assumed again while the warm function still held it.
 * Speed is reported, never asserted.
 */

import { readFileSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { z } from 'zod';
import { ensureMoto, type MotoServer, startMoto, useEmulator } from '../scripts/moto.js';
import { type BundleFigures, measureBundles } from './bundles.js';
import { type BurstFigures, hubFindings, runBurst } from './burst.js';
import { formatTimeline } from './latency.js';
import { type CountingProxy, startCountingProxy, tapExecutions } from './observe.js';
import {
  DELIVERIES_PER_FINDING,
  memberAccounts,
  type OrganizationBurstFigures,
  organizationSettings,
  runOrganizationBurst,
} from './organization.js';
import { ASSUMED_AWS_INVOCATION_MS, measurePaths, type PathFigures } from './paths.js';
import { REPO_ROOT, table } from './stats.js';

/** The breaker limit for the bench: far above what the burst contains. */
const BENCH_BREAKER_LIMIT = 100_000;

const { values: args } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    burst: { type: 'string', default: '1000' },
    concurrency: { type: 'string', default: '8' },
    'paths-only': { type: 'boolean', default: false },
    'organization-only': { type: 'boolean', default: false },
    'organization-accounts': { type: 'string', default: '50' },
    'organization-findings': { type: 'string', default: '1' },
    timelines: { type: 'boolean', default: false },
    'update-doc': { type: 'boolean', default: false },
  },
});
for (const only of ['paths-only', 'organization-only'] as const) {
  if (args[only] && args['update-doc']) {
    throw new Error(`--update-doc rewrites every results block: run it without --${only}`);
  }
}
if (args['paths-only'] && args['organization-only']) {
  throw new Error('--paths-only and --organization-only contradict each other: give one');
}
const burstTotal = Number.parseInt(args.burst, 10);
const concurrency = Number.parseInt(args.concurrency, 10);
if (!Number.isInteger(burstTotal) || burstTotal < 10) {
  throw new Error(`--burst must be an integer of at least 10, got ${args.burst}`);
}
if (!Number.isInteger(concurrency) || concurrency < 1) {
  throw new Error(`--concurrency must be a positive integer, got ${args.concurrency}`);
}
const organizationAccounts = Number.parseInt(args['organization-accounts'], 10);
const findingsPerAccount = Number.parseInt(args['organization-findings'], 10);
if (!Number.isInteger(organizationAccounts) || organizationAccounts < 2) {
  throw new Error(
    `--organization-accounts must be an integer of at least 2, got ${args['organization-accounts']}`,
  );
}
if (!Number.isInteger(findingsPerAccount) || findingsPerAccount < 1) {
  throw new Error(
    `--organization-findings must be a positive integer, got ${args['organization-findings']}`,
  );
}
const initRuns = args.quick ? 3 : 7;
const pathRounds = args.quick ? 1 : 3;
const burstDistinct = Math.round(burstTotal * 0.3);

const started = performance.now();
const elapsed = () => `${((performance.now() - started) / 1000).toFixed(0)} s`;
const progress = (line: string) => console.error(`[${elapsed()}] ${line}`);

let server: MotoServer | undefined;
let proxy: CountingProxy | undefined;
async function stopAll(): Promise<void> {
  await proxy?.stop();
  proxy = undefined;
  await server?.stop();
  server = undefined;
}
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    void stopAll().finally(() => process.exit(130));
  });
}

const kb = (bytes: number) => `${(bytes / 1024).toFixed(0)} KiB`;
const ms = (n: number) => `${n.toFixed(1)} ms`;
const ratio = (a: number, b: number) => `${(a / b).toFixed(2)}x`;
const usd = (n: number) => `$${n.toFixed(4)}`;

function bundleTable(rows: readonly BundleFigures[]): string {
  const body = rows.map((r) => [
    r.name,
    String(r.bytes),
    ms(r.initMs),
    String(r.floorBytes),
    ms(r.floorInitMs),
    ratio(r.bytes, r.floorBytes),
    ratio(r.initMs, r.floorInitMs),
    kb(r.bytes - r.floorBytes),
    ms(r.initMs - r.floorInitMs),
    r.sdkPackages.map((p) => p.replace('@aws-sdk/', '')).join(' '),
  ]);
  return table(
    [
      'function',
      'bytes',
      'init (median)',
      'floor bytes',
      'floor init',
      'size ratio',
      'init ratio',
      'Cordon size',
      'Cordon init',
      'SDK packages (floor)',
    ],
    body,
  );
}

/** The rounds' values, as one when they agree (`3`), else their range (`3-4`). */
function acrossRounds(values: readonly number[]): string {
  const low = Math.min(...values);
  const high = Math.max(...values);
  return low === high ? String(low) : `${low}-${high}`;
}

function latencyCells(r: PathFigures): string[] {
  const first = r.latency.map((l) => l.toFirstWrite);
  const reached = first.flatMap((d) => (d === undefined ? [] : [d]));
  const toEnd = r.latency.map((l) => l.toEnd.roundTrips);
  if (reached.length === 0) return ['-', '-', '-', acrossRounds(toEnd)];
  return [
    r.latency[0]?.firstWrite ?? '-',
    acrossRounds(reached.map((d) => d.starts)),
    acrossRounds(reached.map((d) => d.roundTrips)),
    acrossRounds(toEnd),
  ];
}

function pathTables(rows: readonly PathFigures[]): string {
  const counts = table(
    [
      'path',
      'status',
      'ends at',
      'transitions',
      'retries',
      'Lambda invocations',
      'ms / invocation',
      'ledger entries',
      'DynamoDB writes (WRU)',
      'SNS publishes',
      'IAM/EC2/ASG calls',
      'first containment write',
      'function starts to it',
      'round trips to it',
      'round trips to end',
    ],
    rows.map((r) => [
      r.name,
      r.status,
      r.endState,
      String(r.transitions),
      String(r.retries),
      String(r.invocations),
      ms(r.msPerInvocation),
      String(r.ledgerEntries),
      `${r.dynamoWrites} (${r.dynamoWriteUnits})`,
      String(r.snsPublishes),
      String(r.targetApiCalls),
      ...latencyCells(r),
    ]),
  );
  const costs = table(
    [
      'path',
      'Step Functions',
      'Lambda requests',
      'Lambda duration (measured)',
      'DynamoDB',
      'SNS',
      'KMS',
      'total',
      `Lambda duration @ ${ASSUMED_AWS_INVOCATION_MS} ms`,
      `total @ ${ASSUMED_AWS_INVOCATION_MS} ms`,
    ],
    rows.map((r) => [
      r.name,
      usd(r.cost.stepFunctions),
      usd(r.cost.lambdaRequests),
      usd(r.cost.lambdaDuration),
      usd(r.cost.dynamo),
      usd(r.cost.sns),
      usd(r.cost.kms),
      usd(r.cost.total),
      usd(r.cost.lambdaDurationAssumed),
      usd(r.cost.totalAssumed),
    ]),
  );
  return `${counts}\n\nEstimated USD per 1,000 containments on this path:\n\n${costs}`;
}

/** The burst's measures, as rows of label and value. */
function burstRows(b: BurstFigures): [string, string][] {
  return [
    [
      'deliveries (distinct findings + repeats)',
      `${b.total} (${b.distinct} + ${b.total - b.distinct})`,
    ],
    ['concurrency', String(b.concurrency)],
    ['seeding the users (not in wall time)', `${b.seedSeconds.toFixed(1)} s`],
    ['wall time', `${b.wallSeconds.toFixed(1)} s`],
    ['deliveries per second', b.deliveriesPerSecond.toFixed(2)],
    ['distinct findings contained per second', b.findingsPerSecond.toFixed(2)],
    ['execution time, median / p95', `${ms(b.medianExecutionMs)} / ${ms(b.p95ExecutionMs)}`],
    ['RSS before / peak during burst', `${b.rssBeforeMb} MB / ${b.rssPeakMb} MB`],
    ['max RSS of the process (incl. synth)', `${b.maxRssMb} MB`],
    ['executions acted / ended DUPLICATE', `${b.proceeded} / ${b.duplicates}`],
    ['findings not claimed exactly once', String(b.findingsWithWrongClaims)],
    ['failed executions / retries', `${b.failedExecutions} / ${b.retries}`],
    ['users without a CONTAINED disableAccessKey entry', String(b.uncontainedUsers)],
    [
      'leaked keys still Active / healthy keys changed',
      `${b.leakedKeysActive} / ${b.healthyKeysTouched}`,
    ],
    [
      'IAM UpdateAccessKey / PutUserPolicy requests',
      `${b.updateAccessKeyCalls} / ${b.putUserPolicyCalls}`,
    ],
    ['duplicate side effects', String(b.duplicateSideEffects)],
  ];
}

function burstTable(b: BurstFigures): string {
  return table(['measure', 'value'], burstRows(b));
}

/** The organization burst beside the same burst single-account, then its spoke sessions. */
function organizationTables(o: OrganizationBurstFigures): string {
  const org = burstRows(o.organization);
  const single = burstRows(o.single);
  const side = table(
    ['measure', 'organization-wide', 'single account'],
    org.map(([label, value], i) => [label, value, single[i]?.[1] ?? '-']),
  );
  const s = o.sessions;
  const wall = o.organization.wallSeconds / o.single.wallSeconds;
  const median = o.organization.medianExecutionMs / o.single.medianExecutionMs;
  const spokes = table(
    ['measure', 'value'],
    [
      ['member accounts x findings each', `${o.accounts} x ${o.findingsPerAccount}`],
      [
        'wall time / median execution, organization ÷ single',
        `${wall.toFixed(2)}x / ${median.toFixed(2)}x`,
      ],
      ['hub users of the same names changed', String(o.hubTwinsTouched)],
      ['AssumeRole requests into spoke roles', String(s.total)],
      [
        'incidents with a spoke session, per account (min-max)',
        `${s.incidentsPerAccount.min}-${s.incidentsPerAccount.max}`,
      ],
      ['max AssumeRole per (account, function)', String(s.maxPerAccountAndFunction)],
      [
        'max AssumeRole per (account, function, incident)',
        String(s.maxPerAccountFunctionAndIncident),
      ],
      [
        `assumed again after ${s.cacheBound} newer sessions (the warm cache's bound) / while still held`,
        `${s.reassumedAfterEviction} / ${s.reassumedWhileHeld}`,
      ],
      ['into an account outside the scope', String(s.outsideScope)],
      ['session name or source identity not the incident', String(s.unnamed)],
    ],
  );
  const perFunction = table(
    [
      'function',
      'AssumeRole requests',
      '(account, incident) sessions',
      'max per account',
      'max per (account, incident)',
    ],
    s.byFunction.map((f) => [
      f.fn,
      String(f.requests),
      String(f.sessions),
      String(f.maxPerAccount),
      String(f.maxPerAccountAndIncident),
    ]),
  );
  return `${side}\n\n${spokes}\n\nSpoke sessions by function:\n\n${perFunction}`;
}

function organizationProblems(o: OrganizationBurstFigures): string[] {
  const problems = [
    ...burstProblems(o.organization).map((p) => `organization-wide: ${p}`),
    ...burstProblems(o.single).map((p) => `single-account twin: ${p}`),
  ];
  const s = o.sessions;
  if (o.hubTwinsTouched > 0) problems.push(`${o.hubTwinsTouched} hub users changed`);
  if (s.reassumedWhileHeld > 0) {
    problems.push(`${s.reassumedWhileHeld} spoke sessions assumed again while still held`);
  }
  if (s.outsideScope > 0) problems.push(`${s.outsideScope} spoke sessions outside the scope`);
  if (s.unnamed > 0) problems.push(`${s.unnamed} spoke sessions not named by their incident`);
  if (s.total === 0) problems.push('no spoke session was assumed');
  return problems;
}

function burstProblems(b: BurstFigures): string[] {
  const problems: string[] = [];
  if (b.duplicateSideEffects > 0) problems.push(`${b.duplicateSideEffects} duplicate side effects`);
  if (b.uncontainedUsers > 0) problems.push(`${b.uncontainedUsers} users not contained`);
  if (b.leakedKeysActive > 0) problems.push(`${b.leakedKeysActive} leaked keys still active`);
  if (b.healthyKeysTouched > 0) problems.push(`${b.healthyKeysTouched} healthy keys changed`);
  if (b.findingsWithWrongClaims > 0) {
    problems.push(`${b.findingsWithWrongClaims} findings not claimed exactly once`);
  }
  if (b.failedExecutions > 0) problems.push(`${b.failedExecutions} failed executions`);
  return problems;
}

async function main(): Promise<boolean> {
  const cpu = cpus();
  const machine = [
    `node ${process.version}`,
    `${process.platform}/${process.arch}`,
    `${cpu.length} cores (${cpu[0]?.model.trim() ?? 'unknown CPU'})`,
    `${(totalmem() / 1024 ** 3).toFixed(1)} GiB RAM`,
  ].join(', ');
  const command = `npm run bench${process.argv.slice(2).length > 0 ? ` -- ${process.argv.slice(2).join(' ')}` : ''}`;
  const header = [
    `date: ${new Date().toISOString()}`,
    `machine: ${machine}`,
    `command: ${command}`,
    `settings: ${initRuns} init samples per bundle, ${pathRounds} path rounds after 1 warm-up, burst ${burstTotal} deliveries of ${burstDistinct} findings, ${concurrency} at a time`,
    `organization burst: ${organizationAccounts} member accounts x ${findingsPerAccount} findings, ${DELIVERIES_PER_FINDING} deliveries per finding, and the same burst single-account`,
    `circuit breaker: raised to ${BENCH_BREAKER_LIMIT.toLocaleString('en-US')} per hour, so the burst measures automatic containment; the breaker's hold on a flood is tested in test/integration/guardrails.test.ts`,
  ].join('\n');
  console.log(`${header}\n`);

  let bundlesText = '';
  if (!args['paths-only'] && !args['organization-only']) {
    progress('bundling every function and its floor (esbuild, the options of action-function.ts)');
    const bundles = await measureBundles({ runs: initRuns, log: progress });
    bundlesText = bundleTable(bundles);
    console.log(`## 1. Per function: bundle size and cold module init\n\n${bundlesText}\n`);
  }

  const python = await ensureMoto({ log: progress });
  server = await startMoto({ python });
  proxy = await startCountingProxy(server.endpoint);
  useEmulator(proxy.endpoint, 'bench');
  tapExecutions();
  progress(`moto on ${server.endpoint}, counted through ${proxy.endpoint}`);

  // Imported only now: clients and handlers read the environment when created.
  const { clientOptions } = await import('../functions/shared/aws.js');
  const scenario = await import('../demo/scenario.js');
  const { RehearsalEngine } = await import('../rehearsal/engine.js');
  const { cdkJsonContext, withCordon } = await import('../rehearsal/synth.js');
  const { callerAccount } = await import('../rehearsal/resources.js');
  const { IAMClient } = await import('@aws-sdk/client-iam');

  const account = await callerAccount();
  let decision: 'approve' | 'reject' | 'timeout' = 'approve';
  const synthStarted = performance.now();
  const engine = await RehearsalEngine.create({
    account,
    decision: () => decision,
    context: withRaisedBreaker(cdkJsonContext()),
  });
  progress(
    `engine ready (synthesized in ${((performance.now() - synthStarted) / 1000).toFixed(1)} s)`,
  );

  const problems: string[] = [];
  let pathsText = '';
  let burstText = '';
  if (!args['organization-only']) {
    const paths = await measurePaths(
      { engine, scenario, proxy, setDecision: (d) => (decision = d) },
      { rounds: pathRounds, log: progress },
    );
    pathsText = pathTables(paths);
    console.log(`## 2. Per playbook path\n\n${pathsText}\n`);
    if (args.timelines) {
      for (const p of paths) console.log(`### ${p.name}\n\n${formatTimeline(p.timeline)}\n`);
    }
    if (args['paths-only']) {
      console.log(`bench took ${elapsed()}`);
      return true;
    }

    decision = 'timeout';
    progress(`burst: ${burstTotal} deliveries, ${concurrency} at a time, approvals unanswered`);
    const burst = await runBurst({
      engine,
      proxy,
      clientOptions,
      ledgerTable: 'cordon-ledger',
      total: burstTotal,
      seed: hubFindings({
        scenario,
        iam: new IAMClient(clientOptions),
        distinct: burstDistinct,
        concurrency,
        prefix: 'bench-burst',
        idPrefix: 'e',
      }),
      concurrency,
      log: progress,
    });
    burstText = burstTable(burst);
    console.log(`## 3. Burst\n\n${burstText}\n`);
    console.log(`duplicate side effects: ${burst.duplicateSideEffects}`);
    problems.push(...burstProblems(burst));
  }

  decision = 'timeout';
  const members = memberAccounts(organizationAccounts, account);
  const orgSynthStarted = performance.now();
  const organizationEngine = await RehearsalEngine.create({
    account,
    decision: () => decision,
    context: withRaisedBreaker(
      withCordon(cdkJsonContext(), organizationSettings(members, engine.values.region)),
    ),
  });
  progress(
    `organization engine ready (synthesized in ${((performance.now() - orgSynthStarted) / 1000).toFixed(1)} s)`,
  );
  const organization = await runOrganizationBurst({
    scenario,
    proxy,
    clientOptions,
    ledgerTable: 'cordon-ledger',
    single: engine,
    organization: organizationEngine,
    accounts: members,
    findingsPerAccount,
    concurrency,
    log: progress,
  });
  const organizationText = organizationTables(organization);
  console.log(`## 4. Organization burst\n\n${organizationText}\n`);
  console.log(
    `organization burst: duplicate side effects: ${organization.organization.duplicateSideEffects}`,
  );
  problems.push(...organizationProblems(organization));

  for (const p of problems) console.log(`PROBLEM: ${p}`);
  const runtime = `bench took ${elapsed()}`;
  console.log(runtime);

  if (args['update-doc']) {
    updateDoc([header, runtime].join('\n'), {
      bundles: bundlesText,
      paths: pathsText,
      burst: burstText,
      organization: organizationText,
    });
    progress('docs/BENCHMARKS.md results updated');
  }
  return problems.length === 0;
}

/** Rewrites the generated blocks of docs/BENCHMARKS.md; the prose around them is kept. */
function updateDoc(
  header: string,
  results: {
    readonly bundles: string;
    readonly paths: string;
    readonly burst: string;
    readonly organization: string;
  },
): void {
  const file = join(REPO_ROOT, 'docs', 'BENCHMARKS.md');
  let text = readFileSync(file, 'utf8');
  const blocks: Record<string, string> = {
    run: `\`\`\`text\n${header}\n\`\`\``,
    ...results,
  };
  for (const [name, content] of Object.entries(blocks)) {
    const start = `<!-- bench:${name}:start -->`;
    const end = `<!-- bench:${name}:end -->`;
    const from = text.indexOf(start);
    const to = text.indexOf(end);
    if (from < 0 || to < from)
      throw new Error(`docs/BENCHMARKS.md has no ${start} ... ${end} block`);
    text = `${text.slice(0, from + start.length)}\n${content}\n${text.slice(to)}`;
  }
  writeFileSync(file, text);
}

main()
  .then(
    (ok) => ok,
    (error: unknown) => {
      console.error(
        `bench failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`,
      );
      return false;
    },
  )
  .then(async (ok) => {
    await stopAll();
    process.exitCode = ok ? 0 : 1;
  });

/**
 * cdk.json's context with the circuit breaker raised: with the default (20
 * an hour) the breaker would, correctly, hold all but the first findings of
 * the burst for approval, and the burst would measure the hold.
 */
function withRaisedBreaker(context: Record<string, unknown>): Record<string, unknown> {
  const cordon = z.record(z.string(), z.unknown()).parse(context.cordon ?? {});
  return {
    ...context,
    cordon: {
      ...cordon,
      circuitBreaker: { maxContainments: BENCH_BREAKER_LIMIT, windowMinutes: 60 },
    },
  };
}

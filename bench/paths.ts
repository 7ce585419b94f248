/**
 * Per playbook path: one representative event at a time through the local
 * engine against moto, with what each execution would be billed for on AWS:
 * state transitions, Lambda requests and duration, DynamoDB writes, SNS
 * publishes. Counted from the execution's own event log and from the AWS
 * requests its handlers really made (see observe.ts).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { seedPublicBucket } from '../demo/exposure.js';
import type * as Scenario from '../demo/scenario.js';
import { attackSequenceFinding } from '../demo/sequence.js';
import { type Timeline, takeTimeline, trace } from '../rehearsal/calls.js';
import type { Decision, ExecutionReport, RehearsalEngine } from '../rehearsal/engine.js';
import { type PathLatency, pathLatency } from './latency.js';
import {
  type ApiCounts,
  type CountingProxy,
  callsMatching,
  countsSince,
  takeTrace,
} from './observe.js';
import { median, REPO_ROOT } from './stats.js';

/** Public us-east-1 prices (USD) the estimates use. */
export const PRICES = {
  /** Step Functions Standard, per state transition. */
  stateTransition: 0.025 / 1_000,
  /** Lambda, per request. */
  lambdaRequest: 0.2 / 1_000_000,
  /** Lambda arm64, per GB-second. */
  lambdaGbSecond: 0.0000133334,
  /** Memory of every Cordon function (action-function.ts default). */
  lambdaMemoryGb: 256 / 1024,
  /** DynamoDB on-demand, per write request unit. */
  dynamoWriteUnit: 0.625 / 1_000_000,
  /** SNS, per publish (each 64 KB chunk; Cordon's messages are smaller). */
  snsPublish: 0.5 / 1_000_000,
  /** KMS, per request (the ledger's GenerateMac and VerifyMac, the approval key's). */
  kmsRequest: 0.03 / 10_000,
} as const;

/** Duration assumed for a real-AWS sensitivity figure: SDK calls to AWS are slower than to moto. */
export const ASSUMED_AWS_INVOCATION_MS = 200;

export interface PathFigures {
  readonly name: string;
  readonly playbook: string;
  readonly decision: Decision;
  readonly status: string;
  readonly endState: string;
  /** States entered plus retries: what Standard bills. */
  readonly transitions: number;
  readonly retries: number;
  /** Task states entered plus Task retries. */
  readonly invocations: number;
  readonly ledgerEntries: number;
  /** DynamoDB write requests (ledger puts, including a failed conditional claim). */
  readonly dynamoWrites: number;
  readonly dynamoWriteUnits: number;
  readonly snsPublishes: number;
  /** KMS requests the handlers made (every ledger entry's MAC among them). */
  readonly kmsRequests: number;
  /** IAM, EC2 and Auto Scaling requests the handlers made. */
  readonly targetApiCalls: number;
  /** Median over rounds of the mean Task attempt duration, ms (local, warm). */
  readonly msPerInvocation: number;
  /** Median over rounds of the billed Lambda ms (each attempt rounded up to 1 ms). */
  readonly billedMs: number;
  /**
   * Function starts and sequential AWS round trips to the first containment
   * write and to the end (latency.ts), one per measured round: the round
   * trips can differ when calls meant to overlap happen not to.
   */
  readonly latency: readonly PathLatency[];
  /** The last measured round's function starts and calls, in time (`--timelines`). */
  readonly timeline: Timeline;
  readonly cost: PathCost;
}

/** USD per 1,000 containments. */
export interface PathCost {
  readonly stepFunctions: number;
  readonly lambdaRequests: number;
  readonly lambdaDuration: number;
  /** Lambda duration if every invocation took ASSUMED_AWS_INVOCATION_MS. */
  readonly lambdaDurationAssumed: number;
  readonly dynamo: number;
  readonly sns: number;
  readonly kms: number;
  /** With the measured local duration. */
  readonly total: number;
  /** With the assumed AWS duration. */
  readonly totalAssumed: number;
}

export function costPer1000(f: {
  transitions: number;
  invocations: number;
  billedMs: number;
  dynamoWriteUnits: number;
  snsPublishes: number;
  kmsRequests: number;
}): PathCost {
  const gbSeconds = (ms: number) => (ms / 1000) * PRICES.lambdaMemoryGb;
  const per = (usd: number) => usd * 1000;
  const stepFunctions = per(f.transitions * PRICES.stateTransition);
  const lambdaRequests = per(f.invocations * PRICES.lambdaRequest);
  const lambdaDuration = per(gbSeconds(f.billedMs) * PRICES.lambdaGbSecond);
  const lambdaDurationAssumed = per(
    gbSeconds(f.invocations * ASSUMED_AWS_INVOCATION_MS) * PRICES.lambdaGbSecond,
  );
  const dynamo = per(f.dynamoWriteUnits * PRICES.dynamoWriteUnit);
  const sns = per(f.snsPublishes * PRICES.snsPublish);
  const kms = per(f.kmsRequests * PRICES.kmsRequest);
  const rest = stepFunctions + lambdaRequests + dynamo + sns + kms;
  return {
    stepFunctions,
    lambdaRequests,
    lambdaDuration,
    lambdaDurationAssumed,
    dynamo,
    sns,
    kms,
    total: rest + lambdaDuration,
    totalAssumed: rest + lambdaDurationAssumed,
  };
}

type ScenarioModule = typeof Scenario;

export interface PathContext {
  readonly engine: RehearsalEngine;
  /** Sets how the emulated responders decide for the next rehearsal. */
  readonly setDecision: (decision: Decision) => void;
  readonly scenario: ScenarioModule;
  readonly proxy: CountingProxy;
}

interface PathCase {
  readonly name: string;
  readonly decision: Decision;
  /** Seeds what the event names and returns the event; `round` keeps names unique. */
  readonly prepare: (round: number, shared: Shared) => Promise<unknown>;
}

/** What a round's cases share: the duplicate re-delivers the user path's event. */
interface Shared {
  userEvent?: unknown;
}

const FixtureSchema = z.looseObject({ detail: z.looseObject({ id: z.string() }) });

/** A fixture event with its own finding id, so rounds never collide. */
function fixtureWithId(name: string, findingId: string): unknown {
  const path = join(REPO_ROOT, 'test', 'fixtures', 'events', name);
  const event = FixtureSchema.parse(JSON.parse(readFileSync(path, 'utf8')));
  return { ...event, detail: { ...event.detail, id: findingId } };
}

function findingId(kind: number, round: number): string {
  return `${kind.toString(16)}${round.toString(16).padStart(3, '0')}`.padEnd(32, 'b');
}

function cases(s: ScenarioModule): PathCase[] {
  return [
    {
      name: 'iam-credentials: IAM user, leaked key (auto + approve)',
      decision: 'approve',
      prepare: async (round, shared) => {
        const user = await s.seedCompromisedUser(`bench-path-user-${round}`);
        const event = s.userKeyFinding(user, { findingId: findingId(1, round) });
        shared.userEvent = event;
        return event;
      },
    },
    {
      name: 'iam-credentials: duplicate delivery of that event',
      decision: 'approve',
      prepare: async (_round, shared) => {
        if (shared.userEvent === undefined) throw new Error('the user path runs first');
        return shared.userEvent;
      },
    },
    {
      name: 'iam-credentials: assumed role (approve)',
      decision: 'approve',
      prepare: async (round) => {
        const role = await s.seedExfiltratedRole(`bench-path-role-${round}`);
        return s.roleCredentialFinding(role, { findingId: findingId(2, round) });
      },
    },
    {
      name: 'iam-credentials: root (notify only)',
      decision: 'approve',
      prepare: async (round) => fixtureWithId('guardduty-root.json', findingId(3, round)),
    },
    {
      name: 'iam-credentials: sample finding (refused)',
      decision: 'approve',
      prepare: async (round) => fixtureWithId('guardduty-sample.json', findingId(4, round)),
    },
    {
      name: 'ec2-instance: instance (approve)',
      decision: 'approve',
      prepare: async (round) => {
        const instance = await s.seedCompromisedInstance({
          group: `bench-path-asg-${round}`,
          role: `bench-path-worker-${round}`,
        });
        return s.instanceFinding(instance, { findingId: findingId(5, round) });
      },
    },
    {
      name: "attack-sequence: a user's key and a bucket (one approval)",
      decision: 'approve',
      prepare: async (round) => {
        const user = await s.seedCompromisedUser(`bench-path-sequence-user-${round}`);
        const bucket = await seedPublicBucket(`bench-path-sequence-bucket-${round}`);
        const id = findingId(6, round);
        return attackSequenceFinding(
          { users: [user], buckets: [bucket] },
          { findingId: id, sequenceUid: id },
        );
      },
    },
  ];
}

interface Observation {
  readonly execution: ExecutionReport;
  readonly transitions: number;
  readonly retries: number;
  readonly invocations: number;
  readonly meanMs: number;
  readonly billedMs: number;
  readonly counts: ApiCounts;
  readonly latency: PathLatency;
  readonly timeline: Timeline;
}

async function observe(ctx: PathContext, c: PathCase, event: unknown): Promise<Observation> {
  ctx.setDecision(c.decision);
  const before = ctx.proxy.snapshot();
  const report = await ctx.engine.rehearse(event);
  const counts = countsSince(before, ctx.proxy.snapshot());
  const [execution, ...others] = report.executions;
  if (!execution || others.length > 0) {
    throw new Error(`${c.name}: expected one execution, got ${report.executions.length}`);
  }
  const trace = takeTrace(execution.executionArn);
  if (trace.entered !== execution.states.length) {
    throw new Error(
      `${c.name}: the event log entered ${trace.entered} states, the engine reports ${execution.states.length}`,
    );
  }
  const ms = trace.taskAttemptMs;
  const invocations = trace.taskEntered + trace.taskRetried;
  const timeline = takeTimeline(execution.executionArn);
  if (timeline.starts.length !== invocations) {
    throw new Error(
      `${c.name}: the timeline has ${timeline.starts.length} function starts, the event log ${invocations} Task invocations`,
    );
  }
  return {
    execution,
    transitions: trace.entered + trace.retried,
    retries: trace.retried,
    invocations,
    meanMs: ms.length > 0 ? ms.reduce((a, b) => a + b, 0) / ms.length : 0,
    billedMs: ms.reduce((sum, m) => sum + Math.max(1, Math.ceil(m)), 0),
    counts,
    latency: pathLatency(timeline),
    timeline,
  };
}

export interface PathOptions {
  /** Measured rounds after one warm-up round (which imports every handler once). */
  readonly rounds: number;
  readonly log?: (line: string) => void;
}

export async function measurePaths(ctx: PathContext, options: PathOptions): Promise<PathFigures[]> {
  const log = options.log ?? (() => undefined);
  const all = cases(ctx.scenario);
  const seen = new Map<string, Observation[]>();
  const stopTracing = trace();
  try {
    for (let round = 0; round <= options.rounds; round++) {
      const shared: Shared = {};
      for (const c of all) {
        const observation = await observe(ctx, c, await c.prepare(round, shared));
        if (round === 0) continue; // warm-up: handler modules are imported on first use
        seen.set(c.name, [...(seen.get(c.name) ?? []), observation]);
      }
      log(round === 0 ? 'paths: warm-up round done' : `paths: round ${round}/${options.rounds}`);
    }
  } finally {
    stopTracing();
  }

  return all.map((c) => {
    const runs = seen.get(c.name) ?? [];
    const last = runs.at(-1);
    if (!last) throw new Error(`${c.name}: no measured run`);
    const shapes = new Set(runs.map((r) => `${r.transitions}/${r.invocations}`));
    if (shapes.size > 1) {
      throw new Error(`${c.name}: transitions/invocations differ between rounds: ${[...shapes]}`);
    }
    const { execution, counts } = last;
    const billedMs = median(runs.map((r) => r.billedMs));
    const figures = {
      transitions: last.transitions,
      invocations: last.invocations,
      billedMs,
      dynamoWriteUnits: counts.dynamoWriteUnits,
      snsPublishes: callsMatching(counts, /^sns:Publish$/),
      kmsRequests: callsMatching(counts, /^kms:/),
    };
    return {
      name: c.name,
      playbook: execution.playbook,
      decision: c.decision,
      status: execution.status,
      endState: execution.states.at(-1) ?? '(none)',
      retries: last.retries,
      ledgerEntries: execution.ledger.length,
      dynamoWrites: callsMatching(counts, /^dynamodb:(PutItem|UpdateItem|DeleteItem)$/),
      targetApiCalls: callsMatching(counts, /^(iam|ec2|autoscaling):/),
      msPerInvocation: median(runs.map((r) => r.meanMs)),
      latency: runs.map((r) => r.latency),
      timeline: last.timeline,
      ...figures,
      cost: costPer1000(figures),
    };
  });
}

import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import { ApprovalStore } from '../responder-api/store.js';
import { boot } from '../shared/boot.js';
import { allStepIds } from '../shared/catalog.js';
import { type Environment, requireEnv } from '../shared/env.js';
import { taskHandler } from '../shared/handler.js';
import { OUTCOMES } from '../shared/incident.js';
import type { Ledger } from '../shared/ledger.js';
import {
  approvalWait,
  firstContainment,
  type MeasuredEntry,
  refusalGuard,
  timesToContain,
} from '../shared/measures.js';
import { ROLLBACK_OUTCOMES } from '../shared/rollback.js';
import { ENV } from '../shared/runtime-config.js';
import { z } from '../shared/z.js';
import { CONTAIN_FROM, METRIC, METRICS_NAMESPACE, METRICS_SERVICE_ENV } from './contract.js';

/**
 * The metrics function: CloudWatch metrics (embedded metric format, through
 * Powertools Metrics) derived from the ledger, the audit record, as its
 * stream delivers each new entry: step outcomes, refusals by guard,
 * approval decisions and waits, circuit breaker trips, rollbacks, and the
 * two times to contain. Every five minutes a schedule also has it count the
 * approvals waiting. It runs beside the containment path, not on it: no
 * playbook waits for it, and a failure here loses metrics, never a step.
 */

/** One data point: a metric, its dimensions, its value. */
export interface DataPoint {
  readonly name: string;
  readonly unit: (typeof MetricUnit)[keyof typeof MetricUnit];
  readonly value: number;
  readonly dimensions: Readonly<Record<string, string>>;
}

const ACTION_OUTCOMES: ReadonlySet<string> = new Set(OUTCOMES);
/**
 * Dimension values come from Cordon's own step ids and guard names, never
 * from a finding; anything else (an entry no Cordon code writes) is `other`,
 * so no writer can mint metrics without bound.
 */
const STEPS: ReadonlySet<string> = new Set(allStepIds());
const stepDimension = (step: string) => (STEPS.has(step) ? step : 'other');
const GUARD_MAX = 32;
const guardDimension = (summary: string | undefined) => {
  const guard = refusalGuard(summary);
  return guard.length <= GUARD_MAX ? guard : 'other';
};
const ROLLBACK_ONLY: ReadonlySet<string> = new Set(
  ROLLBACK_OUTCOMES.filter((o) => !ACTION_OUTCOMES.has(o)),
);
const DECISIONS: Readonly<Record<string, string>> = {
  APPROVAL_GRANTED: 'GRANTED',
  APPROVAL_DENIED: 'DENIED',
  NOT_ACTED_ON: 'TIMED_OUT',
};

const count = (name: string, dimensions: Record<string, string> = {}): DataPoint => ({
  name,
  unit: MetricUnit.Count,
  value: 1,
  dimensions,
});
const millis = (name: string, value: number, dimensions: Record<string, string> = {}) =>
  ({ name, unit: MetricUnit.Milliseconds, value, dimensions }) satisfies DataPoint;

/** What the entry says on its own: no other entry is needed. */
function ownPoints(entry: MeasuredEntry): DataPoint[] {
  const { outcome, step } = entry;
  const points: DataPoint[] = [];
  if (step === 'triage') {
    if (outcome === 'REFUSED')
      points.push(count(METRIC.refused, { Guard: guardDimension(entry.summary) }));
    if (outcome === 'BREAKER_TRIPPED') points.push(count(METRIC.breakerTripped));
    return points;
  }
  if (ACTION_OUTCOMES.has(outcome))
    points.push(count(METRIC.stepOutcome, { Step: stepDimension(step), Outcome: outcome }));
  if (ROLLBACK_ONLY.has(outcome)) points.push(count(METRIC.rollback, { Outcome: outcome }));
  const decision = DECISIONS[outcome];
  if (decision !== undefined) points.push(count(METRIC.approvalDecided, { Decision: decision }));
  return points;
}

/** Whether the entry's metrics need the incident's earlier entries. */
const needsIncident = (entry: MeasuredEntry): boolean =>
  entry.outcome === 'CONTAINED' ||
  entry.outcome === 'APPROVAL_GRANTED' ||
  entry.outcome === 'APPROVAL_DENIED';

/**
 * The data points of one new ledger entry. `incident` is the incident's
 * entries in ledger order (read only when `needsIncident`): the first
 * containment of an incident gives its times to contain, a decision its wait.
 */
export function pointsOf(
  entry: MeasuredEntry,
  incident: readonly MeasuredEntry[] = [],
): DataPoint[] {
  const points = ownPoints(entry);
  if (entry.outcome === 'CONTAINED') {
    const first = firstContainment(incident);
    if (first?.contained.seq === entry.seq) {
      const times = timesToContain(first);
      if (times.fromFindingCreated !== undefined) {
        points.push(
          millis(METRIC.timeToContain, times.fromFindingCreated, {
            From: CONTAIN_FROM.findingCreated,
          }),
        );
      }
      if (times.fromEventArrival !== undefined) {
        points.push(
          millis(METRIC.timeToContain, times.fromEventArrival, { From: CONTAIN_FROM.eventArrival }),
        );
      }
    }
  }
  if (entry.outcome === 'APPROVAL_GRANTED' || entry.outcome === 'APPROVAL_DENIED') {
    const wait = approvalWait(incident, entry);
    if (wait !== undefined) points.push(millis(METRIC.approvalWait, wait));
  }
  return points;
}

/* ------------------------------------------------------------------ */
/* Events                                                              */
/* ------------------------------------------------------------------ */

const S = z.looseObject({ S: z.string() });
const N = z.looseObject({ N: z.string().regex(/^\d+$/) });

/** What the metrics read of a new entry's image; everything else passes through. */
const ImageSchema = z.looseObject({
  incidentId: S,
  seq: N,
  step: S,
  at: S,
  outcome: S,
  executionArn: S.optional(),
  summary: S.optional(),
});

const RecordSchema = z.looseObject({
  eventName: z.enum(['INSERT', 'MODIFY', 'REMOVE']),
  dynamodb: z.looseObject({ NewImage: z.unknown().optional() }),
});

const StreamEventSchema = z.looseObject({ Records: z.array(RecordSchema) });
const ScheduledEventSchema = z.looseObject({
  source: z.literal('aws.events'),
  'detail-type': z.literal('Scheduled Event'),
});
export const MetricsEventSchema = z.union([StreamEventSchema, ScheduledEventSchema]);
export type MetricsEvent = z.infer<typeof MetricsEventSchema>;

type Image = z.infer<typeof ImageSchema>;
const measured = (image: Image): MeasuredEntry & { readonly incidentId: string } => ({
  incidentId: image.incidentId.S,
  seq: Number(image.seq.N),
  step: image.step.S,
  at: image.at.S,
  outcome: image.outcome.S,
  ...(image.executionArn ? { executionArn: image.executionArn.S } : {}),
  ...(image.summary ? { summary: image.summary.S } : {}),
});

export interface MetricsDeps {
  readonly ledger: Pick<Ledger, 'entries'>;
  readonly approvals: Pick<ApprovalStore, 'countWaiting'>;
  /** Records each data point; Powertools Metrics in the function. */
  readonly emit: (point: DataPoint) => void;
}

export interface MetricsResult {
  readonly points: number;
  /** New entries whose image the metrics could not read (not Cordon's shape): skipped. */
  readonly unreadable: number;
}

/**
 * The data points of a stream batch (new entries only: Cordon never
 * rewrites one, and the anchor function records it if anything does), or
 * the waiting approvals' count for a scheduled event.
 */
export async function measure(event: MetricsEvent, deps: MetricsDeps): Promise<MetricsResult> {
  const stream = StreamEventSchema.safeParse(event);
  if (!stream.success) {
    const waiting = await deps.approvals.countWaiting();
    deps.emit({
      name: METRIC.approvalsWaiting,
      unit: MetricUnit.Count,
      value: waiting,
      dimensions: {},
    });
    return { points: 1, unreadable: 0 };
  }
  // Every point first, then emitted: a batch that fails part-way emits
  // nothing, so its retry does not count an entry twice.
  const points: DataPoint[] = [];
  let unreadable = 0;
  const incidents = new Map<string, Promise<MeasuredEntry[]>>();
  for (const record of stream.data.Records) {
    if (record.eventName !== 'INSERT') continue;
    const image = ImageSchema.safeParse(record.dynamodb.NewImage);
    if (!image.success) {
      unreadable++;
      continue;
    }
    const entry = measured(image.data);
    let incident: MeasuredEntry[] = [];
    if (needsIncident(entry)) {
      const read = incidents.get(entry.incidentId) ?? deps.ledger.entries(entry.incidentId);
      incidents.set(entry.incidentId, read);
      incident = await read;
    }
    points.push(...pointsOf(entry, incident));
  }
  for (const point of points) deps.emit(point);
  return { points: points.length, unreadable };
}

export function makeHandler(env: Environment) {
  const { logger, ledger, dynamo } = boot(env, 'metrics');
  // The service dimension tells one Cordon stack's metrics from another's.
  const metrics = new Metrics({
    namespace: METRICS_NAMESPACE,
    serviceName: requireEnv(env, METRICS_SERVICE_ENV),
  });
  const approvals = new ApprovalStore({
    client: dynamo,
    tableName: requireEnv(env, ENV.approvalsTable),
  });
  const emit = (point: DataPoint) => {
    const single = metrics.singleMetric();
    for (const [name, value] of Object.entries(point.dimensions)) single.addDimension(name, value);
    single.addMetric(point.name, point.unit, point.value);
  };
  return taskHandler(logger, MetricsEventSchema, async (event) => {
    const result = await measure(event, { ledger, approvals, emit });
    if (result.unreadable > 0)
      logger.warn('ledger entries the metrics could not read', { ...result });
    return result;
  });
}

import { describe, expect, it, vi } from 'vitest';
import { CONTAIN_FROM, METRIC } from '../../../functions/metrics/contract.js';
import { type DataPoint, measure, pointsOf } from '../../../functions/metrics/core.js';
import type { MeasuredEntry } from '../../../functions/shared/measures.js';

/**
 * The metrics come from ledger entries as the stream delivers them: each
 * entry's own (a step's outcome, a refusal's guard, a decision, a breaker
 * trip, a rollback), and those that need the incident's earlier entries
 * (time to contain on its first containment, an approval's wait).
 */

const EXECUTION = 'arn:aws:states:us-east-1:123456789012:execution:cordon-iam-credentials:e1';
const at = (minute: number, second = 0) =>
  new Date(Date.UTC(2026, 11, 5, 10, minute, second)).toISOString();

const entry = (seq: number, over: Partial<MeasuredEntry>): MeasuredEntry => ({
  seq,
  step: 'disableAccessKey',
  at: at(0),
  outcome: 'CONTAINED',
  executionArn: EXECUTION,
  ...over,
});

const CLAIM = entry(1, {
  step: 'triage',
  outcome: 'CLAIMED',
  at: at(2),
  detail: { createdAt: at(0) },
});

describe('the metrics of one ledger entry', () => {
  it('counts a step outcome by step and outcome', () => {
    expect(pointsOf(entry(3, { outcome: 'DRY_RUN', step: 'quarantineUser' }))).toEqual([
      {
        name: METRIC.stepOutcome,
        unit: 'Count',
        value: 1,
        dimensions: { Step: 'quarantineUser', Outcome: 'DRY_RUN' },
      },
    ]);
  });

  it('counts a refusal by the guard its reason names, and `other` when it names none', () => {
    const refused = (summary: string) =>
      pointsOf(entry(1, { step: 'triage', outcome: 'REFUSED', summary }));
    expect(refused('sample: GuardDuty generated this finding')).toEqual([
      { name: METRIC.refused, unit: 'Count', value: 1, dimensions: { Guard: 'sample' } },
    ]);
    expect(refused('<!channel> made up')[0]?.dimensions).toEqual({ Guard: 'other' });
  });

  it('counts a breaker trip, a rollback, and a decision', () => {
    expect(pointsOf(entry(2, { step: 'triage', outcome: 'BREAKER_TRIPPED' }))).toEqual([
      { name: METRIC.breakerTripped, unit: 'Count', value: 1, dimensions: {} },
    ]);
    expect(pointsOf(entry(9, { outcome: 'ROLLED_BACK' }))).toEqual([
      { name: METRIC.rollback, unit: 'Count', value: 1, dimensions: { Outcome: 'ROLLED_BACK' } },
    ]);
    expect(pointsOf(entry(5, { outcome: 'NOT_ACTED_ON' })).map((p) => p.dimensions)).toEqual([
      { Step: 'disableAccessKey', Outcome: 'NOT_ACTED_ON' },
      { Decision: 'TIMED_OUT' },
    ]);
  });

  it('gives both times to contain on the first containment only', () => {
    const first = entry(2, { at: at(2, 30) });
    const second = entry(3, { step: 'revokeUserSessions', at: at(3) });
    const incident = [CLAIM, first, second];

    const times = (e: MeasuredEntry) =>
      pointsOf(e, incident).filter((p) => p.name === METRIC.timeToContain);

    expect(times(first)).toEqual([
      {
        name: METRIC.timeToContain,
        unit: 'Milliseconds',
        value: 150_000,
        dimensions: { From: CONTAIN_FROM.findingCreated },
      },
      {
        name: METRIC.timeToContain,
        unit: 'Milliseconds',
        value: 30_000,
        dimensions: { From: CONTAIN_FROM.eventArrival },
      },
    ]);
    expect(times(second)).toEqual([]);
  });

  it("gives an approval's wait from its step's request", () => {
    const requested = entry(2, {
      outcome: 'APPROVAL_REQUESTED',
      step: 'quarantineUser',
      at: at(5),
    });
    const granted = entry(3, { outcome: 'APPROVAL_GRANTED', step: 'quarantineUser', at: at(9) });

    expect(pointsOf(granted, [CLAIM, requested, granted])).toEqual([
      {
        name: METRIC.approvalDecided,
        unit: 'Count',
        value: 1,
        dimensions: { Decision: 'GRANTED' },
      },
      { name: METRIC.approvalWait, unit: 'Milliseconds', value: 240_000, dimensions: {} },
    ]);
  });
});

describe('a stream batch and the schedule', () => {
  const image = (e: MeasuredEntry & { incidentId: string }) => ({
    incidentId: { S: e.incidentId },
    seq: { N: String(e.seq) },
    step: { S: e.step },
    at: { S: e.at },
    outcome: { S: e.outcome },
    ...(e.executionArn ? { executionArn: { S: e.executionArn } } : {}),
  });

  it("emits the new entries' metrics, reading an incident once per batch, and skips what it cannot read", async () => {
    const emitted: DataPoint[] = [];
    const reads: string[] = [];
    const incident = [
      CLAIM,
      entry(2, { at: at(2, 10) }),
      entry(3, { at: at(2, 20), step: 'revokeUserSessions' }),
    ];
    const deps = {
      ledger: {
        entries: async (id: string) => {
          reads.push(id);
          return incident.map((e) => ({ ...e, incidentId: id }) as never);
        },
      },
      approvals: { countWaiting: async () => 0 },
      emit: (p: DataPoint) => emitted.push(p),
    };

    const result = await measure(
      {
        Records: [
          {
            eventName: 'INSERT',
            dynamodb: { NewImage: image({ ...incident[1], incidentId: 'inc-1' } as never) },
          },
          {
            eventName: 'INSERT',
            dynamodb: { NewImage: image({ ...incident[2], incidentId: 'inc-1' } as never) },
          },
          {
            eventName: 'MODIFY',
            dynamodb: { NewImage: image({ ...incident[1], incidentId: 'inc-1' } as never) },
          },
          { eventName: 'INSERT', dynamodb: { NewImage: { incidentId: { S: 'inc-2' } } } },
        ],
      },
      deps,
    );

    expect(result).toEqual({ points: 4, unreadable: 1 });
    expect(reads).toEqual(['inc-1']);
    expect(emitted.filter((p) => p.name === METRIC.timeToContain)).toHaveLength(2);
  });

  it('counts the waiting approvals on a scheduled event', async () => {
    const emitted: DataPoint[] = [];
    await measure(
      { source: 'aws.events', 'detail-type': 'Scheduled Event' },
      {
        ledger: { entries: async () => [] },
        approvals: { countWaiting: async () => 3 },
        emit: (p) => emitted.push(p),
      },
    );

    expect(emitted).toEqual([
      { name: METRIC.approvalsWaiting, unit: 'Count', value: 3, dimensions: {} },
    ]);
  });
});

describe('the handler', () => {
  it('writes each data point in CloudWatch embedded metric format, under the stack as service', async () => {
    const { makeHandler } = await import('../../../functions/metrics/core.js');
    const lines: string[] = [];
    const write = vi
      .spyOn(process.stdout, 'write')
      .mockImplementation((chunk: string | Uint8Array) => {
        lines.push(String(chunk));
        return true;
      });
    const log = vi.spyOn(console, 'log').mockImplementation((...args: unknown[]) => {
      lines.push(args.map(String).join(' '));
    });
    const handler = makeHandler({
      AWS_REGION: 'us-east-1',
      CORDON_ACTION: 'metrics',
      CORDON_ACTOR_ARN: 'arn:aws:iam::123456789012:role/cordon-metrics',
      LEDGER_TABLE_NAME: 'cordon-ledger',
      LEDGER_KEY_ID: 'alias/cordon-ledger',
      APPROVALS_TABLE_NAME: 'cordon-approvals',
      POWERTOOLS_SERVICE_NAME: 'Cordon-stack',
      POWERTOOLS_LOG_LEVEL: 'SILENT',
    });
    const dryRun = {
      incidentId: { S: 'inc-1' },
      seq: { N: '4' },
      step: { S: 'quarantineUser' },
      at: { S: at(1) },
      outcome: { S: 'DRY_RUN' },
    };

    try {
      await handler({ Records: [{ eventName: 'INSERT', dynamodb: { NewImage: dryRun } }] }, {
        functionName: 'metrics',
        awsRequestId: 'r-1',
      } as never);
    } finally {
      write.mockRestore();
      log.mockRestore();
    }

    const emf = lines.flatMap((l) => {
      try {
        const parsed = JSON.parse(l) as Record<string, unknown>;
        return '_aws' in parsed ? [parsed] : [];
      } catch {
        return [];
      }
    });
    expect(emf).toEqual([
      expect.objectContaining({
        _aws: expect.objectContaining({
          CloudWatchMetrics: [
            expect.objectContaining({
              Namespace: 'Cordon',
              Metrics: [{ Name: METRIC.stepOutcome, Unit: 'Count' }],
            }),
          ],
        }),
        service: 'Cordon-stack',
        Step: 'quarantineUser',
        Outcome: 'DRY_RUN',
        StepOutcome: 1,
      }),
    ]);
  });
});

describe('dimension values', () => {
  it('come from Cordon step ids and short guard names only: an entry no Cordon code writes mints no new metric', () => {
    const [step] = pointsOf(entry(3, { step: `made-up-${'x'.repeat(40)}`, outcome: 'CONTAINED' }));
    expect(step?.dimensions).toEqual({ Step: 'other', Outcome: 'CONTAINED' });
    const [refused] = pointsOf(
      entry(1, { step: 'triage', outcome: 'REFUSED', summary: `${'a'.repeat(40)}: long` }),
    );
    expect(refused?.dimensions).toEqual({ Guard: 'other' });
  });
});

describe('time to contain from the finding', () => {
  it('is not counted when the finding says it was created after it arrived (an imported finding says anything)', () => {
    const claim = { ...CLAIM, detail: { createdAt: at(30) } };
    const first = entry(2, { at: at(31) });
    const times = pointsOf(first, [claim, first]).filter((p) => p.name === METRIC.timeToContain);
    expect(times.map((p) => p.dimensions)).toEqual([{ From: CONTAIN_FROM.eventArrival }]);
  });
});

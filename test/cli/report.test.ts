/**
 * `cordon report` without AWS: the command reads every page of the table it
 * is given, refuses a bad --since with the forms it accepts, and draws the
 * numbers (cli/report-stats.ts computes them; test/cli/report-stats.test.ts)
 * as percentiles and bars, or prints them as JSON. Against the emulator,
 * after a rehearsal: test/cli/report.integration.test.ts.
 */
import 'aws-sdk-client-mock-vitest/extend';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, ScanCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import {
  bar,
  formatReport,
  formatSeconds,
  type ReportDeps,
  reportCommand,
} from '../../cli/report.js';

const NOW = new Date('2026-12-05T12:00:00.000Z');
const RUN = 'arn:aws:states:us-east-1:123456789012:execution:Cordon-iam-credentials:run';
const ddbMock = mockClient(DynamoDBDocumentClient);

/** A claimed, contained incident: created 5 minutes before its claim, contained `seconds` after. */
function contained(n: number, seconds: number) {
  const incidentId = `inc-${String(n).padStart(20, '0')}`;
  const claimedAt = Date.parse('2026-12-05T10:00:00.000Z') + n * 60_000;
  const at = (offset: number) => new Date(claimedAt + offset * 1000).toISOString();
  return [
    {
      incidentId,
      seq: 0,
      at: at(0),
      step: 'triage',
      outcome: 'CLAIMED',
      executionArn: RUN,
      detail: { createdAt: at(-300) },
    },
    {
      incidentId,
      seq: 1,
      at: at(seconds),
      step: 'disableAccessKey',
      outcome: 'CONTAINED',
      executionArn: RUN,
    },
  ];
}

function deps(overrides: Partial<ReportDeps> = {}): Partial<ReportDeps> {
  return {
    env: { CORDON_LEDGER_TABLE: 'ledger' },
    // A fresh client per run: the command destroys the one it was given.
    client: () => DynamoDBDocumentClient.from(new DynamoDBClient({ region: 'us-east-1' })),
    stackOutput: async () => undefined,
    now: () => NOW,
    ...overrides,
  };
}

async function run(argv: string[], d: Partial<ReportDeps> = deps()) {
  const printed: string[] = [];
  const code = await reportCommand(argv, { print: (t) => printed.push(t), deps: d });
  return { code, out: printed.join('\n') };
}

beforeEach(() => {
  ddbMock.reset();
});

describe('cordon report', () => {
  it('reads every page of the table and prints the distribution as JSON', async () => {
    ddbMock
      .on(ScanCommand)
      .resolvesOnce({ Items: contained(1, 2), LastEvaluatedKey: { incidentId: 'x', seq: 0 } })
      .resolvesOnce({ Items: [...contained(2, 30), ...contained(3, 4)] });

    const { code, out } = await run(['--json', '--since', '12h']);

    expect(code).toBe(0);
    expect(ddbMock).toHaveReceivedCommandTimes(ScanCommand, 2);
    expect(ddbMock).toHaveReceivedCommandWith(ScanCommand, { TableName: 'ledger' });
    const document = z
      .looseObject({
        table: z.string(),
        since: z.string(),
        from: z.string(),
        contained: z.number(),
        timeToContain: z.object({
          fromFindingCreated: z.looseObject({ p50: z.number(), max: z.number() }),
          fromEventArrival: z.looseObject({ count: z.number(), p50: z.number(), p90: z.number() }),
        }),
        outcomes: z.looseObject({ contained: z.number() }),
      })
      .parse(JSON.parse(out));
    expect(document).toMatchObject({
      table: 'ledger',
      since: '12h',
      from: '2026-12-05T00:00:00.000Z',
      contained: 3,
      outcomes: { contained: 3 },
    });
    expect(document.timeToContain.fromEventArrival).toMatchObject({ count: 3, p50: 4, p90: 30 });
    expect(document.timeToContain.fromFindingCreated).toMatchObject({ p50: 304, max: 330 });
  });

  it('draws percentiles, a histogram of each measure and a bar per outcome', async () => {
    ddbMock.on(ScanCommand).resolves({
      Items: [...contained(1, 2), ...contained(2, 3), ...contained(3, 30)],
    });

    const { out } = await run([]);

    expect(out).toContain('ledger ledger, in the last 7d');
    expect(out).toContain('3 incidents with entries in the last 7d, 3 first contained in it');
    expect(out).toMatch(/from event arrival\s+3\s+3\.0 s\s+30\.0 s\s+30\.0 s\s+30\.0 s/);
    expect(out).toMatch(/from finding creation\s+3\s+5 m 03 s\s+5 m 30 s/);
    // The arrival histogram: two in 1-5 s (the longest bar), none in 5-15 s, one in 15-60 s.
    expect(out).toContain(`1-5 s    ${'█'.repeat(30)} 2`);
    expect(out).toContain('5-15 s    0');
    expect(out).toContain(`15-60 s  ${'█'.repeat(15)} 1`);
    expect(out).toMatch(/contained\s+3 {2}█+/);
    expect(out).toMatch(/disableAccessKey {2}contained 3/);
    expect(out).not.toMatch(/NaN|undefined|Infinity/);
  });

  it('an empty ledger: says there is nothing to report, not NaN, and exits 0', async () => {
    ddbMock.on(ScanCommand).resolves({ Items: [] });

    const text = await run([]);
    const json = await run(['--json']);

    expect(text.code).toBe(0);
    expect(text.out).toContain('no incident has a ledger entry in the last 7d: nothing to report');
    expect(text.out).not.toMatch(/NaN/);
    expect(JSON.parse(json.out)).toMatchObject({
      incidents: 0,
      timeToContain: { fromEventArrival: { count: 0, p50: null, max: null } },
    });
  });

  it('fails when --since is not a duration, naming the forms it accepts (exit 2), before reading', async () => {
    for (const since of ['7', '1w', 'soon', '0d']) {
      await expect(run(['--since', since])).rejects.toMatchObject({
        exitCode: 2,
        message: `--since: "${since}" is not a whole number of minutes, hours or days: 30m, 12h, 7d`,
      });
    }
    expect(ddbMock).not.toHaveReceivedCommand(ScanCommand);
  });

  it('fails when not permitted to scan the table, saying what it needs (exit 4)', async () => {
    ddbMock
      .on(ScanCommand)
      .rejects(Object.assign(new Error('denied'), { name: 'AccessDeniedException' }));

    await expect(run([])).rejects.toMatchObject({
      exitCode: 4,
      message: 'not permitted to read ledger table ledger: report needs dynamodb:Scan on it',
    });
  });
});

describe('drawing', () => {
  it('formats durations for a reader', () => {
    expect(formatSeconds(0.146)).toBe('0.15 s');
    expect(formatSeconds(12.34)).toBe('12.3 s');
    expect(formatSeconds(245)).toBe('4 m 05 s');
    expect(formatSeconds(7_380)).toBe('2 h 03 m');
    expect(formatSeconds(3 * 86_400 + 4 * 3_600)).toBe('3 d 04 h');
    expect(formatSeconds(-2)).toBe('-2.0 s');
  });

  it('draws a bar for anything above zero, the longest for the most', () => {
    expect(bar(0, 10)).toBe('');
    expect(bar(1, 1_000)).toBe('█');
    expect(bar(10, 10)).toHaveLength(30);
  });

  it('says how many containments one measure could not start from', () => {
    const text = formatReport({
      table: 't',
      since: '7d',
      from: 'a',
      to: 'b',
      incidents: 2,
      contained: 2,
      timeToContain: {
        fromFindingCreated: {
          unit: 'seconds',
          count: 1,
          p50: 60,
          p90: 60,
          p99: 60,
          max: 60,
          histogram: [{ label: '1-5 m', count: 1 }],
          unmeasured: 1,
        },
        fromEventArrival: {
          unit: 'seconds',
          count: 2,
          p50: 1,
          p90: 2,
          p99: 2,
          max: 2,
          histogram: [{ label: '1-5 s', count: 2 }],
          unmeasured: 0,
        },
      },
      outcomes: {
        contained: 2,
        alreadyContained: 0,
        dryRun: 0,
        refused: 0,
        approved: 0,
        denied: 0,
        timedOut: 0,
        unverified: 0,
        rolledBack: 0,
        rollbackRefused: 0,
        targetNotFound: 0,
        failed: 0,
        dismissed: 0,
      },
      refusedBy: {},
      byStep: { disableAccessKey: { contained: 2 } },
      byOutcome: { CONTAINED: 2 },
      unreadable: 0,
    });

    expect(text).toContain(
      "1 of 2 without the finding's creation time (claimed before triage recorded it)",
    );
  });
});

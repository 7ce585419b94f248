/**
 * `cordon report` against the run's moto server, after a rehearsal wrote
 * the ledger: a leaked key contained (its finding created five minutes
 * before it was emitted) and a sample finding refused. Both spawned as a
 * user runs them; the rehearsal synthesizes the app once.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { IAMClient } from '@aws-sdk/client-iam';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { seedCompromisedUser, userKeyFinding } from '../../demo/scenario.js';
import { cordonAt, expectClean, REPO, SPAWN_TIMEOUT } from '../support/cordon-cli.js';
import { motoClientConfig, useMoto } from '../support/moto.js';

const { endpoint } = useMoto();
/** How long before its emission the finding says it was created. */
const CREATED_BEFORE_S = 300;

const Measure = z.object({
  unit: z.literal('seconds'),
  count: z.number(),
  p50: z.number(),
  p90: z.number(),
  p99: z.number(),
  max: z.number(),
  histogram: z.array(z.object({ label: z.string(), count: z.number() })),
  unmeasured: z.number(),
});
const ReportJson = z.looseObject({
  table: z.string(),
  since: z.string(),
  incidents: z.number(),
  contained: z.number(),
  timeToContain: z.object({ fromFindingCreated: Measure, fromEventArrival: Measure }),
  outcomes: z.record(z.string(), z.number()),
  refusedBy: z.record(z.string(), z.number()),
  byStep: z.record(z.string(), z.record(z.string(), z.number())),
});

let dir = '';
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'cordon-report-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('cordon report', () => {
  it(
    'after a rehearsal: time to contain from the finding and from its arrival, and the outcomes, from the ledger',
    async () => {
      const user = await seedCompromisedUser(
        'ci-deployer',
        new IAMClient(motoClientConfig(endpoint)),
      );
      const emitted = new Date();
      const finding = userKeyFinding(user);
      const event = {
        ...finding,
        time: emitted.toISOString(),
        detail: {
          ...finding.detail,
          createdAt: new Date(emitted.getTime() - CREATED_BEFORE_S * 1000).toISOString(),
        },
      };
      const file = join(dir, 'user-key.json');
      await writeFile(file, JSON.stringify(event));
      const sample = join(REPO, 'test', 'fixtures', 'events', 'guardduty-sample.json');

      const rehearsal = await cordonAt(endpoint, [
        'rehearse',
        file,
        sample,
        '--decision',
        'approve',
        '--json',
      ]);
      expect(rehearsal.code, rehearsal.stderr).toBe(0);
      const finished = Date.now();
      const json = await cordonAt(endpoint, ['report', '--table', 'cordon-ledger', '--json']);
      const text = await cordonAt(endpoint, ['report', '--since', '30m'], {
        CORDON_LEDGER_TABLE: 'cordon-ledger',
      });

      expect(json.code, json.stderr).toBe(0);
      expectClean(json);
      const report = ReportJson.parse(JSON.parse(json.stdout));
      expect(report).toMatchObject({ table: 'cordon-ledger', since: '7d', incidents: 2 });
      expect(report.contained).toBe(1);
      const { fromFindingCreated, fromEventArrival } = report.timeToContain;
      const run = (finished - emitted.getTime()) / 1000;
      // From its arrival: within the rehearsal's run. From the finding: five minutes more.
      expect(fromEventArrival.count).toBe(1);
      expect(fromEventArrival.p50).toBeGreaterThan(0);
      expect(fromEventArrival.p50).toBeLessThan(run);
      expect(fromFindingCreated.count).toBe(1);
      expect(fromFindingCreated.p50).toBeGreaterThan(CREATED_BEFORE_S);
      expect(fromFindingCreated.p50).toBeLessThan(CREATED_BEFORE_S + run);
      expect(fromFindingCreated.histogram.find((b) => b.count === 1)?.label).toBe('5-15 m');
      expect(report.outcomes).toMatchObject({ contained: 3, approved: 1, refused: 1, failed: 0 });
      expect(report.refusedBy).toEqual({ sample: 1 });
      expect(report.byStep).toMatchObject({
        disableAccessKey: { contained: 1 },
        revokeUserSessions: { contained: 1 },
        quarantineUser: { approved: 1, contained: 1 },
        triage: { refused: 1 },
      });

      expect(text.code, text.stderr).toBe(0);
      expectClean(text);
      expect(text.stdout).toContain('ledger cordon-ledger, in the last 30m');
      expect(text.stdout).toContain(
        '2 incidents with entries in the last 30m, 1 first contained in it',
      );
      expect(text.stdout).toMatch(/from finding creation\s+1\s+5 m \d\d s/);
      expect(text.stdout).toMatch(/5-15 m\s+█+ 1/);
      expect(text.stdout).toMatch(/refused by triage\s+1\s+█+\s+sample 1/);
    },
    SPAWN_TIMEOUT * 2,
  );
});

/**
 * Layer 2 (infra): cdk-nag on the default Cordon stack.
 *
 * Proves the stack passes the AwsSolutions and Serverless packs with no
 * unacknowledged error or warning. The packs run as CDK validation plugins
 * (`Validations.of(app).addPlugins(...)`, cdk-nag 3), so they need their own
 * synthesis: it runs once for this file (bundling skipped). Every accepted
 * finding is acknowledged in infra/ next to its resource, with a reason.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks, ServerlessChecks } from 'cdk-nag';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { buildTestApp } from '../support/template.js';

const ViolationSchema = z.looseObject({
  ruleName: z.string(),
  severity: z.string().optional(),
  violatingConstructs: z.array(z.looseObject({ constructPath: z.string().optional() })).optional(),
});
const ReportSchema = z.looseObject({
  pluginReports: z.array(
    z.looseObject({
      summary: z.looseObject({ pluginName: z.string(), status: z.string() }).optional(),
      violations: z.array(ViolationSchema).default([]),
    }),
  ),
});

let outdir: string;
let synthError: unknown;
let report: z.infer<typeof ReportSchema>;
let packs: string[];
let acknowledgements: { path: string; id: string; reason: string }[];

beforeAll(() => {
  outdir = mkdtempSync(join(tmpdir(), 'cordon-nag-'));
  // Built-in CloudFormation validation stays on: its findings land in the same report.
  const { app } = buildTestApp({ outdir, builtinValidation: true });
  const plugins = [new AwsSolutionsChecks(app), new ServerlessChecks(app)];
  packs = plugins.map((p) => p.name);
  Validations.of(app).addPlugins(...plugins);
  acknowledgements = app.node.findAll().flatMap((c) =>
    c.node.metadata
      .filter((m) => m.type === Validations.ACKNOWLEDGED_RULES_METADATA_KEY)
      .flatMap((m) =>
        Object.entries(z.record(z.string(), z.string()).parse(m.data)).map(([id, reason]) => ({
          path: c.node.path,
          id,
          reason,
        })),
      ),
  );
  try {
    app.synth();
  } catch (error) {
    // With errors, synthesis throws the report; the JSON copy is still written.
    synthError = error;
  }
  // Written on every synthesis with plugins, violations or not.
  report = ReportSchema.parse(
    JSON.parse(readFileSync(join(outdir, 'validation-report.json'), 'utf8')),
  );
});

afterAll(() => {
  rmSync(outdir, { recursive: true, force: true });
});

describe('cdk-nag', () => {
  it('runs the AwsSolutions and Serverless packs', () => {
    expect(packs).toEqual(['AwsSolutions', 'Serverless']);
  });

  it('acknowledges findings on the resources themselves, each with a specific reason', () => {
    expect(acknowledgements.length).toBeGreaterThan(0);
    for (const ack of acknowledgements) {
      // Below the Cordon construct: never on the app or the whole stack.
      expect(ack.path, ack.id).toMatch(/^Cordon\/Cordon\/[^/]+/);
      expect(ack.reason.length, ack.id).toBeGreaterThanOrEqual(30);
      // IAM5 is acknowledged per finding (`IAM5[Resource::...]`), never wholesale.
      if (ack.id.includes('IAM5')) expect(ack.id).toMatch(/IAM5\[(Resource|Action)::.+\]$/);
    }
  });

  it('synthesizes with no unacknowledged error', () => {
    expect(synthError === undefined ? '' : String(synthError)).toBe('');
  });

  it('reports no unacknowledged error or warning', () => {
    const violations = report.pluginReports.flatMap((r) =>
      r.violations.map(
        (v) =>
          `${v.severity ?? '?'} ${v.ruleName} at ${(v.violatingConstructs ?? []).map((c) => c.constructPath).join(', ')}`,
      ),
    );
    expect(violations).toEqual([]);
  });
});

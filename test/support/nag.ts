/**
 * cdk-nag for the infra tests: both packs (AwsSolutions, Serverless) added
 * to an app as CDK validation plugins (cdk-nag 3), the synthesis run, and
 * the validation report read back.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { type App, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks, ServerlessChecks } from 'cdk-nag';
import { z } from 'zod';

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

export type Report = z.infer<typeof ReportSchema>;

/** Adds both packs to `app`, synthesizes it, and returns the validation report. */
export function synthWithPacks(
  app: App,
  outdir: string,
): { report: Report; error: unknown; packs: string[] } {
  const plugins = [new AwsSolutionsChecks(app), new ServerlessChecks(app)];
  const packs = plugins.map((p) => p.name);
  Validations.of(app).addPlugins(...plugins);
  let error: unknown;
  try {
    app.synth();
  } catch (caught) {
    // With errors, synthesis throws the report; the JSON copy is still written.
    error = caught;
  }
  // Written on every synthesis with plugins, violations or not.
  const raw: unknown = JSON.parse(readFileSync(join(outdir, 'validation-report.json'), 'utf8'));
  return { report: ReportSchema.parse(raw), error, packs };
}

/** Each violation as one line: severity, rule, where. */
export function violationsOf(r: Report): string[] {
  return r.pluginReports.flatMap((p) =>
    p.violations.map(
      (v) =>
        `${v.severity ?? '?'} ${v.ruleName} at ${(v.violatingConstructs ?? []).map((c) => c.constructPath).join(', ')}`,
    ),
  );
}

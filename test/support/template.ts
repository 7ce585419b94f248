/**
 * The default Cordon stack, synthesized ONCE per test process and shared.
 *
 * Synthesis with bundling takes ~25 s on 2 cores, so layer-2 (infra) tests
 * skip bundling (`aws:cdk:bundling-stacks: []`; CI runs `cdk synth` for the
 * bundles) and memoize the result: every call in one vitest file (one module
 * graph) returns the same template. Keep infra assertions in few files.
 */
import { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { z } from 'zod';
import { cdkJsonContext } from '../../cli/rehearsal/synth.js';
import { buildApp } from '../../infra/build.js';

export const TEST_ACCOUNT = '123456789012';
export const TEST_REGION = 'us-east-1';

export interface SynthesizedStack {
  /** For `Match` / `Capture` assertions. */
  readonly template: Template;
  /** The raw CloudFormation JSON, for walking every resource. */
  readonly json: CfnTemplate;
  /** Wall-clock milliseconds the synthesis took. */
  readonly synthMs: number;
}

const CfnResourceSchema = z.looseObject({
  Type: z.string(),
  Properties: z.record(z.string(), z.unknown()).optional(),
  DeletionPolicy: z.string().optional(),
  UpdateReplacePolicy: z.string().optional(),
});
export type CfnResource = z.infer<typeof CfnResourceSchema>;

const CfnTemplateSchema = z.looseObject({
  Resources: z.record(z.string(), CfnResourceSchema),
});
export type CfnTemplate = z.infer<typeof CfnTemplateSchema>;

/**
 * cdk.json's context with the test account and region, plus `overrides`
 * merged into the `cordon` key.
 */
export function testContext(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  const base = cdkJsonContext();
  const cordon = z
    .record(z.string(), z.unknown())
    .catch({})
    .parse(base.cordon ?? {});
  return {
    ...base,
    cordon: { ...cordon, account: TEST_ACCOUNT, region: TEST_REGION, ...overrides },
    'aws:cdk:bundling-stacks': [],
  };
}

/** A fresh, unsynthesized app holding the default stack (bundling skipped). */
export function buildTestApp(overrides: Record<string, unknown> = {}): {
  app: App;
  stackName: string;
} {
  const app = new App({ context: testContext(overrides) });
  const stack = buildApp(app);
  return { app, stackName: stack.stackName };
}

let cached: SynthesizedStack | undefined;

/** The default stack's template, synthesized on first call, then memoized. */
export function defaultTemplate(): SynthesizedStack {
  if (cached) return cached;
  const started = performance.now();
  const { app, stackName } = buildTestApp();
  const raw: unknown = app.synth().getStackByName(stackName).template;
  const json = CfnTemplateSchema.parse(raw);
  cached = {
    template: Template.fromJSON(json as Record<string, unknown>),
    json,
    synthMs: Math.round(performance.now() - started),
  };
  return cached;
}

/** The resources of one CloudFormation type, by logical id. */
export function resourcesOfType(json: CfnTemplate, type: string): [string, CfnResource][] {
  return Object.entries(json.Resources).filter(([, r]) => r.Type === type);
}

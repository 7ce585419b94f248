import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { App } from 'aws-cdk-lib';
import { z } from 'zod';
import { buildApp } from '../infra/build.js';

export const REPO_ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');

/**
 * The `context` of cdk.json: what `cdk synth` and `cdk deploy` use. From a
 * clone, the clone's; installed as a package (no cdk.json beside it), the
 * working directory's, else none: every setting at its default.
 */
export function cdkJsonContext(root = REPO_ROOT): Record<string, unknown> {
  const file = [join(root, 'cdk.json'), resolve('cdk.json')].find((f) => existsSync(f));
  if (file === undefined) return {};
  const raw: unknown = JSON.parse(readFileSync(file, 'utf8'));
  return z.object({ context: z.record(z.string(), z.unknown()).default({}) }).parse(raw).context;
}

/**
 * `context` with settings of its `cordon` object replaced (shallow, per
 * key), as the demo and the bench vary cdk.json's configuration.
 */
export function withCordon(
  context: Record<string, unknown>,
  settings: Record<string, unknown>,
): Record<string, unknown> {
  const cordon = z.record(z.string(), z.unknown()).parse(context.cordon ?? {});
  return { ...context, cordon: { ...cordon, ...settings } };
}

export interface SynthOptions {
  readonly account: string;
  readonly region: string;
  /** Context to use instead of cdk.json's (tests vary the configuration). */
  readonly context?: Record<string, unknown>;
  /** Bundle the functions with esbuild, as `cdk synth` does. @default false */
  readonly bundle?: boolean;
}

/**
 * Synthesizes the same app `cdk synth` does and returns the stack template.
 * Bundling is skipped by default: the rehearsal engine runs each handler's
 * source in-process, so the bundle would go unused.
 */
export function synthesizeTemplate(options: SynthOptions): unknown {
  const base = options.context ?? cdkJsonContext();
  const cordon = z
    .record(z.string(), z.unknown())
    .catch({})
    .parse(base.cordon ?? {});
  const outdir = mkdtempSync(join(tmpdir(), 'cordon-synth-'));
  try {
    const app = new App({
      outdir,
      context: {
        ...base,
        cordon: { ...cordon, account: options.account, region: options.region },
        ...(options.bundle ? {} : { 'aws:cdk:bundling-stacks': [] }),
      },
    });
    const stack = buildApp(app);
    return app.synth().getStackByName(stack.stackName).template;
  } finally {
    rmSync(outdir, { recursive: true, force: true });
  }
}

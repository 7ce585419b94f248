/**
 * The package as a CDK user gets it: `npm pack` (whose prepack builds dist/:
 * JavaScript, declarations and every function's prebuilt bundle), installed
 * into a fresh app in a temporary folder, then `new Cordon(stack, 'Cordon')`
 * with no props synthesized by plain node, and the installed `cordon` bin run
 * by plain node: its usage, and a rehearsal against the run's moto server
 * (the compiled handlers, the default settings). The app installs no
 * esbuild, so a synthesis that bundled instead of taking the prebuilt
 * bundles would fail. Slow (a build, an install from the npm cache, two
 * syntheses): one test, in the integration project.
 */
import { type SpawnSyncReturns, spawnSync } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { FUNCTION_NAMES } from '../functions/registry.js';
import { PLAYBOOK_NAMES } from '../functions/shared/catalog.js';
import { ENV } from '../functions/shared/runtime-config.js';
import { useMoto } from './support/moto.js';

useMoto();

const root = fileURLToPath(new URL('..', import.meta.url));
const PackageJson = z.object({
  name: z.string(),
  devDependencies: z.record(z.string(), z.string()),
});
const manifest = PackageJson.parse(JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')));

/** Runs a command to completion; fails the test with its output when it fails. */
function run(command: string, args: string[], cwd: string, timeout = 240_000): string {
  const result: SpawnSyncReturns<string> = spawnSync(command, args, {
    cwd,
    encoding: 'utf8',
    timeout,
    env: { ...process.env, CDK_DISABLE_VERSION_CHECK: 'true', NO_COLOR: '1' },
    maxBuffer: 64 * 1024 * 1024,
  });
  if (result.status !== 0) {
    throw new Error(
      `${command} ${args.join(' ')} exited ${result.status ?? result.signal}:\n${result.stdout.slice(-4000)}\n${result.stderr.slice(-4000)}`,
    );
  }
  return result.stdout;
}

/** The consumer app: a stack holding `new Cordon(stack, 'Cordon')`, no props, no env. */
const APP = `import { writeFileSync } from 'node:fs';
import { App, Stack } from 'aws-cdk-lib';
import { Cordon } from '${manifest.name}';

const app = new App({ outdir: 'cdk.out' });
const stack = new Stack(app, 'Consumer');
new Cordon(stack, 'Cordon');
const template = app.synth().getStackByName(stack.stackName).template;
writeFileSync('template.json', JSON.stringify(template));
`;

const TemplateSchema = z.object({
  Resources: z.record(
    z.string(),
    z.looseObject({ Type: z.string(), Properties: z.record(z.string(), z.unknown()).optional() }),
  ),
});

const RehearsalSchema = z.object({
  events: z.array(
    z.object({
      report: z.object({
        matched: z.array(z.string()),
        executions: z.array(
          z.looseObject({
            status: z.string(),
            ledger: z.array(z.looseObject({ step: z.string() })),
          }),
        ),
      }),
    }),
  ),
});

let folder: string;
let app: string;

beforeAll(() => {
  folder = mkdtempSync(join(tmpdir(), 'cordon-package-'));
  app = join(folder, 'app');
  mkdirSync(app);
});

// The app's node_modules and cloud assembly are some 450 MB: removing them takes a while on a busy disk.
afterAll(() => {
  if (folder) rmSync(folder, { recursive: true, force: true });
}, 300_000);

describe('the npm package', () => {
  it('installs into a fresh CDK app, synthesizes Cordon with no props, and runs its CLI with node: usage and a rehearsal', {
    timeout: 420_000,
  }, () => {
    // Arrange: pack (prepack builds dist/), then install into an empty app.
    run('npm', ['pack', '--pack-destination', folder], root);
    const tarball = readdirSync(folder).find((f) => f.endsWith('.tgz'));
    if (tarball === undefined) throw new Error(`npm pack left no tarball in ${folder}`);
    writeFileSync(
      join(app, 'package.json'),
      JSON.stringify({ name: 'consumer', private: true, type: 'module' }),
    );
    const peers = ['aws-cdk-lib', 'constructs'].map(
      (name) => `${name}@${manifest.devDependencies[name] ?? 'latest'}`,
    );
    run(
      'npm',
      ['install', join(folder, tarball), ...peers, '--prefer-offline', '--no-audit', '--no-fund'],
      app,
    );
    writeFileSync(join(app, 'app.mjs'), APP);

    // Act
    run(process.execPath, ['app.mjs'], app);
    const bin = join(app, 'node_modules', '.bin', 'cordon');
    const help = spawnSync(process.execPath, [bin, '--help'], {
      cwd: app,
      encoding: 'utf8',
      timeout: 60_000,
    });
    const event = join(root, 'test', 'fixtures', 'events', 'guardduty-assumed-role.json');
    const rehearsal = RehearsalSchema.parse(
      JSON.parse(run(process.execPath, [bin, 'rehearse', event, '--json'], app)),
    );

    // Assert: the state machines and every function, from the prebuilt bundles.
    expect(existsSync(join(app, 'node_modules', 'esbuild')), 'the app has no esbuild').toBe(false);
    const template = TemplateSchema.parse(
      JSON.parse(readFileSync(join(app, 'template.json'), 'utf8')),
    );
    const resources = Object.values(template.Resources);
    const machines = resources.filter((r) => r.Type === 'AWS::StepFunctions::StateMachine');
    expect(machines).toHaveLength(PLAYBOOK_NAMES.length + 1);
    const actions = resources
      .filter((r) => r.Type === 'AWS::Lambda::Function')
      .map((r) =>
        z
          .object({ Environment: z.object({ Variables: z.record(z.string(), z.unknown()) }) })
          .safeParse(r.Properties),
      )
      .flatMap((p) => (p.success ? [p.data.Environment.Variables[ENV.action]] : []));
    expect([...actions].sort()).toEqual([...FUNCTION_NAMES].sort());
    const staged = readdirSync(join(app, 'cdk.out')).filter((d) => d.startsWith('asset.'));
    expect(staged.filter((d) => existsSync(join(app, 'cdk.out', d, 'index.mjs')))).toHaveLength(
      FUNCTION_NAMES.length,
    );

    // Assert: the bin is JavaScript with a node shebang, and prints its usage.
    expect(readFileSync(bin, 'utf8').split('\n')[0]).toBe('#!/usr/bin/env node');
    expect(help.status, help.stderr).toBe(0);
    expect(help.stdout).toContain('cordon rehearse');
    expect(help.stdout).toContain('exit status:');

    // Assert: the installed CLI rehearses with the package's compiled handlers.
    const [report] = rehearsal.events.map((e) => e.report);
    expect(report?.matched).toEqual(['iam-credentials']);
    expect(report?.executions[0]?.status).toBe('SUCCEEDED');
    expect(report?.executions[0]?.ledger.map((entry) => entry.step)).toContain('triage');
  });
});

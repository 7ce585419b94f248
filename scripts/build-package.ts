/**
 * `npm run build` (and `npm pack`, through prepack): the package in dist/.
 *
 * 1. tsc -p tsconfig.build.json: infra, functions, state machines, the
 *    rehearsal and the CLI as JavaScript with declarations;
 * 2. every function's Lambda bundle, in dist/bundles/<function>/, where
 *    ActionFunction takes it with `lambda.Code.fromAsset` instead of
 *    bundling. The bundles are made by synthesizing a Cordon from this
 *    clone's sources, by ActionFunction's own NodejsFunction and esbuild
 *    options, so they are byte for byte what `cdk synth` here deploys.
 */
import { spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { App, CfnResource, Stack } from 'aws-cdk-lib';
import * as cxapi from 'aws-cdk-lib/cx-api';
import { PREBUILT_DIR } from '../infra/constructs/action-function.js';
import { Cordon } from '../infra/cordon.js';
import { REPO_ROOT } from '../rehearsal/synth.js';

const DIST = join(REPO_ROOT, 'dist');

/** Copies each function's bundle, as NodejsFunction staged it, to `outdir/<function>`. */
function bundleFunctions(outdir: string): string[] {
  const assembly = mkdtempSync(join(tmpdir(), 'cordon-bundles-'));
  try {
    const app = new App({
      outdir: assembly,
      context: { [cxapi.ASSET_RESOURCE_METADATA_ENABLED_CONTEXT]: true },
    });
    const stack = new Stack(app, 'Bundles', {
      env: { account: '123456789012', region: 'us-east-1' },
    });
    const cordon = new Cordon(stack, 'Cordon');
    return Object.values(cordon.functions).map((fn) => {
      const cfn = fn.function.node.defaultChild;
      const path =
        cfn instanceof CfnResource
          ? cfn.getMetadata(cxapi.ASSET_RESOURCE_METADATA_PATH_KEY)
          : undefined;
      if (typeof path !== 'string') throw new Error(`${fn.name}: no bundle was staged`);
      const files = readdirSync(resolve(assembly, path));
      if (!files.includes('index.mjs')) {
        throw new Error(`${fn.name}: its bundle has no index.mjs (${files.join(', ')})`);
      }
      cpSync(resolve(assembly, path), join(outdir, fn.name), { recursive: true });
      return fn.name;
    });
  } finally {
    rmSync(assembly, { recursive: true, force: true });
  }
}

function main(): void {
  rmSync(DIST, { recursive: true, force: true });
  const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
  const compiled = spawnSync(process.execPath, [tsc, '-p', 'tsconfig.build.json'], {
    cwd: REPO_ROOT,
    stdio: 'inherit',
  });
  if (compiled.status !== 0) process.exit(compiled.status ?? 1);
  const names = bundleFunctions(join(DIST, PREBUILT_DIR));
  console.log(`dist/: JavaScript and declarations, and ${names.length} function bundles`);
}

main();

/**
 * Bundle size and cold module-init time of every function, each beside its
 * floor: a bare handler that imports and constructs exactly the AWS SDK
 * clients the function imports, and nothing else. Both are bundled with the
 * options `infra/constructs/action-function.ts` gives NodejsFunction, so the
 * difference is Cordon's own code and dependencies (Zod, Powertools, Middy).
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type BuildOptions, build, type Metafile } from 'esbuild';
import { z } from 'zod';
import { FUNCTIONS } from '../functions/registry.js';
import { type FunctionName, PLAYBOOK_NAMES, stepsOf } from '../functions/shared/catalog.js';
import {
  ENV,
  type RuntimeConfig,
  RuntimeConfigSchema,
} from '../functions/shared/runtime-config.js';
import { median, REPO_ROOT } from './stats.js';

/** The bundling options of action-function.ts, as esbuild's JS API spells them. */
export const LAMBDA_BUNDLE_OPTIONS = {
  bundle: true,
  format: 'esm',
  platform: 'node',
  target: 'node24',
  minify: true,
  mainFields: ['module', 'main'],
  banner: {
    js: "import { createRequire } from 'node:module'; const require = createRequire(import.meta.url);",
  },
  external: [],
  metafile: true,
  write: true,
  logLevel: 'silent',
} as const satisfies BuildOptions;

export interface BundleFigures {
  readonly name: FunctionName;
  /** The SDK packages the function's own source imports (what the floor imports). */
  readonly sdkPackages: readonly string[];
  readonly bytes: number;
  readonly initMs: number;
  readonly floorBytes: number;
  readonly floorInitMs: number;
  /** Every init sample, for the record. */
  readonly initSamples: readonly number[];
  readonly floorInitSamples: readonly number[];
}

const SDK_PACKAGE = /^@aws-sdk\/(client-[a-z0-9-]+|lib-dynamodb)$/;

/** A valid runtime configuration with every step at its default mode. */
export function benchRuntimeConfig(): RuntimeConfig {
  return RuntimeConfigSchema.parse({
    homeAccount: '123456789012',
    allowedRegions: ['us-east-1'],
    severityThreshold: 7,
    securityHubSeverityLabels: ['HIGH', 'CRITICAL'],
    protectedPrincipalPatterns: [],
    cordonRoleArns: ['arn:aws:iam::123456789012:role/cordon/bench-triage'],
    exemptTag: { key: 'cordon:exempt', value: 'true' },
    securityHubProductAllowList: [
      'arn:aws:securityhub:*::product/aws/*',
      'arn:aws:securityhub:*::productv2/aws/*',
    ],
    runtimeModeParameter: '/cordon/mode',
    circuitBreaker: { maxContainments: 20, windowSeconds: 3600 },
    modes: Object.fromEntries(
      PLAYBOOK_NAMES.map((p) => [
        p,
        Object.fromEntries(Object.entries(stepsOf(p)).map(([id, s]) => [id, s.defaultMode])),
      ]),
    ),
  });
}

/**
 * The environment a deployed function starts with, as far as its module scope
 * reads it; nothing inherited (no NODE_OPTIONS from tsx, no AWS profile).
 */
export function lambdaEnv(name: FunctionName): Record<string, string> {
  return {
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    AWS_REGION: 'us-east-1',
    AWS_DEFAULT_REGION: 'us-east-1',
    POWERTOOLS_SERVICE_NAME: 'cordon',
    [ENV.action]: name,
    [ENV.actor]: `arn:aws:iam::123456789012:role/cordon/bench-${name}`,
    [ENV.ledgerTable]: 'cordon-ledger',
    [ENV.ledgerKey]: 'alias/cordon-ledger',
    [ENV.anchorsBucket]: 'cordon-anchors',
    [ENV.topicArn]: 'arn:aws:sns:us-east-1:123456789012:cordon-notifications',
    [ENV.config]: JSON.stringify(benchRuntimeConfig()),
    [ENV.breakGlass]: '[]',
    [ENV.guards]: JSON.stringify({
      protectedPrincipalPatterns: [],
      cordonRoleArns: [],
      exemptTag: { key: 'cordon:exempt', value: 'true' },
    }),
    [ENV.approvalsTable]: 'cordon-approvals',
    [ENV.approvalSettings]: JSON.stringify({
      timeoutSeconds: 3600,
      twoPersonSteps: {},
      endpointUrl: 'https://bench.lambda-url.us-east-1.on.aws/',
    }),
    [ENV.responders]: '[]',
    [ENV.approvalPolicy]: JSON.stringify({
      keyId: 'alias/cordon-approvals',
      responders: [],
      twoPersonSteps: {},
    }),
    [ENV.tokenKey]: 'alias/cordon-tokens',
    [ENV.watch]: JSON.stringify({
      machines: [
        {
          arn: 'arn:aws:states:us-east-1:123456789012:stateMachine:Cordon-rollback',
          name: 'rollback',
        },
      ],
      runtimeModeParameter: '/cordon/mode',
    }),
    [ENV.guardrailsTable]: 'cordon-guardrails',
    [ENV.rollbackStateMachine]:
      'arn:aws:states:us-east-1:123456789012:stateMachine:Cordon-rollback',
  };
}

/** Every `@aws-sdk/client-*` / `lib-dynamodb` import of the bundle's own (non-node_modules) files. */
function sdkImportsOf(metafile: Metafile): string[] {
  const found = new Set<string>();
  for (const [path, input] of Object.entries(metafile.inputs)) {
    if (path.includes('node_modules/')) continue;
    for (const imported of input.imports) {
      if (imported.original && SDK_PACKAGE.test(imported.original)) found.add(imported.original);
    }
  }
  return [...found].sort();
}

/** The one `XxxClient` class a client package exports (found, not guessed). */
async function clientClassOf(pkg: string): Promise<string> {
  const exported = z.record(z.string(), z.unknown()).parse(await import(pkg));
  const names = Object.keys(exported).filter(
    (name) => /^[A-Za-z0-9]+Client$/.test(name) && typeof exported[name] === 'function',
  );
  const [name, ...others] = names;
  if (!name || others.length > 0) {
    throw new Error(`${pkg}: expected one *Client export, found ${names.join(', ') || 'none'}`);
  }
  return name;
}

/** Source of the floor handler: import the packages, construct the clients, nothing else. */
async function floorSource(packages: readonly string[]): Promise<string> {
  const lines: string[] = [];
  const constructed: string[] = [];
  const needsDocument = packages.includes('@aws-sdk/lib-dynamodb');
  const clients = packages.filter((p) => p.startsWith('@aws-sdk/client-'));
  if (needsDocument && !clients.includes('@aws-sdk/client-dynamodb')) {
    clients.push('@aws-sdk/client-dynamodb');
  }
  for (const pkg of clients) {
    const name = await clientClassOf(pkg);
    lines.push(`import { ${name} } from '${pkg}';`);
    if (!(needsDocument && name === 'DynamoDBClient')) constructed.push(`new ${name}({})`);
  }
  if (needsDocument) {
    lines.push("import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';");
    constructed.push('DynamoDBDocumentClient.from(new DynamoDBClient({}))');
  }
  lines.push(`const clients = [${constructed.join(', ')}];`);
  lines.push('export const handler = async () => ({ clients: clients.length });');
  return lines.join('\n');
}

/** Times `import()` of a bundle inside a fresh node process. */
const PROBE = `
import { pathToFileURL } from 'node:url';
const started = performance.now();
const mod = await import(pathToFileURL(process.argv[2]).href);
const ms = performance.now() - started;
if (typeof mod.handler !== 'function') { console.error('no handler export'); process.exit(3); }
process.stdout.write(JSON.stringify({ ms }));
`;
const ProbeOutput = z.object({ ms: z.number() });

function initOnce(probe: string, bundle: string, env: Record<string, string>): number {
  const child = spawnSync(process.execPath, [probe, bundle], {
    env,
    encoding: 'utf8',
    timeout: 60_000,
  });
  if (child.status !== 0) {
    throw new Error(`importing ${bundle} failed (${child.status}): ${child.stderr.trim()}`);
  }
  return ProbeOutput.parse(JSON.parse(child.stdout)).ms;
}

export interface BundleOptions {
  /** Fresh processes per bundle. */
  readonly runs: number;
  readonly log?: (line: string) => void;
}

export async function measureBundles(options: BundleOptions): Promise<BundleFigures[]> {
  const log = options.log ?? (() => undefined);
  const dir = mkdtempSync(join(tmpdir(), 'cordon-bench-'));
  try {
    const probe = join(dir, 'probe.mjs');
    writeFileSync(probe, PROBE);
    const built = [];
    for (const { name, dir: folder, entry } of FUNCTIONS) {
      const outfile = join(dir, `${name}.mjs`);
      const result = await build({
        ...LAMBDA_BUNDLE_OPTIONS,
        entryPoints: [join(REPO_ROOT, 'functions', folder, entry)],
        absWorkingDir: REPO_ROOT,
        outfile,
      });
      const sdkPackages = sdkImportsOf(result.metafile);
      const floorFile = join(dir, `${name}.floor.mjs`);
      await build({
        ...LAMBDA_BUNDLE_OPTIONS,
        stdin: {
          contents: await floorSource(sdkPackages),
          resolveDir: REPO_ROOT,
          sourcefile: `floor-${name}.js`,
          loader: 'js',
        },
        absWorkingDir: REPO_ROOT,
        outfile: floorFile,
      });
      built.push({ name, sdkPackages, outfile, floorFile, env: lambdaEnv(name) });
    }
    log(`bundled ${built.length} functions and their floors`);

    // Interleave function and floor, round by round, so machine noise lands on both.
    const samples = new Map<FunctionName, { own: number[]; floor: number[] }>();
    for (const b of built) samples.set(b.name, { own: [], floor: [] });
    for (let run = 0; run < options.runs; run++) {
      for (const b of built) {
        const entry = samples.get(b.name);
        if (!entry) continue;
        entry.own.push(initOnce(probe, b.outfile, b.env));
        entry.floor.push(initOnce(probe, b.floorFile, b.env));
      }
      log(`init round ${run + 1}/${options.runs}`);
    }

    return built.map((b) => {
      const entry = samples.get(b.name) ?? { own: [], floor: [] };
      return {
        name: b.name,
        sdkPackages: b.sdkPackages,
        bytes: statSync(b.outfile).size,
        initMs: median(entry.own),
        floorBytes: statSync(b.floorFile).size,
        floorInitMs: median(entry.floor),
        initSamples: entry.own,
        floorInitSamples: entry.floor,
      };
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

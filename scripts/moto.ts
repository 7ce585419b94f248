/**
 * The project's Python tools: find or install a Python that can run moto's
 * server (the AWS emulator) and the two linters the infra tests run over the
 * synthesized template (parliament for IAM policies, cfn-lint for
 * CloudFormation); start one moto server on a free loopback port, reset it,
 * stop it.
 *
 * Used by the test global setup (`test/support/global-setup.ts`), the linter
 * tests (test/infra/linters.test.ts), `scripts/ensure-moto.ts` (which
 * `.ci/run` calls so the install time shows up on its own) and anything else
 * that needs a local AWS emulator.
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The pinned moto release the project installs when no usable one is found. */
export const MOTO_VERSION = '5.2.1';
/** The pinned parliament release: its findings depend on its bundled IAM data. */
export const PARLIAMENT_VERSION = '1.6.4';
/** The pinned cfn-lint release: its findings depend on its bundled schemas. */
export const CFN_LINT_VERSION = '1.58.0';

/**
 * What `.venv` gets, in one pip call. parliament imports `pkg_resources`
 * without declaring setuptools, which setuptools 82 no longer ships (and a
 * Python 3.12+ venv has no setuptools at all): hence the cap.
 */
const REQUIREMENTS = [
  `moto[server]==${MOTO_VERSION}`,
  `parliament==${PARLIAMENT_VERSION}`,
  `cfn-lint==${CFN_LINT_VERSION}`,
  'setuptools<82',
];

/** The repository root, resolved from this file's own location (scripts/..). */
export const repoRoot = fileURLToPath(new URL('..', import.meta.url));

const venvDir = join(repoRoot, '.venv');
const venvPython = join(venvDir, 'bin', 'python');

const MOTO_CHECK = [
  'import moto, flask, werkzeug',
  'from moto.server import ThreadedMotoServer',
  'assert moto.__version__.split(".")[0] == "5", "moto " + moto.__version__ + " is not 5.x"',
];

/** Prints the versions, then the interpreter's own path. */
const PRINT = ['import sys', 'print(moto.__version__)', 'print(sys.executable)'];

/** moto's server alone: the emulator. */
const IMPORT_CHECK = [...MOTO_CHECK, ...PRINT].join('; ');

/**
 * moto's server and both linters, at the pinned versions (a linter of another
 * version may report other findings than the tests list).
 */
const TOOLS_CHECK = [
  ...MOTO_CHECK,
  'from importlib.metadata import version',
  `assert version("parliament") == "${PARLIAMENT_VERSION}", "parliament " + version("parliament") + " is not ${PARLIAMENT_VERSION}"`,
  `assert version("cfn-lint") == "${CFN_LINT_VERSION}", "cfn-lint " + version("cfn-lint") + " is not ${CFN_LINT_VERSION}"`,
  'import parliament, cfnlint.api',
  ...PRINT,
].join('; ');

export interface EnsureMotoOptions {
  log?: (line: string) => void;
}

interface Probe {
  ok: boolean;
  version?: string;
  /** The interpreter's own path (sys.executable): skips shims such as pyenv's. */
  executable?: string;
  detail: string;
}

function probe(python: string, check: string): Probe {
  const result = spawnSync(python, ['-c', check], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
    timeout: 60_000,
  });
  if (result.error) return { ok: false, detail: result.error.message };
  if (result.status !== 0) return { ok: false, detail: lastLines(result.stderr, 3) };
  const [version, executable] = result.stdout.trim().split('\n');
  return { ok: true, version, executable: executable || python, detail: '' };
}

function lastLines(text: string, count: number): string {
  return text.trim().split('\n').slice(-count).join('\n');
}

/** Run a command to completion; reject with the tail of its output on failure. */
function run(command: string, args: string[], cwd: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    const collect = (chunk: Buffer): void => {
      output = (output + chunk.toString('utf8')).slice(-8_000);
    };
    child.stdout.on('data', collect);
    child.stderr.on('data', collect);
    child.on('error', (error) => reject(new Error(`${command}: ${error.message}`)));
    child.on('close', (code) => {
      if (code === 0) resolve();
      else {
        reject(
          new Error(`${command} ${args.join(' ')} exited with ${code}:\n${lastLines(output, 15)}`),
        );
      }
    });
  });
}

/**
 * Create (or repair) the project-local `.venv` and install the pinned
 * `moto[server]`, parliament and cfn-lint into it. Returns the venv's python.
 */
export async function installPythonTools(opts: EnsureMotoOptions = {}): Promise<string> {
  const log = opts.log ?? (() => {});
  if (!existsSync(venvPython)) {
    log(`python tools: creating ${venvDir} (python3 -m venv)`);
    try {
      await run('python3', ['-m', 'venv', venvDir], repoRoot);
    } catch (error) {
      throw new Error(
        `cannot create a Python venv for moto and the linters (need python3 with the venv module, e.g. Debian's python3-venv), or set CORDON_MOTO_PYTHON to a python that has ${REQUIREMENTS.join(' ')}.\n${(error as Error).message}`,
      );
    }
  }
  log(`python tools: installing ${REQUIREMENTS.join(' ')} into .venv (pip)`);
  await run(
    venvPython,
    ['-m', 'pip', 'install', '--disable-pip-version-check', '-q', ...REQUIREMENTS],
    repoRoot,
  );
  const check = probe(venvPython, TOOLS_CHECK);
  if (!check.ok) {
    throw new Error(`installed into .venv but the import check still fails:\n${check.detail}`);
  }
  log(`python tools: moto ${check.version}, parliament, cfn-lint ready in .venv`);
  return venvPython;
}

/**
 * The first of `CORDON_MOTO_PYTHON` (when set: it must pass, or this fails), the
 * project's `.venv/bin/python` and the system `python3` that passes `check`;
 * undefined when none does.
 */
function findPython(check: string, what: string, log: (line: string) => void): string | undefined {
  const explicit = process.env.CORDON_MOTO_PYTHON;
  if (explicit) {
    const found = probe(explicit, check);
    if (!found.ok) {
      throw new Error(`CORDON_MOTO_PYTHON=${explicit} cannot run ${what}:\n${found.detail}`);
    }
    log(`${what}: moto ${found.version} via CORDON_MOTO_PYTHON (${explicit})`);
    return explicit;
  }
  for (const [python, label] of [
    [venvPython, '.venv'],
    ['python3', 'system python3'],
  ] as const) {
    if (python === venvPython && !existsSync(venvPython)) continue;
    const found = probe(python, check);
    if (found.ok) {
      log(`${what}: moto ${found.version} via ${label} (${found.executable})`);
      return found.executable ?? python;
    }
    log(`${what}: ${label} cannot (${found.detail.split('\n').at(-1) ?? 'unknown'})`);
  }
  return undefined;
}

/**
 * Return a python executable that can run moto's server (moto 5.x with its
 * server extras). Looks at, in order: `CORDON_MOTO_PYTHON`, the project's
 * `.venv/bin/python`, the system `python3`; if none works, installs the
 * pinned tools into `.venv` and returns that.
 *
 * An explicit `CORDON_MOTO_PYTHON` that cannot import moto is an error rather
 * than something to silently route around.
 */
export async function ensureMoto(opts: EnsureMotoOptions = {}): Promise<string> {
  const log = opts.log ?? (() => {});
  return findPython(IMPORT_CHECK, 'moto', log) ?? installPythonTools(opts);
}

/**
 * Return a python executable with moto's server, parliament and cfn-lint at
 * their pinned versions, looked up as `ensureMoto` does; if none has all
 * three, installs them into `.venv`. A system python3 with moto alone (a
 * common machine) is not enough: the venv gets all three.
 */
export async function ensurePythonTools(opts: EnsureMotoOptions = {}): Promise<string> {
  const log = opts.log ?? (() => {});
  return findPython(TOOLS_CHECK, 'python tools', log) ?? installPythonTools(opts);
}

/** Ask the OS for a free TCP port on the loopback interface (or check that `port` is free). */
export function freePort(port = 0): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', (error) =>
      reject(port ? new Error(`port ${port} on 127.0.0.1 is not free: ${error.message}`) : error),
    );
    server.listen(port, '127.0.0.1', () => {
      const address = server.address();
      if (address === null || typeof address === 'string') {
        server.close();
        reject(new Error('could not determine a free port'));
        return;
      }
      const { port } = address;
      server.close(() => resolve(port));
    });
  });
}

export interface MotoServer {
  /** `http://127.0.0.1:PORT`, for `AWS_ENDPOINT_URL` or a client's `endpoint`. */
  endpoint: string;
  port: number;
  /** SIGTERM, then SIGKILL after 3 s; resolves once the process has exited. */
  stop(): Promise<void>;
}

export interface StartMotoOptions extends EnsureMotoOptions {
  port?: number;
  /** A python from ensureMoto(); looked up (and installed if needed) when omitted. */
  python?: string;
  /** How long to wait for the server to answer, in ms (default 30 s). */
  readyTimeoutMs?: number;
}

/**
 * The AWS managed policies the emulator's accounts hold. moto ships all of
 * AWS's (about 1,300) but parses and builds every one for each account's IAM,
 * again after each reset, which made the integration suites more than twice
 * as slow; Cordon and its tests name only these.
 */
export const MANAGED_POLICIES = [
  'AWSDenyAll',
  'AdministratorAccess',
  'PowerUserAccess',
  'ReadOnlyAccess',
] as const;

/*
 * `python -m moto.server -H HOST -p PORT`, plus a watchdog thread that exits
 * the server when its stdin closes: stdin is a pipe from this process, so the
 * server goes away however this process ends (even SIGKILL, which no 'exit'
 * handler sees). moto.server.main is exactly what `-m moto.server` runs.
 * Before it starts, moto's managed-policy data is cut to MANAGED_POLICIES;
 * a name missing from moto's data stops the boot rather than go unnoticed.
 */
const SERVER_BOOT = [
  'import json, os, sys, threading',
  'threading.Thread(target=lambda: (sys.stdin.read(), os._exit(0)), daemon=True).start()',
  'import moto.iam.models as iam_models',
  'shipped = json.loads(iam_models.aws_managed_policies_data)',
  `kept = {name: shipped[name] for name in ${JSON.stringify(MANAGED_POLICIES)}}`,
  'iam_models.aws_managed_policies_data = json.dumps(kept)',
  'from moto.server import main',
  'main(sys.argv[1:])',
].join('\n');

/** Start one moto server on 127.0.0.1 and wait until it answers HTTP. */
export async function startMoto(opts: StartMotoOptions = {}): Promise<MotoServer> {
  const python = opts.python ?? (await ensureMoto(opts));
  // An explicit port is checked too: otherwise another server already on it
  // could answer the readiness probe for a moto that failed to bind.
  const port = await freePort(opts.port ?? 0);
  const endpoint = `http://127.0.0.1:${port}`;
  const debug = process.env.CORDON_DEBUG_MOTO === '1';

  const child = spawn(python, ['-c', SERVER_BOOT, '-H', '127.0.0.1', '-p', String(port)], {
    cwd: repoRoot,
    stdio: ['pipe', 'pipe', 'pipe'],
    // AWS's managed policies exist in every account (quarantine-user attaches
    // AWSDenyAll); moto loads them only when asked, and only MANAGED_POLICIES.
    env: { ...process.env, PYTHONUNBUFFERED: '1', MOTO_IAM_LOAD_MANAGED_POLICIES: 'true' },
  });
  // Always drain the pipes (moto logs every request; a full pipe would stall it),
  // keeping the tail of stderr for error messages.
  let stderrTail = '';
  child.stdout.on('data', (chunk: Buffer) => {
    if (debug) process.stderr.write(`[moto] ${chunk.toString('utf8')}`);
  });
  child.stderr.on('data', (chunk: Buffer) => {
    stderrTail = (stderrTail + chunk.toString('utf8')).slice(-4_000);
    if (debug) process.stderr.write(`[moto] ${chunk.toString('utf8')}`);
  });
  child.stdin.on('error', () => {});

  const exited = new Promise<void>((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) resolve();
    else child.once('exit', () => resolve());
  });
  const killOnExit = (): void => {
    child.kill('SIGKILL');
  };
  process.on('exit', killOnExit);

  const stop = async (): Promise<void> => {
    process.off('exit', killOnExit);
    if (child.exitCode !== null || child.signalCode !== null) return;
    child.stdin.end();
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 3_000);
    await exited;
    clearTimeout(timer);
  };

  try {
    await waitUntilReady(endpoint, child, opts.readyTimeoutMs ?? 30_000);
  } catch (error) {
    await stop();
    const tail = lastLines(stderrTail, 20);
    throw new Error(
      `moto server (${python}) on ${endpoint} did not start: ${(error as Error).message}${tail ? `\n--- moto stderr ---\n${tail}` : ''}`,
    );
  }
  return { endpoint, port, stop };
}

async function waitUntilReady(
  endpoint: string,
  child: ChildProcess,
  timeoutMs: number,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let lastError = 'no answer yet';
  while (Date.now() < deadline) {
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new Error(`it exited (${child.exitCode ?? child.signalCode}) before answering`);
    }
    try {
      const response = await fetch(`${endpoint}/moto-api/`, {
        signal: AbortSignal.timeout(2_000),
      });
      await response.arrayBuffer();
      return;
    } catch (error) {
      lastError = (error as Error).message;
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`no HTTP answer within ${timeoutMs} ms (last error: ${lastError})`);
}

/** Drop every resource in every account and region of the moto server. */
export async function resetMoto(endpoint: string): Promise<void> {
  const response = await fetch(`${endpoint}/moto-api/reset`, { method: 'POST' });
  await response.arrayBuffer();
  if (!response.ok) {
    throw new Error(`moto reset at ${endpoint} failed: HTTP ${response.status}`);
  }
}

/**
 * Points every AWS SDK client of this process (and only this process) at the
 * emulator: its endpoint, a region, throwaway credentials named `label`, and
 * nothing of the caller's AWS profile or session.
 */
export function useEmulator(endpoint: string, label: string): void {
  for (const name of Object.keys(process.env)) {
    if (name.startsWith('AWS_ENDPOINT_URL')) delete process.env[name];
  }
  for (const name of ['AWS_PROFILE', 'AWS_DEFAULT_PROFILE', 'AWS_SESSION_TOKEN']) {
    delete process.env[name];
  }
  Object.assign(process.env, {
    AWS_ENDPOINT_URL: endpoint,
    AWS_REGION: 'us-east-1',
    AWS_DEFAULT_REGION: 'us-east-1',
    AWS_ACCESS_KEY_ID: label,
    AWS_SECRET_ACCESS_KEY: label,
    AWS_EC2_METADATA_DISABLED: 'true',
    POWERTOOLS_LOG_LEVEL: 'SILENT',
    CDK_DISABLE_VERSION_CHECK: 'true',
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
  });
}

/**
 * `cordon <args>` spawned as a user runs it, with the SDK pointed at the
 * run's moto server: for the CLI's integration tests.
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { expect } from 'vitest';

export const REPO = fileURLToPath(new URL('../..', import.meta.url));
/** Long enough for a spawn that synthesizes the app on a busy 2-core machine. */
export const SPAWN_TIMEOUT = 120_000;

export interface Run {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs `cordon <args>` against `endpoint`, without colour; `env` is added to the environment. */
export function cordonAt(
  endpoint: string,
  args: readonly string[],
  env: Readonly<Record<string, string>> = {},
): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'cli/bin.ts', ...args], {
      cwd: REPO,
      env: { ...process.env, AWS_ENDPOINT_URL: endpoint, NO_COLOR: '1', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
      timeout: SPAWN_TIMEOUT,
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString('utf8');
    });
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString('utf8');
    });
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

/** Neither stream shows a stack trace or an approval task token. */
export function expectClean(run: Run): void {
  for (const text of [run.stdout, run.stderr]) {
    expect(text).not.toMatch(/^\s+at .+:\d+:\d+\)?$/m);
    expect(text).not.toContain('rehearsal-token-');
  }
}

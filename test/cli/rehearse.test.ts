/**
 * `cordon rehearse -c cordon='{...}'` and `--context-file`: the context a
 * rehearsal synthesizes with, validated as `cdk synth` validates it. No
 * emulator here; test/cli/rehearse.integration.test.ts rehearses with an
 * override against moto.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { App } from 'aws-cdk-lib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { contextOverride } from '../../cli/rehearse.js';
import { buildApp } from '../../infra/build.js';
import { ConfigValidationError } from '../../infra/config.js';

const CDK_JSON = {
  cordon: { severityThreshold: 7, modes: { 'iam-credentials': { quarantineUser: 'approve' } } },
  '@aws-cdk/core:checkSecretUsage': true,
};
const base = () => structuredClone(CDK_JSON);

/** What `cdk synth -c cordon=<value>` says of `value` (infra/app.ts prints the message). */
function synthMessage(value: string): string {
  try {
    buildApp(new App({ context: { cordon: value } }));
  } catch (error) {
    if (error instanceof ConfigValidationError) return error.message;
    throw error;
  }
  throw new Error(`synth accepted ${value}`);
}

let dir = '';
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'cordon-context-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('the cordon context of a rehearsal', () => {
  it("is cdk.json's when nothing overrides it", async () => {
    expect(await contextOverride({}, base)).toBeUndefined();
  });

  it("-c cordon='{...}' replaces cdk.json's cordon object whole, as synth does, and keeps the other keys", async () => {
    const override = { modes: { 'iam-credentials': { disableAccessKey: 'dry-run' } } };

    const context = await contextOverride(
      { context: [`cordon=${JSON.stringify(override)}`] },
      base,
    );

    expect(context).toEqual({ ...CDK_JSON, cordon: override });
  });

  it('--context-file reads the cordon object from a JSON file', async () => {
    const file = join(dir, 'cordon.json');
    const override = { severityThreshold: 4 };
    await writeFile(file, JSON.stringify(override));

    const context = await contextOverride({ contextFile: file }, base);

    expect(context).toEqual({ ...CDK_JSON, cordon: override });
  });

  it.each([
    ['an unknown key', '{"severityThreshhold": 4}'],
    ['a bad mode', '{"modes": {"iam-credentials": {"disableAccessKey": "sometimes"}}}'],
    ['an unknown step', '{"modes": {"iam-credentials": {"disableKey": "auto"}}}'],
    ['text that is not JSON', '{"modes": '],
  ])('fails on %s with the message synth gives', async (_what, value) => {
    const file = join(dir, 'bad.json');
    await writeFile(file, value);
    const expected = synthMessage(value);

    await expect(contextOverride({ context: [`cordon=${value}`] }, base)).rejects.toThrow(
      new ConfigValidationError(expected),
    );
    if (value.endsWith('}')) {
      await expect(contextOverride({ contextFile: file }, base)).rejects.toThrow(
        new ConfigValidationError(expected),
      );
    }
  });

  it.each([
    [{ context: ['modes={}'] }, /only the cordon context can be overridden/],
    [{ context: ['cordon'] }, /only the cordon context can be overridden/],
    [{ context: ['cordon={}', 'cordon={}'] }, /give the cordon context once/],
    [{ context: ['cordon={}'], contextFile: 'x.json' }, /-c and --context-file contradict/],
    [{ contextFile: join(tmpdir(), 'no-such-cordon-context.json') }, /cannot read \(ENOENT\)/],
  ])('fails on a usage error (exit 2): %j', async (options, message) => {
    await expect(contextOverride(options, base)).rejects.toMatchObject({ exitCode: 2, message });
  });

  it('fails on a context file that is not JSON, naming the file', async () => {
    const file = join(dir, 'not-json.json');
    await writeFile(file, '{"modes": ');

    await expect(contextOverride({ contextFile: file }, base)).rejects.toMatchObject({
      exitCode: 2,
      message: expect.stringMatching(/^--context-file .*not-json\.json: not valid JSON/),
    });
  });
});

import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Context } from 'aws-lambda';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { z } from 'zod';
import { lambdaEnv } from '../../bench/bundles.js';
import { METRICS_SERVICE_ENV } from '../../functions/metrics/contract.js';
import { FUNCTIONS, type FunctionSpec, functionNamed } from '../../functions/registry.js';
import type { Environment } from '../../functions/shared/env.js';
import { ENV } from '../../functions/shared/runtime-config.js';
import { REPO_ROOT } from '../../rehearsal/synth.js';
import { lambdaContext } from '../support/lambda-context.js';
import { config } from './triage/helpers.js';

/**
 * The contract every task handler shares: its factory fails (Lambda's cold
 * start) when it is deployed as another function or misses configuration,
 * not halfway through a containment; its handler refuses task input that
 * breaks its strict schema; and its Lambda entry builds it from process.env.
 * Triage takes raw events and has its own handler test; the approval
 * function serves HTTP requests and is tested at the end.
 */

type Handler = (event: unknown, context: Context) => Promise<unknown>;
type Factory = (env: Environment) => Handler;

const FactorySchema = z.custom<Factory>((v) => typeof v === 'function');

async function factoryOf(spec: FunctionSpec): Promise<Factory> {
  const file = pathToFileURL(join(REPO_ROOT, 'functions', spec.dir, spec.factory.module)).href;
  const module = z.record(z.string(), z.unknown()).parse(await import(file));
  return FactorySchema.parse(module[spec.factory.name]);
}

/** Everything any function reads from its environment, valid, deployed as `name`. */
function envFor(name: string, overrides: Record<string, string> = {}): Record<string, string> {
  return {
    AWS_REGION: 'us-east-1',
    [ENV.action]: name,
    [ENV.actor]: `arn:aws:iam::123456789012:role/cordon/cordon-${name}`,
    [ENV.ledgerTable]: 'cordon-ledger',
    [ENV.ledgerKey]: 'alias/cordon-ledger',
    [ENV.anchorsBucket]: 'cordon-anchors',
    [METRICS_SERVICE_ENV]: 'Cordon',
    [ENV.topicArn]: 'arn:aws:sns:us-east-1:123456789012:cordon',
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
      endpointUrl: 'https://x.on.aws/',
    }),
    [ENV.responders]: '["arn:aws:iam::123456789012:role/Responder"]',
    [ENV.tokenKey]: 'alias/cordon-tokens',
    [ENV.approvalPolicy]: JSON.stringify({
      keyId: 'alias/cordon-approvals',
      responders: ['arn:aws:iam::123456789012:role/Responder'],
      twoPersonSteps: {},
    }),
    [ENV.guardrailsTable]: 'cordon-guardrails',
    [ENV.rollbackStateMachine]:
      'arn:aws:states:us-east-1:123456789012:stateMachine:cordon-rollback',
    [ENV.config]: JSON.stringify(config()),
    [ENV.watch]: JSON.stringify({
      machines: [
        {
          arn: 'arn:aws:states:us-east-1:123456789012:stateMachine:cordon-rollback',
          name: 'rollback',
        },
      ],
      runtimeModeParameter: '/cordon/mode',
    }),
    POWERTOOLS_LOG_LEVEL: 'SILENT',
    ...overrides,
  };
}

const TASK_FUNCTIONS = FUNCTIONS.filter((f) => f.name !== 'triage' && f.name !== 'responder-api');

afterEach(() => {
  vi.unstubAllEnvs();
  vi.resetModules();
});

describe.each(TASK_FUNCTIONS.map((spec) => [spec.name, spec] as const))(
  '%s handler',
  (name, spec) => {
    it('fails at cold start when the ledger table is not configured', async () => {
      const factory = await factoryOf(spec);

      expect(() => factory(envFor(name, { [ENV.ledgerTable]: '' }))).toThrow(
        expect.objectContaining({ name: 'Cordon.ConfigError' }),
      );
    });

    it('fails at cold start when the ledger key is not configured: it never writes an entry without a MAC', async () => {
      const factory = await factoryOf(spec);

      expect(() => factory(envFor(name, { [ENV.ledgerKey]: '' }))).toThrow(
        expect.objectContaining({ name: 'Cordon.ConfigError' }),
      );
    });

    it('fails at cold start when deployed as another function', async () => {
      const factory = await factoryOf(spec);
      const other = name === 'notify' ? 'record-failure' : 'notify';

      expect(() => factory(envFor(other))).toThrow(
        expect.objectContaining({ name: 'Cordon.ConfigError' }),
      );
    });

    it('fails with Cordon.InvalidTaskInput for input that breaks its contract', async () => {
      const handler = (await factoryOf(spec))(envFor(name));

      const attempt = handler({ unexpected: true }, lambdaContext(name));

      await expect(attempt).rejects.toMatchObject({ name: 'Cordon.InvalidTaskInput' });
    });
  },
);

describe('Lambda entries', () => {
  it.each(FUNCTIONS.map((spec) => [spec.name, spec] as const))(
    '%s: its entry builds the handler from process.env, and fails its cold start without it',
    async (name, spec) => {
      const entry = pathToFileURL(join(REPO_ROOT, 'functions', spec.dir, spec.entry)).href;
      for (const [key, value] of Object.entries(envFor(name))) vi.stubEnv(key, value);

      const module = z.object({ handler: z.function() }).safeParse(await import(entry));
      expect(module.success, name).toBe(true);

      vi.resetModules();
      vi.stubEnv(ENV.action, '');
      await expect(import(entry)).rejects.toMatchObject({ name: 'Cordon.ConfigError' });
    },
  );
});

describe('request-approval handler', () => {
  const factory = () => factoryOf(functionNamed('request-approval'));

  it('refuses to start when Powertools is told to log events, which would log the task token', async () => {
    const make = await factory();

    expect(() => make(envFor('request-approval', { POWERTOOLS_LOGGER_LOG_EVENT: 'true' }))).toThrow(
      expect.objectContaining({ name: 'Cordon.ConfigError' }),
    );
  });

  it('fails at cold start without the approvals table', async () => {
    const make = await factory();

    expect(() => make(envFor('request-approval', { [ENV.approvalsTable]: '' }))).toThrow(
      expect.objectContaining({ name: 'Cordon.ConfigError' }),
    );
  });

  it('fails at cold start when its approval settings are malformed', async () => {
    const make = await factory();

    expect(() =>
      make(envFor('request-approval', { [ENV.approvalSettings]: '{"timeoutSeconds": -1}' })),
    ).toThrow(/CORDON_APPROVAL_SETTINGS is invalid at timeoutSeconds/);
  });
});

describe('approval handler', () => {
  const factory = () => factoryOf(functionNamed('responder-api'));

  it('fails at cold start without its responder list', async () => {
    const make = await factory();

    expect(() => make(envFor('responder-api', { [ENV.responders]: '' }))).toThrow(
      expect.objectContaining({ name: 'Cordon.ConfigError' }),
    );
  });

  it('fails at cold start when deployed as another function', async () => {
    const make = await factory();

    expect(() => make(envFor('notify'))).toThrow(
      expect.objectContaining({ name: 'Cordon.ConfigError' }),
    );
  });

  it('fails at cold start without the approval key it MACs decisions with', async () => {
    const make = await factory();

    expect(() => make(envFor('responder-api', { [ENV.approvalPolicy]: '' }))).toThrow(
      expect.objectContaining({ name: 'Cordon.ConfigError' }),
    );
  });

  it('fails at cold start without the rollback state machine it starts', async () => {
    const make = await factory();

    expect(() => make(envFor('responder-api', { [ENV.rollbackStateMachine]: '' }))).toThrow(
      expect.objectContaining({ name: 'Cordon.ConfigError' }),
    );
  });

  it('answers 401 to a request that carries no caller proof, before reading anything', async () => {
    const handler = (await factory())(envFor('responder-api'));
    const event = {
      version: '2.0',
      rawPath: '/pending',
      rawQueryString: '',
      headers: {},
      requestContext: { http: { method: 'GET', path: '/pending' } },
      isBase64Encoded: false,
    };

    const result = z
      .object({ statusCode: z.number(), body: z.string() })
      .parse(await handler(event, lambdaContext('responder-api')));

    expect(result.statusCode).toBe(401);
    expect(JSON.parse(result.body)).toMatchObject({ error: 'unauthenticated' });
  });
});

describe('watch handler', () => {
  const factory = () => factoryOf(functionNamed('watch'));

  it.each([
    ['missing', ''],
    ['naming no state machine', '{"machines": [], "runtimeModeParameter": "/cordon/mode"}'],
    [
      'naming something that is not a state machine',
      '{"machines": [{"arn": "arn:aws:lambda:us-east-1:123456789012:function:x", "name": "rollback"}], "runtimeModeParameter": "/cordon/mode"}',
    ],
  ])('fails at cold start when its configuration is %s', async (_what, value) => {
    const make = await factory();

    expect(() => make(envFor('watch', { [ENV.watch]: value }))).toThrow(
      expect.objectContaining({ name: 'Cordon.ConfigError' }),
    );
  });

  it('ignores a well-formed event of a kind it does not watch, reading nothing', async () => {
    const handler = (await factory())(envFor('watch'));
    const event = {
      version: '0',
      source: 'aws.ec2',
      'detail-type': 'EC2 Instance State-change Notification',
      detail: { state: 'running' },
    };

    const result = await handler(event, lambdaContext('watch'));

    expect(result).toMatchObject({ status: 'ignored' });
  });
});

describe("the benchmark's environment", () => {
  it.each(FUNCTIONS.map((spec) => [spec.name, spec] as const))(
    '%s: starts with the environment `npm run bench` gives it (a key a function newly requires belongs there too)',
    async (name, spec) => {
      const factory = await factoryOf(spec);

      const start = () => factory(lambdaEnv(name));

      expect(start).not.toThrow();
    },
  );
});

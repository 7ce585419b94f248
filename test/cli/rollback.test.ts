import { Logger } from '@aws-lambda-powertools/logger';
import { StartExecutionCommand } from '@aws-sdk/client-sfn';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { type CommandIO, rollbackCommand } from '../../cli/approvals.js';
import { CliError } from '../../cli/errors.js';
import { responderApi, route } from '../../functions/responder-api/http.js';
import type { LedgerEntry } from '../../functions/shared/ledger.js';
import { localApprovalKey } from '../support/approval-key.js';
import { type FunctionUrl, type Principal, startFunctionUrl } from '../support/function-url.js';
import { provenCallers } from '../support/sts.js';
import { localTokens } from '../support/token-seal.js';

/**
 * `cordon rollback`, SigV4-signed, against a function URL stand-in that
 * verifies the signature and runs the real approval endpoint routing, with
 * Step Functions and the ledger faked.
 */

const INCIDENT = 'inc-0123456789abcdef0001';
const UNKNOWN = 'inc-ffffffffffffffffffff';
const MACHINE = 'arn:aws:states:us-east-1:123456789012:stateMachine:Cordon-rollback';
const EXECUTION = 'arn:aws:states:us-east-1:123456789012:execution:Cordon-rollback:run-1';
const ALICE: Principal = {
  secretAccessKey: 'alice-secret-key',
  arn: 'arn:aws:sts::123456789012:assumed-role/Responder/alice',
};
const MALLORY: Principal = {
  secretAccessKey: 'mallory-secret-key',
  arn: 'arn:aws:sts::123456789012:assumed-role/Developer/mallory',
};
const PRINCIPALS = { ASIAEXAMPLEALICE0001: ALICE, AKIAEXAMPLEMALLORY01: MALLORY };

let server: FunctionUrl;
let send: ReturnType<typeof vi.fn<(command: unknown) => Promise<{ executionArn: string }>>>;

beforeEach(async () => {
  send = vi.fn(async (_command: unknown) => ({ executionArn: EXECUTION }));
  const entries = vi.fn(
    async (id: string) =>
      (id === INCIDENT ? [{ step: 'triage' }, { step: 'isolate' }] : []) as LedgerEntry[],
  );
  const logger = new Logger({ logLevel: 'SILENT' });
  const service = responderApi({
    store: {
      get: vi.fn(),
      ofIncident: vi.fn(),
      waiting: vi.fn(),
      addFirstApproval: vi.fn(),
      decide: vi.fn(),
      delivered: vi.fn(),
    },
    ledger: { append: vi.fn(), appendOnce: vi.fn(), entries },
    sfn: { send: send as never },
    breaker: { state: vi.fn(), reset: vi.fn() },
    responders: ['arn:aws:iam::123456789012:role/Responder'],
    logger,
    approvalKey: localApprovalKey(),
    tokens: localTokens(),
    rollbackStateMachineArn: MACHINE,
    now: () => new Date(),
    identify: provenCallers(PRINCIPALS).identify,
  });
  server = await startFunctionUrl({
    principals: PRINCIPALS,
    handler: async (event) => route(event, service, logger),
  });
});

afterEach(async () => {
  vi.unstubAllEnvs();
  expect(server.errors).toEqual([]);
  await server.close();
});

async function run(
  argv: string[],
  as: 'ASIAEXAMPLEALICE0001' | 'AKIAEXAMPLEMALLORY01' = 'ASIAEXAMPLEALICE0001',
) {
  const out: string[] = [];
  const principal = PRINCIPALS[as];
  const io: CommandIO = {
    print: (text) => out.push(text),
    deps: {
      credentials: async () => ({ accessKeyId: as, secretAccessKey: principal.secretAccessKey }),
      callerArn: async () => principal.arn,
      env: {},
    },
  };
  try {
    return {
      code: await rollbackCommand([...argv, '--endpoint', server.url, '--region', 'us-east-1'], io),
      out: out.join('\n'),
      err: '',
    };
  } catch (error) {
    if (error instanceof CliError)
      return { code: error.exitCode, out: out.join('\n'), err: error.message };
    throw error;
  }
}

const startInputs = () =>
  send.mock.calls.map(([command]) => {
    if (!(command instanceof StartExecutionCommand)) throw new Error('not StartExecution');
    return JSON.parse(command.input.input ?? 'null');
  });

describe('cordon rollback', () => {
  it('starts a rollback as the signed caller and says it waits for approval', async () => {
    const result = await run([
      INCIDENT,
      '--step',
      'isolate',
      '--force',
      '--reason',
      'owner confirmed',
    ]);

    expect(result.code).toBe(0);
    expect(result.out).toContain(`rollback of step isolate of ${INCIDENT}`);
    expect(result.out).toContain("It waits for a responder's approval before it restores anything");
    expect(result.out).toContain(EXECUTION);
    expect(startInputs()).toEqual([
      {
        incidentId: INCIDENT,
        step: 'isolate',
        force: true,
        requestedBy: ALICE.arn,
        reason: 'owner confirmed',
      },
    ]);
  });

  it('prints the endpoint answer with --json', async () => {
    const result = await run([INCIDENT, '--reason', 'fp', '--json']);

    expect(result.code).toBe(0);
    expect(JSON.parse(result.out)).toMatchObject({
      incidentId: INCIDENT,
      force: false,
      requestedBy: ALICE.arn,
      executionArn: EXECUTION,
    });
  });

  it.each([
    [[INCIDENT], 2, '--reason is required'],
    [['inc-nope', '--reason', 'x'], 2, 'is not an incident id'],
    [[INCIDENT, '--step', 'no-such!', '--reason', 'x'], 2, '--step: "no-such!" is not a step id'],
    [[UNKNOWN, '--reason', 'x'], 5, `no incident ${UNKNOWN} in the ledger`],
  ])('refuses %j with exit %i (%s), starting nothing', async (argv, code, message) => {
    const result = await run(argv);

    expect(result.code).toBe(code);
    expect(result.err).toContain(message);
    expect(send).not.toHaveBeenCalled();
  });

  it('exits 4 for a caller who is not a responder, starting nothing', async () => {
    const result = await run([INCIDENT, '--reason', 'x'], 'AKIAEXAMPLEMALLORY01');

    expect(result.code).toBe(4);
    expect(send).not.toHaveBeenCalled();
  });
});

import { Logger } from '@aws-lambda-powertools/logger';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { type CommandIO, dismissCommand } from '../../cli/approvals.js';
import { CliError } from '../../cli/errors.js';
import { responderApi, route } from '../../functions/responder-api/http.js';
import type { LedgerEntry, LedgerEntryInput } from '../../functions/shared/ledger.js';
import { localApprovalKey } from '../support/approval-key.js';
import { type FunctionUrl, type Principal, startFunctionUrl } from '../support/function-url.js';
import { provenCallers } from '../support/sts.js';
import { localTokens } from '../support/token-seal.js';

/**
 * `cordon dismiss`, SigV4-signed, against a function URL stand-in that
 * verifies the signature and runs the real responder API routing, with the
 * ledger faked: who may dismiss, and what each refusal exits with.
 */

const INCIDENT = 'inc-0123456789abcdef0001';
const UNKNOWN = 'inc-ffffffffffffffffffff';
const CONTAINED_ROLE = 'arn:aws:iam::123456789012:role/app/app-role';
const ALICE: Principal = {
  secretAccessKey: 'alice-secret-key',
  arn: 'arn:aws:sts::123456789012:assumed-role/Responder/alice',
};
const MALLORY: Principal = {
  secretAccessKey: 'mallory-secret-key',
  arn: 'arn:aws:sts::123456789012:assumed-role/Developer/mallory',
};
/** A session of the role the incident is about, which is (wrongly) also a responder. */
const CONTAINED: Principal = {
  secretAccessKey: 'contained-secret-key',
  arn: 'arn:aws:sts::123456789012:assumed-role/app-role/i-0stolen',
};
const PRINCIPALS = {
  ASIAEXAMPLEALICE0001: ALICE,
  AKIAEXAMPLEMALLORY01: MALLORY,
  ASIAEXAMPLECONTAINED: CONTAINED,
};

let server: FunctionUrl;
let dismissals: LedgerEntry[];
let appendOnce: ReturnType<typeof vi.fn>;

beforeEach(async () => {
  dismissals = [];
  const claim = { step: 'triage', outcome: 'REFUSED', targetArn: CONTAINED_ROLE } as LedgerEntry;
  const entries = vi.fn(async (id: string) => (id === INCIDENT ? [claim] : []));
  appendOnce = vi.fn(
    async (
      incidentId: string,
      input: LedgerEntryInput,
      same: (existing: LedgerEntry) => boolean,
    ) => {
      const earlier = dismissals.find(same);
      if (earlier) return { entry: earlier, appended: false, entries: [] };
      const entry = { ...input, incidentId, seq: 1, at: '2026-12-05T05:00:00.000Z' } as LedgerEntry;
      dismissals.push(entry);
      return { entry, appended: true, entries: [] };
    },
  );
  const logger = new Logger({ logLevel: 'SILENT' });
  const service = responderApi({
    store: {
      get: vi.fn(),
      ofIncident: vi.fn(async () => []),
      waiting: vi.fn(),
      addFirstApproval: vi.fn(),
      decide: vi.fn(),
      delivered: vi.fn(),
    },
    ledger: { append: vi.fn(), appendOnce: appendOnce as never, entries },
    sfn: { send: vi.fn() },
    breaker: { state: vi.fn(), reset: vi.fn() },
    responders: [
      'arn:aws:iam::123456789012:role/Responder',
      'arn:aws:iam::123456789012:role/app-role',
    ],
    logger,
    approvalKey: localApprovalKey(),
    tokens: localTokens(),
    rollbackStateMachineArn: 'arn:aws:states:us-east-1:123456789012:stateMachine:Cordon-rollback',
    now: () => new Date(),
    identify: provenCallers(PRINCIPALS).identify,
  });
  server = await startFunctionUrl({
    principals: PRINCIPALS,
    handler: async (event) => route(event, service, logger),
  });
});

afterEach(async () => {
  expect(server.errors).toEqual([]);
  await server.close();
});

async function run(argv: string[], as: keyof typeof PRINCIPALS = 'ASIAEXAMPLEALICE0001') {
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
      code: await dismissCommand([...argv, '--endpoint', server.url, '--region', 'us-east-1'], io),
      out: out.join('\n'),
      err: '',
    };
  } catch (error) {
    if (error instanceof CliError) {
      return { code: error.exitCode, out: out.join('\n'), err: error.message };
    }
    throw error;
  }
}

describe('cordon dismiss', () => {
  it('dismisses as the signed caller, with the record only the responder API makes', async () => {
    const result = await run([INCIDENT, '--reason', 'the owner ran the scanner']);

    expect(result.code).toBe(0);
    expect(result.out).toContain(`Dismissed ${INCIDENT}`);
    expect(dismissals).toEqual([
      expect.objectContaining({
        step: 'dismiss',
        outcome: 'DISMISSED',
        actor: ALICE.arn,
        detail: {
          reason: 'the owner ran the scanner',
          dismissal: { record: expect.any(String), mac: expect.any(String) },
        },
      }),
    ]);
  });

  it('prints the endpoint answer with --json', async () => {
    const result = await run([INCIDENT, '--reason', 'fp', '--json']);

    expect(result.code).toBe(0);
    expect(JSON.parse(result.out)).toMatchObject({
      incidentId: INCIDENT,
      dismissedBy: ALICE.arn,
      waiting: [],
    });
  });

  it.each([
    [[INCIDENT], 2, '--reason is required'],
    [['inc-nope', '--reason', 'x'], 2, 'is not an incident id'],
    [[UNKNOWN, '--reason', 'x'], 5, `no incident ${UNKNOWN} in the ledger`],
  ])('refuses %j with exit %i (%s), recording nothing', async (argv, code, message) => {
    const result = await run(argv);

    expect(result.code).toBe(code);
    expect(result.err).toContain(message);
    expect(dismissals).toEqual([]);
  });

  it('exits 4 for a caller who is not a responder, recording nothing', async () => {
    const result = await run([INCIDENT, '--reason', 'x'], 'AKIAEXAMPLEMALLORY01');

    expect(result.code).toBe(4);
    expect(appendOnce).not.toHaveBeenCalled();
  });

  it('exits 4 for the principal the incident is about, even one configured as a responder', async () => {
    const result = await run([INCIDENT, '--reason', 'not me'], 'ASIAEXAMPLECONTAINED');

    expect(result.code).toBe(4);
    expect(result.err).toContain(`which incident ${INCIDENT} is about`);
    expect(appendOnce).not.toHaveBeenCalled();
  });

  it('exits 6 for a second dismissal: a dismissal is final', async () => {
    await run([INCIDENT, '--reason', 'fp']);

    const again = await run([INCIDENT, '--reason', 'fp again']);

    expect(again.code).toBe(6);
    expect(again.err).toContain(`already dismissed by ${ALICE.arn}`);
    expect(dismissals).toHaveLength(1);
  });
});

/**
 * The whole approval loop, as a responder lives it: a playbook waits on a
 * task token; the responder runs `cordon pending`, then `cordon approve` (or
 * `reject`), SigV4-signed and with its caller proof, against a function URL
 * stand-in that verifies the signature and calls the real approval handler
 * module; the handler asks moto's STS who signed the proof, records the
 * decision in moto's ledger and delivers it to the waiting execution.
 * Everything but the URL signature check and Step Functions' task-token API
 * is what deploys.
 */
import {
  IAMClient,
  ListAccessKeysCommand,
  ListAttachedUserPoliciesCommand,
} from '@aws-sdk/client-iam';
import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import type { Context } from 'aws-lambda';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { type CommandIO, decideCommand, pendingCommand, showCommand } from '../../cli/approvals.js';
import { CliError } from '../../cli/errors.js';
import { seedCompromisedUser, userKeyFinding } from '../../demo/scenario.js';
import { DENY_ALL_POLICY } from '../../functions/actions/quarantine-user/iam.js';
import { PendingResponseSchema } from '../../functions/responder-api/contract.js';
import { ENV } from '../../functions/shared/runtime-config.js';
import { assumeSession, rehearsalClock } from '../../rehearsal/approvals.js';
import { type ApprovalRequest, type JSONValue, RehearsalEngine } from '../../rehearsal/engine.js';
import { contextWith, explain, onlyExecution, outcomes } from '../state-machines/harness.js';
import { type FunctionUrl, type Principal, startFunctionUrl } from '../support/function-url.js';
import { MOTO_ACCOUNT_ID, MOTO_REGION, motoClientConfig, useMoto } from '../support/moto.js';

const { endpoint } = useMoto();
const iam = new IAMClient(motoClientConfig(endpoint));

const RESPONDER_ROLE = `arn:aws:iam::${MOTO_ACCOUNT_ID}:role/SecurityResponder`;
const SESSIONS = {
  alice: `arn:aws:sts::${MOTO_ACCOUNT_ID}:assumed-role/SecurityResponder/alice`,
  bob: `arn:aws:sts::${MOTO_ACCOUNT_ID}:assumed-role/SecurityResponder/bob`,
  // Same account, allowed through by an identity policy: the function must still refuse.
  mallory: `arn:aws:sts::${MOTO_ACCOUNT_ID}:assumed-role/Developer/mallory`,
} as const;
/** The keys the function URL stand-in accepts: each test's sessions, assumed in moto. */
const PRINCIPALS: Record<string, Principal> = {};

let engine: RehearsalEngine;
let url: FunctionUrl;
/** What the responder does while the step waits; set by each test. */
let responder: (request: ApprovalRequest) => Promise<JSONValue>;
let printed: string[];
/** Everything the handlers log (at INFO, captured rather than printed). */
let logged: string[];

beforeAll(async () => {
  // The actions accept grants by the same responders the approval handler serves.
  engine = await RehearsalEngine.create({
    account: MOTO_ACCOUNT_ID,
    region: MOTO_REGION,
    context: contextWith({ responderPrincipalArns: [RESPONDER_ROLE] }),
    decide: (request) => responder(request),
  });
  const api = [...engine.model.functions.values()].find((f) => f.action === 'responder-api');
  // The approval handler module reads its configuration at import, as in Lambda.
  const saved = { ...process.env };
  Object.assign(process.env, {
    [ENV.action]: 'responder-api',
    [ENV.actor]: `arn:aws:iam::${MOTO_ACCOUNT_ID}:role/cordon/approval`,
    [ENV.ledgerTable]: 'cordon-ledger',
    [ENV.ledgerKey]: engine.ledgerKey,
    [ENV.approvalsTable]: 'cordon-approvals',
    [ENV.responders]: JSON.stringify([RESPONDER_ROLE]),
    // The approval key the rehearsal created in moto, as the template names it.
    [ENV.approvalPolicy]: api?.environment[ENV.approvalPolicy] ?? '',
    [ENV.tokenKey]: api?.environment[ENV.tokenKey] ?? '',
    [ENV.guardrailsTable]: 'cordon-guardrails',
    [ENV.rollbackStateMachine]: `arn:aws:states:${MOTO_REGION}:${MOTO_ACCOUNT_ID}:stateMachine:cordon-rollback`,
    POWERTOOLS_LOG_LEVEL: 'INFO',
  });
  const { handler } = await import('../../functions/responder-api/handler.js');
  process.env = saved;
  // Every handler the engine imports logs at INFO too, so a leak would show.
  process.env.POWERTOOLS_LOG_LEVEL = 'INFO';
  url = await startFunctionUrl({
    principals: PRINCIPALS,
    handler: (event, context) => handler(event, context as Context),
  });
});

afterAll(async () => {
  await url?.close();
  delete process.env.POWERTOOLS_LOG_LEVEL;
});

beforeEach(() => {
  logged = [];
  const capture = (chunk: unknown) => {
    logged.push(String(chunk));
    return true;
  };
  vi.spyOn(process.stdout, 'write').mockImplementation(capture);
  vi.spyOn(process.stderr, 'write').mockImplementation(capture);
});

afterEach(() => {
  vi.restoreAllMocks();
});

/**
 * The CLI as `who`: a session assumed in moto (so moto's STS names it when
 * the function checks the caller proof), whose key the URL stand-in knows.
 */
async function as(who: keyof typeof SESSIONS): Promise<CommandIO> {
  const arn = SESSIONS[who];
  const credentials = await assumeSession(arn);
  PRINCIPALS[credentials.accessKeyId] = {
    secretAccessKey: credentials.secretAccessKey,
    ...(credentials.sessionToken ? { sessionToken: credentials.sessionToken } : {}),
    arn,
  };
  return {
    print: (text) => printed.push(text),
    width: 200,
    deps: { credentials: async () => credentials, callerArn: async () => arn, env: {} },
  };
}

/** Runs a CLI command as bin.ts does: the exit code, or the CliError's. */
async function cli(run: () => Promise<number>): Promise<{ code: number; message?: string }> {
  try {
    return { code: await run() };
  } catch (error) {
    if (error instanceof CliError) return { code: error.exitCode, message: error.message };
    throw error;
  }
}

const withEndpoint = (...args: string[]) => [
  ...args,
  '--endpoint',
  url.url,
  '--region',
  MOTO_REGION,
];

/** The managed policies attached to the user: quarantine attaches AWSDenyAll. */
async function contained(user: { userName: string }) {
  const out = await iam.send(new ListAttachedUserPoliciesCommand({ UserName: user.userName }));
  return (out.AttachedPolicies ?? []).flatMap((p) => (p.PolicyName ? [p.PolicyName] : []));
}

describe('a responder decides with the CLI while the playbook waits', () => {
  it('approve: pending lists the step, approve resumes it, and the ledger names the responder', async () => {
    await engine.ensureResources();
    printed = [];
    const user = await seedCompromisedUser();
    let pendingJson: unknown;
    responder = async (request) => {
      const listed = await cli(async () =>
        pendingCommand(withEndpoint('--json'), await as('alice')),
      );
      expect(listed, JSON.stringify(listed)).toMatchObject({ code: 0 });
      pendingJson = JSON.parse(printed.at(-1) ?? '');
      const approved = await cli(async () =>
        decideCommand(
          'approve',
          withEndpoint(
            request.incidentId,
            '--step',
            request.step,
            '--reason',
            'key seen on a paste site',
          ),
          await as('alice'),
        ),
      );
      expect(approved.code).toBe(0);
      return request.delivery;
    };

    const execution = onlyExecution(await engine.rehearse(userKeyFinding(user)));

    expect(execution.status, explain(execution)).toBe('SUCCEEDED');
    expect(PendingResponseSchema.parse(pendingJson).pending).toEqual([
      expect.objectContaining({
        step: 'quarantineUser',
        action: 'quarantine-user',
        targetArn: user.arn,
        approvalsRequired: 1,
      }),
    ]);
    expect(outcomes(execution)).toEqual([
      'triage:CLAIMED',
      'disableAccessKey:INTENT',
      'disableAccessKey:CONTAINED',
      'revokeUserSessions:INTENT',
      'revokeUserSessions:CONTAINED',
      'quarantineUser:APPROVAL_REQUESTED',
      'quarantineUser:APPROVAL_GRANTED',
      'quarantineUser:INTENT',
      'quarantineUser:CONTAINED',
      'notify:NOTIFIED',
    ]);
    const decision = execution.ledger.find((e) => e.outcome === 'APPROVAL_GRANTED');
    expect(decision).toMatchObject({
      actor: SESSIONS.alice,
      summary: `approved by ${SESSIONS.alice}: key seen on a paste site`,
    });
    expect(await contained(user)).toContain(DENY_ALL_POLICY);
    expect(printed.join('\n')).toContain('quarantineUser');

    // A second decision on the same step is refused with who decided.
    const again = await cli(async () =>
      decideCommand(
        'reject',
        withEndpoint(decision?.incidentId ?? '', '--step', 'quarantineUser', '--reason', 'late'),
        await as('bob'),
      ),
    );
    expect(again.code).toBe(6);
    expect(again.message).toContain(`already approved by ${SESSIONS.alice}`);

    // And the timeline shows it.
    printed = [];
    const shown = await cli(async () =>
      showCommand(withEndpoint(decision?.incidentId ?? ''), await as('bob')),
    );
    expect(shown.code).toBe(0);
    expect(printed.join('\n')).toMatch(/quarantineUser\s+APPROVAL_GRANTED/);
  });

  it('reject: the step is not acted on and the user keeps its access', async () => {
    await engine.ensureResources();
    printed = [];
    const user = await seedCompromisedUser();
    responder = async (request) => {
      const rejected = await cli(async () =>
        decideCommand(
          'reject',
          withEndpoint(request.incidentId, '--reason', 'the key belongs to a pentest'),
          await as('bob'),
        ),
      );
      expect(rejected.code).toBe(0);
      return request.delivery;
    };

    const execution = onlyExecution(await engine.rehearse(userKeyFinding(user)));

    expect(execution.status, explain(execution)).toBe('SUCCEEDED');
    expect(outcomes(execution)).toEqual(
      expect.arrayContaining(['quarantineUser:APPROVAL_DENIED', 'quarantineUser:REJECTED']),
    );
    expect(outcomes(execution)).not.toContain('quarantineUser:CONTAINED');
    expect(await contained(user)).not.toContain(DENY_ALL_POLICY);
  });

  it('an unauthorised caller is refused, and with nobody else deciding the step times out, is recorded and notified', async () => {
    await engine.ensureResources();
    printed = [];
    const user = await seedCompromisedUser();
    const send = vi.spyOn(SNSClient.prototype, 'send');
    let refused: { code: number; message?: string } | undefined;
    responder = async (request) => {
      refused = await cli(async () =>
        decideCommand(
          'approve',
          withEndpoint(request.incidentId, '--reason', 'let me'),
          await as('mallory'),
        ),
      );
      // Step Functions times the wait out once the approval timeout has passed.
      rehearsalClock.elapse(7 * 24 * 3600);
      throw Object.assign(new Error('no decision before the approval timeout'), {
        name: 'States.Timeout',
      });
    };

    const execution = onlyExecution(await engine.rehearse(userKeyFinding(user)));

    expect(refused?.code).toBe(4);
    expect(refused?.message).toContain(`${SESSIONS.mallory} is not a Cordon responder`);
    expect(execution.status, explain(execution)).toBe('SUCCEEDED');
    expect(outcomes(execution)).toEqual([
      'triage:CLAIMED',
      'disableAccessKey:INTENT',
      'disableAccessKey:CONTAINED',
      'revokeUserSessions:INTENT',
      'revokeUserSessions:CONTAINED',
      'quarantineUser:APPROVAL_REQUESTED',
      'quarantineUser:NOT_ACTED_ON',
      'notify:NOTIFIED',
      'notify:NOTIFIED',
    ]);
    const subjects = send.mock.calls.flatMap(([command]) =>
      command instanceof PublishCommand ? [command.input.Subject ?? ''] : [],
    );
    expect(subjects).toEqual([
      expect.stringMatching(/^Cordon approval needed: quarantineUser /),
      expect.stringMatching(/^Cordon did not act \(approval timed out\): /),
      expect.stringMatching(/^Cordon summary: /),
    ]);
    expect(await contained(user)).not.toContain(DENY_ALL_POLICY);
  });
});

describe('the task token', () => {
  it('appears in no notification, ledger entry, CLI output, request or log line', async () => {
    await engine.ensureResources();
    printed = [];
    const user = await seedCompromisedUser();
    const send = vi.spyOn(SNSClient.prototype, 'send');
    let token = '';
    responder = async (request) => {
      token = request.taskToken;
      await cli(async () => pendingCommand(withEndpoint(), await as('alice')));
      await cli(async () => pendingCommand(withEndpoint('--json'), await as('alice')));
      await cli(async () =>
        decideCommand(
          'approve',
          withEndpoint(request.incidentId, '--reason', 'ok'),
          await as('alice'),
        ),
      );
      await cli(async () =>
        showCommand(withEndpoint(request.incidentId, '--json'), await as('alice')),
      );
      return request.delivery;
    };

    const execution = onlyExecution(await engine.rehearse(userKeyFinding(user)));

    expect(execution.status, explain(execution)).toBe('SUCCEEDED');
    expect(token).toMatch(/^rehearsal-token-/);
    const published = send.mock.calls.flatMap(([command]) =>
      command instanceof PublishCommand ? [JSON.stringify(command.input)] : [],
    );
    expect(published.length).toBeGreaterThan(0);
    const everything = [
      ...published,
      JSON.stringify(execution.ledger),
      printed.join('\n'),
      JSON.stringify(url.events),
      logged.join(''),
    ];
    // The capture works: both functions logged the approval.
    expect(logged.join('')).toContain('approval requested');
    expect(logged.join('')).toContain('decision delivered');
    for (const text of everything) expect(text).not.toContain(token);
    const keys = await iam.send(new ListAccessKeysCommand({ UserName: user.userName }));
    expect(keys.AccessKeyMetadata?.length).toBeGreaterThan(0);
    expect(await contained(user)).toEqual([DENY_ALL_POLICY]);
  });
});

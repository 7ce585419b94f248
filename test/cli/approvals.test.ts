import { createHash } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SignatureV4 } from '@smithy/signature-v4';
import type { LambdaFunctionURLEventWithIAMAuthorizer, LambdaFunctionURLResult } from 'aws-lambda';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import {
  type CommandIO,
  decideCommand,
  formatFamily,
  formatTimeline,
  pendingCommand,
  showCommand,
} from '../../cli/approvals.js';
import {
  type EndpointDeps,
  NO_CREDENTIALS,
  NO_ENDPOINT,
  signingRegion,
  signRequest,
} from '../../cli/endpoint.js';
import { CliError } from '../../cli/errors.js';
import {
  CALLER_PROOF_HEADER,
  checkCallerProof,
} from '../../functions/responder-api/caller-proof.js';
import {
  DecisionRequestSchema,
  type DecisionResponse,
  ERROR_STATUS,
  type ErrorCode,
  type PendingApproval,
  type TimelineResponse,
} from '../../functions/responder-api/contract.js';
import { Sha256 } from '../../functions/shared/hash.js';
import { type FunctionUrl, type Principal, startFunctionUrl } from '../support/function-url.js';

const NOW = new Date('2026-03-01T12:00:00.000Z');
const minutes = (n: number) => new Date(NOW.getTime() + n * 60_000).toISOString();

const INC1 = 'inc-0123456789abcdef0001';
const INC2 = 'inc-0123456789abcdef0002';
const UNKNOWN = 'inc-ffffffffffffffffffff';

const PRINCIPALS: Record<string, Principal> = {
  ASIAEXAMPLEALICE0001: {
    secretAccessKey: 'alice-secret-key',
    sessionToken: 'alice-session-token',
    arn: 'arn:aws:sts::123456789012:assumed-role/Responder/alice',
  },
  AKIAEXAMPLEBOB000001: {
    secretAccessKey: 'bob-secret-key',
    arn: 'arn:aws:sts::123456789012:assumed-role/Responder/bob',
  },
  AKIAEXAMPLEMALLORY01: {
    secretAccessKey: 'mallory-secret-key',
    arn: 'arn:aws:sts::123456789012:assumed-role/Developer/mallory',
  },
};
const ALICE = PRINCIPALS.ASIAEXAMPLEALICE0001 as Principal;
const BOB = PRINCIPALS.AKIAEXAMPLEBOB000001 as Principal;

interface FakeStep extends PendingApproval {
  decided?: 'APPROVED' | 'REJECTED';
}

type TimelineEntry = TimelineResponse['entries'][number];

function entry(
  incidentId: string,
  seq: number,
  fields: Pick<TimelineEntry, 'at' | 'step' | 'action' | 'actor' | 'outcome' | 'summary'>,
): TimelineEntry {
  return { incidentId, seq, ...fields, prevHash: `prev-${seq}`, hash: `hash-${seq}` };
}

/** The approval endpoint's contract, in memory: enough to drive the CLI. */
class FakeApprovals {
  readonly steps: FakeStep[] = [
    {
      incidentId: INC1,
      step: 'isolate',
      playbook: 'ec2-instance',
      action: 'isolate-network',
      proposal: 'Isolate instance i-0abc1234: swap its security groups for the quarantine group.',
      findingType: 'UnauthorizedAccess:EC2/SSHBruteForce',
      severityLabel: 'HIGH',
      account: '123456789012',
      targetArn: 'arn:aws:ec2:us-east-1:123456789012:instance/i-0abc1234',
      requestedAt: minutes(-12),
      expiresAt: minutes(48),
      approvalsRequired: 1,
      approvals: [],
    },
    {
      incidentId: INC2,
      step: 'quarantine',
      playbook: 'iam-credentials',
      action: 'quarantine-user',
      proposal: 'Attach the deny-all quarantine policy to user build-bot.',
      findingType: 'CredentialAccess:IAMUser/AnomalousBehavior',
      severityLabel: 'CRITICAL',
      account: '123456789012',
      targetArn: 'arn:aws:iam::123456789012:user/build-bot',
      requestedAt: minutes(-125),
      expiresAt: minutes(26 * 60),
      approvalsRequired: 2,
      approvals: [],
    },
  ];

  readonly timelines = new Map<string, TimelineEntry[]>([
    [
      INC1,
      [
        entry(INC1, 0, {
          at: '2026-03-01T11:47:59.120Z',
          step: 'triage',
          action: 'triage',
          actor: 'arn:aws:iam::123456789012:role/cordon-triage',
          outcome: 'CLAIMED',
          summary: 'Claimed finding 5abc for instance i-0abc1234',
        }),
        entry(INC1, 1, {
          at: '2026-03-01T11:48:00.000Z',
          step: 'isolate',
          action: 'request-approval',
          actor: 'arn:aws:iam::123456789012:role/cordon-request-approval',
          outcome: 'APPROVAL_REQUESTED',
          summary: 'Asked responders to approve isolate',
        }),
      ],
    ],
    [INC2, []],
  ]);

  readonly handler = async (
    event: LambdaFunctionURLEventWithIAMAuthorizer,
  ): Promise<LambdaFunctionURLResult> => {
    const { method } = event.requestContext.http;
    const caller = event.requestContext.authorizer.iam.userArn;
    if (method === 'GET' && event.rawPath === '/pending') {
      const pending = this.steps.filter((s) => !s.decided).map(({ decided: _, ...step }) => step);
      return ok({ pending });
    }
    const incident = /^\/incidents\/([^/]+)$/.exec(event.rawPath)?.[1];
    if (method === 'GET' && incident) {
      const entries = this.timelines.get(decodeURIComponent(incident));
      if (!entries) return fail('unknown_incident', `no incident ${incident}`);
      return ok({ incidentId: incident, entries });
    }
    if (method === 'POST' && event.rawPath === '/decisions') {
      return this.decide(JSON.parse(event.body ?? 'null'), caller);
    }
    return fail('not_found', `no route ${method} ${event.rawPath}`);
  };

  private decide(body: unknown, approver: string): LambdaFunctionURLResult {
    const parsed = DecisionRequestSchema.safeParse(body);
    if (!parsed.success) return fail('invalid_request', parsed.error.issues[0]?.message ?? '');
    const { incidentId, step: stepId, decision, reason } = parsed.data;
    const steps = this.steps.filter((s) => s.incidentId === incidentId);
    if (steps.length === 0) return fail('unknown_incident', `no incident ${incidentId}`);
    let step: FakeStep | undefined;
    if (stepId) {
      step = steps.find((s) => s.step === stepId);
      if (!step) return fail('unknown_step', `${incidentId} has no step ${stepId} waiting`);
    } else {
      const waiting = steps.filter((s) => !s.decided);
      if (waiting.length > 1) return fail('ambiguous_step', 'several steps wait: pass --step');
      step = waiting[0] ?? steps[0];
    }
    if (!step) return fail('unknown_step', `${incidentId} has no step waiting`);
    if (step.decided) {
      return fail(
        'already_decided',
        `step ${step.step} of ${incidentId} was already ${step.decided.toLowerCase()}`,
      );
    }
    if (Date.parse(step.expiresAt) <= NOW.getTime()) {
      return fail('expired', `the approval window of ${step.step} closed`);
    }
    const at = NOW.toISOString();
    if (decision === 'reject') {
      step.decided = 'REJECTED';
    } else {
      if (step.approvals.some((a) => a.approver === approver)) {
        return fail('same_approver', 'you already approved this step; a different responder must');
      }
      step.approvals.push({ approver, at, reason });
      if (step.approvals.length >= step.approvalsRequired) step.decided = 'APPROVED';
    }
    const status = step.decided ?? 'AWAITING_SECOND_APPROVER';
    const entries = this.timelines.get(incidentId) ?? [];
    entries.push(
      entry(incidentId, entries.length, {
        at,
        step: step.step,
        action: 'responder-api',
        actor: approver,
        outcome: status,
        summary: `${decision}: ${reason}`,
      }),
    );
    this.timelines.set(incidentId, entries);
    const response: DecisionResponse = {
      incidentId,
      step: step.step,
      status,
      approver,
      decidedAt: at,
      approvalsRequired: step.approvalsRequired,
      approvals: step.approvals,
      message: status,
    };
    return ok(response);
  }
}

const json = (statusCode: number, body: unknown) => ({
  statusCode,
  headers: { 'content-type': 'application/json' },
  body: JSON.stringify(body),
});
const ok = (body: unknown) => json(200, body);
const fail = (error: ErrorCode, message: string) => json(ERROR_STATUS[error], { error, message });

/** Signs in as a principal the way a responder's shell would: environment variables. */
function useCredentials(accessKeyId: string, principal?: Principal): void {
  vi.stubEnv('AWS_ACCESS_KEY_ID', accessKeyId);
  vi.stubEnv('AWS_SECRET_ACCESS_KEY', principal?.secretAccessKey ?? 'not-a-known-secret');
  vi.stubEnv('AWS_SESSION_TOKEN', principal?.sessionToken);
}

/** STS, as far as these tests need it: who an access key belongs to. */
const callerArn: EndpointDeps['callerArn'] = async (credentials) =>
  PRINCIPALS[credentials.accessKeyId]?.arn;

type Command = (argv: string[], io: CommandIO) => Promise<number>;

interface Run {
  readonly code: number;
  readonly out: string;
  readonly err: string;
}

/** Runs a command in-process as cli/bin.ts does: a CliError becomes its exit code. */
async function run(
  command: Command,
  argv: string[],
  deps: Partial<EndpointDeps> = {},
): Promise<Run> {
  const out: string[] = [];
  const io: CommandIO = {
    print: (text) => out.push(text),
    now: () => NOW,
    deps: { callerArn, ...deps },
  };
  try {
    const code = await command(argv, io);
    return { code, out: out.join('\n'), err: '' };
  } catch (error) {
    if (error instanceof CliError)
      return { code: error.exitCode, out: out.join('\n'), err: error.message };
    if (
      error instanceof TypeError &&
      'code' in error &&
      String(error.code).startsWith('ERR_PARSE_ARGS')
    ) {
      return { code: 2, out: out.join('\n'), err: error.message };
    }
    throw error;
  }
}

const approve: Command = (argv, io) => decideCommand('approve', argv, io);
const reject: Command = (argv, io) => decideCommand('reject', argv, io);

let fake: FakeApprovals;
let server: FunctionUrl;
let endpoint: string[];

beforeEach(async () => {
  fake = new FakeApprovals();
  server = await startFunctionUrl({
    handler: fake.handler,
    principals: PRINCIPALS,
    authorize: (arn) => arn.includes(':assumed-role/Responder/'),
  });
  endpoint = ['--endpoint', server.url];
  vi.stubEnv('CORDON_APPROVAL_URL', undefined);
  useCredentials('ASIAEXAMPLEALICE0001', ALICE);
});

afterEach(async () => {
  vi.unstubAllEnvs();
  expect(server.errors).toEqual([]);
  await server.close();
});

describe('cordon pending', () => {
  it('shows each waiting step for people: age, time left, finding, target, proposal, approvals', async () => {
    fake.steps[1]?.approvals.push({ approver: ALICE.arn, at: minutes(-5), reason: 'seen it' });
    const result = await run(pendingCommand, endpoint);
    expect(result).toEqual({
      code: 0,
      err: '',
      out: [
        '2 steps are waiting for a decision:',
        '',
        `${INC1} · step isolate · playbook ec2-instance`,
        '  requested 12 min ago · 48 min left',
        '  HIGH UnauthorizedAccess:EC2/SSHBruteForce in account 123456789012',
        '  target:   instance/i-0abc1234',
        '  proposal: Isolate instance i-0abc1234: swap its security groups for the quarantine group.',
        `  cordon approve|reject ${INC1} --step isolate --reason "…"`,
        '',
        `${INC2} · step quarantine · playbook iam-credentials`,
        '  requested 2 h 5 min ago · 1 d 2 h left',
        '  CRITICAL CredentialAccess:IAMUser/AnomalousBehavior in account 123456789012',
        '  target:   user/build-bot',
        '  proposal: Attach the deny-all quarantine policy to user build-bot.',
        '  1 of 2 approvals (by assumed-role/Responder/alice)',
        `  cordon approve|reject ${INC2} --step quarantine --reason "…"`,
      ].join('\n'),
    });
    expect(server.requests).toEqual([{ method: 'GET', path: '/pending', status: 200 }]);
  });

  it('says so when nothing waits', async () => {
    for (const step of fake.steps) step.decided = 'REJECTED';
    expect(await run(pendingCommand, endpoint)).toEqual({
      code: 0,
      out: 'No approvals are waiting.',
      err: '',
    });
  });

  it('prints the validated response with --json', async () => {
    const result = await run(pendingCommand, [...endpoint, '--json']);
    expect(result.code).toBe(0);
    const printed = JSON.parse(result.out) as { pending: PendingApproval[] };
    expect(printed.pending.map((p) => [p.incidentId, p.step, p.approvalsRequired])).toEqual([
      [INC1, 'isolate', 1],
      [INC2, 'quarantine', 2],
    ]);
    expect(printed.pending[0]).toEqual(fake.steps[0]);
  });

  it('rejects an answer the contract does not allow (exit 1)', async () => {
    const bad = await startFunctionUrl({
      handler: async () => ok({ pending: [{ incidentId: INC1 }] }),
      principals: PRINCIPALS,
    });
    try {
      const result = await run(pendingCommand, ['--endpoint', bad.url]);
      expect(result.code).toBe(1);
      expect(result.err).toBe(
        `unexpected response from ${new URL(bad.url).origin}: pending.0.step: Invalid input: expected string, received undefined; pending.0.playbook: Invalid input: expected string, received undefined; pending.0.action: Invalid input: expected string, received undefined`,
      );
    } finally {
      await bad.close();
    }
  });

  it('names the endpoint when it cannot be reached (exit 1)', async () => {
    const gone = await startFunctionUrl({ handler: fake.handler, principals: PRINCIPALS });
    await gone.close();
    const result = await run(pendingCommand, ['--endpoint', gone.url]);
    expect(result).toMatchObject({
      code: 1,
      err: `cannot reach ${new URL(gone.url).origin}: ECONNREFUSED`,
    });
  });
});

describe('cordon show', () => {
  it('prints the timeline: time, seq, step, outcome, actor, summary', async () => {
    const result = await run(showCommand, [INC1, ...endpoint]);
    expect(result).toEqual({
      code: 0,
      err: '',
      out: [
        `${INC1}: 2 ledger entries`,
        '  2026-03-01 11:47:59Z  #0  triage   CLAIMED             role/cordon-triage            Claimed finding 5abc for instance i-0abc1234',
        '  2026-03-01 11:48:00Z  #1  isolate  APPROVAL_REQUESTED  role/cordon-request-approval  Asked responders to approve isolate',
      ].join('\n'),
    });
    expect(server.requests).toEqual([{ method: 'GET', path: `/incidents/${INC1}`, status: 200 }]);
  });

  it('prints the validated timeline with --json', async () => {
    const result = await run(showCommand, [INC1, '--json', ...endpoint]);
    expect(JSON.parse(result.out)).toEqual({ incidentId: INC1, entries: fake.timelines.get(INC1) });
  });

  it('cuts long summaries to the width', () => {
    const text = formatTimeline(
      { incidentId: INC1, entries: fake.timelines.get(INC1) ?? [] },
      { width: 100 },
    );
    expect(text.split('\n')).toEqual([
      `${INC1}: 2 ledger entries`,
      '  2026-03-01 11:47:59Z  #0  triage   CLAIMED             role/cordon-triage            Claimed find…',
      '  2026-03-01 11:48:00Z  #1  isolate  APPROVAL_REQUESTED  role/cordon-request-approval  Asked respon…',
    ]);
    expect(text.split('\n').map((line) => line.length)).toEqual([42, 100, 100]);
  });

  it("names the account and region triage's claim recorded (organization-wide, the member's)", () => {
    const [claim, ...rest] = fake.timelines.get(INC1) ?? [];
    const claimed = {
      ...claim,
      detail: {
        validated: {
          incident: 'f'.repeat(64),
          modes: {},
          account: '222222222222',
          region: 'eu-west-1',
        },
      },
    };
    const text = formatTimeline({ incidentId: INC1, entries: [claimed as never, ...rest] });

    expect(text.split('\n')[0]).toBe(`${INC1}: account 222222222222 (eu-west-1): 2 ledger entries`);
  });

  it('reports an unknown incident with the server message (exit 5)', async () => {
    expect(await run(showCommand, [UNKNOWN, ...endpoint])).toEqual({
      code: 5,
      out: '',
      err: `no incident ${UNKNOWN}`,
    });
  });

  it('refuses a malformed incident id before any request (exit 2)', async () => {
    const result = await run(showCommand, ['inc-123', ...endpoint]);
    expect(result.code).toBe(2);
    expect(result.err).toBe(
      '"inc-123" is not an incident id (inc- and 20 hex digits, as cordon pending shows)',
    );
    expect(server.requests).toEqual([]);
  });
});

describe('cordon show for an attack sequence', () => {
  const PARENT = 'inc-5e9e0000000000000001';
  const USER = 'inc-5e9e0000000000000002';
  const BUCKET = 'inc-5e9e0000000000000003';
  const TRIAGE = 'arn:aws:iam::123456789012:role/cordon-triage';

  /** Triage's claims: the parent names its children, each child its parent. */
  beforeEach(() => {
    const claim = (incidentId: string, summary: string, detail: Record<string, unknown>) => ({
      ...entry(incidentId, 0, {
        at: '2026-03-01T11:47:59.120Z',
        step: 'triage',
        action: 'triage',
        actor: TRIAGE,
        outcome: 'CLAIMED',
        summary,
      }),
      detail,
    });
    fake.timelines.set(PARENT, [
      claim(PARENT, 'claimed 2 members of the sequence', { children: [USER, BUCKET] }),
      entry(PARENT, 1, {
        at: '2026-03-01T11:48:00.000Z',
        step: 'containSequence',
        action: 'request-approval',
        actor: 'arn:aws:iam::123456789012:role/cordon-request-approval',
        outcome: 'APPROVAL_REQUESTED',
        summary: 'contain attack sequence: 2 members',
      }),
    ]);
    fake.timelines.set(USER, [
      claim(USER, 'claimed as a member', { parent: PARENT }),
      entry(USER, 1, {
        at: '2026-03-01T11:50:00.000Z',
        step: 'disableAccessKey',
        action: 'disable-access-key',
        actor: 'arn:aws:iam::123456789012:role/cordon-disable-access-key',
        outcome: 'CONTAINED',
        summary: 'disabled key of alice',
      }),
    ]);
    fake.timelines.set(BUCKET, [claim(BUCKET, 'claimed as a member', { parent: PARENT })]);
  });

  it("shows the parent's timeline, then each member's indented under it", async () => {
    const result = await run(showCommand, [PARENT, ...endpoint]);

    expect(result.code).toBe(0);
    expect(result.out.split('\n')).toEqual([
      `${PARENT}: 2 ledger entries`,
      '  2026-03-01 11:47:59Z  #0  triage           CLAIMED             role/cordon-triage            claimed 2 members of the sequence',
      '  2026-03-01 11:48:00Z  #1  containSequence  APPROVAL_REQUESTED  role/cordon-request-approval  contain attack sequence: 2 members',
      '',
      '  attack sequence: 2 members, each contained on the one approval above',
      `    ${USER}: 2 ledger entries`,
      '      2026-03-01 11:47:59Z  #0  triage            CLAIMED    role/cordon-triage              claimed as a member',
      '      2026-03-01 11:50:00Z  #1  disableAccessKey  CONTAINED  role/cordon-disable-access-key  disabled key of alice',
      `    ${BUCKET}: 1 ledger entry`,
      '      2026-03-01 11:47:59Z  #0  triage  CLAIMED  role/cordon-triage  claimed as a member',
    ]);
    expect(server.requests.map((r) => r.path)).toEqual([
      `/incidents/${PARENT}`,
      `/incidents/${USER}`,
      `/incidents/${BUCKET}`,
    ]);
  });

  it('keeps every line of the tree within the width', async () => {
    const text = formatFamily(
      { incidentId: PARENT, entries: fake.timelines.get(PARENT) ?? [] },
      [
        {
          incidentId: USER,
          entries: (fake.timelines.get(USER) ?? []).map((e) => ({
            ...e,
            summary: 'x'.repeat(200),
          })),
        },
      ],
      { width: 120 },
    );

    const lines = text.split('\n');
    expect(lines.some((line) => line.endsWith('…'))).toBe(true);
    for (const line of lines) expect(line.length).toBeLessThanOrEqual(120);
  });

  it('names the sequence a member belongs to, and how to see the whole set', async () => {
    const result = await run(showCommand, [USER, ...endpoint]);

    expect(result.out.split('\n').slice(0, 2)).toEqual([
      `${USER}: 2 ledger entries`,
      `  member of attack sequence ${PARENT}; \`cordon show ${PARENT}\` for the whole set`,
    ]);
    expect(server.requests.map((r) => r.path)).toEqual([`/incidents/${USER}`]);
  });

  it("adds the members' timelines to the parent's, and the parent to a member's, with --json", async () => {
    const parent = JSON.parse((await run(showCommand, [PARENT, '--json', ...endpoint])).out);
    const member = JSON.parse((await run(showCommand, [USER, '--json', ...endpoint])).out);

    expect(parent).toEqual({
      incidentId: PARENT,
      entries: fake.timelines.get(PARENT),
      children: [
        { incidentId: USER, entries: fake.timelines.get(USER) },
        { incidentId: BUCKET, entries: fake.timelines.get(BUCKET) },
      ],
    });
    expect(member).toEqual({
      incidentId: USER,
      entries: fake.timelines.get(USER),
      parent: PARENT,
    });
  });

  it('reads no family from a claim whose children are not incident ids', async () => {
    const [claim, ...rest] = fake.timelines.get(PARENT) ?? [];
    fake.timelines.set(PARENT, [
      { ...claim, detail: { children: ['../breaker'] } } as never,
      ...rest,
    ]);

    const result = await run(showCommand, [PARENT, ...endpoint]);

    expect(result.out).not.toContain('members, each contained');
    expect(server.requests.map((r) => r.path)).toEqual([`/incidents/${PARENT}`]);
  });
});

describe('cordon approve and reject', () => {
  it('approves a single-approver step as the signed caller; the body names no approver', async () => {
    const result = await run(approve, [INC1, '--reason', 'confirmed brute force', ...endpoint]);
    expect(result).toEqual({
      code: 0,
      err: '',
      out: `Approved step isolate of ${INC1}: the step runs now.`,
    });
    expect(fake.steps[0]?.decided).toBe('APPROVED');
    expect(server.events).toHaveLength(1);
    const [event] = server.events;
    expect(event?.requestContext.authorizer.iam).toMatchObject({
      accessKey: 'ASIAEXAMPLEALICE0001',
      accountId: '123456789012',
      userArn: ALICE.arn,
    });
    expect(JSON.parse(event?.body ?? '')).toEqual({
      incidentId: INC1,
      decision: 'approve',
      reason: 'confirmed brute force',
    });
    expect(event?.body).not.toContain('approver');
    expect(event?.headers['x-amz-security-token']).toBe(ALICE.sessionToken);

    // The approval is on the timeline, under the caller's name.
    const shown = await run(showCommand, [INC1, ...endpoint]);
    expect(shown.out.split('\n').at(-1)).toBe(
      '  2026-03-01 12:00:00Z  #2  isolate  APPROVED            assumed-role/Responder/alice  approve: confirmed brute force',
    );
  });

  it('records the first of two approvals, refuses the same approver twice, runs on the second', async () => {
    const first = await run(approve, [
      INC2,
      '--step',
      'quarantine',
      '--reason',
      'bot key leaked',
      ...endpoint,
    ]);
    expect(first).toEqual({
      code: 0,
      err: '',
      out: `Recorded your approval of step quarantine of ${INC2}: 1 of 2; a different responder must approve too.`,
    });

    const again = await run(approve, [INC2, '--reason', 'really', ...endpoint]);
    expect(again).toEqual({
      code: 6,
      out: '',
      err: 'you already approved this step; a different responder must',
    });

    useCredentials('AKIAEXAMPLEBOB000001', BOB);
    const second = await run(approve, [INC2, '--reason', 'agreed', '--json', ...endpoint]);
    expect(second.code).toBe(0);
    const response = JSON.parse(second.out) as DecisionResponse;
    expect(response).toMatchObject({ status: 'APPROVED', approver: BOB.arn, approvalsRequired: 2 });
    expect(response.approvals.map((a) => a.approver)).toEqual([ALICE.arn, BOB.arn]);
    expect(server.events.map((e) => e.requestContext.authorizer.iam.userArn)).toEqual([
      ALICE.arn,
      ALICE.arn,
      BOB.arn,
    ]);
  });

  it('says who approved when a two-person step runs', async () => {
    fake.steps[1]?.approvals.push({ approver: BOB.arn, at: minutes(-1), reason: 'yes' });
    const result = await run(approve, [INC2, '--reason', 'agreed', ...endpoint]);
    expect(result.out).toBe(
      `Approved step quarantine of ${INC2}: 2 of 2 approvals (assumed-role/Responder/bob, assumed-role/Responder/alice); the step runs now.`,
    );
  });

  it('rejects a step', async () => {
    const result = await run(reject, [
      INC1,
      '--step',
      'isolate',
      '--reason',
      'false positive',
      ...endpoint,
    ]);
    expect(result).toEqual({
      code: 0,
      err: '',
      out: `Rejected step isolate of ${INC1}: the step will not run.`,
    });
    expect(JSON.parse(server.events[0]?.body ?? '')).toMatchObject({ decision: 'reject' });
    expect(fake.steps[0]?.decided).toBe('REJECTED');
  });

  it('refuses a second decision with the server message (exit 6)', async () => {
    expect((await run(approve, [INC1, '--reason', 'go', ...endpoint])).code).toBe(0);
    useCredentials('AKIAEXAMPLEBOB000001', BOB);
    expect(await run(reject, [INC1, '--reason', 'stop', ...endpoint])).toEqual({
      code: 6,
      out: '',
      err: `step isolate of ${INC1} was already approved`,
    });
  });

  it('reports an unknown incident or step with the server message (exit 5)', async () => {
    expect(await run(approve, [UNKNOWN, '--reason', 'go', ...endpoint])).toEqual({
      code: 5,
      out: '',
      err: `no incident ${UNKNOWN}`,
    });
    expect(await run(approve, [INC1, '--step', 'detach', '--reason', 'go', ...endpoint])).toEqual({
      code: 5,
      out: '',
      err: `${INC1} has no step detach waiting`,
    });
  });

  it('refuses an expired step or an ambiguous one with the server message (exit 6)', async () => {
    const [isolate] = fake.steps;
    if (!isolate) throw new Error('fixture');
    fake.steps.push({ ...isolate, step: 'snapshot', approvals: [] });
    expect(await run(approve, [INC1, '--reason', 'go', ...endpoint])).toEqual({
      code: 6,
      out: '',
      err: 'several steps wait: pass --step',
    });
    isolate.expiresAt = minutes(-1);
    expect(await run(approve, [INC1, '--step', 'isolate', '--reason', 'go', ...endpoint])).toEqual({
      code: 6,
      out: '',
      err: 'the approval window of isolate closed',
    });
  });

  it('requires --reason before any request (exit 2)', async () => {
    for (const argv of [[INC1], [INC1, '--reason', '   ']]) {
      const result = await run(approve, [...argv, ...endpoint]);
      expect(result.code).toBe(2);
      expect(result.err.split('\n')[0]).toBe('--reason is required: say why, for the audit ledger');
    }
    expect(server.requests).toEqual([]);
  });

  it('refuses a malformed incident id or step before any request (exit 2)', async () => {
    expect((await run(reject, ['INC-1', '--reason', 'x', ...endpoint])).code).toBe(2);
    const step = await run(approve, [
      INC1,
      '--step',
      'isolate-network',
      '--reason',
      'x',
      ...endpoint,
    ]);
    expect(step).toMatchObject({ code: 2 });
    expect(step.err).toBe(
      '--step: "isolate-network" is not a step id (letters and digits, as cordon pending shows)',
    );
    expect(server.requests).toEqual([]);
  });
});

describe('who may call', () => {
  it('names the caller when the function refuses it (exit 4)', async () => {
    useCredentials('AKIAEXAMPLEMALLORY01', PRINCIPALS.AKIAEXAMPLEMALLORY01);
    const result = await run(approve, [INC1, '--reason', 'trust me', ...endpoint]);
    expect(result).toEqual({
      code: 4,
      out: '',
      err: 'not permitted: arn:aws:sts::123456789012:assumed-role/Developer/mallory is not a Cordon responder (responderPrincipalArns in cdk.json)',
    });
    expect(server.requests).toEqual([{ method: 'POST', path: '/decisions', status: 403 }]);
    expect(server.events).toEqual([]);
    expect(result.err).not.toContain('mallory-secret-key');
  });

  it('refuses a key the stand-in does not know (exit 4)', async () => {
    useCredentials('AKIDUNKNOWN');
    expect(await run(pendingCommand, endpoint)).toEqual({
      code: 4,
      out: '',
      err: 'not permitted: your AWS identity is not a Cordon responder (responderPrincipalArns in cdk.json)',
    });
    expect(server.requests).toEqual([{ method: 'GET', path: '/pending', status: 403 }]);
  });

  it("shows the function's own reason for a contract forbidden error (exit 4)", async () => {
    const strict = await startFunctionUrl({
      handler: async () => fail('forbidden', `${ALICE.arn} requested this rollback`),
      principals: PRINCIPALS,
    });
    try {
      const result = await run(pendingCommand, ['--endpoint', strict.url]);
      expect(result).toMatchObject({ code: 4, err: `${ALICE.arn} requested this rollback` });
    } finally {
      await strict.close();
    }
  });

  it('proves who it is to the function with every request, bound to that request', async () => {
    await run(approve, [INC1, '--step', 'isolate', '--reason', 'ok', ...endpoint]);
    await run(pendingCommand, endpoint);

    const [decision, pending] = server.events;
    const expectation = (event: typeof decision) => ({
      method: event?.requestContext.http.method ?? '',
      path: event?.rawPath ?? '',
      body: event?.body ?? '',
      audience: event?.requestContext.domainName ?? '',
      region: 'us-east-1',
      now: new Date(),
    });
    const proofOf = (event: typeof decision) => event?.headers[CALLER_PROOF_HEADER];
    expect(
      checkCallerProof(proofOf(decision), expectation(decision)).headers.authorization,
    ).toMatch(/^AWS4-HMAC-SHA256 Credential=ASIAEXAMPLEALICE0001\//);
    expect(() => checkCallerProof(proofOf(decision), expectation(pending))).toThrow(
      'the caller proof was made for another request',
    );
  });

  it('says how to get credentials when there are none (exit 3)', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'cordon-no-creds-'));
    try {
      await writeFile(join(dir, 'config'), '');
      await writeFile(join(dir, 'credentials'), '');
      for (const name of ['AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY', 'AWS_SESSION_TOKEN']) {
        vi.stubEnv(name, undefined);
      }
      vi.stubEnv('AWS_CONFIG_FILE', join(dir, 'config'));
      vi.stubEnv('AWS_SHARED_CREDENTIALS_FILE', join(dir, 'credentials'));
      vi.stubEnv('AWS_EC2_METADATA_DISABLED', 'true');
      expect(await run(pendingCommand, endpoint)).toEqual({
        code: 3,
        out: '',
        err: NO_CREDENTIALS,
      });
      expect(server.requests).toEqual([]);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('the function URL stand-in', () => {
  const credentials = {
    accessKeyId: 'ASIAEXAMPLEALICE0001',
    secretAccessKey: ALICE.secretAccessKey,
    sessionToken: ALICE.sessionToken ?? '',
  };
  const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

  async function signed(body: string, as = credentials) {
    const url = new URL('decisions', server.url);
    const { host: _host, ...headers } = await signRequest({
      method: 'POST',
      url,
      body,
      region: 'us-east-1',
      credentials: as,
    });
    return { url, headers };
  }

  it('refuses a body other than the one signed (403), and accepts the signed one', async () => {
    const body = JSON.stringify({ incidentId: INC1, decision: 'reject', reason: 'noise' });
    const tampered = JSON.stringify({ incidentId: INC1, decision: 'approve', reason: 'noise' });
    const { url, headers } = await signed(body);
    expect(headers.authorization).toMatch(
      /^AWS4-HMAC-SHA256 Credential=ASIAEXAMPLEALICE0001\/\d{8}\/us-east-1\/lambda\/aws4_request, SignedHeaders=content-type;host;x-amz-content-sha256;x-amz-date;x-amz-security-token, Signature=[0-9a-f]{64}$/,
    );

    const attempts = [
      headers,
      // The attacker fixes up the body hash but cannot re-sign.
      { ...headers, 'x-amz-content-sha256': sha256(tampered) },
    ];
    for (const h of attempts) {
      const response = await fetch(url, { method: 'POST', headers: h, body: tampered });
      expect(response.status).toBe(403);
      expect(await response.json()).toEqual({ Message: 'Forbidden' });
    }
    expect(server.events).toEqual([]);

    const genuine = await fetch(url, { method: 'POST', headers, body });
    expect(genuine.status).toBe(200);
    expect(server.events).toHaveLength(1);
  });

  it('refuses unsigned requests, a wrong secret and a wrong session token (403)', async () => {
    const body = JSON.stringify({ incidentId: INC1, decision: 'reject', reason: 'noise' });
    const unsigned = await fetch(new URL('pending', server.url));
    const wrongSecret = await signed(body, { ...credentials, secretAccessKey: 'guessed' });
    const wrongToken = await signed(body, { ...credentials, sessionToken: 'stale' });
    const statuses = [unsigned.status];
    for (const { url, headers } of [wrongSecret, wrongToken]) {
      statuses.push((await fetch(url, { method: 'POST', headers, body })).status);
    }
    expect(statuses).toEqual([403, 403, 403]);
    expect(server.events).toEqual([]);
  });
});

describe('signing and endpoint discovery', () => {
  it('computes the AWS SigV4 test-suite signature (get-vanilla) with the node:crypto hash', async () => {
    const signer = new SignatureV4({
      service: 'service',
      region: 'us-east-1',
      credentials: {
        accessKeyId: 'AKIDEXAMPLE',
        secretAccessKey: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY',
      },
      sha256: Sha256,
      applyChecksum: false,
    });
    const request = await signer.sign(
      {
        method: 'GET',
        protocol: 'https:',
        hostname: 'example.amazonaws.com',
        path: '/',
        headers: { host: 'example.amazonaws.com' },
      },
      { signingDate: new Date('2015-08-30T12:36:00Z') },
    );
    expect(request.headers.authorization).toBe(
      'AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, SignedHeaders=host;x-amz-date, Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31',
    );
  });

  it('signs for the region a function URL names, else the fallback', () => {
    expect(
      signingRegion(new URL('https://abc123xyz.lambda-url.eu-west-2.on.aws/'), 'us-east-1'),
    ).toBe('eu-west-2');
    expect(signingRegion(new URL('http://127.0.0.1:9000/'), 'ap-south-1')).toBe('ap-south-1');
    expect(() => signingRegion(new URL('http://127.0.0.1:9000/'))).toThrow(
      'cannot tell the region of http://127.0.0.1:9000: pass --region or set AWS_REGION',
    );
  });

  it('finds the endpoint in CORDON_APPROVAL_URL', async () => {
    vi.stubEnv('CORDON_APPROVAL_URL', server.url);
    const stackOutput = vi.fn(async () => 'https://never.example/');
    expect((await run(pendingCommand, [], { stackOutput })).code).toBe(0);
    expect(stackOutput).not.toHaveBeenCalled();
    expect(server.requests).toHaveLength(1);
  });

  it('finds the endpoint in the stack output', async () => {
    const stackOutput = vi.fn(async () => server.url);
    const result = await run(
      pendingCommand,
      ['--stack', 'CordonStaging', '--region', 'us-east-1'],
      {
        stackOutput,
      },
    );
    expect(result.code).toBe(0);
    expect(stackOutput).toHaveBeenCalledWith('CordonStaging', 'ApprovalUrl', 'us-east-1');
  });

  it('says where to put the endpoint when there is none (exit 2)', async () => {
    const none = await run(pendingCommand, [], { stackOutput: async () => undefined });
    expect(none).toEqual({ code: 2, out: '', err: NO_ENDPOINT });
    expect(NO_ENDPOINT).toBe(
      'no approval endpoint: pass --endpoint, set CORDON_APPROVAL_URL, or deploy the Cordon stack (output ApprovalUrl)',
    );
    const missing = await run(pendingCommand, [], {
      stackOutput: async () => {
        throw new Error('Stack with id Cordon does not exist');
      },
    });
    expect(missing).toEqual({
      code: 2,
      out: '',
      err: `${NO_ENDPOINT}; stack Cordon: Stack with id Cordon does not exist`,
    });
  });

  it('refuses a plain-http endpoint that is not this machine (exit 2)', async () => {
    expect(await run(pendingCommand, ['--endpoint', 'http://approvals.example.com/'])).toEqual({
      code: 2,
      out: '',
      err: '--endpoint: the approval endpoint must be https, not "http://approvals.example.com"',
    });
  });
});

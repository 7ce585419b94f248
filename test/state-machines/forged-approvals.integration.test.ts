/**
 * Attacks on the approval wait, run on the synthesized iam-credentials
 * playbook against moto with the real handlers. Whoever holds a waiting
 * step's task token (it is in the execution history, readable with
 * ReadOnlyAccess unless encrypted) can call SendTaskSuccess or
 * SendTaskFailure with anything: `states:SendTask*` cannot be scoped to a
 * state machine. The decider here is that caller: it bypasses the responder
 * API and hands the waiting task an output (or an error) of its own.
 *
 * Quarantine is configured as a two-person step, with the contained user
 * itself among the responders, so each forgery fails on its own check.
 */
import { IAMClient, ListAttachedUserPoliciesCommand } from '@aws-sdk/client-iam';
import { beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { seedCompromisedUser, userKeyFinding } from '../../demo/scenario.js';
import { kmsApprovalSigner } from '../../functions/responder-api/approval-signer.js';
import {
  ApprovalPolicySchema,
  type ApprovalRecord,
  signApproval,
} from '../../functions/shared/approval-record.js';
import { ENV } from '../../functions/shared/runtime-config.js';
import { type ApprovalRequest, type JSONValue, RehearsalEngine } from '../../rehearsal/engine.js';
import { findingSource } from '../../rehearsal/finding-source.js';
import { NamedError } from '../../rehearsal/functions.js';
import { MOTO_ACCOUNT_ID, MOTO_REGION, motoClientConfig, useMoto } from '../support/moto.js';
import { contextWith, explain, onlyExecution, outcomes } from './harness.js';

const { endpoint } = useMoto();
const iam = new IAMClient(motoClientConfig(endpoint));

const STEP = 'quarantineUser';
const RESPONDER_ROLE = `arn:aws:iam::${MOTO_ACCOUNT_ID}:role/SecurityResponder`;
const ALICE = `arn:aws:sts::${MOTO_ACCOUNT_ID}:assumed-role/SecurityResponder/alice`;
const BOB = `arn:aws:sts::${MOTO_ACCOUNT_ID}:assumed-role/SecurityResponder/bob`;
/** The user the finding is about (demo/scenario.ts), configured as a responder too. */
const CONTAINED_USER = `arn:aws:iam::${MOTO_ACCOUNT_ID}:user/ci-deployer`;

let engine: RehearsalEngine;
/** The token holder's answer to the waiting step; set by each test. */
let forger: (request: ApprovalRequest) => Promise<JSONValue>;
/** The approval key's id, as the template names it in moto. */
let keyId: string;

beforeAll(async () => {
  engine = await RehearsalEngine.create({
    account: MOTO_ACCOUNT_ID,
    region: MOTO_REGION,
    context: contextWith({
      responderPrincipalArns: [RESPONDER_ROLE, CONTAINED_USER],
      twoPersonRule: { 'iam-credentials': [STEP] },
    }),
    decide: (request) => forger(request),
  });
  const api = [...engine.model.functions.values()].find((f) => f.action === 'responder-api');
  keyId = ApprovalPolicySchema.parse(
    JSON.parse(api?.environment[ENV.approvalPolicy] ?? '{}'),
  ).keyId;
});

beforeEach(async () => {
  await engine.ensureResources();
  findingSource.clear();
});

/**
 * A record MAC'd with the real approval key, as the responder API makes
 * them: what a replay of a genuine decision from elsewhere carries. (moto
 * does not enforce the key policy that denies GenerateMac to everyone but
 * the responder API: test/infra/approval-key.test.ts shows that deny.)
 */
async function macd(request: ApprovalRequest, over: Partial<ApprovalRecord> = {}) {
  return signApproval(kmsApprovalSigner(keyId), {
    kind: 'grant',
    incidentId: request.incidentId,
    step: request.step,
    executionArn: request.executionArn,
    approvers: [ALICE, BOB],
    approvalsRequired: 2,
    decidedAt: new Date().toISOString(),
    ...over,
  });
}

/** A SendTaskSuccess output as a token holder writes it, with `grant`. */
const approval = (request: ApprovalRequest, grant?: unknown): JSONValue =>
  JSON.parse(
    JSON.stringify({
      decision: 'APPROVED',
      step: request.step,
      approver: ALICE,
      decidedAt: new Date().toISOString(),
      ...(grant === undefined ? {} : { grant }),
    }),
  );

async function quarantined(userName: string): Promise<string[]> {
  const out = await iam.send(new ListAttachedUserPoliciesCommand({ UserName: userName }));
  return (out.AttachedPolicies ?? []).flatMap((p) => (p.PolicyName ? [p.PolicyName] : []));
}

describe('SendTaskSuccess with a hand-made approval', () => {
  it('quarantines on a grant MAC-d for this incident, step and execution by two responders (control)', async () => {
    // Arrange
    const user = await seedCompromisedUser();
    forger = async (request) => approval(request, await macd(request));
    // Act
    const execution = onlyExecution(await engine.rehearse(userKeyFinding(user)));
    // Assert
    expect(execution.status, explain(execution)).toBe('SUCCEEDED');
    expect(outcomes(execution)).toContain(`${STEP}:CONTAINED`);
    expect(await quarantined(user.userName)).toEqual(['AWSDenyAll']);
  });

  const forgeries: [string, (request: ApprovalRequest) => Promise<JSONValue>, RegExp][] = [
    ['no grant record at all', async (r) => approval(r), /carries no approval record/],
    [
      'a grant with a made-up MAC',
      async (r) => approval(r, { record: (await macd(r)).record, mac: 'bm90IGEgbWFj' }),
      /does not verify/,
    ],
    [
      'a genuine grant of another step',
      async (r) => approval(r, await macd(r, { step: 'revokeUserSessions' })),
      /is for step "revokeUserSessions"/,
    ],
    [
      'a genuine grant of another execution',
      async (r) => approval(r, await macd(r, { executionArn: `${r.executionArn}-earlier` })),
      /is for executionArn/,
    ],
    [
      'a genuine grant of another incident',
      async (r) => approval(r, await macd(r, { incidentId: 'inc-ffffffffffffffffffff' })),
      /is for incidentId/,
    ],
    [
      'a grant by a principal that is not a responder',
      async (r) =>
        approval(
          r,
          await macd(r, {
            approvers: [ALICE, `arn:aws:sts::${MOTO_ACCOUNT_ID}:assumed-role/Developer/mallory`],
          }),
        ),
      /is not a configured responder/,
    ],
    [
      'a grant by the contained user itself',
      async (r) => approval(r, await macd(r, { approvers: [ALICE, CONTAINED_USER] })),
      /the decision is about that principal/,
    ],
    [
      'one approver on a two-person step',
      async (r) => approval(r, await macd(r, { approvers: [ALICE], approvalsRequired: 1 })),
      /needs 2 different approvers and has 1/,
    ],
  ];

  it.each(forgeries)(
    'refuses %s: quarantine not applied, FAILED recorded',
    async (_what, forge, why) => {
      // Arrange
      const user = await seedCompromisedUser();
      forger = forge;
      // Act
      const execution = onlyExecution(await engine.rehearse(userKeyFinding(user)));
      // Assert
      expect(execution.status).toBe('FAILED');
      expect(await quarantined(user.userName)).toEqual([]);
      const refusal = execution.ledger.find((e) => e.step === STEP && e.outcome === 'FAILED');
      expect(refusal?.summary, explain(execution)).toMatch(why);
      expect(outcomes(execution)).not.toContain(`${STEP}:CONTAINED`);
      expect(outcomes(execution)).not.toContain(`${STEP}:INTENT`);
    },
  );
});

describe('SendTaskFailure by the token holder', () => {
  it('records the contained principal "rejecting" its own quarantine as REJECTED_UNVERIFIED and notifies it as such', async () => {
    // Arrange
    const user = await seedCompromisedUser();
    forger = async () => {
      throw new NamedError('Cordon.ApprovalRejected', `rejected by ${ALICE}: false positive`);
    };
    // Act
    const execution = onlyExecution(await engine.rehearse(userKeyFinding(user)));
    // Assert
    expect(execution.status, explain(execution)).toBe('SUCCEEDED');
    expect(outcomes(execution)).toContain(`${STEP}:REJECTED_UNVERIFIED`);
    expect(outcomes(execution)).not.toContain(`${STEP}:REJECTED`);
    expect(execution.states).toContain('Quarantine user: notify unverified');
    const entry = execution.ledger.find((e) => e.outcome === 'REJECTED_UNVERIFIED');
    expect(entry?.summary).toMatch(/^UNVERIFIED rejection: not acted on, and nobody verifiably/);
  });

  it('records a States.Timeout sent long before the approval timeout as TIMEOUT_UNVERIFIED and notifies it', async () => {
    // Arrange: SendTaskFailure lets its caller name any error.
    const user = await seedCompromisedUser();
    forger = async () => {
      throw new NamedError('States.Timeout', 'no decision before the approval timeout');
    };
    // Act
    const execution = onlyExecution(await engine.rehearse(userKeyFinding(user)));
    // Assert
    expect(execution.status, explain(execution)).toBe('SUCCEEDED');
    expect(outcomes(execution)).toContain(`${STEP}:TIMEOUT_UNVERIFIED`);
    expect(outcomes(execution)).not.toContain(`${STEP}:NOT_ACTED_ON`);
    expect(execution.states).toContain('Quarantine user: notify unverified');
    expect(await quarantined(user.userName)).toEqual([]);
  });
});

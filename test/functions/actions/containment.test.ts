/**
 * The intent entry's rules in runContainment, on a containment with no AWS
 * behind it: which intents count as unfinished, and what a later attempt
 * records from one.
 */
import { QueryCommand } from '@aws-sdk/lib-dynamodb';
import { describe, expect, it } from 'vitest';
import { type Containment, runContainment } from '../../../functions/actions/containment.js';
import type { ApprovalVerifier } from '../../../functions/shared/approval-record.js';
import { CordonError, NotValidatedError } from '../../../functions/shared/errors.js';
import type { Approval } from '../../../functions/shared/incident.js';
import { INTENT, unfinishedIntents } from '../../../functions/shared/intents.js';
import { type LedgerEntry, verifyChain } from '../../../functions/shared/ledger.js';
import { localVerifier, signedRecordSync } from '../../support/approval-key.js';
import {
  ACCOUNT,
  ACTOR,
  APPROVALS,
  actionInput,
  approved,
  EXECUTION_ARN,
  fakeLedger,
  notRequired,
  RESPONDER,
  RESPONDER_ROLE,
  USER_ARN,
} from '../shared/containment-fixtures.js';

const STEP = 'disableAccessKey';
const ACTION = 'disable-access-key';

/** What an action appends for this step. */
const appended = (outcome: string, before?: unknown) => ({
  step: STEP,
  action: ACTION,
  actor: ACTOR,
  targetArn: USER_ARN,
  outcome,
  ...(before === undefined ? {} : { before }),
});

const entry = (seq: number, outcome: string, over: Partial<LedgerEntry> = {}): LedgerEntry => ({
  incidentId: 'inc-0123456789abcdef0123',
  seq,
  at: '2026-03-01T10:10:00.000Z',
  prevHash: '',
  hash: '',
  step: STEP,
  action: ACTION,
  actor: ACTOR,
  targetArn: USER_ARN,
  outcome,
  ...over,
});

describe('unfinishedIntents', () => {
  it('keeps the first intent until a conclusive outcome, and notes a FAILED after it', () => {
    const open = unfinishedIntents([
      entry(3, 'FAILED'),
      entry(1, INTENT),
      entry(2, INTENT),
      entry(0, 'CLAIMED', { step: 'triage', action: 'triage' }),
    ]);
    expect(open).toEqual([{ intent: entry(1, INTENT), failed: entry(3, 'FAILED') }]);
  });

  it.each(['CONTAINED', 'ALREADY_CONTAINED', 'TARGET_NOT_FOUND', 'DRY_RUN'])(
    '%s concludes an intent',
    (outcome) => {
      expect(unfinishedIntents([entry(1, INTENT), entry(2, outcome)])).toEqual([]);
      // An intent after the conclusion is a new attempt's.
      expect(unfinishedIntents([entry(1, INTENT), entry(2, outcome), entry(3, INTENT)])).toEqual([
        { intent: entry(3, INTENT) },
      ]);
    },
  );

  it('keeps steps, actions and targets apart', () => {
    const other = { targetArn: 'arn:aws:iam::123456789012:user/bob' };
    const open = unfinishedIntents([
      entry(1, INTENT),
      entry(2, INTENT, other),
      entry(3, 'CONTAINED', other),
      entry(4, INTENT, { action: 'quarantine-user', step: 'quarantineUser' }),
    ]);
    expect(open.map((o) => o.intent.seq)).toEqual([1, 4]);
  });
});

/** A key whose status the containment reads and sets, in memory. */
function keyContainment(world: { status: string }): Containment<string, { status: string }> {
  return {
    action: ACTION,
    target: () => USER_ARN,
    targetArn: (target) => target,
    read: async () => ({ ...world }),
    isContained: (state) => state.status === 'Inactive',
    describe: (_, state) => `disable the key (${state.status})`,
    apply: async () => {
      world.status = 'Inactive';
      return { ...world };
    },
  };
}

describe('runContainment after an earlier attempt', () => {
  it('records ALREADY_CONTAINED, not "finished by an earlier attempt", when that attempt failed', async () => {
    const fake = fakeLedger();
    const input = actionInput(STEP);
    await fake.ledger.append(input.incident.incidentId, appended(INTENT, { status: 'Active' }));
    await fake.ledger.append(input.incident.incidentId, appended('FAILED'));
    // Contained since, by someone else: a rollback must not undo it as Cordon's.
    const world = { status: 'Inactive' };

    const result = await runContainment(input, keyContainment(world), {
      ledger: fake.ledger,
      actor: ACTOR,
      approvals: APPROVALS,
    });

    expect(result.outcome).toBe('ALREADY_CONTAINED');
    expect(fake.entries().at(-1)).toMatchObject({
      outcome: 'ALREADY_CONTAINED',
      before: { status: 'Inactive' },
      detail: { intentSeq: 0 },
    });
  });

  it('finishes from the intent when no attempt failed, pointing at it', async () => {
    const fake = fakeLedger();
    const input = actionInput(STEP);
    await fake.ledger.append(input.incident.incidentId, appended(INTENT, { status: 'Active' }));
    const world = { status: 'Inactive' };

    const result = await runContainment(input, keyContainment(world), {
      ledger: fake.ledger,
      actor: ACTOR,
      approvals: APPROVALS,
    });

    expect(result.summary).toBe('disable the key (Active) (finished by an earlier attempt)');
    expect(fake.entries().at(-1)).toMatchObject({
      outcome: 'CONTAINED',
      before: { status: 'Active' },
      after: { status: 'Inactive' },
      detail: { intentSeq: 0 },
    });
  });

  it('finds the intent in the entries its handler read to validate the input, reading none again', async () => {
    const fake = fakeLedger();
    const input = actionInput(STEP);
    await fake.ledger.append(input.incident.incidentId, appended(INTENT, { status: 'Active' }));
    const entries = fake.entries();
    fake.ddb.resetHistory();

    const result = await runContainment(input, keyContainment({ status: 'Inactive' }), {
      ledger: fake.ledger,
      actor: ACTOR,
      approvals: APPROVALS,
      entries,
    });

    expect(result.summary).toBe('disable the key (Active) (finished by an earlier attempt)');
    expect(fake.ddb.commandCalls(QueryCommand)).toHaveLength(0);
    expect(fake.entries().map((e) => e.seq)).toEqual([0, 1]);
    expect(verifyChain(fake.entries())).toBeUndefined();
  });

  it('records a refusal without an intent, and changes nothing', async () => {
    class Refused extends CordonError {
      override readonly name = 'Cordon.Refused';
      readonly retryable = false;
    }
    const fake = fakeLedger();
    const world = { status: 'Active' };
    const containment = { ...keyContainment(world), refusal: () => new Refused('not this key') };

    await expect(
      runContainment(actionInput(STEP), containment, {
        ledger: fake.ledger,
        actor: ACTOR,
        approvals: APPROVALS,
      }),
    ).rejects.toMatchObject({ name: 'Cordon.Refused' });

    expect(world.status).toBe('Active');
    expect(fake.entries().map((e) => [e.outcome, e.summary])).toEqual([['FAILED', 'not this key']]);
  });
});

/**
 * Attacks on approve mode: whoever holds a step's task token (it is in the
 * execution history) can SendTaskSuccess any `$.approval`. The action acts
 * only on a grant record the responder API MAC'd, for this incident, step
 * and execution, by configured responders.
 */
describe('runContainment in approve mode', () => {
  const TWO_PERSON = localVerifier([RESPONDER, RESPONDER_ROLE], { 'iam-credentials': [STEP] });
  const SECOND = `arn:aws:sts::${ACCOUNT}:assumed-role/SecurityResponder/bob`;
  const approveInput = (approval: Approval) => actionInput(STEP, { mode: 'approve', approval });

  async function attempt(approval: Approval, approvals = APPROVALS) {
    const fake = fakeLedger();
    const world = { status: 'Active' };
    const run = runContainment(approveInput(approval), keyContainment(world), {
      ledger: fake.ledger,
      actor: ACTOR,
      approvals,
    });
    return { run, world, fake };
  }

  it('acts on a grant record from the responder API for this incident, step and execution', async () => {
    // Arrange
    const { run, world } = await attempt(approved(STEP));
    // Act
    const result = await run;
    // Assert
    expect(result.outcome).toBe('CONTAINED');
    expect(world.status).toBe('Inactive');
  });

  const forgeries: [string, Approval, ApprovalVerifier?][] = [
    [
      'an APPROVED output with no grant record',
      { decision: 'APPROVED', step: STEP, approver: RESPONDER, decidedAt: '2026-03-01T10:05:00Z' },
    ],
    [
      "a grant MAC'd with another key",
      {
        ...approved(STEP),
        grant: signedRecordSync(
          {
            kind: 'grant',
            incidentId: 'inc-0123456789abcdef0123',
            step: STEP,
            executionArn: EXECUTION_ARN,
            approvers: [RESPONDER],
            approvalsRequired: 1,
            decidedAt: '2026-03-01T10:05:00.000Z',
          },
          'another-key',
        ),
      },
    ],
    [
      'a grant whose record was edited after its MAC',
      (() => {
        const real = approved(STEP);
        return {
          ...real,
          grant: {
            record: (real.grant?.record ?? '').replace(RESPONDER, RESPONDER_ROLE),
            mac: real.grant?.mac ?? '',
          },
        };
      })(),
    ],
    ['a grant of another step', { ...approved(STEP), grant: approved('quarantineUser').grant }],
    ['a grant of another execution', approved(STEP, { executionArn: `${EXECUTION_ARN}-replayed` })],
    ['a grant of another incident', approved(STEP, {}, 'inc-ffffffffffffffffffff')],
    ['a rejection record handed over as a grant', approved(STEP, { kind: 'rejection' })],
    [
      'a grant by a principal that is not a configured responder',
      approved(STEP, { approvers: [`arn:aws:iam::${ACCOUNT}:user/mallory`] }),
    ],
    [
      'a grant by the principal the incident is about',
      approved(STEP, { approvers: [USER_ARN] }),
      localVerifier([RESPONDER, USER_ARN]),
    ],
    ['one approver on a two-person step', approved(STEP), TWO_PERSON],
    [
      'the same approver twice on a two-person step',
      approved(STEP, { approvers: [RESPONDER, RESPONDER], approvalsRequired: 2 }),
      TWO_PERSON,
    ],
  ];

  it.each(forgeries)(
    'refuses %s: FAILED in the ledger, target untouched',
    async (_what, approval, approvals) => {
      // Arrange
      const { run, world, fake } = await attempt(approval, approvals);
      // Act
      await expect(run).rejects.toMatchObject({ name: 'Cordon.ApprovalMissing' });
      // Assert
      expect(world.status).toBe('Active');
      expect(fake.entries().map((e) => e.outcome)).toEqual(['FAILED']);
      expect(fake.entries()[0]?.summary).toMatch(
        /^step disableAccessKey of inc-\w+ was not acted on: /,
      );
    },
  );

  it.each([
    ["triage's marker, which an approve step's request replaces", notRequired('triage')],
    ['the approval an earlier step left', approved('quarantineUser')],
  ])('refuses %s: nothing written, target untouched', async (_what, approval) => {
    // Arrange
    const { run, world, fake } = await attempt(approval);
    // Act
    await expect(run).rejects.toMatchObject({ name: 'Cordon.ApprovalMissing' });
    // Assert
    expect(world.status).toBe('Active');
    expect(fake.entries()).toEqual([]);
  });

  it('acts on two different responders on a two-person step', async () => {
    // Arrange
    const { run, world } = await attempt(
      approved(STEP, { approvers: [RESPONDER, SECOND], approvalsRequired: 2 }),
      TWO_PERSON,
    );
    // Act
    const result = await run;
    // Assert
    expect(result.outcome).toBe('CONTAINED');
    expect(world.status).toBe('Inactive');
  });

  it('refuses every approval when no approval key is configured', async () => {
    // Arrange
    const fake = fakeLedger();
    const world = { status: 'Active' };
    // Act
    const run = runContainment(approveInput(approved(STEP)), keyContainment(world), {
      ledger: fake.ledger,
      actor: ACTOR,
    });
    // Assert
    await expect(run).rejects.toMatchObject({ name: 'Cordon.ApprovalMissing' });
    expect(world.status).toBe('Active');
  });
});

/**
 * An automatic step goes from its gate straight to its action, so
 * `$.approval` holds whatever an earlier step received. It grants nothing
 * and must not reach the audit record as if this step had been approved.
 */
describe('runContainment in auto mode', () => {
  it('acts without reading the approval an earlier step left, and records none', async () => {
    // Arrange
    const fake = fakeLedger();
    const world = { status: 'Active' };
    const input = actionInput(STEP, { mode: 'auto', approval: approved('quarantineUser') });
    // Act
    const result = await runContainment(input, keyContainment(world), {
      ledger: fake.ledger,
      actor: ACTOR,
      approvals: APPROVALS,
    });
    // Assert
    expect(result.outcome).toBe('CONTAINED');
    expect(world.status).toBe('Inactive');
    expect(fake.entries().map((e) => e.outcome)).toEqual([INTENT, 'CONTAINED']);
    for (const e of fake.entries()) expect(e.detail?.approval).toBeUndefined();
  });
});

/**
 * A direct invocation (an insider with lambda:InvokeFunction) hands the
 * action an input triage never validated. The step's reads start beside the
 * handler's check of it, so the check must still come first for everything
 * that writes: nothing recorded, nothing changed, whatever the reads found.
 */
describe('runContainment beside the check of its input', () => {
  const notTriages = () =>
    Promise.reject(new NotValidatedError('disable-access-key refused to act: forged'));

  it('starts its reads at once, and acts only once the check passes', async () => {
    // Arrange
    const fake = fakeLedger();
    const world = { status: 'Active' };
    const reads: string[] = [];
    let pass: (entries: readonly LedgerEntry[]) => void = () => undefined;
    const check = new Promise<readonly LedgerEntry[]>((resolve) => {
      pass = resolve;
    });
    const containment = {
      ...keyContainment(world),
      read: async () => {
        reads.push('read');
        return { ...world };
      },
    };
    // Act
    const run = runContainment(actionInput(STEP, { mode: 'auto' }), containment, {
      ledger: fake.ledger,
      actor: ACTOR,
      entries: check,
    });
    await new Promise((resolve) => setTimeout(resolve, 10));
    // Assert
    expect(reads).toEqual(['read']);
    expect(world.status).toBe('Active');
    expect(fake.entries()).toEqual([]);
    pass([]);
    expect((await run).outcome).toBe('CONTAINED');
    expect(world.status).toBe('Inactive');
  });

  it.each([
    ['a target found changed', { confirm: async () => 'IAM now has another user' }],
    ['a target already contained', { read: async () => ({ status: 'Inactive' }) }],
    ['a read that failed', { read: async () => Promise.reject(new Error('AccessDenied')) }],
    ['a target to contain', {}],
  ])(
    'refuses an input triage did not validate, with %s: nothing recorded or changed',
    async (_what, over) => {
      // Arrange
      const fake = fakeLedger();
      const world = { status: 'Active' };
      const containment = { ...keyContainment(world), ...over };
      // Act
      const run = runContainment(actionInput(STEP, { mode: 'auto' }), containment, {
        ledger: fake.ledger,
        actor: ACTOR,
        entries: notTriages(),
      });
      // Assert
      await expect(run).rejects.toMatchObject({ name: 'Cordon.NotValidated' });
      expect(world.status).toBe('Active');
      expect(fake.entries()).toEqual([]);
    },
  );
});

/**
 * A member of an attack sequence acts on its parent's grant, and only as a
 * member of the set the parent's claim recorded under this execution: a
 * child claimed later (by a compromised triage, or triage invoked again) is
 * not one, and no principal the sequence names may have granted it.
 */
describe('runContainment for a member of an attack sequence', () => {
  const PARENT = 'inc-aaaaaaaaaaaaaaaaaaaa';
  const CHILD = 'inc-0123456789abcdef0123';
  const member = actionInput(STEP, {
    mode: 'approve',
    incident: { ...actionInput(STEP).incident, parent: PARENT },
    approval: approved('containSequence', {}, PARENT),
  });

  /** The parent's claim under this execution: its children and who may not decide. */
  async function claimed(children: string[], subjects: string[] = []) {
    const fake = fakeLedger();
    await fake.ledger.append(PARENT, {
      step: 'triage',
      action: 'triage',
      actor: ACTOR,
      outcome: 'CLAIMED',
      executionArn: EXECUTION_ARN,
      detail: { children, subjects },
    });
    return fake;
  }

  async function run(fake: ReturnType<typeof fakeLedger>) {
    const world = { status: 'Active' };
    const result = runContainment(member, keyContainment(world), {
      ledger: fake.ledger,
      actor: ACTOR,
      approvals: APPROVALS,
    });
    return { result, world };
  }

  it("acts on the parent's grant when the parent's claim lists it", async () => {
    const { result, world } = await run(await claimed([CHILD]));
    await expect(result).resolves.toMatchObject({ outcome: 'CONTAINED' });
    expect(world.status).toBe('Inactive');
  });

  it("refuses a child the parent's claim does not list, and changes nothing", async () => {
    const { result, world } = await run(await claimed(['inc-bbbbbbbbbbbbbbbbbbbb']));
    await expect(result).rejects.toMatchObject({
      name: 'Cordon.ApprovalMissing',
      message: expect.stringContaining('is not a member of the set'),
    });
    expect(world.status).toBe('Active');
  });

  it('refuses a grant by a principal the sequence names, though not this member', async () => {
    // The responder who approved acted in the sequence (a refused, protected actor).
    const { result, world } = await run(await claimed([CHILD], [RESPONDER]));
    await expect(result).rejects.toMatchObject({
      name: 'Cordon.ApprovalMissing',
      message: expect.stringContaining('the decision is about that principal'),
    });
    expect(world.status).toBe('Active');
  });

  it('refuses when the parent claimed no set under this execution', async () => {
    const { result } = await run(fakeLedger());
    await expect(result).rejects.toMatchObject({
      name: 'Cordon.ApprovalMissing',
      message: expect.stringContaining('recorded no set of members'),
    });
  });
});

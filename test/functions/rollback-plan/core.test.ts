import { beforeEach, describe, expect, it } from 'vitest';
import { approvalStepOf, planRollback } from '../../../functions/rollback-plan/core.js';
import { INTENT } from '../../../functions/shared/intents.js';
import { entryHash, GENESIS_HASH, type LedgerEntry } from '../../../functions/shared/ledger.js';
import { fakeMacOf } from '../../support/ledger-mac.js';
import {
  fakeLedger,
  INSTANCE_ARN,
  INSTANCE_ID,
  INSTANCE_PROFILE_ARN,
  KEY_ID,
  SECRET_ARN,
  USER_ARN,
} from '../shared/containment-fixtures.js';
import {
  INCIDENT_ID,
  REQUESTER,
  ROLLBACK_ACTOR,
  ROLLBACK_EXECUTION,
} from '../shared/rollback-fixtures.js';

const request = (over: { step?: string; force?: boolean } = {}) => ({
  request: {
    incidentId: INCIDENT_ID,
    force: false,
    requestedBy: REQUESTER,
    reason: 'owner confirmed',
    ...over,
  },
  executionArn: ROLLBACK_EXECUTION,
});

describe('rollback-plan', () => {
  let fake: ReturnType<typeof fakeLedger>;
  beforeEach(() => {
    fake = fakeLedger();
  });
  const deps = () => ({ ledger: fake.ledger, actor: ROLLBACK_ACTOR });
  const append = (entry: Parameters<typeof fake.ledger.append>[1]) =>
    fake.ledger.append(INCIDENT_ID, entry);

  const asgMember = (protectedFromScaleIn: boolean) => ({
    group: 'web-workers',
    lifecycleState: 'InService',
    protectedFromScaleIn,
  });

  /** An ec2-instance incident's ledger: evidence, then the three isolation actions. */
  async function containedInstance() {
    await append({
      step: 'triage',
      action: 'triage',
      actor: 'triage',
      outcome: 'CLAIMED',
      findingId: 'f-1',
      detail: { findingType: 'Backdoor:EC2/C&CActivity.B' },
    });
    const contained = (step: string, action: string, before: unknown, after: unknown) =>
      append({
        step,
        action,
        actor: 'a',
        outcome: 'CONTAINED',
        targetArn: INSTANCE_ARN,
        before,
        after,
      });
    await contained(
      'preserveEvidence',
      'preserve-evidence',
      { instanceId: INSTANCE_ID, autoScaling: asgMember(false) },
      { instanceId: INSTANCE_ID, autoScaling: asgMember(true) },
    );
    await append({
      step: 'isolate',
      action: 'responder-api',
      actor: REQUESTER,
      outcome: 'APPROVAL_GRANTED',
    });
    await contained(
      'isolate',
      'detach-from-asg',
      { instanceId: INSTANCE_ID, group: 'web-workers' },
      { instanceId: INSTANCE_ID, group: null },
    );
    await contained(
      'isolate',
      'isolate-network',
      {
        instanceId: INSTANCE_ID,
        interfaces: [{ networkInterfaceId: 'eni-1', originalGroups: ['sg-1', 'sg-2'] }],
      },
      { instanceId: INSTANCE_ID, interfaces: [] },
    );
    await contained(
      'isolate',
      'detach-instance-profile',
      { instanceId: INSTANCE_ID, association: { profileArn: INSTANCE_PROFILE_ARN } },
      { instanceId: INSTANCE_ID, association: null },
    );
  }

  it('lists the CONTAINED entries newest first, each with what it restores, evidence only for its scale-in protection', async () => {
    await containedInstance();

    const plan = await planRollback(request(), deps());

    expect(plan).toEqual({
      incidentId: INCIDENT_ID,
      approvalStep: approvalStepOf(ROLLBACK_EXECUTION),
      findingId: 'f-1',
      findingType: 'Backdoor:EC2/C&CActivity.B',
      items: [
        {
          seq: 5,
          step: 'isolate',
          action: 'detach-instance-profile',
          rollbackAction: 'rollback-detach-instance-profile',
          targetArn: INSTANCE_ARN,
          restores: `${INSTANCE_ARN}: associate instance profile ${INSTANCE_PROFILE_ARN}`,
        },
        {
          seq: 4,
          step: 'isolate',
          action: 'isolate-network',
          rollbackAction: 'rollback-isolate-network',
          targetArn: INSTANCE_ARN,
          restores: `${INSTANCE_ARN}: security groups per interface -> eni-1: sg-1,sg-2`,
        },
        {
          seq: 3,
          step: 'isolate',
          action: 'detach-from-asg',
          rollbackAction: 'rollback-detach-from-asg',
          targetArn: INSTANCE_ARN,
          restores: `${INSTANCE_ARN}: back into Auto Scaling group web-workers (desired capacity +1)`,
        },
        {
          seq: 1,
          step: 'preserveEvidence',
          action: 'preserve-evidence',
          rollbackAction: 'rollback-preserve-evidence',
          targetArn: INSTANCE_ARN,
          restores: `${INSTANCE_ARN}: scale-in protection back to off in Auto Scaling group web-workers; the evidence is kept on purpose (incident tag, termination protection, kept volumes, snapshots stay)`,
        },
      ],
      skipped: [],
    });
    expect(plan.approvalStep).toMatch(/^rollback[0-9a-f]{12}$/);
    expect(fake.entries().at(-1)).toMatchObject({
      step: plan.approvalStep,
      action: 'rollback-plan',
      actor: ROLLBACK_ACTOR,
      outcome: 'ROLLBACK_REQUESTED',
      summary: `rollback of 4 action(s) of ${INCIDENT_ID} requested by ${REQUESTER}: owner confirmed`,
      detail: {
        requestedBy: REQUESTER,
        reason: 'owner confirmed',
        force: false,
        items: [5, 4, 3, 1],
        skipped: [],
      },
    });
  });

  it('says a rollback of a detach at the minimum leaves the replacement, and puts the protection back', async () => {
    await append({ step: 'triage', action: 'triage', actor: 't', outcome: 'CLAIMED' });
    await append({
      step: 'isolate',
      action: 'detach-from-asg',
      actor: 'a',
      outcome: 'CONTAINED',
      targetArn: INSTANCE_ARN,
      before: {
        instanceId: INSTANCE_ID,
        group: 'web-workers',
        lifecycleState: 'InService',
        protectedFromScaleIn: true,
        desiredCapacity: 1,
        minSize: 1,
        maxSize: 2,
      },
      after: { instanceId: INSTANCE_ID, group: null },
    });

    const plan = await planRollback(request(), deps());

    expect(plan.items.map((i) => i.restores)).toEqual([
      `${INSTANCE_ARN}: back into Auto Scaling group web-workers (desired capacity +1: the replacement the group launched when it left stays, so the group has one instance more than before; scale-in protection on)`,
    ]);
  });

  it('limits the plan to one step when asked', async () => {
    await containedInstance();
    await append({
      step: 'revokeInstanceRoleSessions',
      action: 'revoke-sessions',
      actor: 'a',
      outcome: 'CONTAINED',
      targetArn: 'arn:aws:iam::123456789012:role/web',
      before: { policyName: 'CordonRevokeOlderSessions', revokedBefore: null },
      after: { policyName: 'CordonRevokeOlderSessions', revokedBefore: '2026-03-01T10:00:00.000Z' },
    });

    const plan = await planRollback(request({ step: 'revokeInstanceRoleSessions' }), deps());

    expect(plan.items.map((i) => [i.seq, i.rollbackAction, i.restores])).toEqual([
      [
        6,
        'rollback-revoke-sessions',
        'arn:aws:iam::123456789012:role/web: remove inline deny policy CordonRevokeOlderSessions (sessions issued before 2026-03-01T10:00:00.000Z work again)',
      ],
    ]);
    expect(plan.skipped).toEqual([]);
  });

  it('leaves out entries an earlier rollback undid', async () => {
    await containedInstance();
    await append({
      step: 'isolate',
      action: 'rollback-detach-instance-profile',
      actor: 'r',
      outcome: 'ROLLED_BACK',
      detail: { entrySeq: 5 },
    });
    await append({
      step: 'isolate',
      action: 'rollback-isolate-network',
      actor: 'r',
      outcome: 'ROLLBACK_REFUSED',
      detail: { entrySeq: 4 },
    });

    const plan = await planRollback(request(), deps());

    expect(plan.items.map((i) => i.seq)).toEqual([4, 3, 1]);
  });

  it('names steps that stopped or failed part of the way as skipped, with the entry holding their before-state', async () => {
    await containedInstance();
    const quarantine = {
      step: 'quarantineUser',
      action: 'quarantine-user',
      actor: 'a',
      targetArn: USER_ARN,
      before: { quarantinePolicy: false, loginProfile: true },
    };
    // Concluded: an intent followed by CONTAINED is an item, not a skip.
    await append({
      ...quarantine,
      step: 'disableAccessKey',
      action: 'disable-access-key',
      outcome: INTENT,
    });
    await append({
      ...quarantine,
      step: 'disableAccessKey',
      action: 'disable-access-key',
      outcome: 'CONTAINED',
    });
    // Unfinished: an intent, then a FAILED attempt, then nothing.
    await append({ ...quarantine, outcome: INTENT });
    await append({ ...quarantine, outcome: 'FAILED' });
    // Unfinished: an intent and nothing after it (stopped, or still running).
    await append({
      ...quarantine,
      step: 'revokeUserSessions',
      action: 'revoke-sessions',
      outcome: INTENT,
    });

    const plan = await planRollback(request(), deps());

    expect(plan.items.map((i) => i.seq)).toEqual([7, 5, 4, 3, 1]);
    expect(plan.skipped).toContainEqual({
      seq: 8,
      step: 'quarantineUser',
      action: 'quarantine-user',
      targetArn: USER_ARN,
      reason:
        'it failed (entry #9) after its INTENT entry #8, possibly part of the way; compare the target with the before-state in #8 and restore by hand',
    });
    expect(plan.skipped).toContainEqual({
      seq: 10,
      step: 'revokeUserSessions',
      action: 'revoke-sessions',
      targetArn: USER_ARN,
      reason:
        'it has no outcome after its INTENT entry #10 (it stopped part of the way, or is still running); compare the target with the before-state in #10 and restore by hand',
    });
    expect(plan.skipped.map((s) => s.seq)).toEqual([10, 8]);
  });

  it('says a rotation is not rolled back, and fails clearly when nothing else is left', async () => {
    await append({ step: 'triage', action: 'triage', actor: 't', outcome: 'CLAIMED' });
    await append({
      step: 'rotateSecret',
      action: 'rotate-secret',
      actor: 'a',
      outcome: 'CONTAINED',
      targetArn: SECRET_ARN,
    });

    await expect(planRollback(request(), deps())).rejects.toMatchObject({
      name: 'Cordon.NothingToRollBack',
      message: `nothing to roll back for ${INCIDENT_ID}: only actions that are not rolled back (rotate-secret: a rotation cannot be undone: the previous value is retired at its back end; nothing is restored)`,
    });
    expect(fake.entries().at(-1)).toMatchObject({
      step: 'rollback',
      outcome: 'NOTHING_TO_ROLL_BACK',
      detail: { requestedBy: REQUESTER },
    });
  });

  it('fails clearly for a step the incident does not have', async () => {
    await containedInstance();

    await expect(planRollback(request({ step: 'quarantineUser' }), deps())).rejects.toMatchObject({
      name: 'Cordon.NothingToRollBack',
      message: `nothing to roll back for step quarantineUser of ${INCIDENT_ID}: no such step`,
    });
  });

  it('fails clearly for an unknown incident, writing nothing', async () => {
    await expect(planRollback(request(), deps())).rejects.toMatchObject({
      name: 'Cordon.UnknownIncident',
      message: `no incident ${INCIDENT_ID} in the ledger`,
    });
    expect(fake.entries()).toEqual([]);
  });

  it('describes a key and a user quarantine restore exactly', async () => {
    await append({ step: 'triage', action: 'triage', actor: 't', outcome: 'CLAIMED' });
    await append({
      step: 'disableAccessKey',
      action: 'disable-access-key',
      actor: 'a',
      outcome: 'CONTAINED',
      targetArn: USER_ARN,
      before: { accessKeyId: KEY_ID, status: 'Active' },
      after: { accessKeyId: KEY_ID, status: 'Inactive' },
    });
    await append({
      step: 'quarantineUser',
      action: 'quarantine-user',
      actor: 'a',
      outcome: 'CONTAINED',
      targetArn: USER_ARN,
      before: { quarantinePolicy: false, loginProfile: null },
      after: { quarantinePolicy: true, loginProfile: null },
    });

    const plan = await planRollback(request(), deps());

    expect(plan.items.map((i) => i.restores)).toEqual([
      `${USER_ARN}: remove the deny-all policy quarantine added (AWSDenyAll, or CordonQuarantine from an earlier version; the deleted console password is not restored)`,
      `access key ${KEY_ID} of ${USER_ARN}: Inactive -> Active`,
    ]);
  });

  it('refuses an incident whose ledger was rewritten and re-hashed without the key, recording the refusal', async () => {
    // Arrange: an insider with PutItem rewrites the key's before-state (to re-enable
    // a key of their choosing) and re-hashes every entry after it; it has no ledger key.
    await append({ step: 'triage', action: 'triage', actor: 't', outcome: 'CLAIMED' });
    await append({
      step: 'disableAccessKey',
      action: 'disable-access-key',
      actor: 'a',
      outcome: 'CONTAINED',
      targetArn: USER_ARN,
      before: { accessKeyId: KEY_ID, status: 'Active' },
      after: { accessKeyId: KEY_ID, status: 'Inactive' },
    });
    const forged: LedgerEntry[] = [];
    for (const e of fake.entries()) {
      const { hash: _h, mac: _m, ...content } = e;
      const body = {
        ...content,
        ...(e.seq === 1
          ? { before: { accessKeyId: 'AKIAATTACKERKEY00000', status: 'Active' } }
          : {}),
        prevHash: forged.at(-1)?.hash ?? GENESIS_HASH,
      };
      const hash = entryHash(body);
      forged.push({ ...body, hash, mac: fakeMacOf(hash, 'not the ledger key') });
    }
    const tampered = {
      entries: async () => forged,
      append: fake.ledger.append.bind(fake.ledger),
      verify: fake.ledger.verify.bind(fake.ledger),
    };

    // Act
    const planned = planRollback(request(), { ledger: tampered, actor: ROLLBACK_ACTOR });

    // Assert
    await expect(planned).rejects.toMatchObject({
      name: 'Cordon.LedgerTampered',
      message: expect.stringContaining(`broken at entry #0 (forged`),
    });
    expect(fake.entries().at(-1)).toMatchObject({
      outcome: 'LEDGER_TAMPERED',
      action: 'rollback-plan',
      executionArn: ROLLBACK_EXECUTION,
    });
  });
});

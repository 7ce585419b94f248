import type { RollbackFunctionName } from '../../../functions/actions/registry.js';
import type { Approval } from '../../../functions/shared/incident.js';
import type { RollbackInput } from '../../../functions/shared/rollback.js';
import { signedRecordSync } from '../../support/approval-key.js';
import { ACCOUNT, type fakeLedger, RESPONDER } from './containment-fixtures.js';

/**
 * Fixtures for the rollback functions: an incident's ledger as containment
 * and a granted rollback approval leave it, and the input the rollback state
 * machine sends for one of its CONTAINED entries.
 */

export const INCIDENT_ID = 'inc-0123456789abcdef0123';
export const ROLLBACK_EXECUTION = `arn:aws:states:us-east-1:${ACCOUNT}:execution:Cordon-rollback:run-1`;
export const APPROVAL_STEP = 'rollback0123456789ab';
export const REQUESTER = `arn:aws:sts::${ACCOUNT}:assumed-role/SecurityResponder/alice`;
export const ROLLBACK_ACTOR = `arn:aws:iam::${ACCOUNT}:role/cordon/cordon-rollback`;

/** Another responder's approval of the rollback (its requester may not approve it), with its grant record. */
export const rollbackApproval = (step = APPROVAL_STEP): Approval => ({
  decision: 'APPROVED',
  step,
  approver: RESPONDER,
  decidedAt: '2026-03-01T11:00:00.000Z',
  grant: signedRecordSync({
    kind: 'grant',
    incidentId: INCIDENT_ID,
    step,
    executionArn: ROLLBACK_EXECUTION,
    approvers: [RESPONDER],
    approvalsRequired: 1,
    decidedAt: '2026-03-01T11:00:00.000Z',
    requestedBy: REQUESTER,
  }),
});

export interface Contained {
  readonly step: string;
  readonly action: string;
  readonly targetArn: string;
  readonly before: unknown;
  readonly after: unknown;
}

/**
 * Writes a claim, the CONTAINED entry, and (unless `granted` is false) the
 * rollback's APPROVAL_GRANTED entry; returns the rollback input for it.
 */
export async function containedThenApproved(
  fake: ReturnType<typeof fakeLedger>,
  rollbackAction: RollbackFunctionName,
  contained: Contained,
  options: { force?: boolean; granted?: boolean; approval?: Approval } = {},
): Promise<RollbackInput> {
  await fake.ledger.append(INCIDENT_ID, {
    step: 'triage',
    action: 'triage',
    actor: 'triage-role',
    outcome: 'CLAIMED',
    findingId: 'f-0001',
    detail: { findingType: 'UnauthorizedAccess:IAMUser/MaliciousIPCaller' },
  });
  const entry = await fake.ledger.append(INCIDENT_ID, {
    step: contained.step,
    action: contained.action,
    actor: 'containment-role',
    outcome: 'CONTAINED',
    targetArn: contained.targetArn,
    before: contained.before,
    after: contained.after,
    findingId: 'f-0001',
  });
  if (options.granted !== false) {
    await fake.ledger.append(INCIDENT_ID, {
      step: APPROVAL_STEP,
      action: 'responder-api',
      actor: REQUESTER,
      outcome: 'APPROVAL_GRANTED',
      executionArn: ROLLBACK_EXECUTION,
    });
  }
  return {
    incidentId: INCIDENT_ID,
    approvalStep: APPROVAL_STEP,
    item: {
      seq: entry.seq,
      step: contained.step,
      action: contained.action,
      rollbackAction,
      targetArn: contained.targetArn,
      restores: 'test',
    },
    force: options.force ?? false,
    requestedBy: REQUESTER,
    reason: 'owner confirmed',
    approval: options.approval ?? rollbackApproval(),
    executionArn: ROLLBACK_EXECUTION,
  };
}

/** The rollback entries the function wrote (after the fixture's). */
export const rollbackEntries = (fake: ReturnType<typeof fakeLedger>) =>
  fake.entries().filter((e) => e.action.startsWith('rollback-'));

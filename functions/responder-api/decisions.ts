import { SendTaskFailureCommand, SendTaskSuccessCommand } from '@aws-sdk/client-sfn';
import { type SignedApproval, signApproval } from '../shared/approval-record.js';
import { APPROVAL_REJECTED, classifyAwsError } from '../shared/errors.js';
import { samePrincipal } from '../shared/iam-arn.js';
import type { Approval } from '../shared/incident.js';
import type { LedgerEntry } from '../shared/ledger.js';
import { boundedText } from '../shared/text.js';
import { EndpointError, type ResponderDeps } from './api.js';
import type { DecisionRequest, DecisionResponse } from './contract.js';
import type { ApprovalItem, RecordedApproval } from './store.js';

/**
 * Deciding a waiting step: who may, whether it still waits, the two-person
 * rule, recording the decision in the ledger, and delivering it to the
 * waiting execution exactly once.
 */

/** Ledger outcomes the responder API writes for decisions. */
export const DECISION_OUTCOMES = {
  granted: 'APPROVAL_GRANTED',
  denied: 'APPROVAL_DENIED',
  /** Two-person rule: the first of two approvals. */
  first: 'FIRST_APPROVAL',
  /** Recorded, but Step Functions had stopped waiting (timed out or stopped). */
  undelivered: 'DECISION_UNDELIVERED',
} as const;
const DECIDED_OUTCOMES: ReadonlySet<string> = new Set([
  DECISION_OUTCOMES.granted,
  DECISION_OUTCOMES.denied,
]);

/** The rejection's summary, bounded; with its record the cause stays well below SendTaskFailure's 32768. */
const CAUSE_MAX = 1000;

/** SendTask errors meaning the execution no longer waits for this token. */
const GONE = new Set(['TaskTimedOut', 'TaskDoesNotExist', 'InvalidToken']);

/** Records a responder's decision and delivers it to the waiting execution. */
export async function decide(
  deps: ResponderDeps,
  callerArn: string,
  request: DecisionRequest,
): Promise<DecisionResponse> {
  const item = await waitingItem(deps, request);
  refuseSelfDecision(item, callerArn);
  const at = deps.now();
  const mine: RecordedApproval = {
    approver: callerArn,
    at: at.toISOString(),
    reason: boundedText(request.reason, 1000),
  };

  if (item.status !== 'WAITING') return resume(deps, item, callerArn, request);
  if (at.getTime() >= item.expiresAt * 1000) {
    throw new EndpointError(
      'expired',
      `step ${item.step} of ${item.incidentId} timed out at ${new Date(item.expiresAt * 1000).toISOString()}: Cordon did not act, and no decision can be taken now`,
    );
  }

  if (request.decision === 'approve' && item.approvalsRequired === 2) {
    const first = item.approvals[0];
    if (first && first.approver === callerArn) {
      throw new EndpointError(
        'same_approver',
        `you already approved step ${item.step} of ${item.incidentId}; the two-person rule needs a different responder`,
      );
    }
    if (!first) return firstApproval(deps, item, mine);
  }

  const status = request.decision === 'approve' ? 'APPROVED' : 'REJECTED';
  const approvals = status === 'APPROVED' ? [...item.approvals, mine] : item.approvals;
  if (!(await deps.store.decide(item, status, mine, approvals, at))) {
    // Someone decided between our read and our write: report theirs.
    const now = await deps.store.get(item.incidentId, item.step);
    throw alreadyDecided(now ?? item);
  }
  const decided: ApprovalItem = {
    ...item,
    status,
    decidedBy: callerArn,
    decidedAt: mine.at,
    reason: mine.reason,
    approvals,
  };
  const signed = await decisionRecord(deps, decided);
  await recordDecision(deps, decided, signed);
  return deliver(deps, decided, signed);
}

/**
 * Nobody decides about themselves: not a responder whose own user or role
 * the incident is about (any session of a contained role is that role:
 * the principal approving or rejecting its own containment, or its
 * rollback), nor a rollback's requester (one person re-opening access
 * alone). A requester, like an approver under the two-person rule, is a
 * person: one user, or one role session. Checked before anything is
 * recorded.
 */
function refuseSelfDecision(item: ApprovalItem, callerArn: string): void {
  const subject = item.subjects.find((arn) => samePrincipal(callerArn, arn));
  if (subject !== undefined) {
    throw new EndpointError(
      'forbidden',
      `${callerArn} is ${subject}, which incident ${item.incidentId} is about: another responder must decide`,
    );
  }
  if (item.requestedBy === callerArn) {
    throw new EndpointError(
      'forbidden',
      `${callerArn} requested this rollback of ${item.incidentId}: another responder must approve it`,
    );
  }
}

/** The item a request is about: the named step, or the incident's only waiting step. */
async function waitingItem(deps: ResponderDeps, request: DecisionRequest): Promise<ApprovalItem> {
  const { incidentId, step } = request;
  if (step !== undefined) {
    const item = await deps.store.get(incidentId, step);
    if (item) return item;
    throw await missing(deps, incidentId, step);
  }
  const items = await deps.store.ofIncident(incidentId);
  const nowSeconds = deps.now().getTime() / 1000;
  const waiting = items.filter((i) => i.status === 'WAITING' && i.expiresAt > nowSeconds);
  const [only, ...more] = waiting;
  if (only && more.length === 0) return only;
  if (only) {
    throw new EndpointError(
      'ambiguous_step',
      `${incidentId} has ${waiting.length} steps waiting (${waiting.map((i) => i.step).join(', ')}); name one with --step`,
    );
  }
  throw await missing(deps, incidentId, undefined);
}

/**
 * Why there is nothing to decide. Approval items expire, so the ledger
 * (which never does) tells an old decision or a timeout from a step or
 * incident that never existed.
 */
async function missing(
  deps: ResponderDeps,
  incidentId: string,
  step: string | undefined,
): Promise<EndpointError> {
  const entries = await deps.ledger.entries(incidentId);
  if (entries.length === 0) {
    return new EndpointError('unknown_incident', `no incident ${incidentId} in the ledger`);
  }
  const ofStep = (e: LedgerEntry) => step === undefined || e.step === step;
  const decision = entries.findLast((e) => ofStep(e) && DECIDED_OUTCOMES.has(e.outcome));
  if (decision) {
    const verb = decision.outcome === DECISION_OUTCOMES.granted ? 'approved' : 'rejected';
    return new EndpointError(
      'already_decided',
      `step ${decision.step} of ${incidentId} was already ${verb} by ${decision.actor} at ${decision.at}`,
    );
  }
  const requested = entries.findLast((e) => ofStep(e) && e.outcome === 'APPROVAL_REQUESTED');
  if (requested) {
    return new EndpointError(
      'expired',
      `step ${requested.step} of ${incidentId} is no longer waiting for a decision (it timed out or its execution stopped)`,
    );
  }
  return new EndpointError(
    'unknown_step',
    step === undefined
      ? `${incidentId} has no step waiting for a decision`
      : `${incidentId} has no step ${JSON.stringify(step)} waiting for a decision`,
  );
}

async function firstApproval(
  deps: ResponderDeps,
  item: ApprovalItem,
  mine: RecordedApproval,
): Promise<DecisionResponse> {
  if (!(await deps.store.addFirstApproval(item, mine))) {
    const now = await deps.store.get(item.incidentId, item.step);
    if (now && now.status === 'WAITING' && now.approvals[0]?.approver !== mine.approver) {
      // Another responder's first approval landed first: ours is the second.
      throw new EndpointError(
        'already_decided',
        `another responder approved step ${item.step} of ${item.incidentId} at the same moment; run the command again to give the second approval`,
      );
    }
    throw alreadyDecided(now ?? item);
  }
  await deps.ledger.append(item.incidentId, {
    ...entryBase(item, mine.approver),
    outcome: DECISION_OUTCOMES.first,
    summary: boundedText(
      `first of two approvals, by ${mine.approver}: ${mine.reason}; a different responder must approve too`,
      1000,
    ),
    detail: {
      approval: { decision: 'FIRST_APPROVAL', approver: mine.approver, reason: mine.reason },
    },
  });
  deps.logger.info('first of two approvals recorded', {
    incidentId: item.incidentId,
    step: item.step,
    approver: mine.approver,
  });
  return {
    incidentId: item.incidentId,
    step: item.step,
    status: 'AWAITING_SECOND_APPROVER',
    approver: mine.approver,
    decidedAt: mine.at,
    approvalsRequired: 2,
    approvals: [mine],
    message: `recorded your approval of step ${item.step} of ${item.incidentId} (1 of 2); a different responder must approve before it runs`,
  };
}

/**
 * A decided step. The same responder repeating the same decision resumes a
 * delivery that did not complete (a crash or a throttled call after the
 * decision was stored); anything else is a second decision, refused.
 */
async function resume(
  deps: ResponderDeps,
  item: ApprovalItem,
  callerArn: string,
  request: DecisionRequest,
): Promise<DecisionResponse> {
  const sameDecision = (item.status === 'APPROVED') === (request.decision === 'approve');
  if (item.delivered || item.decidedBy !== callerArn || !sameDecision || !item.taskToken) {
    throw alreadyDecided(item);
  }
  const entries = await deps.ledger.entries(item.incidentId);
  const recorded = entries.some(
    (e) => e.step === item.step && e.actor === callerArn && DECIDED_OUTCOMES.has(e.outcome),
  );
  const signed = await decisionRecord(deps, item);
  if (!recorded) await recordDecision(deps, item, signed);
  return deliver(deps, item, signed);
}

/**
 * The decision in the ledger, with its MAC'd record: what a rollback's
 * grant suppresses a finding's later emissions with (triage verifies it
 * there, since any Cordon function may append to the ledger).
 */
async function recordDecision(
  deps: ResponderDeps,
  item: ApprovalItem,
  signed: SignedApproval,
): Promise<void> {
  const approver = item.decidedBy ?? '';
  const approved = item.status === 'APPROVED';
  await deps.ledger.append(item.incidentId, {
    ...entryBase(item, approver),
    outcome: approved ? DECISION_OUTCOMES.granted : DECISION_OUTCOMES.denied,
    summary: boundedText(
      `${approved ? 'approved' : 'rejected'} by ${approver}: ${item.reason ?? ''}`,
      1000,
    ),
    detail: {
      approval: {
        decision: item.status,
        approver,
        reason: item.reason,
        decidedAt: item.decidedAt,
        ...(item.approvals.length > 1 ? { approvers: item.approvals.map((a) => a.approver) } : {}),
      },
      [approved ? 'grant' : 'rejection']: signed,
    },
  });
}

/** Sends the decision to the waiting execution, then forgets the token. */
async function deliver(
  deps: ResponderDeps,
  item: ApprovalItem,
  signed: SignedApproval,
): Promise<DecisionResponse> {
  const approver = item.decidedBy ?? '';
  const approved = item.status === 'APPROVED';
  if (!item.taskToken) throw alreadyDecided(item);
  const token = await deps.tokens.open(item.taskToken, {
    incidentId: item.incidentId,
    step: item.step,
  });
  try {
    if (approved) {
      const output: Approval = {
        decision: 'APPROVED',
        step: item.step,
        approver,
        ...(item.reason === undefined ? {} : { reason: item.reason }),
        decidedAt: item.decidedAt ?? deps.now().toISOString(),
        ...(item.approvals.length > 1 ? { approvers: item.approvals.map((a) => a.approver) } : {}),
        grant: signed,
      };
      await deps.sfn.send(
        new SendTaskSuccessCommand({ taskToken: token, output: JSON.stringify(output) }),
      );
    } else {
      await deps.sfn.send(
        new SendTaskFailureCommand({
          taskToken: token,
          error: APPROVAL_REJECTED,
          cause: JSON.stringify({
            summary: boundedText(`rejected by ${approver}: ${item.reason ?? ''}`, CAUSE_MAX),
            rejection: signed,
          } satisfies RejectionCause),
        }),
      );
    }
  } catch (error) {
    const name = error instanceof Error ? error.name : '';
    if (!GONE.has(name)) throw classifyAwsError(error, 'deliver decision');
    await undeliverable(deps, item, name);
  }
  await deps.store.delivered(item);
  deps.logger.info('decision delivered', {
    incidentId: item.incidentId,
    step: item.step,
    decision: item.status,
    approver,
  });
  return {
    incidentId: item.incidentId,
    step: item.step,
    status: approved ? 'APPROVED' : 'REJECTED',
    approver,
    decidedAt: item.decidedAt ?? '',
    approvalsRequired: item.approvalsRequired,
    approvals: item.approvals,
    message: approved
      ? `approved step ${item.step} of ${item.incidentId}: it runs now`
      : `rejected step ${item.step} of ${item.incidentId}: it will not run`,
  };
}

/**
 * The cause a rejection carries: a line for people, and the MAC'd record
 * record-failure verifies before it records the step as rejected by a
 * responder.
 */
export interface RejectionCause {
  readonly summary: string;
  readonly rejection: SignedApproval;
}

/**
 * The decision's record, MAC'd with the approval key: what the action (a
 * grant) or record-failure (a rejection) checks, since anyone holding the
 * task token could send Step Functions the rest.
 */
function decisionRecord(deps: ResponderDeps, item: ApprovalItem): Promise<SignedApproval> {
  const approved = item.status === 'APPROVED';
  return signApproval(deps.approvalKey, {
    kind: approved ? 'grant' : 'rejection',
    incidentId: item.incidentId,
    step: item.step,
    executionArn: item.executionArn,
    approvers: approved ? item.approvals.map((a) => a.approver) : [item.decidedBy ?? ''],
    approvalsRequired: item.approvalsRequired,
    decidedAt: item.decidedAt ?? deps.now().toISOString(),
    ...(item.requestedBy === undefined ? {} : { requestedBy: item.requestedBy }),
  });
}

/** The execution stopped waiting before the decision arrived: record that, refuse. */
async function undeliverable(
  deps: ResponderDeps,
  item: ApprovalItem,
  reason: string,
): Promise<never> {
  const approver = item.decidedBy ?? '';
  await deps.ledger.append(item.incidentId, {
    ...entryBase(item, approver),
    outcome: DECISION_OUTCOMES.undelivered,
    summary: `the execution was no longer waiting (${reason}): nothing was done`,
    detail: { error: reason },
  });
  await deps.store.delivered(item);
  deps.logger.warn('decision not delivered', {
    incidentId: item.incidentId,
    step: item.step,
    error: reason,
  });
  throw new EndpointError(
    'expired',
    `step ${item.step} of ${item.incidentId} is no longer waiting (${reason}); your decision is recorded, but Cordon did not act`,
  );
}

function entryBase(item: ApprovalItem, approver: string) {
  return {
    step: item.step,
    action: 'responder-api',
    actor: approver,
    mode: 'approve' as const,
    ...(item.targetArn === undefined ? {} : { targetArn: item.targetArn }),
    executionArn: item.executionArn,
    findingId: item.findingId,
  };
}

function alreadyDecided(item: ApprovalItem): EndpointError {
  if (item.status === 'WAITING') {
    return new EndpointError(
      'already_decided',
      `step ${item.step} of ${item.incidentId} changed while you decided; look again with cordon pending`,
    );
  }
  const verb = item.status === 'APPROVED' ? 'approved' : 'rejected';
  return new EndpointError(
    'already_decided',
    `step ${item.step} of ${item.incidentId} was already ${verb} by ${item.decidedBy ?? 'a responder'} at ${item.decidedAt ?? 'an earlier time'}; a decision is final`,
  );
}

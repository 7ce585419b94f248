import { createHash } from 'node:crypto';
import type { Logger } from '@aws-lambda-powertools/logger';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import {
  SendTaskFailureCommand,
  SendTaskSuccessCommand,
  SFNClient,
  StartExecutionCommand,
} from '@aws-sdk/client-sfn';
import middy from '@middy/core';
import type {
  APIGatewayProxyStructuredResultV2,
  LambdaFunctionURLEventWithIAMAuthorizer,
} from 'aws-lambda';
import { z } from 'zod';
import {
  type ApprovalItem,
  ApprovalStore,
  type RecordedApproval,
} from '../shared/approval-store.js';
import { clientOptions } from '../shared/aws.js';
import { boot } from '../shared/boot.js';
import { CircuitBreaker } from '../shared/breaker.js';
import { type Environment, requireEnv, requireJsonEnv } from '../shared/env.js';
import { APPROVAL_REJECTED, classifyAwsError } from '../shared/errors.js';
import { parseIamArn } from '../shared/iam-arn.js';
import type { Approval } from '../shared/incident.js';
import type { Ledger, LedgerEntry } from '../shared/ledger.js';
import { ENV } from '../shared/runtime-config.js';
import { boundedText } from '../shared/text.js';
import {
  BREAKER_LEDGER_ID,
  type BreakerStatus,
  type DecisionRequest,
  type DecisionResponse,
  type ErrorCode,
  INCIDENT_ID,
  type PendingResponse,
  type RollbackRequestBody,
  type RollbackResponse,
} from './contract.js';
import { route } from './http.js';

/** An incident's ledger entries, oldest first (validated by the CLI as TimelineResponse). */
export interface Timeline {
  readonly incidentId: string;
  readonly entries: readonly LedgerEntry[];
}

/**
 * The approval endpoint's logic, free of HTTP: who may decide, whether the
 * step still waits, recording the decision, and delivering it to Step
 * Functions. The caller is always the principal Lambda authenticated from
 * the request's SigV4 signature; nothing in a request body names a person.
 */

/** A refusal the endpoint returns as `{ error, message }` with ERROR_STATUS[code]. */
export class EndpointError extends Error {
  override readonly name = 'EndpointError';
  constructor(
    readonly code: ErrorCode,
    message: string,
  ) {
    super(message);
  }
}

/** Ledger outcomes the approval function writes. */
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

/** SendTaskFailure rejects a longer error name; the cause is bounded well below its limit. */
const CAUSE_MAX = 1000;

/** SendTask errors meaning the execution no longer waits for this token. */
const GONE = new Set(['TaskTimedOut', 'TaskDoesNotExist', 'InvalidToken']);

export interface ApprovalDeps {
  readonly store: Pick<
    ApprovalStore,
    'get' | 'ofIncident' | 'waiting' | 'addFirstApproval' | 'decide' | 'delivered'
  >;
  readonly ledger: Pick<Ledger, 'append' | 'entries'>;
  readonly sfn: Pick<SFNClient, 'send'>;
  readonly breaker: Pick<CircuitBreaker, 'state' | 'reset'>;
  /** IAM user and role ARNs allowed to decide. */
  readonly responders: readonly string[];
  readonly logger: Pick<Logger, 'info' | 'warn'>;
  /** The rollback state machine `POST /rollbacks` starts. */
  readonly rollbackStateMachineArn?: string;
  readonly now?: () => Date;
}

const ASSUMED_ROLE =
  /^arn:(aws(?:-[a-z]+)*):sts::(\d{12}):assumed-role\/([\w+=,.@-]{1,64})\/([\w+=,.@-]{1,64})$/;

/**
 * True when the signed caller is one of the configured responders: an IAM
 * user by its exact ARN, a role by any of its sessions (a session ARN drops
 * the role's path, so account and name identify the role).
 */
export function isResponder(callerArn: string, responders: readonly string[]): boolean {
  const session = ASSUMED_ROLE.exec(callerArn);
  return responders.some((responder) => {
    const iam = parseIamArn(responder);
    if (!iam) return false;
    if (session) {
      const [, partition, account, roleName] = session;
      return (
        iam.resourceType === 'role' &&
        iam.partition === partition &&
        iam.account === account &&
        iam.name === roleName
      );
    }
    return iam.resourceType === 'user' && responder === callerArn;
  });
}

export class ApprovalService {
  private readonly now: () => Date;

  constructor(private readonly deps: ApprovalDeps) {
    this.now = deps.now ?? (() => new Date());
  }

  /** Refuses anyone who is not a configured responder, whatever the URL's policy allowed. */
  authorize(callerArn: string | undefined): string {
    if (!callerArn || !isResponder(callerArn, this.deps.responders)) {
      throw new EndpointError(
        'forbidden',
        `${callerArn ?? 'an unsigned caller'} is not a Cordon responder (responderPrincipalArns)`,
      );
    }
    return callerArn;
  }

  /** The steps waiting now, oldest first. Expired ones are left out: they no longer wait. */
  async pending(): Promise<PendingResponse> {
    const nowSeconds = this.now().getTime() / 1000;
    const items = await this.deps.store.waiting();
    const pending = items
      .filter((item) => item.expiresAt > nowSeconds)
      .sort((a, b) => a.requestedAt.localeCompare(b.requestedAt))
      .map((item) => ({
        incidentId: item.incidentId,
        step: item.step,
        playbook: item.playbook,
        action: item.action,
        proposal: item.proposal,
        findingType: item.findingType,
        severityLabel: item.severityLabel,
        account: item.account,
        ...(item.targetArn === undefined ? {} : { targetArn: item.targetArn }),
        requestedAt: item.requestedAt,
        expiresAt: new Date(item.expiresAt * 1000).toISOString(),
        approvalsRequired: item.approvalsRequired,
        approvals: item.approvals,
      }));
    return { pending };
  }

  async timeline(incidentId: string): Promise<Timeline> {
    if (!INCIDENT_ID.test(incidentId)) {
      throw new EndpointError('invalid_request', 'incident id must look like inc-<20 hex digits>');
    }
    const entries = await this.deps.ledger.entries(incidentId);
    if (entries.length === 0) {
      throw new EndpointError('unknown_incident', `no incident ${incidentId} in the ledger`);
    }
    return { incidentId, entries };
  }

  async breakerStatus(): Promise<BreakerStatus> {
    return this.deps.breaker.state();
  }

  /**
   * Closes a tripped circuit breaker: automatic steps run again. Recorded in
   * the ledger under BREAKER_LEDGER_ID with the responder and the reason.
   */
  async resetBreaker(callerArn: string, reason: string): Promise<BreakerStatus> {
    const before = await this.deps.breaker.state();
    if (!(await this.deps.breaker.reset(callerArn, boundedText(reason, 1000)))) {
      throw new EndpointError(
        'not_tripped',
        'the circuit breaker is not tripped; nothing to reset',
      );
    }
    const after = await this.deps.breaker.state();
    await this.deps.ledger.append(BREAKER_LEDGER_ID, {
      step: 'breaker',
      action: 'approval',
      actor: callerArn,
      outcome: 'BREAKER_RESET',
      summary: boundedText(`circuit breaker reset by ${callerArn}: ${reason}`, 1000),
      before,
      after,
    });
    this.deps.logger.info('circuit breaker reset', { by: callerArn });
    return after;
  }

  /**
   * Starts the rollback state machine for a responder. It restores nothing
   * by itself: its first act is to ask for an approval of exactly what it
   * would restore. The requester is the signed caller.
   */
  async startRollback(callerArn: string, request: RollbackRequestBody): Promise<RollbackResponse> {
    const { incidentId, step } = request;
    const stateMachineArn = this.deps.rollbackStateMachineArn;
    if (!stateMachineArn) throw new EndpointError('internal', 'rollback is not configured here');
    const entries = await this.deps.ledger.entries(incidentId);
    if (entries.length === 0) {
      throw new EndpointError('unknown_incident', `no incident ${incidentId} in the ledger`);
    }
    if (step !== undefined && !entries.some((e) => e.step === step)) {
      throw new EndpointError('unknown_step', `${incidentId} has no step ${JSON.stringify(step)}`);
    }
    const at = this.now();
    const force = request.force ?? false;
    const input = {
      incidentId,
      ...(step === undefined ? {} : { step }),
      force,
      requestedBy: callerArn,
      reason: boundedText(request.reason, 1000),
    };
    // Unique per request, readable in the console: incident, time, and a digest of the rest.
    const digest = createHash('sha256').update(`${callerArn}\n${step ?? ''}\n${at.getTime()}`);
    const name = `${incidentId}-${at.getTime()}-${digest.digest('hex').slice(0, 8)}`;
    let executionArn: string | undefined;
    try {
      const out = await this.deps.sfn.send(
        new StartExecutionCommand({ stateMachineArn, name, input: JSON.stringify(input) }),
      );
      executionArn = out.executionArn;
    } catch (error) {
      throw classifyAwsError(error, 'start rollback');
    }
    if (!executionArn) throw new EndpointError('internal', 'Step Functions returned no execution');
    this.deps.logger.info('rollback started', { incidentId, step, force, caller: callerArn });
    return {
      incidentId,
      ...(step === undefined ? {} : { step }),
      force,
      requestedBy: callerArn,
      executionArn,
      startedAt: at.toISOString(),
      message: `rollback of ${step === undefined ? incidentId : `step ${step} of ${incidentId}`} started: it waits for a responder to approve exactly what it would restore (cordon pending)`,
    };
  }

  /** Records a responder's decision and delivers it to the waiting execution. */
  async decide(callerArn: string, request: DecisionRequest): Promise<DecisionResponse> {
    const item = await this.waitingItem(request);
    const at = this.now();
    const mine: RecordedApproval = {
      approver: callerArn,
      at: at.toISOString(),
      reason: boundedText(request.reason, 1000),
    };

    if (item.status !== 'WAITING') return this.resume(item, callerArn, request);
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
      if (!first) return this.firstApproval(item, mine);
    }

    const status = request.decision === 'approve' ? 'APPROVED' : 'REJECTED';
    const approvals = status === 'APPROVED' ? [...item.approvals, mine] : item.approvals;
    if (!(await this.deps.store.decide(item, status, mine, approvals, at))) {
      // Someone decided between our read and our write: report theirs.
      const now = await this.deps.store.get(item.incidentId, item.step);
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
    await this.recordDecision(decided);
    return this.deliver(decided);
  }

  /** The item a request is about: the named step, or the incident's only waiting step. */
  private async waitingItem(request: DecisionRequest): Promise<ApprovalItem> {
    const { incidentId, step } = request;
    if (step !== undefined) {
      const item = await this.deps.store.get(incidentId, step);
      if (item) return item;
      throw await this.missing(incidentId, step);
    }
    const items = await this.deps.store.ofIncident(incidentId);
    const nowSeconds = this.now().getTime() / 1000;
    const waiting = items.filter((i) => i.status === 'WAITING' && i.expiresAt > nowSeconds);
    const [only, ...more] = waiting;
    if (only && more.length === 0) return only;
    if (only) {
      throw new EndpointError(
        'ambiguous_step',
        `${incidentId} has ${waiting.length} steps waiting (${waiting.map((i) => i.step).join(', ')}); name one with --step`,
      );
    }
    throw await this.missing(incidentId, undefined);
  }

  /**
   * Why there is nothing to decide. Approval items expire, so the ledger
   * (which never does) tells an old decision or a timeout from a step or
   * incident that never existed.
   */
  private async missing(incidentId: string, step: string | undefined): Promise<EndpointError> {
    const entries = await this.deps.ledger.entries(incidentId);
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

  private async firstApproval(
    item: ApprovalItem,
    mine: RecordedApproval,
  ): Promise<DecisionResponse> {
    if (!(await this.deps.store.addFirstApproval(item, mine))) {
      const now = await this.deps.store.get(item.incidentId, item.step);
      if (now && now.status === 'WAITING' && now.approvals[0]?.approver !== mine.approver) {
        // Another responder's first approval landed first: ours is the second.
        throw new EndpointError(
          'already_decided',
          `another responder approved step ${item.step} of ${item.incidentId} at the same moment; run the command again to give the second approval`,
        );
      }
      throw alreadyDecided(now ?? item);
    }
    await this.deps.ledger.append(item.incidentId, {
      ...this.entryBase(item, mine.approver),
      outcome: DECISION_OUTCOMES.first,
      summary: boundedText(
        `first of two approvals, by ${mine.approver}: ${mine.reason}; a different responder must approve too`,
        1000,
      ),
      detail: {
        approval: { decision: 'FIRST_APPROVAL', approver: mine.approver, reason: mine.reason },
      },
    });
    this.deps.logger.info('first of two approvals recorded', {
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
  private async resume(
    item: ApprovalItem,
    callerArn: string,
    request: DecisionRequest,
  ): Promise<DecisionResponse> {
    const sameDecision = (item.status === 'APPROVED') === (request.decision === 'approve');
    if (item.delivered || item.decidedBy !== callerArn || !sameDecision || !item.taskToken) {
      throw alreadyDecided(item);
    }
    const entries = await this.deps.ledger.entries(item.incidentId);
    const recorded = entries.some(
      (e) => e.step === item.step && e.actor === callerArn && DECIDED_OUTCOMES.has(e.outcome),
    );
    if (!recorded) await this.recordDecision(item);
    return this.deliver(item);
  }

  private async recordDecision(item: ApprovalItem): Promise<void> {
    const approver = item.decidedBy ?? '';
    const approved = item.status === 'APPROVED';
    await this.deps.ledger.append(item.incidentId, {
      ...this.entryBase(item, approver),
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
          ...(item.approvals.length > 1
            ? { approvers: item.approvals.map((a) => a.approver) }
            : {}),
        },
      },
    });
  }

  /** Sends the decision to the waiting execution, then forgets the token. */
  private async deliver(item: ApprovalItem): Promise<DecisionResponse> {
    const approver = item.decidedBy ?? '';
    const approved = item.status === 'APPROVED';
    const token = item.taskToken;
    if (!token) throw alreadyDecided(item);
    try {
      if (approved) {
        const output: Approval = {
          decision: 'APPROVED',
          step: item.step,
          approver,
          ...(item.reason === undefined ? {} : { reason: item.reason }),
          decidedAt: item.decidedAt ?? this.now().toISOString(),
          ...(item.approvals.length > 1
            ? { approvers: item.approvals.map((a) => a.approver) }
            : {}),
        };
        await this.deps.sfn.send(
          new SendTaskSuccessCommand({ taskToken: token, output: JSON.stringify(output) }),
        );
      } else {
        await this.deps.sfn.send(
          new SendTaskFailureCommand({
            taskToken: token,
            error: APPROVAL_REJECTED,
            cause: boundedText(`rejected by ${approver}: ${item.reason ?? ''}`, CAUSE_MAX),
          }),
        );
      }
    } catch (error) {
      const name = error instanceof Error ? error.name : '';
      if (!GONE.has(name)) throw classifyAwsError(error, 'deliver decision');
      await this.undeliverable(item, name);
    }
    await this.deps.store.delivered(item);
    this.deps.logger.info('decision delivered', {
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

  /** The execution stopped waiting before the decision arrived: record that, refuse. */
  private async undeliverable(item: ApprovalItem, reason: string): Promise<never> {
    const approver = item.decidedBy ?? '';
    await this.deps.ledger.append(item.incidentId, {
      ...this.entryBase(item, approver),
      outcome: DECISION_OUTCOMES.undelivered,
      summary: `the execution was no longer waiting (${reason}): nothing was done`,
      detail: { error: reason },
    });
    await this.deps.store.delivered(item);
    this.deps.logger.warn('decision not delivered', {
      incidentId: item.incidentId,
      step: item.step,
      error: reason,
    });
    throw new EndpointError(
      'expired',
      `step ${item.step} of ${item.incidentId} is no longer waiting (${reason}); your decision is recorded, but Cordon did not act`,
    );
  }

  private entryBase(item: ApprovalItem, approver: string) {
    return {
      step: item.step,
      action: 'approval',
      actor: approver,
      mode: 'approve' as const,
      ...(item.targetArn === undefined ? {} : { targetArn: item.targetArn }),
      executionArn: item.executionArn,
      findingId: item.findingId,
    };
  }
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

export function makeHandler(env: Environment, clients = { sfn: new SFNClient(clientOptions) }) {
  const { logger, ledger, dynamo, now } = boot(env, 'approval');
  const service = new ApprovalService({
    store: new ApprovalStore({ client: dynamo, tableName: requireEnv(env, ENV.approvalsTable) }),
    ledger,
    sfn: clients.sfn,
    breaker: new CircuitBreaker({
      client: dynamo,
      tableName: requireEnv(env, ENV.guardrailsTable),
      now,
    }),
    responders: requireJsonEnv(env, ENV.responders, z.array(z.string())),
    rollbackStateMachineArn: requireEnv(env, ENV.rollbackStateMachine),
    logger,
    now,
  });
  // The event is never logged: it carries the caller's signed headers.
  return middy(
    (event: LambdaFunctionURLEventWithIAMAuthorizer): Promise<APIGatewayProxyStructuredResultV2> =>
      route(event, service, logger),
  ).use(injectLambdaContext(logger, { resetKeys: true, logEvent: false }));
}

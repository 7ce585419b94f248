import { targetArnOf } from '../actions/registry.js';
import {
  type ApprovalVerifier,
  approvalVerifier,
  checkApproval,
  principalsAmong,
} from '../shared/approval-record.js';
import { boot } from '../shared/boot.js';
import {
  type ContainmentActionName,
  PLAYBOOK_NAMES,
  SEQUENCE,
  stepsOf,
} from '../shared/catalog.js';
import type { Environment } from '../shared/env.js';
import { APPROVAL_REJECTED, TIMEOUT_ERROR_NAME } from '../shared/errors.js';
import { taskHandler } from '../shared/handler.js';
import {
  type ActionResult,
  INCIDENT_ID,
  type Incident,
  IncidentSchema,
  type Outcome,
  orphanIncidentId,
  TaskErrorSchema,
} from '../shared/incident.js';
import type { Ledger } from '../shared/ledger.js';
import { boundedText, causeText } from '../shared/text.js';
import { sequenceClaim } from '../shared/validated.js';
import { z } from '../shared/z.js';

export const RecordFailureInputSchema = z.strictObject({
  /** The step that failed: a playbook step id, or `triage`, `finding`, `notify`... */
  step: z.string().min(1),
  /** Absent when the failure came before an incident existed (an invalid finding). */
  incident: IncidentSchema.optional(),
  /** The incident, when there is no Incident object (a rollback): its entry goes there. */
  incidentId: z.string().regex(INCIDENT_ID).optional(),
  error: TaskErrorSchema,
  /**
   * What failed: an approval wait (a timeout or rejection means nothing was
   * done) or a task (a timeout may have left the action half done, so it is
   * a failure). `States.Timeout` alone cannot tell the two apart.
   */
  waited: z.enum(['approval', 'task']).default('task'),
  executionArn: z.string().min(1),
});
export type RecordFailureInput = z.infer<typeof RecordFailureInputSchema>;

export interface RecordFailureDeps {
  readonly ledger: Ledger;
  readonly actor: string;
  /**
   * Checks a rejection's record from the responder API. Without one, no
   * rejection is taken as a responder's.
   */
  readonly approvals?: ApprovalVerifier;
  readonly now?: () => Date;
}

/**
 * Step Functions times a wait out from when the task started, a little
 * before request-approval records the request's expiry (its own start,
 * a retry): a `States.Timeout` this much before that expiry is still taken
 * as the real one. A forged one inside this margin is taken as real too.
 */
export const TIMEOUT_MARGIN_SECONDS = 60;
const ERROR_NAME_MAX = 128;
const CAUSE_MAX = 400;

export interface FailureMapping {
  readonly outcome: Extract<
    Outcome,
    'NOT_ACTED_ON' | 'REJECTED' | 'FAILED' | 'REJECTED_UNVERIFIED' | 'TIMEOUT_UNVERIFIED'
  >;
  readonly summary: string;
}

/** What record-failure found out about an approval wait's end, beyond the error's name. */
export interface WaitVerdict {
  /** For a rejection: why its record does not verify (undefined: it does). */
  readonly rejection?: string;
  /** For a timeout: why it came too early to be the real one (undefined: on time). */
  readonly timeout?: string;
}

export function mapFailure(
  error: RecordFailureInput['error'],
  waited: RecordFailureInput['waited'] = 'task',
  verdict: WaitVerdict = {},
): FailureMapping {
  if (waited === 'approval' && error.Error === TIMEOUT_ERROR_NAME) {
    if (verdict.timeout !== undefined) {
      return {
        outcome: 'TIMEOUT_UNVERIFIED',
        summary: `UNVERIFIED timeout: not acted on; ${verdict.timeout}, so it was sent by whoever held the task token, not Step Functions`,
      };
    }
    return { outcome: 'NOT_ACTED_ON', summary: 'approval timed out: not acted on' };
  }
  if (waited === 'approval' && error.Error === APPROVAL_REJECTED) {
    if (verdict.rejection !== undefined) {
      return {
        outcome: 'REJECTED_UNVERIFIED',
        summary: `UNVERIFIED rejection: not acted on, and nobody verifiably rejected it: ${verdict.rejection}`,
      };
    }
    return { outcome: 'REJECTED', summary: 'rejected by a responder: not acted on' };
  }
  return {
    outcome: 'FAILED',
    summary: `failed: ${boundedText(error.Error, ERROR_NAME_MAX)}: ${causeText(error.Cause, CAUSE_MAX)}`,
  };
}

/**
 * The catalog's action for a step: the incident's playbook first, then any
 * playbook. An attack sequence's approval of its set runs no action of its
 * own: it is recorded under the playbook's name, as request-approval asked.
 */
export function actionOfStep(
  step: string,
  incident?: Incident,
): ContainmentActionName | typeof SEQUENCE.playbook | 'playbook' {
  if (step === SEQUENCE.step) return SEQUENCE.playbook;
  const playbooks = [
    ...PLAYBOOK_NAMES.filter((p) => p === incident?.playbook),
    ...PLAYBOOK_NAMES.filter((p) => p !== incident?.playbook),
  ];
  for (const playbook of playbooks) {
    const spec = Object.entries(stepsOf(playbook)).find(([id]) => id === step)?.[1];
    if (spec) return spec.action;
  }
  return 'playbook';
}

/**
 * Records why a step did not act (timeout, rejection, error) and returns the
 * step's result, so the summary and the finding note show it like any other.
 */
export async function recordFailure(
  input: RecordFailureInput,
  deps: RecordFailureDeps,
): Promise<ActionResult> {
  const { step, incident } = input;
  const incidentId =
    incident?.incidentId ?? input.incidentId ?? orphanIncidentId(input.executionArn);
  const action = actionOfStep(step, incident);
  const targetArn = incident ? targetArnOf(incident, action) : undefined;
  const verdict =
    input.waited === 'approval'
      ? await waitVerdict(
          input,
          incidentId,
          [...subjectsOf(incident, targetArn), ...(await setSubjects(input, deps.ledger))],
          deps,
        )
      : {};
  const { outcome, summary } = mapFailure(input.error, input.waited, verdict);
  const mode = incident?.plan[step]?.mode ?? (input.waited === 'approval' ? 'approve' : 'off');
  await deps.ledger.append(incidentId, {
    step,
    action,
    actor: deps.actor,
    outcome,
    mode,
    summary,
    executionArn: input.executionArn,
    ...(targetArn === undefined ? {} : { targetArn }),
    ...(incident ? { findingId: incident.findingId } : {}),
    detail: {
      recordedBy: 'record-failure',
      error: boundedText(input.error.Error, ERROR_NAME_MAX),
      cause: causeText(input.error.Cause, CAUSE_MAX),
      ...(verdict.rejection === undefined && outcome === 'REJECTED'
        ? { rejection: rejectionOf(input.error.Cause) }
        : {}),
    },
  });
  return {
    step,
    action,
    outcome,
    mode,
    ...(targetArn === undefined ? {} : { targetArn }),
    summary,
  };
}

/**
 * The IAM users and roles the wait was about, none of whom may have
 * rejected it: the incident's principal and target, and for an attack
 * sequence every member's (request-approval barred the same from deciding).
 */
function subjectsOf(incident: Incident | undefined, targetArn: string | undefined): string[] {
  const members = incident?.sequence?.members ?? [];
  return principalsAmong([
    incident?.principal?.arn,
    targetArn,
    ...members.flatMap((m) => [m.principalArn, m.targetArn]),
  ]);
}

/**
 * For an attack sequence's wait, every principal the sequence names, as
 * triage's claim recorded it (its refused and unlisted actors too, which the
 * parent's members do not name).
 */
async function setSubjects(input: RecordFailureInput, ledger: Ledger): Promise<readonly string[]> {
  const { incident } = input;
  if (incident?.playbook !== SEQUENCE.playbook) return [];
  const entries = await ledger.entries(incident.incidentId);
  return sequenceClaim(entries, input.executionArn)?.subjects ?? [];
}

const RejectionCauseSchema = z.object({ summary: z.string(), rejection: z.unknown() });

/** The signed record in a rejection's cause (decisions.ts RejectionCause), if the cause holds one. */
function rejectionOf(cause: string | undefined): unknown {
  try {
    const parsed = RejectionCauseSchema.safeParse(JSON.parse(cause ?? ''));
    return parsed.success ? parsed.data.rejection : undefined;
  } catch {
    return undefined;
  }
}

const ApprovalRequestedDetailSchema = z.object({ expiresAt: z.iso.datetime() });

/**
 * Whether an approval wait's end is what it says. A rejection is a
 * responder's only with the responder API's MAC'd record of it for this
 * incident, step and execution; a timeout is Step Functions' only once the
 * approval's recorded expiry (less a margin) has passed. SendTaskFailure
 * lets whoever holds the token name any error, `States.Timeout` included.
 */
async function waitVerdict(
  input: RecordFailureInput,
  incidentId: string,
  subjects: readonly string[],
  deps: RecordFailureDeps,
): Promise<WaitVerdict> {
  if (input.error.Error === APPROVAL_REJECTED) {
    if (deps.approvals === undefined) return { rejection: 'no approval key is configured' };
    const check = await checkApproval(
      rejectionOf(input.error.Cause),
      {
        kind: 'rejection',
        incidentId,
        step: input.step,
        executionArn: input.executionArn,
        required: 1,
        subjects,
      },
      deps.approvals,
    );
    return check.valid ? {} : { rejection: check.reason };
  }
  if (input.error.Error === TIMEOUT_ERROR_NAME) {
    const entries = await deps.ledger.entries(incidentId);
    const requested = entries.findLast(
      (e) =>
        e.step === input.step &&
        e.outcome === 'APPROVAL_REQUESTED' &&
        e.executionArn === input.executionArn,
    );
    const detail = ApprovalRequestedDetailSchema.safeParse(requested?.detail);
    if (!detail.success) return { timeout: 'no approval request of this execution is recorded' };
    const now = (deps.now ?? (() => new Date()))();
    const due = Date.parse(detail.data.expiresAt) - TIMEOUT_MARGIN_SECONDS * 1000;
    if (now.getTime() < due) {
      return {
        timeout: `it came at ${now.toISOString()}, before the approval's timeout at ${detail.data.expiresAt}`,
      };
    }
  }
  return {};
}

/**
 * `clock` is when an approval wait is judged to have ended; the rehearsal
 * passes one that has passed the approval timeout when it emulates one.
 */
export function makeHandler(
  env: Environment,
  clock: { now: () => Date } = { now: () => new Date() },
) {
  const { logger, ledger, actor } = boot(env, 'record-failure');
  const { now } = clock;
  const approvals = approvalVerifier(env);
  return taskHandler(logger, RecordFailureInputSchema, async (input) => {
    if (input.incident) logger.appendKeys({ incidentId: input.incident.incidentId });
    const result = await recordFailure(input, { ledger, actor, approvals, now });
    logger.info('failure recorded', { step: result.step, outcome: result.outcome });
    return result;
  });
}

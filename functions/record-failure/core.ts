import { z } from 'zod';
import { targetArnOf } from '../actions/registry.js';
import { boot } from '../shared/boot.js';
import { type ContainmentActionName, PLAYBOOK_NAMES, stepsOf } from '../shared/catalog.js';
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
}

const ERROR_NAME_MAX = 128;
const CAUSE_MAX = 400;

export interface FailureMapping {
  readonly outcome: Extract<Outcome, 'NOT_ACTED_ON' | 'REJECTED' | 'FAILED'>;
  readonly summary: string;
}

export function mapFailure(
  error: RecordFailureInput['error'],
  waited: RecordFailureInput['waited'] = 'task',
): FailureMapping {
  if (waited === 'approval' && error.Error === TIMEOUT_ERROR_NAME) {
    return { outcome: 'NOT_ACTED_ON', summary: 'approval timed out: not acted on' };
  }
  if (waited === 'approval' && error.Error === APPROVAL_REJECTED) {
    return { outcome: 'REJECTED', summary: 'rejected by a responder: not acted on' };
  }
  return {
    outcome: 'FAILED',
    summary: `failed: ${boundedText(error.Error, ERROR_NAME_MAX)}: ${causeText(error.Cause, CAUSE_MAX)}`,
  };
}

/** The catalog's action for a step: the incident's playbook first, then any playbook. */
export function actionOfStep(
  step: string,
  incident?: Incident,
): ContainmentActionName | 'playbook' {
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
  const { outcome, summary } = mapFailure(input.error, input.waited);
  const action = actionOfStep(step, incident);
  const mode = incident?.plan[step]?.mode ?? (input.waited === 'approval' ? 'approve' : 'off');
  const targetArn = incident ? targetArnOf(incident, action) : undefined;
  await deps.ledger.append(
    incident?.incidentId ?? input.incidentId ?? orphanIncidentId(input.executionArn),
    {
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
      },
    },
  );
  return {
    step,
    action,
    outcome,
    mode,
    ...(targetArn === undefined ? {} : { targetArn }),
    summary,
  };
}

export function makeHandler(env: Environment) {
  const { logger, ledger, actor } = boot(env, 'record-failure');
  return taskHandler(logger, RecordFailureInputSchema, async (input) => {
    if (input.incident) logger.appendKeys({ incidentId: input.incident.incidentId });
    const result = await recordFailure(input, { ledger, actor });
    logger.info('failure recorded', { step: result.step, outcome: result.outcome });
    return result;
  });
}

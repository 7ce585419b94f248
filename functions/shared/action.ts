import type { ActionName, Mode } from './catalog.js';
import { ApprovalMissingError, classifyAwsError, isNotFound } from './errors.js';
import type { ActionInput, ActionResult, Incident, Outcome } from './incident.js';
import type { Ledger } from './ledger.js';

/**
 * The shape every containment action shares: read the target's current state,
 * act only if needed, record before and after. A concrete action supplies the
 * AWS calls; `runContainment` supplies the rules (approval check, dry-run,
 * idempotency, ledger, error classification) so no action can skip them.
 */
export interface Containment<TTarget, TState> {
  readonly action: ActionName;
  /** Resolves the target from the incident, or throws InvalidTaskInputError. */
  target(incident: Incident): TTarget;
  targetArn(target: TTarget): string;
  /** Current state; `undefined` when the target no longer exists. */
  read(target: TTarget): Promise<TState | undefined>;
  isContained(state: TState, incident: Incident): boolean;
  /** What `apply` would do, in one line ("disable access key AKIA... of user x"). */
  describe(target: TTarget, state: TState): string;
  /** Makes the change and returns the state after it. */
  apply(target: TTarget, state: TState, incident: Incident): Promise<TState>;
}

export interface ContainmentDeps {
  readonly ledger: Ledger;
  /** ARN of the function's own role: the ledger's actor. */
  readonly actor: string;
}

export async function runContainment<TTarget, TState>(
  input: ActionInput,
  containment: Containment<TTarget, TState>,
  deps: ContainmentDeps,
): Promise<ActionResult> {
  const { incident, step } = input;
  const plan = incident.plan[step];
  const mode: Mode = plan?.mode ?? 'off';
  const target = containment.target(incident);
  const targetArn = containment.targetArn(target);

  const record = async (
    outcome: Outcome,
    summary: string,
    extra: { before?: TState; after?: TState; detail?: Record<string, unknown> } = {},
  ): Promise<ActionResult> => {
    await deps.ledger.append(incident.incidentId, {
      step,
      action: containment.action,
      actor: deps.actor,
      outcome,
      targetArn,
      mode,
      summary,
      executionArn: input.executionArn,
      findingId: incident.findingId,
      ...extra,
      ...(input.approval.decision === 'APPROVED'
        ? { detail: { ...extra.detail, approval: input.approval } }
        : {}),
    });
    return { step, action: containment.action, outcome, mode, targetArn, summary };
  };

  // Guards fail closed: a step that is off never acts, and a step that needs
  // approval never acts without one, whatever the state machine sent.
  if (mode === 'off') {
    throw new ApprovalMissingError(
      `step ${step} is off for ${incident.incidentId}; refusing to act`,
    );
  }
  if (input.approval.step !== step) {
    throw new ApprovalMissingError(
      `approval state is for step ${input.approval.step}, not ${step}; refusing to act`,
    );
  }
  if (mode === 'approve' && input.approval.decision !== 'APPROVED') {
    throw new ApprovalMissingError(
      `step ${step} needs approval for ${incident.incidentId} and none was given`,
    );
  }

  let before: TState | undefined;
  try {
    before = await containment.read(target);
  } catch (error) {
    const failure = classifyAwsError(error, `${containment.action} read ${targetArn}`);
    if (!failure.retryable) await record('FAILED', failure.message);
    throw failure;
  }
  if (before === undefined) {
    return record('TARGET_NOT_FOUND', `${targetArn} no longer exists; nothing to do`);
  }
  const description = containment.describe(target, before);
  if (containment.isContained(before, incident)) {
    return record('ALREADY_CONTAINED', `already done: ${description}`, { before, after: before });
  }
  if (mode === 'dry-run') {
    return record('DRY_RUN', `would ${description}`, { before });
  }
  try {
    const after = await containment.apply(target, before, incident);
    return record('CONTAINED', description, { before, after });
  } catch (error) {
    // The target can vanish mid-run (an instance terminated, a user deleted):
    // that is a result, not a failure, once a fresh read confirms it.
    if (isNotFound(error) && (await containment.read(target).catch(() => before)) === undefined) {
      return record('TARGET_NOT_FOUND', `${targetArn} disappeared while being contained`, {
        before,
      });
    }
    const failure = classifyAwsError(error, `${containment.action} ${targetArn}`);
    if (!failure.retryable) await record('FAILED', failure.message, { before });
    throw failure;
  }
}

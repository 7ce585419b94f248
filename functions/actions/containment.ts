import {
  type ApprovalVerifier,
  checkApproval,
  principalsAmong,
  requiredApprovers,
} from '../shared/approval-record.js';
import { type Mode, SEQUENCE } from '../shared/catalog.js';
import {
  ApprovalMissingError,
  type CordonError,
  classifyAwsError,
  isNotFound,
  TargetChangedError,
} from '../shared/errors.js';
import { inFlight } from '../shared/in-flight.js';
import type { ActionInput, ActionResult, Incident, Outcome } from '../shared/incident.js';
import { INTENT, type UnfinishedIntent, unfinishedIntents } from '../shared/intents.js';
import type { Ledger, LedgerEntry } from '../shared/ledger.js';
import { type SequenceClaim, sequenceClaim } from '../shared/validated.js';

/**
 * The shape every containment action shares: read the target's current state,
 * act only if needed, record before and after. A concrete action supplies the
 * AWS calls; `runContainment` supplies the rules (approval check, dry-run,
 * idempotency, intent and outcome in the ledger, error classification) so no
 * action can skip them.
 */
export interface Containment<TTarget, TState> {
  readonly action: string;
  /** Resolves the target from the incident, or throws InvalidTaskInputError. */
  target(incident: Incident): TTarget;
  targetArn(target: TTarget): string;
  /** Current state; `undefined` when the target no longer exists. */
  read(target: TTarget): Promise<TState | undefined>;
  isContained(state: TState, incident: Incident): boolean;
  /** What `apply` would do, in one line ("disable access key AKIA... of user x"). */
  describe(target: TTarget, state: TState): string;
  /**
   * Why this action cannot act on this state at all (rotation not configured,
   * a group at its minimum), checked before the intent is written, so a
   * refusal leaves no unfinished intent behind. Recorded and thrown as is.
   * It may read AWS again (the isolate actions re-read the incident tag).
   */
  refusal?(
    target: TTarget,
    state: TState,
  ): CordonError | undefined | Promise<CordonError | undefined>;
  /**
   * Why the target is no longer the one triage verified, or may no longer be
   * changed in a step of `mode` (an IAM principal re-created under its name,
   * protected or exempt-tagged since); checked before anything is read or
   * changed, and recorded as a failure.
   */
  confirm?(target: TTarget, incident: Incident, mode: Mode): Promise<string | undefined>;
  /** Makes the change and returns the state after it. */
  apply(target: TTarget, state: TState, incident: Incident): Promise<TState>;
}

export interface ContainmentDeps {
  readonly ledger: Ledger;
  /** ARN of the function's own role: the ledger's actor. */
  readonly actor: string;
  /**
   * Checks approval records (the handler wires it from CORDON_APPROVAL_POLICY).
   * Without one, a step in `approve` mode never acts.
   */
  readonly approvals?: ApprovalVerifier;
  /**
   * The incident's entries as the handler read them to check the input
   * against triage's record: the chain's head and an unfinished earlier
   * attempt are found there instead of read again. While a promise, that
   * check is still running: it rejects when the input is not what triage
   * validated, and it is awaited before anything is recorded or changed.
   * @default read here
   */
  readonly entries?: readonly LedgerEntry[] | Promise<readonly LedgerEntry[]>;
}

export async function runContainment<TTarget, TState>(
  input: ActionInput,
  containment: Containment<TTarget, TState>,
  deps: ContainmentDeps,
): Promise<ActionResult> {
  const { incident, step } = input;
  const plan = incident.plan[step];
  const mode: Mode = plan?.mode ?? 'off';
  // The reads start beside the handler's check of the input; the check is
  // awaited first, and each read is used only where the rules below put it.
  const unapproved = approvalMissing(input, mode);
  const ahead = unapproved === undefined ? readsAhead(input, containment, mode, deps) : undefined;
  const known = await deps.entries;
  const target = containment.target(incident);
  const targetArn = containment.targetArn(target);

  // The incident's latest ledger entry once this attempt has read or written
  // one (null: none yet), so each append chains on without another query.
  let head: LedgerEntry | null | undefined;
  const write = async (
    outcome: Outcome | typeof INTENT,
    summary: string,
    extra: { before?: TState; after?: TState; detail?: Record<string, unknown> } = {},
  ): Promise<void> => {
    head = await deps.ledger.append(
      incident.incidentId,
      {
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
        ...(mode === 'approve' && input.approval.decision === 'APPROVED'
          ? { detail: { ...extra.detail, approval: input.approval } }
          : {}),
      },
      head,
    );
  };
  const record = async (
    outcome: Outcome,
    summary: string,
    extra: Parameters<typeof write>[2] = {},
  ): Promise<ActionResult> => {
    await write(outcome, summary, extra);
    return { step, action: containment.action, outcome, mode, targetArn, summary };
  };

  if (unapproved !== undefined) throw unapproved;
  if (mode === 'approve') {
    const refused = await (ahead?.grant ?? grantRefusal(input, targetArn, deps));
    if (refused !== undefined) {
      const error = new ApprovalMissingError(
        `step ${step} of ${incident.incidentId} was not acted on: ${refused}`,
      );
      await record('FAILED', error.message);
      throw error;
    }
  }

  let changed: string | undefined;
  try {
    changed = await (ahead ? ahead.confirm : containment.confirm?.(target, incident, mode));
  } catch (error) {
    const failure = classifyAwsError(error, `${containment.action} confirm ${targetArn}`);
    if (!failure.retryable) await record('FAILED', failure.message);
    throw failure;
  }
  if (changed !== undefined) {
    const error = new TargetChangedError(changed);
    await record('FAILED', error.message);
    throw error;
  }

  let before: TState | undefined;
  try {
    before = await (ahead?.read ?? containment.read(target));
  } catch (error) {
    const failure = classifyAwsError(error, `${containment.action} read ${targetArn}`);
    if (!failure.retryable) await record('FAILED', failure.message);
    throw failure;
  }
  // The state from before Cordon's first change: an unfinished earlier
  // attempt's intent, else what was just read. A dry run changes nothing.
  let earlier: UnfinishedIntent | undefined;
  if (mode !== 'dry-run') {
    // Nothing was written since the handler's read (every write so far ends the attempt).
    const entries =
      head === undefined && known !== undefined
        ? known
        : await deps.ledger.entries(incident.incidentId);
    head = entries.reduce<LedgerEntry | null>(
      (a, e) => (a === null || e.seq > a.seq ? e : a),
      null,
    );
    earlier = unfinishedIntents(entries).find(
      ({ intent }) =>
        intent.step === step &&
        intent.action === containment.action &&
        intent.targetArn === targetArn,
    );
  }
  const original = earlier === undefined ? before : (earlier.intent.before as TState);
  const fromIntent = earlier === undefined ? {} : { detail: { intentSeq: earlier.intent.seq } };
  if (before === undefined) {
    return record('TARGET_NOT_FOUND', `${targetArn} no longer exists; nothing to do`, {
      ...(original === undefined ? {} : { before: original }),
      ...fromIntent,
    });
  }
  if (containment.isContained(before, incident)) {
    // Finished by an earlier attempt only when none failed since its intent:
    // after a FAILED, someone else may have contained the target, and a
    // rollback must not undo what Cordon did not do.
    return earlier === undefined || earlier.failed !== undefined
      ? record('ALREADY_CONTAINED', `already done: ${containment.describe(target, before)}`, {
          before,
          after: before,
          ...fromIntent,
        })
      : record(
          'CONTAINED',
          `${containment.describe(target, original ?? before)} (finished by an earlier attempt)`,
          { before: original, after: before, ...fromIntent },
        );
  }
  // What this attempt does, from the state it found; the record's before is
  // still the state from before the first attempt.
  const description = containment.describe(target, before);
  if (mode === 'dry-run') {
    return record('DRY_RUN', `would ${description}`, { before });
  }
  let refusal: CordonError | undefined;
  try {
    refusal = await containment.refusal?.(target, before);
  } catch (error) {
    const failure = classifyAwsError(error, `${containment.action} read ${targetArn}`);
    if (!failure.retryable)
      await record('FAILED', failure.message, { before: original, ...fromIntent });
    throw failure;
  }
  if (refusal !== undefined) {
    if (!refusal.retryable)
      await record('FAILED', refusal.message, { before: original, ...fromIntent });
    throw refusal;
  }
  if (earlier === undefined) await write(INTENT, `about to ${description}`, { before });
  let after: TState;
  try {
    after = await containment.apply(target, before, incident);
  } catch (error) {
    // The target can vanish mid-run (an instance terminated, a user deleted):
    // that is a result, not a failure, once a fresh read confirms it.
    if (isNotFound(error) && (await containment.read(target).catch(() => before)) === undefined) {
      return record('TARGET_NOT_FOUND', `${targetArn} disappeared while being contained`, {
        before: original,
        ...fromIntent,
      });
    }
    const failure = classifyAwsError(error, `${containment.action} ${targetArn}`);
    if (!failure.retryable)
      await record('FAILED', failure.message, { before: original, ...fromIntent });
    throw failure;
  }
  // Outside the try: a failing ledger write is not the action's failure.
  return record('CONTAINED', description, { before: original, after, ...fromIntent });
}

/**
 * Guards fail closed: a step that is off never acts, and a step that needs
 * approval never acts without one, whatever the state machine sent. A step
 * in auto or dry-run mode goes straight from its gate to its action, so
 * `$.approval` still holds what an earlier step received (or triage's
 * marker): it grants nothing there and is not read.
 */
function approvalMissing(input: ActionInput, mode: Mode): ApprovalMissingError | undefined {
  const { incident, step, approval } = input;
  if (mode === 'off') {
    return new ApprovalMissingError(
      `step ${step} is off for ${incident.incidentId}; refusing to act`,
    );
  }
  if (mode !== 'approve') return undefined;
  const granted = grantedStep(input);
  if (approval.step !== granted.step) {
    return new ApprovalMissingError(
      `approval state is for step ${approval.step}, not ${granted.step}; refusing to act`,
    );
  }
  if (approval.decision !== 'APPROVED') {
    return new ApprovalMissingError(
      `step ${step} needs approval for ${incident.incidentId} and none was given`,
    );
  }
  return undefined;
}

/** The calls a step makes before it may write, started together. */
interface ReadsAhead<TState> {
  readonly grant?: Promise<string | undefined>;
  readonly confirm: Promise<string | undefined>;
  readonly read: Promise<TState | undefined>;
}

/**
 * The step's checks and reads, started at once: the grant record's check
 * (approve mode), the target's confirmation and its current state. They only
 * read, so nothing is lost by starting them before the input is known to be
 * triage's; what they return is used only after. None for a target the
 * incident does not name: that refusal stays where it is, and reads nothing.
 * The caller starts none for a step whose approval is missing.
 */
function readsAhead<TTarget, TState>(
  input: ActionInput,
  containment: Containment<TTarget, TState>,
  mode: Mode,
  deps: ContainmentDeps,
): ReadsAhead<TState> | undefined {
  let target: TTarget;
  try {
    target = containment.target(input.incident);
  } catch {
    return undefined;
  }
  const targetArn = containment.targetArn(target);
  const started = <T>(call: () => Promise<T> | T): Promise<T> =>
    inFlight(Promise.resolve().then(call));
  return {
    ...(mode === 'approve' ? { grant: started(() => grantRefusal(input, targetArn, deps)) } : {}),
    confirm: started(() => containment.confirm?.(target, input.incident, mode)),
    read: started(() => containment.read(target)),
  };
}

/**
 * Why the approval the state machine handed over is not one to act on, or
 * undefined when its grant record verifies and is for this incident, step
 * and execution, by configured responders (two different ones for a
 * two-person step), none of them a principal the incident is about.
 */
async function grantRefusal(
  input: ActionInput,
  targetArn: string,
  deps: ContainmentDeps,
): Promise<string | undefined> {
  const { incident, step, approval } = input;
  if (deps.approvals === undefined) return 'this function has no approval key configured';
  if (approval.decision !== 'APPROVED') return 'no responder approved it';
  const set = await sequenceSet(input, deps.ledger);
  if (typeof set === 'string') return set;
  const check = await checkApproval(
    approval.grant,
    {
      kind: 'grant',
      ...grantedStep(input),
      executionArn: input.executionArn,
      // A member of an attack sequence: its own step's rule still holds.
      required: requiredApprovers(deps.approvals.twoPersonSteps, incident.playbook, step),
      subjects: principalsAmong([incident.principal?.arn, targetArn, ...(set?.subjects ?? [])]),
    },
    deps.approvals,
  );
  return check.valid ? undefined : check.reason;
}

/**
 * For a member of an attack sequence, the set its parent's claim recorded
 * under this execution, or why the member is not one of it. The grant is
 * the responders' answer about that set alone: a child triage claimed under
 * the same execution later (triage invoked again by hand, with other
 * members) is not in it. Undefined for an incident of its own.
 */
async function sequenceSet(
  input: ActionInput,
  ledger: Ledger,
): Promise<SequenceClaim | string | undefined> {
  const { parent, incidentId } = input.incident;
  if (parent === undefined) return undefined;
  const claim = sequenceClaim(await ledger.entries(parent), input.executionArn);
  if (claim === undefined) {
    return `attack sequence ${parent} recorded no set of members under execution ${input.executionArn}`;
  }
  if (!claim.children.includes(incidentId)) {
    return `${incidentId} is not a member of the set attack sequence ${parent} asked the responders about`;
  }
  return claim;
}

/**
 * The incident and step whose grant a step in `approve` mode acts on: its
 * own, or, for a member of an attack sequence, the parent's approval of
 * the whole set. `parent` is part of what triage validated (the digest its
 * claim records), so an input cannot name a parent triage did not.
 */
function grantedStep(input: ActionInput): { incidentId: string; step: string } {
  const { parent } = input.incident;
  return parent === undefined
    ? { incidentId: input.incident.incidentId, step: input.step }
    : { incidentId: parent, step: SEQUENCE.step };
}

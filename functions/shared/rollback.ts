import { z } from 'zod';
import { ROLLBACK_ACTIONS, type RollbackAction } from './catalog.js';
import {
  ApprovalMissingError,
  CordonError,
  classifyAwsError,
  InvalidTaskInputError,
  isNotFound,
} from './errors.js';
import { parseIamArn } from './iam-arn.js';
import { ApprovalSchema, INCIDENT_ID } from './incident.js';
import { verifyChain as findChainBreak, type Ledger, type LedgerEntry } from './ledger.js';
import { boundedText } from './text.js';

/**
 * Rollback: the contracts between the rollback state machine, its plan and
 * its actions, and `runRollback`, the rules every rollback action follows
 * (approval, drift refusal, `force`, the ledger), as `runContainment` is for
 * containment. Nothing here imports an AWS client command: the plan function
 * uses it too, and holds no AWS permission.
 */

/** Ledger outcomes of rollback actions. */
export const ROLLBACK_OUTCOMES = [
  /** The recorded before-state is restored. */
  'ROLLED_BACK',
  /** The target is already in its recorded before-state: nothing was done. */
  'ALREADY_ROLLED_BACK',
  /** The target changed since containment (drift) and `force` was not set: nothing was done. */
  'ROLLBACK_REFUSED',
  /** Not attempted: an earlier item of the same rollback was refused. */
  'ROLLBACK_SKIPPED',
  'TARGET_NOT_FOUND',
  'FAILED',
] as const;
export type RollbackOutcome = (typeof ROLLBACK_OUTCOMES)[number];

/** What a responder asks for (the rollback state machine's input). */
export const RollbackRequestSchema = z.strictObject({
  incidentId: z.string().regex(INCIDENT_ID),
  /** Only this step's actions; all of the incident's when absent. */
  step: z.string().min(1).optional(),
  /** Restore even targets that changed since containment. */
  force: z.boolean(),
  /** The signed caller who asked, as the approval endpoint authenticated it. */
  requestedBy: z.string().min(1),
  reason: z.string().min(1).max(1000),
});
export type RollbackRequest = z.infer<typeof RollbackRequestSchema>;

/** One containment to undo: a CONTAINED ledger entry and the action that undoes it. */
export const RollbackItemSchema = z.strictObject({
  /** The CONTAINED entry's sequence number; the action reads the entry itself. */
  seq: z.number().int().min(0),
  step: z.string().min(1),
  /** The containment action that entry records. */
  action: z.string().min(1),
  rollbackAction: z.enum(ROLLBACK_ACTIONS as [RollbackAction, ...RollbackAction[]]),
  targetArn: z.string().min(1),
  /** One line: what would be restored, to what. */
  restores: z.string(),
});
export type RollbackItem = z.infer<typeof RollbackItemSchema>;

/** A CONTAINED entry a rollback leaves in place, and why. */
export const SkippedItemSchema = z.strictObject({
  seq: z.number().int().min(0),
  step: z.string(),
  action: z.string(),
  targetArn: z.string().optional(),
  reason: z.string(),
});
export type SkippedItem = z.infer<typeof SkippedItemSchema>;

/** The rollback-plan function's output: what the approval request shows and the actions run. */
export const RollbackPlanSchema = z.strictObject({
  incidentId: z.string().regex(INCIDENT_ID),
  /** The approval's step id: unique per execution, so every rollback is decided on its own. */
  approvalStep: z.string().regex(/^rollback[0-9a-f]{12}$/),
  findingId: z.string(),
  findingType: z.string(),
  /** Newest first: the reverse of the order Cordon contained in. */
  items: z.array(RollbackItemSchema).min(1),
  skipped: z.array(SkippedItemSchema),
});
export type RollbackPlan = z.infer<typeof RollbackPlanSchema>;

/** Input of every rollback action (one Map iteration of the rollback state machine). */
export const RollbackInputSchema = z.strictObject({
  incidentId: z.string().regex(INCIDENT_ID),
  approvalStep: z.string().min(1),
  item: RollbackItemSchema,
  force: z.boolean(),
  requestedBy: z.string().min(1),
  reason: z.string().min(1),
  approval: ApprovalSchema,
  executionArn: z.string().min(1),
});
export type RollbackInput = z.infer<typeof RollbackInputSchema>;

export const RollbackResultSchema = z.strictObject({
  seq: z.number().int(),
  step: z.string(),
  action: z.string(),
  outcome: z.enum(ROLLBACK_OUTCOMES),
  targetArn: z.string(),
  summary: z.string(),
});
export type RollbackResult = z.infer<typeof RollbackResultSchema>;

/** The incident has no entry in the ledger. */
export class UnknownIncidentError extends CordonError {
  override readonly name = 'Cordon.UnknownIncident';
  readonly retryable = false;
}

/** The incident (or the step asked for) has no containment left to roll back. */
export class NothingToRollBackError extends CordonError {
  override readonly name = 'Cordon.NothingToRollBack';
  readonly retryable = false;
}

/** The ledger's hash chain is broken: its before-states are not trusted to restore anything. */
export class LedgerTamperedError extends CordonError {
  override readonly name = 'Cordon.LedgerTampered';
  readonly retryable = false;
}

/** The recorded before-state cannot be put back (an interface without its original groups...). */
export class NotRestorableError extends CordonError {
  override readonly name = 'Cordon.NotRestorable';
  readonly retryable = false;
}

/**
 * Refuses a ledger whose chain does not hold: contiguous sequence numbers
 * from 0, each entry's prevHash the previous hash, each hash its own. A
 * rollback restores what the ledger says, so a forged before-state must
 * never reach an AWS call.
 */
export function verifyChain(incidentId: string, entries: readonly LedgerEntry[]): void {
  const broken = findChainBreak(entries);
  if (broken) {
    throw new LedgerTamperedError(
      `the ledger of ${incidentId} is broken at entry #${broken.seq}: refusing to restore anything from it`,
    );
  }
}

/** Reads an incident's entries and checks their chain. */
export async function verifiedEntries(
  ledger: Pick<Ledger, 'entries'>,
  incidentId: string,
): Promise<LedgerEntry[]> {
  let entries: LedgerEntry[];
  try {
    entries = await ledger.entries(incidentId);
  } catch (error) {
    throw classifyAwsError(error, 'ledger read');
  }
  verifyChain(incidentId, entries);
  return entries;
}

/** The account of an IAM role ARN (a function's own role: the actor). */
export function accountOf(roleArn: string): string {
  const arn = parseIamArn(roleArn);
  if (!arn) throw new InvalidTaskInputError(`${roleArn} is not an IAM role ARN`);
  return arn.account;
}

/** Calls `send` and answers undefined when AWS says the entity is not there. */
export async function unlessNotFound<T>(send: Promise<T>): Promise<T | undefined> {
  try {
    return await send;
  } catch (error) {
    if (isNotFound(error)) return undefined;
    throw error;
  }
}

/** `name: now X, Cordon left Y` when the two differ (compared as JSON), else nothing. */
export function differs(name: string, now: unknown, recorded: unknown): string[] {
  const text = (v: unknown) => (v === null || v === undefined ? 'none' : JSON.stringify(v));
  return JSON.stringify(now ?? null) === JSON.stringify(recorded ?? null)
    ? []
    : [`${name} is ${text(now)} now, Cordon left ${text(recorded)}`];
}

/**
 * One rollback action: how to read its target's state now, how that compares
 * with the states the ledger recorded, and how to put the before-state back.
 * `runRollback` supplies the rules, so no action can skip them.
 */
export interface Rollback<TTarget, TState> {
  readonly action: RollbackAction;
  /** The containment action whose CONTAINED entries this undoes. */
  readonly undoes: string;
  /** The recorded before and after states, as the containment action wrote them. */
  readonly state: z.ZodType<TState>;
  /** The target, from the entry's target ARN and its before-state; InvalidTaskInputError if not. */
  target(entry: LedgerEntry, before: TState): TTarget;
  /** Current state; `undefined` when the target no longer exists. */
  read(target: TTarget): Promise<TState | undefined>;
  /** How the current state differs from the recorded after-state, one phrase each; [] when equal. */
  drift(current: TState, after: TState): string[];
  /** The target is in its recorded before-state. */
  isRestored(current: TState, before: TState): boolean;
  /** What `restore` does, in one line. */
  describe(target: TTarget, before: TState): string;
  /** Puts the before-state back and returns the state after it. */
  restore(target: TTarget, before: TState, current: TState): Promise<TState>;
  /** What cannot be restored, said in the result (the deleted console password). */
  caveat?(before: TState): string | undefined;
}

export interface RollbackDeps {
  readonly ledger: Pick<Ledger, 'append' | 'entries'>;
  /** ARN of the function's own role: the ledger's actor. */
  readonly actor: string;
}

const SUMMARY_MAX = 1000;

/**
 * Runs one rollback item: re-reads its CONTAINED entry from a verified
 * ledger, refuses without an approval of this very rollback (in the input
 * and in the ledger), reads the target now, and then:
 * already in the before-state → ALREADY_ROLLED_BACK; changed since
 * containment (drift) → ROLLBACK_REFUSED, unless `force`; otherwise restores
 * → ROLLED_BACK (before = the state found, after = the state restored).
 * Every outcome is recorded in the incident's ledger with the requester and
 * the reason.
 */
export async function runRollback<TTarget, TState>(
  input: RollbackInput,
  rollback: Rollback<TTarget, TState>,
  deps: RollbackDeps,
): Promise<RollbackResult> {
  const { item, incidentId } = input;
  const entries = await verifiedEntries(deps.ledger, incidentId);
  const entry = entries.find((e) => e.seq === item.seq);
  if (entry?.outcome !== 'CONTAINED' || entry.action !== rollback.undoes) {
    throw new InvalidTaskInputError(
      `${rollback.action}: entry #${item.seq} of ${incidentId} is not a CONTAINED entry of ${rollback.undoes}`,
    );
  }
  // Fails closed: the approval must be for this rollback, and recorded as granted.
  const granted = entries.some(
    (e) =>
      e.step === input.approvalStep &&
      e.outcome === 'APPROVAL_GRANTED' &&
      e.executionArn === input.executionArn,
  );
  if (
    input.approval.decision !== 'APPROVED' ||
    input.approval.step !== input.approvalStep ||
    !granted
  ) {
    throw new ApprovalMissingError(
      `rollback ${input.approvalStep} of ${incidentId} has no recorded approval; refusing to act`,
    );
  }
  const parse = (value: unknown, which: string): TState => {
    const parsed = rollback.state.safeParse(value);
    if (!parsed.success) {
      throw new InvalidTaskInputError(
        `${rollback.action}: entry #${item.seq} of ${incidentId} holds no readable ${which}-state`,
      );
    }
    return parsed.data;
  };
  const before = parse(entry.before, 'before');
  const after = parse(entry.after, 'after');
  const target = rollback.target(entry, before);
  const targetArn = entry.targetArn ?? item.targetArn;

  const record = async (
    outcome: RollbackOutcome,
    summary: string,
    extra: { before?: TState; after?: TState; detail?: Record<string, unknown> } = {},
  ): Promise<RollbackResult> => {
    const text = boundedText(summary, SUMMARY_MAX);
    await deps.ledger.append(incidentId, {
      step: item.step,
      action: rollback.action,
      actor: deps.actor,
      outcome,
      targetArn,
      summary: text,
      executionArn: input.executionArn,
      ...(entry.findingId === undefined ? {} : { findingId: entry.findingId }),
      ...(extra.before === undefined ? {} : { before: extra.before }),
      ...(extra.after === undefined ? {} : { after: extra.after }),
      detail: {
        entrySeq: item.seq,
        undoes: rollback.undoes,
        requestedBy: input.requestedBy,
        reason: boundedText(input.reason, 1000),
        force: input.force,
        approval: input.approval,
        ...extra.detail,
      },
    });
    return {
      seq: item.seq,
      step: item.step,
      action: rollback.action,
      outcome,
      targetArn,
      summary: text,
    };
  };

  // Restoring in order matters (an isolated instance back in its group is
  // replaced by health checks): after one refusal the rest waits for a person.
  const refused = entries.find(
    (e) => e.executionArn === input.executionArn && e.outcome === 'ROLLBACK_REFUSED',
  );
  if (refused) {
    return record(
      'ROLLBACK_SKIPPED',
      `not attempted: ${refused.step} (${refused.action}) was refused earlier in this rollback; nothing was changed`,
    );
  }

  const fail = async (error: unknown, context: string, state?: TState): Promise<never> => {
    const failure = classifyAwsError(error, `${rollback.action} ${context} ${targetArn}`);
    if (!failure.retryable) {
      await record('FAILED', failure.message, state === undefined ? {} : { before: state });
    }
    throw failure;
  };

  let current: TState | undefined;
  try {
    current = await rollback.read(target);
  } catch (error) {
    return fail(error, 'read');
  }
  if (current === undefined) {
    return record('TARGET_NOT_FOUND', `${targetArn} no longer exists; nothing to restore`);
  }
  const description = rollback.describe(target, before);
  if (rollback.isRestored(current, before)) {
    return record('ALREADY_ROLLED_BACK', `already in its recorded before-state: ${description}`, {
      before: current,
      after: current,
    });
  }
  const drift = rollback.drift(current, after);
  if (drift.length > 0 && !input.force) {
    return record(
      'ROLLBACK_REFUSED',
      `refused: ${targetArn} changed since Cordon contained it (${drift.join('; ')}); nothing was changed; roll back with --force to restore the recorded before-state anyway`,
      { before: current, detail: { drift } },
    );
  }
  let restored: TState;
  try {
    restored = await rollback.restore(target, before, current);
  } catch (error) {
    return fail(error, 'restore', current);
  }
  const forced =
    drift.length > 0 ? ` (forced over changes since containment: ${drift.join('; ')})` : '';
  const caveat = rollback.caveat?.(before);
  return record('ROLLED_BACK', `${description}${forced}${caveat ? `; ${caveat}` : ''}`, {
    before: current,
    after: restored,
    detail: { forced: drift.length > 0, drift },
  });
}

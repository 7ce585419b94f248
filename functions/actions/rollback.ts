import {
  type ApprovalVerifier,
  checkApproval,
  principalsAmong,
  requiredApprovers,
} from '../shared/approval-record.js';
import { playbookOfStep } from '../shared/catalog.js';
import {
  ApprovalMissingError,
  classifyAwsError,
  InvalidTaskInputError,
  isNotFound,
} from '../shared/errors.js';
import type { Ledger, LedgerEntry } from '../shared/ledger.js';
import {
  type RollbackInput,
  type RollbackOutcome,
  type RollbackResult,
  verifiedEntries,
} from '../shared/rollback.js';
import type { Place } from '../shared/spoke.js';
import { boundedText } from '../shared/text.js';
import type { z } from '../shared/z.js';

/**
 * The rules every rollback action follows (approval, drift refusal, `force`,
 * the ledger), as `runContainment` is for containment, and the small helpers
 * the rollbacks share.
 */

/**
 * Why the rollback's approval is not one to act on: its grant record must
 * verify and be for this incident, approval step and execution, by
 * configured responders other than the requester and the principal restored
 * (two when the step restored is a two-person step, or the request asked two).
 */
async function rollbackGrantRefusal(
  input: RollbackInput,
  targetArn: string,
  deps: RollbackDeps,
): Promise<string | undefined> {
  if (deps.approvals === undefined) return 'this function has no approval key configured';
  if (input.approval.decision !== 'APPROVED') return 'no responder approved it';
  const playbook = playbookOfStep(input.item.step);
  const check = await checkApproval(
    input.approval.grant,
    {
      kind: 'grant',
      incidentId: input.incidentId,
      step: input.approvalStep,
      executionArn: input.executionArn,
      required:
        playbook === undefined
          ? 1
          : requiredApprovers(deps.approvals.twoPersonSteps, playbook, input.item.step),
      subjects: principalsAmong([targetArn]),
      requestedBy: input.requestedBy,
    },
    deps.approvals,
  );
  return check.valid ? undefined : check.reason;
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
  readonly action: string;
  /** The containment action whose CONTAINED entries this undoes. */
  readonly undoes: string;
  /** The recorded before and after states, as the containment action wrote them. */
  readonly state: z.ZodType<TState>;
  /** The target, from the entry's target ARN and its before-state; InvalidTaskInputError if not. */
  target(entry: LedgerEntry, before: TState): TTarget;
  /** Current state; `undefined` when the target no longer exists. */
  read(target: TTarget): Promise<TState | undefined>;
  /**
   * How the current state differs from the recorded after-state, one phrase
   * each; [] when equal, or when the difference is a restore an earlier
   * attempt began (the before-state says which).
   */
  drift(current: TState, after: TState, before: TState): string[];
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
  readonly ledger: Pick<Ledger, 'append' | 'entries' | 'verify'>;
  /**
   * The incident's entries, already read from a verified ledger (the
   * handler read them to find where the incident's calls are made).
   * @default read and verified here
   */
  readonly entries?: readonly LedgerEntry[];
  /**
   * Where the incident's calls are made, from triage's claim (the handler
   * finds it): its account is the one a bucket, secret or function ARN
   * without one is read in. @default the function's own account
   */
  readonly place?: Place;
  /** ARN of the function's own role: the ledger's actor. */
  readonly actor: string;
  /** Checks approval records; without one, no rollback acts. */
  readonly approvals?: ApprovalVerifier;
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
  const entries = deps.entries ?? (await verifiedEntries(deps.ledger, incidentId));
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
  const unverified = await rollbackGrantRefusal(input, entry.targetArn ?? item.targetArn, deps);
  if (unverified !== undefined) {
    throw new ApprovalMissingError(
      `rollback ${input.approvalStep} of ${incidentId} was not acted on: ${unverified}`,
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
  const drift = rollback.drift(current, after, before);
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

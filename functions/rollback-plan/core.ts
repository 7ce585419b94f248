import { recorded } from '../actions/definition.js';
import { actionNamed, undoOf } from '../actions/registry.js';
import { boot } from '../shared/boot.js';
import type { Environment } from '../shared/env.js';
import { taskHandler } from '../shared/handler.js';
import { sha256Hex } from '../shared/hash.js';
import { unfinishedIntents } from '../shared/intents.js';
import type { Ledger } from '../shared/ledger.js';
import {
  LedgerTamperedError,
  NothingToRollBackError,
  type RollbackItem,
  type RollbackPlan,
  RollbackRequestSchema,
  type SkippedItem,
  UnknownIncidentError,
  verifiedEntries,
} from '../shared/rollback.js';
import { boundedText } from '../shared/text.js';
import { z } from '../shared/z.js';

export const RollbackPlanInputSchema = z.strictObject({
  request: RollbackRequestSchema,
  executionArn: z.string().min(1),
});
export type RollbackPlanInput = z.infer<typeof RollbackPlanInputSchema>;

export interface RollbackPlanDeps {
  readonly ledger: Pick<Ledger, 'append' | 'entries' | 'verify'>;
  readonly actor: string;
}

/** Outcomes of entries that already undid a CONTAINED entry (`detail.entrySeq`). */
const UNDONE: ReadonlySet<string> = new Set(['ROLLED_BACK', 'ALREADY_ROLLED_BACK']);
const LINE_MAX = 400;

/** The approval step of one rollback execution: unique per execution, stable across retries. */
export function approvalStepOf(executionArn: string): string {
  return `rollback${sha256Hex(executionArn).slice(0, 12)}`;
}

/** Why a CONTAINED entry of `action` is left in place by every rollback. */
function skipReason(action: string): string {
  const rollback = actionNamed(action)?.rollback;
  return rollback !== undefined && 'notRolledBack' in rollback
    ? rollback.notRolledBack
    : `Cordon has no rollback for ${action}`;
}

/**
 * The incident's entries, their chain and MACs verified. A broken ledger is
 * refused before any before-state is trusted, and the refusal is recorded
 * (the state machine then notifies it).
 */
async function trustedEntries(input: RollbackPlanInput, deps: RollbackPlanDeps) {
  const { request, executionArn } = input;
  try {
    return await verifiedEntries(deps.ledger, request.incidentId);
  } catch (error) {
    if (error instanceof LedgerTamperedError) {
      await deps.ledger.append(request.incidentId, {
        step: 'rollback',
        action: 'rollback-plan',
        actor: deps.actor,
        executionArn,
        outcome: 'LEDGER_TAMPERED',
        summary: boundedText(error.message, 1000),
        detail: { requestedBy: request.requestedBy, reason: boundedText(request.reason, 1000) },
      });
    }
    throw error;
  }
}

/**
 * Reads the incident's verified ledger and lists, newest first, the CONTAINED
 * entries a rollback would restore (of one step when asked), leaving out
 * those an earlier rollback already undid, and the ones no rollback exists
 * for or that stopped part of the way, with why. Records the request in the
 * ledger.
 */
export async function planRollback(
  input: RollbackPlanInput,
  deps: RollbackPlanDeps,
): Promise<RollbackPlan> {
  const { request, executionArn } = input;
  const { incidentId, step } = request;
  const entries = await trustedEntries(input, deps);
  if (entries.length === 0) {
    throw new UnknownIncidentError(`no incident ${incidentId} in the ledger`);
  }
  const claim = entries[0];
  const findingId = claim?.findingId ?? 'unknown';
  const findingType = z.string().catch('unknown').parse(recorded(claim?.detail, 'findingType'));
  const undone = new Set(
    entries.flatMap((e) => {
      const seq = recorded(e.detail, 'entrySeq');
      return UNDONE.has(e.outcome) && typeof seq === 'number' ? [seq] : [];
    }),
  );
  const contained = entries
    .filter((e) => e.outcome === 'CONTAINED' && (step === undefined || e.step === step))
    .filter((e) => !undone.has(e.seq))
    .sort((a, b) => b.seq - a.seq);

  const items: RollbackItem[] = [];
  const skipped: SkippedItem[] = [];
  for (const e of contained) {
    const undo = undoOf(e.action);
    if (undo && e.targetArn !== undefined) {
      items.push({
        seq: e.seq,
        step: e.step,
        action: e.action,
        rollbackAction: undo.name,
        targetArn: e.targetArn,
        restores: boundedText(undo.restores(e), LINE_MAX),
      });
    } else {
      skipped.push({
        seq: e.seq,
        step: e.step,
        action: e.action,
        ...(e.targetArn === undefined ? {} : { targetArn: e.targetArn }),
        reason: skipReason(e.action),
      });
    }
  }

  // A step that stopped part of the way (or is still running) has no
  // CONTAINED entry to restore from: say so, with the entry that holds its
  // before-state.
  for (const { intent, failed } of unfinishedIntents(entries)) {
    if (step !== undefined && intent.step !== step) continue;
    const how =
      failed === undefined
        ? `has no outcome after its INTENT entry #${intent.seq} (it stopped part of the way, or is still running)`
        : `failed (entry #${failed.seq}) after its INTENT entry #${intent.seq}, possibly part of the way`;
    skipped.push({
      seq: intent.seq,
      step: intent.step,
      action: intent.action,
      ...(intent.targetArn === undefined ? {} : { targetArn: intent.targetArn }),
      reason: `it ${how}; compare the target with the before-state in #${intent.seq} and restore by hand`,
    });
  }
  skipped.sort((a, b) => b.seq - a.seq);

  const scope = step === undefined ? incidentId : `step ${step} of ${incidentId}`;
  const base = {
    action: 'rollback-plan',
    actor: deps.actor,
    executionArn,
    findingId,
  };
  const detail = {
    requestedBy: request.requestedBy,
    reason: boundedText(request.reason, 1000),
    force: request.force,
    ...(step === undefined ? {} : { step }),
  };
  if (items.length === 0) {
    const why =
      skipped.length > 0
        ? `only actions that are not rolled back (${skipped.map((s) => `${s.action}: ${s.reason}`).join('; ')})`
        : entries.some((e) => step === undefined || e.step === step)
          ? 'no contained action that is not rolled back already'
          : 'no such step';
    const message = `nothing to roll back for ${scope}: ${why}`;
    await deps.ledger.append(incidentId, {
      ...base,
      step: step ?? 'rollback',
      outcome: 'NOTHING_TO_ROLL_BACK',
      summary: boundedText(message, 1000),
      detail,
    });
    throw new NothingToRollBackError(boundedText(message, 1000));
  }
  const approvalStep = approvalStepOf(executionArn);
  await deps.ledger.append(incidentId, {
    ...base,
    step: approvalStep,
    outcome: 'ROLLBACK_REQUESTED',
    summary: boundedText(
      `rollback of ${items.length} action(s) of ${scope} requested by ${request.requestedBy}${request.force ? ' with --force' : ''}: ${request.reason}`,
      1000,
    ),
    detail: { ...detail, items: items.map((i) => i.seq), skipped: skipped.map((s) => s.seq) },
  });
  return { incidentId, approvalStep, findingId, findingType, items, skipped };
}

export function makeHandler(env: Environment) {
  const { logger, ledger, actor } = boot(env, 'rollback-plan');
  return taskHandler(logger, RollbackPlanInputSchema, async (input) => {
    logger.appendKeys({ incidentId: input.request.incidentId });
    const plan = await planRollback(input, { ledger, actor });
    logger.info('rollback planned', { items: plan.items.length, skipped: plan.skipped.length });
    return plan;
  });
}

import type { LedgerEntry } from './ledger.js';

/**
 * The ledger outcome an action writes, with the target's state, before its
 * first change. An attempt can stop between a change and its record (a
 * throttled second call, a lost answer); the next attempt then finds this
 * entry and records the state from before Cordon touched the target, which
 * is what a rollback restores, instead of a state that includes its own
 * changes. An intent no attempt finished is listed by the rollback plan.
 */
export const INTENT = 'INTENT';

/**
 * Outcomes that end a step's attempts. FAILED does not: an attempt can fail
 * after part of its change, and the intent still holds the state before it.
 */
const CONCLUSIVE: ReadonlySet<string> = new Set([
  'CONTAINED',
  'ALREADY_CONTAINED',
  'TARGET_NOT_FOUND',
  'DRY_RUN',
]);

/** An intent no conclusive outcome followed, and the FAILED entry after it, if any. */
export interface UnfinishedIntent {
  readonly intent: LedgerEntry;
  readonly failed?: LedgerEntry;
}

/**
 * The intents no conclusive outcome followed, one per step, action and
 * target: the first since that step last concluded, whose before-state
 * predates every change its attempts made.
 */
export function unfinishedIntents(entries: readonly LedgerEntry[]): UnfinishedIntent[] {
  const pending = new Map<string, UnfinishedIntent>();
  for (const entry of [...entries].sort((a, b) => a.seq - b.seq)) {
    const key = JSON.stringify([entry.step, entry.action, entry.targetArn]);
    const open = pending.get(key);
    if (entry.outcome === INTENT) {
      if (open === undefined) pending.set(key, { intent: entry });
    } else if (CONCLUSIVE.has(entry.outcome)) {
      pending.delete(key);
    } else if (entry.outcome === 'FAILED' && open !== undefined) {
      pending.set(key, { ...open, failed: entry });
    }
  }
  return [...pending.values()];
}

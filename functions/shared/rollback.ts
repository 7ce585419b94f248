import { ROLLBACK_FUNCTION_NAMES } from '../actions/rollback-names.js';
import { CordonError, classifyAwsError, InvalidTaskInputError } from './errors.js';
import { parseIamArn } from './iam-arn.js';
import { ApprovalSchema, INCIDENT_ID } from './incident.js';
import type { ChainBreak, Ledger, LedgerEntry } from './ledger.js';
import { z } from './z.js';

/**
 * Rollback's contracts: between the rollback state machine, its plan, its
 * approval and its actions (functions/actions/rollback.ts has the rules every
 * rollback action follows). Nothing here imports an AWS client command: the
 * plan function uses it too, and holds no AWS permission.
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
  rollbackAction: z.enum(ROLLBACK_FUNCTION_NAMES),
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

/** The ledger's hash chain or MACs are broken: its before-states are not trusted to restore anything. */
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
 * Refuses a ledger whose chain or MACs do not hold: contiguous sequence
 * numbers from 0, each entry's prevHash the previous hash, each hash its
 * own, each MAC the ledger key's. A rollback restores what the ledger says,
 * so a forged before-state must never reach an AWS call.
 */
export function refuseBroken(incidentId: string, broken: ChainBreak | undefined): void {
  if (broken) {
    throw new LedgerTamperedError(
      `the ledger of ${incidentId} is broken at entry #${broken.seq} (${broken.kind}: ${broken.reason}): refusing to restore anything from it`,
    );
  }
}

/** Reads an incident's entries and checks their chain and MACs. */
export async function verifiedEntries(
  ledger: Pick<Ledger, 'entries' | 'verify'>,
  incidentId: string,
): Promise<LedgerEntry[]> {
  let entries: LedgerEntry[];
  let broken: ChainBreak | undefined;
  try {
    entries = await ledger.entries(incidentId);
    broken = await ledger.verify(entries);
  } catch (error) {
    throw classifyAwsError(error, 'ledger read');
  }
  refuseBroken(incidentId, broken);
  return entries;
}

/** The account of an IAM role ARN (a function's own role: the actor). */
export function accountOf(roleArn: string): string {
  const arn = parseIamArn(roleArn);
  if (!arn) throw new InvalidTaskInputError(`${roleArn} is not an IAM role ARN`);
  return arn.account;
}

import { type ApprovalVerifier, checkApproval } from '../shared/approval-record.js';
import type { PlaybookName } from '../shared/catalog.js';
import { checkDismissal, DISMISSED, subjectsOf } from '../shared/dismissal.js';
import type { Incident, TriageResult } from '../shared/incident.js';
import type { LedgerEntry } from '../shared/ledger.js';
import { boundedText } from '../shared/text.js';
import { z } from '../shared/z.js';
import { planNothing } from './plan.js';

/**
 * One incident per finding. GuardDuty emits a finding again (same id, a
 * higher count, a later updatedAt) every 6 hours by default, Security Hub
 * on every update; each emission starts the playbook again. The incident id
 * does not depend on the emission, so every emission of a finding meets
 * the same ledger, and what is recorded there decides what a new one is:
 *
 * - a repeated delivery of an emission already settled: nothing to do;
 * - suppressed (a responder dismissed the incident, or approved a rollback
 *   of it): recorded and notified, never acted on;
 * - an earlier emission's execution holds the finding (running, waiting
 *   for an approval, or finished): recorded, and it joins that execution,
 *   which alone acts; containment is never repeated unattended, nor an
 *   approval asked again;
 * - otherwise (the first emission, or every earlier one was refused or
 *   could not act: a finding refused below the threshold and updated above
 *   it, say) it is triaged as a claim of its own.
 */

/** Triage's ledger outcomes: one entry per emission it settles. */
export const CLAIMED = 'CLAIMED';
export const REFUSED = 'REFUSED';
export const REEMITTED = 'REEMITTED';
const SETTLED: ReadonlySet<string> = new Set([CLAIMED, REFUSED, REEMITTED]);

/** A rollback's approval step (rollback-plan's approvalStepOf). */
const ROLLBACK_STEP = /^rollback[0-9a-f]{12}$/;

/** Modes in which a claimed step can change something. */
const ACTING: ReadonlySet<string> = new Set(['auto', 'approve']);

/** The emission being triaged. */
export interface Emission {
  readonly updatedAt: string;
  /** GuardDuty's count of occurrences; Security Hub's copy of it for GuardDuty findings. */
  readonly count?: number;
  readonly executionArn: string;
}

/** Why an incident's later emissions are not acted on: a responder's decision, verified. */
export interface Suppression {
  readonly cause: 'dismissed' | 'rolled back';
  /** The responders who decided. */
  readonly by: readonly string[];
  readonly at: string;
  /** The ledger entry that records the decision. */
  readonly seq: number;
}

export type Settled =
  /** Nothing earlier holds the finding: the caller writes its claim (or refusal). */
  | { readonly kind: 'claim' }
  /** This execution settled the emission already: its triage is being retried. */
  | { readonly kind: 'resumed'; readonly entry: LedgerEntry }
  /** The same emission, delivered again. */
  | { readonly kind: 'duplicate'; readonly entry: LedgerEntry }
  | { readonly kind: 'suppressed'; readonly suppression: Suppression }
  /** The claim of an earlier emission that could act: its execution holds the finding. */
  | { readonly kind: 'joined'; readonly holder: LedgerEntry };

const isSettled = (e: LedgerEntry) => e.step === 'triage' && SETTLED.has(e.outcome);

/**
 * A claim that holds its finding: triage planned a step that could act
 * (`auto` or `approve`). A claim whose every step was `off` or `dry-run`
 * (the runtime mode switched off, say) changed nothing and asked no one,
 * so a later emission may act once the mode allows it. A claim that
 * records no plan holds (fail closed).
 */
export function holds(entry: LedgerEntry): boolean {
  if (entry.step !== 'triage' || entry.outcome !== CLAIMED) return false;
  const modes = z.record(z.string(), z.string()).safeParse(recordedModes(entry));
  if (!modes.success) return true;
  return Object.values(modes.data).some((mode) => ACTING.has(mode));
}

function recordedModes(entry: LedgerEntry): unknown {
  const validated = entry.detail?.validated;
  return typeof validated === 'object' && validated !== null
    ? Reflect.get(validated, 'modes')
    : undefined;
}

/** What the incident's entries make of a new emission. */
export async function settleEmission(
  entries: readonly LedgerEntry[],
  emission: Emission,
  verifier: ApprovalVerifier,
): Promise<Settled> {
  const settled = entries.filter(isSettled);
  const mine = settled.find((e) => e.executionArn === emission.executionArn);
  if (mine) return { kind: 'resumed', entry: mine };
  const same = settled.find((e) => e.detail?.updatedAt === emission.updatedAt);
  if (same) return { kind: 'duplicate', entry: same };
  const suppression = await suppressionOf(entries, verifier);
  if (suppression) return { kind: 'suppressed', suppression };
  const holder = entries.find(holds);
  if (holder) return { kind: 'joined', holder };
  return { kind: 'claim' };
}

/**
 * The first responder decision in `entries` that suppresses the incident,
 * verified: a dismissal whose record the responder API MAC'd, or the grant
 * of a rollback of it (the record the responder API MAC'd and recorded
 * with its APPROVAL_GRANTED entry). An entry that claims either without a
 * record that verifies, whoever appended it, suppresses nothing.
 */
export async function suppressionOf(
  entries: readonly LedgerEntry[],
  verifier: ApprovalVerifier,
): Promise<Suppression | undefined> {
  const subjects = subjectsOf(entries);
  for (const entry of entries) {
    if (entry.outcome === DISMISSED) {
      const check = await checkDismissal(
        entry.detail?.dismissal,
        { incidentId: entry.incidentId, subjects },
        verifier,
      );
      if (check.valid) {
        return {
          cause: 'dismissed',
          by: [check.record.dismissedBy],
          at: check.record.decidedAt,
          seq: entry.seq,
        };
      }
    }
    if (entry.outcome === 'APPROVAL_GRANTED' && ROLLBACK_STEP.test(entry.step)) {
      const check = await checkApproval(
        entry.detail?.grant,
        {
          kind: 'grant',
          incidentId: entry.incidentId,
          step: entry.step,
          executionArn: entry.executionArn ?? '',
          required: 1,
          subjects,
          ...requesterOf(entries, entry),
        },
        verifier,
      );
      if (check.valid) {
        return {
          cause: 'rolled back',
          by: check.record.approvers,
          at: check.record.decidedAt,
          seq: entry.seq,
        };
      }
    }
  }
  return undefined;
}

/** Who requested the rollback `grant` approved: its plan's ROLLBACK_REQUESTED entry says. */
function requesterOf(
  entries: readonly LedgerEntry[],
  grant: LedgerEntry,
): { requestedBy?: string } {
  const requested = entries.find(
    (e) => e.outcome === 'ROLLBACK_REQUESTED' && e.step === grant.step,
  );
  const by = requested?.detail?.requestedBy;
  return typeof by === 'string' ? { requestedBy: by } : {};
}

type NotActing = Extract<Settled, { kind: 'joined' | 'suppressed' }>;

/** What triage records of an emission that joins its incident or is suppressed. */
export function reemission(
  settled: NotActing,
  seen: { readonly updatedAt: string; readonly count?: number } & Record<string, unknown>,
): { outcome: string; summary: string; detail: Record<string, unknown> } {
  const emitted = `emitted again${seen.count === undefined ? '' : ` (count ${seen.count})`}, updated ${seen.updatedAt}`;
  if (settled.kind === 'suppressed') {
    const { cause, by, at, seq } = settled.suppression;
    return {
      outcome: REEMITTED,
      summary: boundedText(
        `${emitted}, after it was ${cause} by ${by.join(' and ')} at ${at} (entry #${seq}): suppressed, not acted on`,
        1000,
      ),
      detail: { ...seen, suppressed: { ...settled.suppression } },
    };
  }
  const { holder } = settled;
  return {
    outcome: REEMITTED,
    summary: boundedText(
      `${emitted}: joins the incident, whose execution ${holder.executionArn ?? 'unknown'} (entry #${holder.seq}) acts on it; not acted on again`,
      1000,
    ),
    detail: { ...seen, joined: { seq: holder.seq, executionArn: holder.executionArn ?? null } },
  };
}

/**
 * Triage's result for an emission that does not act: a repeated delivery,
 * a re-emission that joins its incident or is suppressed (also when this
 * execution recorded it already, and its triage is being retried).
 * Undefined for one that goes on as a claim or refusal of its own.
 */
export function notActingOn(
  settled: Settled,
  incident: Incident,
  playbook: PlaybookName,
  recorded: LedgerEntry | undefined,
): TriageResult | undefined {
  const result = (decision: TriageResult['decision'], reason: string): TriageResult => ({
    decision,
    reason,
    incident: { ...incident, plan: planNothing(reason, playbook) },
  });
  switch (settled.kind) {
    case 'claim':
      return undefined;
    case 'duplicate':
      return result('DUPLICATE', 'already claimed');
    case 'resumed': {
      const { entry } = settled;
      if (entry.outcome !== REEMITTED) return undefined;
      const suppressed = entry.detail?.suppressed !== undefined;
      return result(suppressed ? 'SUPPRESSED' : 'JOINED', entry.summary ?? 'emitted again');
    }
    case 'joined':
    case 'suppressed':
      return result(
        settled.kind === 'joined' ? 'JOINED' : 'SUPPRESSED',
        recorded?.summary ?? 'emitted again',
      );
  }
}

/**
 * GuardDuty's count of occurrences of a finding (`detail.service.count`),
 * or Security Hub's copy of it for a GuardDuty finding
 * (`ProductFields["aws/guardduty/service/count"]`); undefined when the
 * event carries none. Read leniently: a count is recorded, never decided on.
 */
export function emissionCount(event: unknown): number | undefined {
  const guardDuty = z
    .object({ detail: z.object({ service: z.object({ count: z.number().int().min(0) }) }) })
    .safeParse(event);
  if (guardDuty.success) return guardDuty.data.detail.service.count;
  const securityHub = z
    .object({
      detail: z.object({
        findings: z
          .array(
            z.object({
              ProductFields: z.object({ 'aws/guardduty/service/count': z.string() }),
            }),
          )
          .min(1),
      }),
    })
    .safeParse(event);
  if (!securityHub.success) return undefined;
  const text = securityHub.data.detail.findings[0]?.ProductFields['aws/guardduty/service/count'];
  const count = Number(text);
  return Number.isInteger(count) && count >= 0 ? count : undefined;
}

const CreatedAtSchema = z.iso.datetime({ offset: true });

/**
 * When the finding was created, as its source says: GuardDuty's
 * `detail.createdAt`, Security Hub's `CreatedAt`; undefined when the event
 * carries none, or not as an ISO 8601 time. Read leniently, like the count:
 * it is recorded (what `cordon report` measures time to contain from),
 * never decided on.
 */
export function findingCreatedAt(event: unknown): string | undefined {
  const guardDuty = z.object({ detail: z.object({ createdAt: CreatedAtSchema }) }).safeParse(event);
  if (guardDuty.success) return guardDuty.data.detail.createdAt;
  const securityHub = z
    .object({
      detail: z.object({ findings: z.array(z.object({ CreatedAt: CreatedAtSchema })).min(1) }),
    })
    .safeParse(event);
  return securityHub.success ? securityHub.data.detail.findings[0]?.CreatedAt : undefined;
}

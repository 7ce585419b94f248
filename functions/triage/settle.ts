import type { PlaybookName } from '../shared/catalog.js';
import type { Incident, TriageResult } from '../shared/incident.js';
import type { LedgerEntry } from '../shared/ledger.js';
import { validatedRecord } from '../shared/validated.js';
import type { FindingFacts } from './parse/finding.js';
import {
  CLAIMED,
  emissionCount,
  findingCreatedAt,
  notActingOn,
  REFUSED,
  reemission,
  type Settled,
  settleEmission,
} from './reemissions.js';
import type { TriageContext, TriageDeps } from './triage.js';

/** One emission's settlement in its incident's ledger, as `settle` writes it. */
export interface Settlement {
  /** The event, for what it says of the emission (count, creation time). */
  readonly event: unknown;
  readonly finding: FindingFacts & { readonly playbook: PlaybookName };
  readonly incident: Incident;
  readonly decided: {
    readonly decision: 'PROCEED' | 'REFUSED';
    readonly reason: string;
    readonly arn?: string;
  };
  /** Who may not decide about the incident (functions/shared/dismissal.ts). */
  readonly subjects: readonly string[];
  /** More of the claim's detail. */
  readonly detail: Readonly<Record<string, unknown>>;
  /** The incident's entries, as read beside triage's other reads. */
  readonly recorded: Promise<readonly LedgerEntry[]>;
  /** Called while the claim is decided on, before it is written. */
  readonly onClaim?: () => void;
}

/**
 * Settles the emission in the incident's ledger (reemissions.ts): a claim
 * or refusal of its own, recording the validated incident the actions
 * compare their input with; or a re-emission that joins the incident or is
 * suppressed. Returns triage's result for an emission that does not act on
 * its own (`notActing`), else the claim (or refusal) this execution holds.
 */
export async function settle(
  s: Settlement,
  deps: Pick<TriageDeps, 'ledger' | 'approvals' | 'actor'>,
  context: TriageContext,
): Promise<{ readonly notActing?: TriageResult; readonly claim?: LedgerEntry }> {
  const { event, finding, incident, decided } = s;
  const count = emissionCount(event);
  const createdAt = findingCreatedAt(event);
  const emission = { updatedAt: finding.updatedAt, executionArn: context.executionArn };
  const about = {
    step: 'triage',
    action: 'triage',
    actor: deps.actor,
    ...(decided.arn === undefined ? {} : { targetArn: decided.arn }),
    findingId: finding.findingId,
    executionArn: context.executionArn,
  };
  const seen = {
    findingType: finding.findingType,
    source: finding.source,
    severity: finding.severity,
    updatedAt: finding.updatedAt,
    ...(createdAt === undefined ? {} : { createdAt }),
    ...(count === undefined ? {} : { count }),
    ...(finding.productArn === undefined ? {} : { productArn: finding.productArn }),
    subjects: [...s.subjects],
  };
  const { decision: settled, entry } = await deps.ledger.appendDecided<Settled>(
    incident.incidentId,
    async (entries) => {
      const settled = await settleEmission(entries, emission, deps.approvals);
      if (settled.kind === 'joined' || settled.kind === 'suppressed') {
        const { outcome, summary, detail } = reemission(settled, seen);
        return { decision: settled, append: { ...about, outcome, summary, detail } };
      }
      if (settled.kind !== 'claim') return { decision: settled };
      s.onClaim?.();
      const append = {
        ...about,
        outcome: decided.decision === 'REFUSED' ? REFUSED : CLAIMED,
        summary: decided.reason,
        detail: {
          ...seen,
          ...s.detail,
          // What the actions compare their input with (direct invocations included).
          validated: validatedRecord(incident),
        },
      };
      return { decision: settled, append };
    },
    s.recorded,
  );
  const notActing = notActingOn(settled, incident, finding.playbook, entry);
  if (notActing !== undefined) return { notActing };
  // This execution's claim: written now, or by the attempt this one resumes.
  const claim = settled.kind === 'resumed' ? settled.entry : entry;
  return claim === undefined ? {} : { claim };
}

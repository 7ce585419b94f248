/**
 * What Cordon measures of an incident, read from its ledger entries: the
 * same definitions for the metrics the `metrics` function emits and for
 * `cordon report`, so the dashboard and the report cannot disagree.
 */

/** What the measures read of a ledger entry. */
export interface MeasuredEntry {
  readonly seq: number;
  readonly step: string;
  readonly at: string;
  readonly outcome: string;
  readonly executionArn?: string;
  readonly summary?: string;
  readonly detail?: Readonly<Record<string, unknown>>;
}

/** The outcome of an action's first change to its target. */
export const CONTAINED = 'CONTAINED';

/** A refusal's reason names its guard first (`severity: 5 is below ...`). */
const GUARD = /^([a-z][a-z-]*): /;

/** The guard that refused, from a refusal's summary; `other` when it names none. */
export function refusalGuard(summary: string | undefined): string {
  return GUARD.exec(summary ?? '')?.[1] ?? 'other';
}

/**
 * The incident's first containment change and the claim of the emission
 * that led to it: the claim of the same execution, else the latest before it.
 * `incident` is the incident's entries in ledger order.
 */
export function firstContainment<E extends MeasuredEntry>(
  incident: readonly E[],
): { contained: E; claim?: E } | undefined {
  const contained = incident.find((e) => e.outcome === CONTAINED);
  if (!contained) return undefined;
  const claims = incident.filter(
    (e) => e.step === 'triage' && e.outcome === 'CLAIMED' && e.seq < contained.seq,
  );
  const claim =
    claims.find((e) => e.executionArn !== undefined && e.executionArn === contained.executionArn) ??
    claims.at(-1);
  return claim ? { contained, claim } : { contained };
}

const timeOf = (text: unknown): number | undefined => {
  if (typeof text !== 'string') return undefined;
  const ms = Date.parse(text);
  return Number.isNaN(ms) ? undefined : ms;
};

export interface TimesToContain {
  /** Milliseconds from the finding's creation (its createdAt, as triage recorded it on the claim). */
  readonly fromFindingCreated?: number;
  /** Milliseconds from the event's arrival (triage's claim of it). */
  readonly fromEventArrival?: number;
}

/**
 * The two times to contain of a first containment; each absent when the
 * ledger cannot say. A finding's `createdAt` is the finding's word (an
 * imported one may say anything): one after its own arrival is not counted.
 */
export function timesToContain(first: {
  readonly contained: MeasuredEntry;
  readonly claim?: MeasuredEntry;
}): TimesToContain {
  const containedAt = timeOf(first.contained.at);
  if (containedAt === undefined) return {};
  const arrived = timeOf(first.claim?.at);
  const created = timeOf(first.claim?.detail?.createdAt);
  const credible = created !== undefined && (arrived === undefined || created <= arrived);
  return {
    ...(credible && created <= containedAt ? { fromFindingCreated: containedAt - created } : {}),
    ...(arrived === undefined ? {} : { fromEventArrival: containedAt - arrived }),
  };
}

/** Milliseconds a decided approval waited: from the step's last request before the decision. */
export function approvalWait(
  incident: readonly MeasuredEntry[],
  decision: MeasuredEntry,
): number | undefined {
  const requested = incident.findLast(
    (e) => e.step === decision.step && e.outcome === 'APPROVAL_REQUESTED' && e.seq < decision.seq,
  );
  const from = timeOf(requested?.at);
  const to = timeOf(decision.at);
  return from === undefined || to === undefined ? undefined : to - from;
}

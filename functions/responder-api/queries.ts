import type { LedgerEntry } from '../shared/ledger.js';
import { EndpointError, type ResponderDeps } from './api.js';
import { INCIDENT_ID, type PendingResponse } from './contract.js';

/** An incident's ledger entries, oldest first (validated by the CLI as TimelineResponse). */
export interface Timeline {
  readonly incidentId: string;
  readonly entries: readonly LedgerEntry[];
}

/** The steps waiting now, oldest first. Expired ones are left out: they no longer wait. */
export async function pending(deps: ResponderDeps): Promise<PendingResponse> {
  const nowSeconds = deps.now().getTime() / 1000;
  const items = await deps.store.waiting();
  const pending = items
    .filter((item) => item.expiresAt > nowSeconds)
    .sort((a, b) => a.requestedAt.localeCompare(b.requestedAt))
    .map((item) => ({
      incidentId: item.incidentId,
      step: item.step,
      playbook: item.playbook,
      action: item.action,
      proposal: item.proposal,
      findingType: item.findingType,
      severityLabel: item.severityLabel,
      account: item.account,
      ...(item.targetArn === undefined ? {} : { targetArn: item.targetArn }),
      requestedAt: item.requestedAt,
      expiresAt: new Date(item.expiresAt * 1000).toISOString(),
      approvalsRequired: item.approvalsRequired,
      approvals: item.approvals,
    }));
  return { pending };
}

export async function timeline(deps: ResponderDeps, incidentId: string): Promise<Timeline> {
  if (!INCIDENT_ID.test(incidentId)) {
    throw new EndpointError('invalid_request', 'incident id must look like inc-<20 hex digits>');
  }
  const entries = await deps.ledger.entries(incidentId);
  if (entries.length === 0) {
    throw new EndpointError('unknown_incident', `no incident ${incidentId} in the ledger`);
  }
  return { incidentId, entries };
}

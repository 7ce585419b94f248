import type { PlaybookName } from '../../shared/catalog.js';
import type { FindingSource } from '../../shared/incident.js';
import { incidentIdFrom } from '../../shared/incident.js';

/**
 * The incident id, the ledger key of everything done about a finding: one
 * incident per finding and playbook. Not per emission: GuardDuty and
 * Security Hub emit a finding again with a later updatedAt, and each
 * emission joins the finding's incident (triage/reemissions.ts). The
 * playbook is part of it, because one finding can start two playbooks (an
 * access key that read a secret) whose incidents must not collide.
 * Whatever later reads a playbook execution's input (the finding event)
 * finds the incident the same way.
 */
export function incidentIdOf(finding: {
  readonly source: FindingSource;
  readonly findingId: string;
  readonly playbook: PlaybookName;
}): string {
  return incidentIdFrom(`${finding.source}|${finding.findingId}|${finding.playbook}`);
}

import { incidentIdFrom } from '../../shared/incident.js';
import type { Finding } from './finding.js';

/**
 * The incident id, which is the ledger claim key: the same delivery twice is
 * one incident; a re-emission with a new updatedAt is another; and the
 * playbook is part of it, because one finding can start two playbooks (an
 * access key that read a secret) whose incidents must not collide. Triage
 * claims it; whatever later reads a playbook execution's input (the finding
 * event) finds the incident the same way.
 */
export function incidentIdOf(
  finding: Pick<Finding, 'source' | 'findingId' | 'updatedAt' | 'playbook'>,
): string {
  return incidentIdFrom(
    `${finding.source}|${finding.findingId}|${finding.updatedAt}|${finding.playbook}`,
  );
}

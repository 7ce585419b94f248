import { sha256Hex } from './hash.js';

/** An incident id: `inc-` and the first 20 hex digits of a digest of what makes it one. */
export const INCIDENT_ID = /^inc-[0-9a-f]{20}$/;

/** The incident id of `identity` (the ledger's claim key). */
export function incidentIdFrom(identity: string): string {
  return `inc-${sha256Hex(identity).slice(0, 20)}`;
}

/**
 * Where a failure that has no incident is recorded (an invalid finding,
 * refused before triage made one): one ledger key per execution.
 */
export function orphanIncidentId(executionArn: string): string {
  return incidentIdFrom(executionArn);
}

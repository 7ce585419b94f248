import type { Place } from '../shared/spoke.js';
import type { DeciderDeps } from './deciders/decision.js';
import type { TriageDeps } from './triage.js';

/**
 * The decider's dependencies, its clients where the finding's calls are
 * made (`place`: the finding's account and region, and the incident its
 * spoke session is for). Organization-wide the spoke role is assumed first:
 * one that cannot be (SpokeUnavailableError) fails triage, recorded and
 * notified, before anything is claimed, rather than reading as a subject
 * that cannot be verified, whose claim would hold the finding's later
 * emissions.
 */
export async function decidingAt(
  deps: TriageDeps,
  { account, region, incidentId }: Place,
): Promise<DeciderDeps> {
  if (!('targets' in deps)) return deps;
  const place = { account, region, incidentId };
  await deps.targets.ready(place);
  return { ...deps, ...deps.targets(place) };
}

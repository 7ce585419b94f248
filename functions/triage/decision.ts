import type { PlaybookName } from '../shared/catalog.js';
import type { Incident, StepPlan } from '../shared/incident.js';
import { planNothing } from './plan.js';

/** What an incident is about, as triage verified it (or, when refused or unread, as claimed). */
export type Subject = Pick<
  Incident,
  'principal' | 'instance' | 'secret' | 'lambdaFunction' | 'bucket'
>;

/** What triage decided about one finding, before the claim. */
export interface Decision extends Subject {
  readonly decision: 'PROCEED' | 'REFUSED';
  readonly reason: string;
  /** The ARN the incident is about: the principal's, or the resource's. */
  readonly arn: string;
  readonly plan: Record<string, StepPlan>;
}

export function refuse(
  reason: string,
  arn: string,
  playbook: PlaybookName,
  subject: Subject = {},
): Decision {
  return {
    decision: 'REFUSED',
    reason,
    arn,
    plan: planNothing(`refused: ${reason}`, playbook),
    ...subject,
  };
}

/** The reason of a PROCEED decision, naming why steps wait for a human when they do. */
export function proceedReason(needsHuman: string | undefined): string {
  return needsHuman === undefined
    ? 'claimed'
    : `claimed; automatic steps need approval: ${needsHuman}`;
}

/** The region an SDK client calls, or undefined when none is configured (its call will say so). */
export async function clientRegion(client: {
  readonly config: { readonly region: () => Promise<string> };
}): Promise<string | undefined> {
  try {
    return await client.config.region();
  } catch {
    return undefined;
  }
}

/**
 * Cordon's clients call one region: a resource elsewhere (a finding
 * aggregated from another region) cannot be read or contained from here.
 */
export async function otherRegionRefusal(
  client: { readonly config: { readonly region: () => Promise<string> } },
  findingRegion: string,
  what: string,
  service: string,
): Promise<string | undefined> {
  const here = await clientRegion(client);
  return here !== undefined && here !== findingRegion
    ? `region: ${what} is in ${findingRegion}; this deployment's ${service} calls go to ${here}`
    : undefined;
}

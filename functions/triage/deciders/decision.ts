import type { EC2Client } from '@aws-sdk/client-ec2';
import type { IAMClient } from '@aws-sdk/client-iam';
import type { LambdaClient } from '@aws-sdk/client-lambda';
import type { S3Client } from '@aws-sdk/client-s3';
import type { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import type { PlaybookName } from '../../shared/catalog.js';
import type { IncidentSubject, StepPlan } from '../../shared/incident.js';
import type { RuntimeConfig } from '../../shared/runtime-config.js';
import type { Finding } from '../parse/finding.js';
import { planNothing } from '../plan.js';

/** What an incident is about, as triage verified it (or, when refused or unread, as claimed). */
export type Subject = IncidentSubject;

/** What a decider reads AWS with, and the guard settings. */
export interface DeciderDeps {
  readonly iam: IAMClient;
  readonly ec2: EC2Client;
  readonly secretsManager: SecretsManagerClient;
  readonly lambda: LambdaClient;
  readonly s3: S3Client;
  readonly config: RuntimeConfig;
}

/** Where the ARN a finding names says its resource is. */
export interface ClaimedLocation {
  readonly what: string;
  readonly arn: string;
  readonly account?: string;
  readonly region?: string;
}

/** What a finding claims its subject is, before AWS is asked: what a refusal records. */
export interface Claimed {
  /** The ARN the incident is about: the principal's, or the resource's. */
  readonly arn: string;
  readonly subject: Subject;
}

/**
 * Everything triage knows about one kind of finding, the one place it
 * depends on the playbook: what the finding claims, where it says that is,
 * what its source must name, and how the claim is verified, guarded and
 * planned against AWS.
 */
export interface Decider<F extends Finding> {
  claimed(finding: F): Claimed;
  /**
   * Where the ARN the finding names says its resource is, for the account
   * and region guards; undefined when it names none (S3 ARNs carry neither,
   * GuardDuty principals and secrets named without an ARN neither).
   */
  location(finding: F): ClaimedLocation | undefined;
  /**
   * What the finding's source must name for triage to act unattended: the
   * access key (or user), the instance, the secret, the function, the
   * bucket; undefined when the event's own resource is not what is acted on
   * (a secret GuardDuty saw an access key touch).
   */
  sourceIdentifier(finding: F): string | undefined;
  /**
   * Configuration checks (Security Hub controls, CSPM tools) act for this
   * playbook: for s3-exposure a public bucket is the exposure itself, and
   * secret scanners and Lambda findings may file a real exposure under a
   * check type; a weak setting is no compromise of a principal or instance.
   */
  readonly configurationChecksAct: boolean;
  /** Verifies the claim against AWS, applies the protected and exempt guards, plans each step. */
  decide(finding: F, deps: DeciderDeps): Promise<Decision>;
}

/** A decider with its finding, so triage calls it without knowing the finding's kind. */
export interface BoundDecider {
  claimed(): Claimed;
  location(): ClaimedLocation | undefined;
  sourceIdentifier(): string | undefined;
  readonly configurationChecksAct: boolean;
  decide(deps: DeciderDeps): Promise<Decision>;
}

export function bind<F extends Finding>(decider: Decider<F>, finding: F): BoundDecider {
  return {
    claimed: () => decider.claimed(finding),
    location: () => decider.location(finding),
    sourceIdentifier: () => decider.sourceIdentifier(finding),
    configurationChecksAct: decider.configurationChecksAct,
    decide: (deps) => decider.decide(finding, deps),
  };
}

/** What triage decided about one finding, before the claim. */
export interface Decision extends Subject {
  readonly decision: 'PROCEED' | 'REFUSED';
  readonly reason: string;
  /** The ARN the incident is about: the principal's, or the resource's. */
  readonly arn: string;
  readonly plan: Record<string, StepPlan>;
}

/** Refuses the finding: every step off, the subject as far as triage got. */
export function refuse(reason: string, claimed: Claimed, playbook: PlaybookName): Decision {
  return {
    decision: 'REFUSED',
    reason,
    arn: claimed.arn,
    plan: planNothing(`refused: ${reason}`, playbook),
    ...claimed.subject,
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

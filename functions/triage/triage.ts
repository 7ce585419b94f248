import type { IAMClient } from '@aws-sdk/client-iam';
import { InvalidFindingError } from '../shared/errors.js';
import { sha256Hex } from '../shared/hash.js';
import {
  type Incident,
  IncidentSchema,
  type StepPlan,
  type TriageResult,
} from '../shared/incident.js';
import type { Ledger } from '../shared/ledger.js';
import type { RuntimeConfig } from '../shared/runtime-config.js';
import type { Finding } from './finding.js';
import { exemptTagGuard, findingRefusal, protectedGuard } from './guards.js';
import { formatPath } from './invalid.js';
import { parseFindingEvent } from './parse.js';
import { PLAYBOOK, planNothing, planSteps } from './plan.js';
import { claimedArn, resolvePrincipal } from './principal.js';

export interface TriageDeps {
  readonly iam: IAMClient;
  readonly ledger: Ledger;
  readonly config: RuntimeConfig;
  /** ARN of triage's own role: the ledger's actor. */
  readonly actor: string;
}

/** The ledger key: the same delivery twice is one incident; a re-emission with a new updatedAt is another. */
export function incidentIdOf(finding: Pick<Finding, 'source' | 'findingId' | 'updatedAt'>): string {
  const digest = sha256Hex(`${finding.source}|${finding.findingId}|${finding.updatedAt}`);
  return `inc-${digest.slice(0, 20)}`;
}

interface Decision {
  readonly decision: 'PROCEED' | 'REFUSED';
  readonly reason: string;
  readonly arn: string;
  readonly plan: Record<string, StepPlan>;
}

/**
 * Validates and normalises a finding event, verifies the principal it names,
 * applies the guards, claims the incident in the ledger and plans each step.
 * Throws InvalidFindingError for an event it cannot act on (nothing is
 * claimed), and Cordon's retryable errors when AWS throttles or fails.
 */
export interface TriageContext {
  /** The execution that runs this triage; recorded on the claim. */
  readonly executionArn?: string;
}

export async function triage(
  event: unknown,
  deps: TriageDeps,
  context: TriageContext = {},
): Promise<TriageResult> {
  const parsed = parseFindingEvent(event);
  if (parsed.status === 'unhandled') {
    throw new InvalidFindingError(`triage cannot act on this event: ${parsed.message}`);
  }
  const { finding } = parsed;
  const decided = await decide(finding, deps);
  const incident = toIncident(finding, decided);
  const claimed = await deps.ledger.claim(incident.incidentId, {
    step: 'triage',
    action: 'triage',
    actor: deps.actor,
    outcome: decided.decision === 'REFUSED' ? 'REFUSED' : 'CLAIMED',
    targetArn: decided.arn,
    findingId: finding.findingId,
    summary: decided.reason,
    ...(context.executionArn === undefined ? {} : { executionArn: context.executionArn }),
    detail: {
      findingType: finding.findingType,
      source: finding.source,
      severity: finding.severity,
      updatedAt: finding.updatedAt,
      ...(finding.productArn === undefined ? {} : { productArn: finding.productArn }),
    },
  });
  if (!claimed) {
    const reason = 'already claimed';
    return { decision: 'DUPLICATE', reason, incident: { ...incident, plan: planNothing(reason) } };
  }
  return { decision: decided.decision, reason: decided.reason, incident };
}

async function decide(finding: Finding, deps: TriageDeps): Promise<Decision> {
  const { config } = deps;
  const early = findingRefusal(finding, config);
  if (early !== undefined) return refuse(early, claimedArn(finding));

  const resolution = await resolvePrincipal(finding, deps.iam);
  if (resolution.status === 'refused') return refuse(resolution.reason, resolution.arn);

  const { arn } = resolution;
  const refusal =
    protectedGuard(arn, config) ??
    (resolution.status === 'verified' ? exemptTagGuard(arn, resolution.tags, config) : undefined);
  if (refusal !== undefined) return refuse(refusal, arn);

  // Guards fail closed: an unread exempt tag means no step runs unattended.
  const failClosedReason =
    resolution.status === 'unverified'
      ? `exempt tag could not be read: ${resolution.reason}`
      : undefined;
  const plan = planSteps(
    {
      kind: finding.principal.kind,
      accessKeyId: finding.principal.accessKeyId,
      ...(failClosedReason === undefined ? {} : { failClosedReason }),
    },
    config,
  );
  const reason =
    failClosedReason === undefined
      ? 'claimed'
      : `claimed; automatic steps need approval: ${failClosedReason}`;
  return { decision: 'PROCEED', reason, arn, plan };
}

function refuse(reason: string, arn: string): Decision {
  return { decision: 'REFUSED', reason, arn, plan: planNothing(`refused: ${reason}`) };
}

function toIncident(finding: Finding, decided: Decision): Incident {
  const { principal } = finding;
  const candidate = {
    incidentId: incidentIdOf(finding),
    playbook: PLAYBOOK,
    source: finding.source,
    findingId: finding.findingId,
    ...(finding.productArn === undefined ? {} : { productArn: finding.productArn }),
    findingType: finding.findingType,
    severity: finding.severity,
    severityLabel: finding.severityLabel,
    account: finding.account,
    region: finding.region,
    updatedAt: finding.updatedAt,
    principal: {
      kind: principal.kind,
      arn: decided.arn,
      ...(principal.kind === 'Root' || principal.name === undefined
        ? {}
        : { name: principal.name }),
      ...(principal.accessKeyId === undefined ? {} : { accessKeyId: principal.accessKeyId }),
    },
    plan: decided.plan,
  };
  // Our own contract: if the output does not fit it, act on nothing.
  const checked = IncidentSchema.safeParse(candidate);
  if (!checked.success) {
    const issue = checked.error.issues[0];
    throw new InvalidFindingError(
      `finding does not normalise to an incident at ${formatPath(issue?.path ?? [])}: ${issue?.message ?? 'invalid'}`,
    );
  }
  return checked.data;
}

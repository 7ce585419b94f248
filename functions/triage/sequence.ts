import { principalsAmong } from '../shared/approval-record.js';
import {
  type PlaybookName,
  SEQUENCE,
  type SequenceMemberPlaybook,
  stepsOf,
} from '../shared/catalog.js';
import { InvalidFindingError } from '../shared/errors.js';
import { inFlight } from '../shared/in-flight.js';
import {
  type Incident,
  IncidentSchema,
  incidentIdFrom,
  incidentTargetArn,
  NOT_ACTED_ON_LISTED,
  type NotActedOn,
  type SequenceMember,
  type StepPlan,
  type TriageResult,
} from '../shared/incident.js';
import type { LedgerEntry } from '../shared/ledger.js';
import { boundedText } from '../shared/text.js';
import { sequenceClaim, validatedRecord } from '../shared/validated.js';
import { firstIssue } from '../shared/validation.js';
import type { Decision } from './deciders/decision.js';
import { deciderFor } from './deciders/index.js';
import { decidingAt } from './deciding.js';
import { membershipRefusal } from './guardrails/membership.js';
import { applyRuntimeMode, type RuntimeModeReading } from './guardrails/runtime-mode.js';
import { findingRefusal } from './guards/finding.js';
import { type Finding, incidentFacts, type SequenceFinding } from './parse/finding.js';
import { incidentIdOf } from './parse/index.js';
import type { SequenceMember as Claimed } from './parse/sequence.js';
import { CLAIMED } from './reemissions.js';
import { settle } from './settle.js';
import type { TriageContext, TriageDeps } from './triage.js';

/**
 * Triage of a GuardDuty attack sequence. A sequence names many principals,
 * instances and buckets at once, so it is multi-resource by construction:
 *
 * - each member is triaged as its own playbook triages a finding on it
 *   (the same guards, the same reads of AWS, the same plan), as a child
 *   incident of the sequence's parent incident;
 * - no step of a member ever runs unattended: `auto` becomes `approve`,
 *   and one responder approval of the whole set (the parent's one step,
 *   SEQUENCE.step) is what every member's steps act on;
 * - the parent lists every member with what its steps do and reach (its
 *   blast radius), and everything the sequence names that is not acted
 *   on, with why (and, for Kubernetes and ECS, the AWS guide to follow);
 * - the parent's claim settles the sequence's emissions as any finding's
 *   (one incident per finding); each child is claimed under the same
 *   execution, recording the parent, so an action acts on a child only as
 *   triage validated it and only with the parent's grant.
 */
export async function triageSequence(
  event: unknown,
  finding: SequenceFinding,
  deps: TriageDeps,
  context: TriageContext,
): Promise<TriageResult> {
  const incidentId = incidentIdOf(finding);
  const recorded = inFlight(deps.ledger.entries(incidentId));
  const members = finding.sequence.members.map((member) => childFinding(finding, member));
  // The guards on what every member shares (sample, archived, account,
  // region, severity) refuse the sequence as a whole.
  const refused = await sequenceRefusal(finding, deps);
  const runtime = refused === undefined ? await deps.guardrails.runtimeMode.read() : undefined;
  const decided =
    runtime === undefined
      ? { children: [], notActedOn: [] }
      : await decideMembers(incidentId, members, deps, runtime);
  const notActedOn = [...decided.notActedOn, ...finding.sequence.notActedOn];
  const { children } = decided;
  const reason =
    refused ??
    (children.length === 0
      ? `nothing to contain: the sequence names nothing Cordon may act on (${notActedOn.length} not acted on${notActedOn[0] === undefined ? '' : `; first: ${notActedOn[0].id}: ${notActedOn[0].reason}`})`
      : `claimed ${children.length} member${children.length === 1 ? '' : 's'} of the sequence; every step waits for one approval of the whole set`);
  const decision = refused === undefined && children.length > 0 ? 'PROCEED' : 'REFUSED';
  const parent = parentIncident(finding, incidentId, children, notActedOn, {
    decision,
    reason,
  });
  const subjects = principalsAmong([
    ...children.flatMap((c) => [c.principal?.arn, incidentTargetArn(c)]),
    ...actorArns(finding),
  ]);
  const settled = await settle(
    {
      event,
      finding,
      incident: parent,
      decided: { decision, reason },
      subjects,
      detail: {
        ...(runtime === undefined ? {} : { runtimeMode: runtime.mode }),
        children: children.map((c) => c.incidentId),
      },
      recorded,
    },
    deps,
    context,
  );
  // The state machine reads `children` whatever the decision: none unless claimed.
  if (settled.notActing !== undefined) return { ...settled.notActing, children: [] };
  if (decision !== 'PROCEED') return { decision, reason, incident: parent, children: [] };
  sameSetAsClaimed(incidentId, children, settled.claim, context);
  await Promise.all(children.map((child) => claimChild(child, finding, deps, context)));
  return { decision, reason, incident: parent, children };
}

/**
 * Every IAM user and role the sequence's actors name, as ARNs (IAM names a
 * principal by account, kind and name: the path does not matter to who it
 * is), acted on or not: none of them may decide about the set.
 */
function actorArns(finding: SequenceFinding): string[] {
  return finding.sequence.principals.map(
    ({ kind, name, account }) =>
      `arn:${finding.partition}:iam::${account ?? finding.account}:${kind === 'IAMUser' ? 'user' : 'role'}/${name}`,
  );
}

/**
 * A triage retried under the same execution resumes its claim: the set it
 * claims must be the one the claim recorded, which is the set the
 * responders are asked about. Anything else (the members read differently,
 * or triage invoked again by hand with other members) is refused, and
 * nothing more is claimed.
 */
function sameSetAsClaimed(
  incidentId: string,
  children: readonly Incident[],
  claimed: LedgerEntry | undefined,
  context: TriageContext,
): void {
  const claim = sequenceClaim(claimed === undefined ? [] : [claimed], context.executionArn);
  const ids = children.map((c) => c.incidentId);
  const recorded = claim?.children ?? [];
  if (recorded.length !== ids.length || ids.some((id) => !recorded.includes(id))) {
    throw new InvalidFindingError(
      `attack sequence ${incidentId} was claimed under ${context.executionArn} with members ${recorded.join(', ') || '(none)'}; triage found ${ids.join(', ') || '(none)'}: nothing more is claimed`,
    );
  }
}

/** A member as a finding of its own playbook: the sequence's facts, the member's subject. */
function childFinding(finding: SequenceFinding, member: Claimed): Finding {
  const { sequence: _sequence, playbook: _playbook, ...facts } = finding;
  switch (member.kind) {
    case 'principal':
      return { ...facts, playbook: 'iam-credentials', principal: member.principal };
    case 'instance':
      return { ...facts, playbook: 'ec2-instance', instance: { instanceId: member.instanceId } };
    case 'bucket':
      return { ...facts, playbook: 's3-exposure', bucket: { name: member.name } };
  }
}

/**
 * Why the sequence is refused as a whole: a finding guard that refuses
 * what every member shares (a sample, an archived finding, an account or
 * region out of scope, a severity under the threshold), then, for `"*"`,
 * Organizations' word on the account. Undefined when it passes. A guard
 * that refuses one member only (an ARN in another account) refuses that
 * member, in decideMembers.
 */
async function sequenceRefusal(
  finding: SequenceFinding,
  deps: TriageDeps,
): Promise<string | undefined> {
  // Where each member's ARN says it is, the member's own guards check.
  const shared = { location: () => undefined, configurationChecksAct: false };
  const refused = findingRefusal(finding, deps.config, shared, deps.organization);
  if (refused !== undefined) return refused;
  if (finding.sequence.members.length === 0 && finding.sequence.notActedOn.length === 0) {
    return 'the sequence names no actor or resource';
  }
  return membershipRefusal(finding.account, deps.organization, deps.members);
}

interface Members {
  readonly children: Incident[];
  readonly notActedOn: NotActedOn[];
}

/**
 * Triages each member as its own playbook would, and plans its steps for
 * the one approval: a member refused (protected, exempt-free but absent,
 * in another account) or with no step left to act is listed as not acted
 * on, with why.
 */
async function decideMembers(
  parentId: string,
  members: readonly Finding[],
  deps: TriageDeps,
  runtime: RuntimeModeReading,
): Promise<Members> {
  const [first] = members;
  if (first === undefined) return { children: [], notActedOn: [] };
  // Every member is in the sequence's account and region, or refused: one spoke session.
  const at = await decidingAt(deps, { ...first, incidentId: parentId });
  const decided = await mapLimited(members, MEMBERS_AT_ONCE, async (member) => {
    const kind = deciderFor(member);
    const refused = findingRefusal(member, deps.config, kind, deps.organization);
    return refused === undefined
      ? { member, decision: await kind.decide(at) }
      : { member, refused };
  });
  const children: Incident[] = [];
  const notActedOn: NotActedOn[] = [];
  for (const d of decided) {
    const id = memberId(d.member);
    if ('refused' in d) {
      notActedOn.push({ what: d.member.playbook, id, reason: `refused: ${d.refused}` });
      continue;
    }
    const { decision } = d;
    if (decision.decision === 'REFUSED') {
      notActedOn.push({ what: d.member.playbook, id, reason: `refused: ${decision.reason}` });
      continue;
    }
    const plan = memberPlan(
      applyRuntimeMode(decision.plan, runtime, deps.guardrails.runtimeMode.parameterName),
    );
    if (!Object.values(plan).some((p) => p.mode === 'approve' || p.mode === 'dry-run')) {
      const why = Object.values(plan).find((p) => p.reason !== undefined)?.reason;
      notActedOn.push({
        what: d.member.playbook,
        id,
        reason: `no step acts on it${why === undefined ? '' : `: ${why}`}`,
      });
      continue;
    }
    children.push(childIncident(d.member, decision, plan, parentId));
  }
  return { children, notActedOn };
}

/**
 * How many members are read from AWS at once: a sequence's reads stay well
 * inside IAM's and EC2's request rates, and triage's timeout.
 */
const MEMBERS_AT_ONCE = 5;

/** `map` over `items`, at most `limit` at a time; the results in the items' order. */
async function mapLimited<T, R>(
  items: readonly T[],
  limit: number,
  map: (item: T) => Promise<R>,
): Promise<R[]> {
  const results: R[] = [];
  let next = 0;
  const worker = async () => {
    for (let i = next++; i < items.length; i = next++) {
      results[i] = await map(items[i] as T);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}

const UNATTENDED = 'attack sequence: every step waits for the approval of the whole set';

/**
 * A member's plan: never unattended, so `auto` becomes `approve`; each
 * reason bounded (one may name an ARN), so twenty members stay well inside
 * Step Functions' payload quota.
 */
function memberPlan(plan: Record<string, StepPlan>): Record<string, StepPlan> {
  return Object.fromEntries(
    Object.entries(plan).map(([step, p]) => {
      const bounded = p.reason === undefined ? p : { ...p, reason: boundedText(p.reason, 300) };
      return [
        step,
        p.mode === 'auto' ? { ...bounded, mode: 'approve' as const, reason: UNATTENDED } : bounded,
      ];
    }),
  );
}

/** How a member is named where it is not acted on: its key, instance id or bucket name. */
function memberId(member: Finding): string {
  switch (member.playbook) {
    case 'iam-credentials': {
      // A role is one member, whichever of its sessions the sequence names first.
      const { kind, name, accessKeyId } = member.principal;
      const key = kind === 'AssumedRole' || accessKeyId === undefined ? '' : ` (${accessKeyId})`;
      return `${kind}/${name ?? ''}${key}`;
    }
    case 'ec2-instance':
      return member.instance.instanceId;
    case 's3-exposure':
      return member.bucket.name;
    default:
      return member.playbook;
  }
}

/**
 * A member's child incident: the incident its own playbook would have made
 * of a finding on it, under an id of its own (the parent's and the
 * member's), naming its parent.
 */
function childIncident(
  member: Finding,
  decided: Decision,
  plan: Record<string, StepPlan>,
  parentId: string,
): Incident {
  const { principal, instance, bucket } = decided;
  return checked({
    incidentId: incidentIdFrom(`${parentId}|${member.playbook}|${memberId(member)}`),
    playbook: member.playbook,
    ...incidentFacts(member),
    ...(principal === undefined ? {} : { principal }),
    ...(instance === undefined ? {} : { instance }),
    ...(bucket === undefined ? {} : { bucket }),
    plan,
    parent: parentId,
  });
}

/** The parent incident: the sequence, its one step, and the set it lists. */
function parentIncident(
  finding: SequenceFinding,
  incidentId: string,
  children: readonly Incident[],
  notActedOn: readonly NotActedOn[],
  decided: { readonly decision: 'PROCEED' | 'REFUSED'; readonly reason: string },
): Incident {
  const acting = children.some((c) => Object.values(c.plan).some((p) => p.mode === 'approve'));
  const mode = decided.decision === 'REFUSED' ? 'off' : acting ? 'approve' : 'dry-run';
  // Bounded, so the parent, handed to every task, stays well inside Step
  // Functions' payload quota whatever a sequence names.
  const listed = notActedOn.slice(0, NOT_ACTED_ON_LISTED).map((n) => ({
    what: boundedText(n.what, 200),
    id: boundedText(n.id, 300),
    reason: boundedText(n.reason, 500),
    ...(n.guide === undefined ? {} : { guide: n.guide }),
  }));
  return checked({
    incidentId,
    playbook: SEQUENCE.playbook,
    ...incidentFacts(finding),
    plan: {
      [SEQUENCE.step]:
        mode === 'approve' ? { mode } : { mode, reason: decided.reason.slice(0, 1000) },
    },
    sequence: {
      uid: finding.sequence.uid,
      signals: finding.sequence.signals,
      members: children.map(memberSummary),
      notActedOn: listed,
      ...(notActedOn.length > listed.length
        ? { notListed: notActedOn.length - listed.length }
        : {}),
    },
  });
}

/** A child as the approval request lists it: what it is, what its steps do, and what they reach. */
function memberSummary(child: Incident): SequenceMember {
  const playbook = child.playbook as SequenceMemberPlaybook;
  const specs = stepsOf(playbook as PlaybookName);
  const steps = Object.entries(child.plan)
    .filter(([, p]) => p.mode === 'approve' || p.mode === 'dry-run')
    .map(([step, p]) => ({ step, mode: p.mode, summary: specs[step]?.summary ?? step }));
  const acts = new Set(steps.map((s) => s.step));
  const targetArn = incidentTargetArn(child) ?? child.incidentId;
  return {
    incidentId: child.incidentId,
    playbook,
    what: boundedText(describeChild(child), 500),
    targetArn,
    ...(child.principal === undefined ? {} : { principalArn: child.principal.arn }),
    steps,
    blastRadius: blastRadius(child, acts).map((line) => boundedText(line, 500)),
  };
}

function describeChild(child: Incident): string {
  const { principal, instance, bucket } = child;
  if (instance !== undefined) {
    return `EC2 instance ${instance.instanceId}${principal === undefined ? '' : `, role ${principal.name ?? principal.arn}`}`;
  }
  if (bucket !== undefined) return `S3 bucket ${bucket.name}`;
  if (principal?.kind === 'IAMUser') {
    return `IAM user ${principal.name}${principal.accessKeyId === undefined ? '' : `, access key ${principal.accessKeyId}`}`;
  }
  return `role ${principal?.name ?? principal?.arn ?? child.incidentId} (assumed-role sessions)`;
}

/** What a member's steps reach beyond the member itself. */
function blastRadius(child: Incident, acts: ReadonlySet<string>): string[] {
  const { principal, instance, bucket } = child;
  const out: string[] = [];
  if (acts.has('revokeRoleSessions') && principal !== undefined) {
    out.push(
      `ends every session of role ${principal.arn} issued before now, every caller's, not only this one's`,
    );
  }
  if (acts.has('quarantineUser') && principal !== undefined) {
    out.push(
      `denies user ${principal.name ?? principal.arn} everything and removes its console password: every workload using its keys stops`,
    );
  }
  if (instance !== undefined) {
    const shared = instance.profileSharedWith ?? 0;
    if (acts.has('revokeInstanceRoleSessions') && principal !== undefined) {
      out.push(
        `ends every session of the instance role ${principal.arn}${shared > 0 ? `, shared through its instance profile with ${shared} other instance${shared === 1 ? '' : 's'}: the fleet loses its credentials` : ''}`,
      );
    }
    if (acts.has('isolate') && instance.autoScalingGroup !== undefined) {
      out.push(
        `takes it out of Auto Scaling group ${instance.autoScalingGroup}, which may launch a replacement`,
      );
    }
    if (acts.has('isolate')) out.push('cuts every network connection of the instance');
  }
  if (bucket !== undefined && acts.has('blockPublicAccess')) {
    out.push(`every public read or write of bucket ${bucket.name} stops`);
  }
  return out;
}

/** Our own contract: an incident that does not fit it is not acted on. */
function checked(candidate: unknown): Incident {
  const result = IncidentSchema.safeParse(candidate);
  if (!result.success) {
    const { where, message } = firstIssue(result.error);
    throw new InvalidFindingError(
      `attack sequence does not normalise to an incident at ${where}: ${message}`,
    );
  }
  return result.data;
}

/**
 * Claims a child under the parent's execution, recording what the actions
 * compare their input with and the parent it belongs to. A retried triage
 * finds its claim and writes nothing again.
 */
async function claimChild(
  child: Incident,
  finding: SequenceFinding,
  deps: TriageDeps,
  context: TriageContext,
): Promise<void> {
  await deps.ledger.appendOnce(
    child.incidentId,
    {
      step: 'triage',
      action: 'triage',
      actor: deps.actor,
      outcome: CLAIMED,
      ...(incidentTargetArn(child) === undefined ? {} : { targetArn: incidentTargetArn(child) }),
      findingId: child.findingId,
      executionArn: context.executionArn,
      summary: `claimed as a member of attack sequence ${child.parent}; its steps wait for the approval of the whole set`,
      detail: {
        findingType: finding.findingType,
        source: finding.source,
        severity: finding.severity,
        updatedAt: finding.updatedAt,
        parent: child.parent,
        subjects: principalsAmong([child.principal?.arn, incidentTargetArn(child)]),
        validated: validatedRecord(child),
      },
    },
    (e) => e.step === 'triage' && e.outcome === CLAIMED && e.executionArn === context.executionArn,
  );
}

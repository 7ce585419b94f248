import { actionNamed } from '../actions/registry.js';
import { actionsOfStep, type StepSpec } from '../shared/catalog.js';
import type { Incident, Sequence, SequenceMember } from '../shared/incident.js';
import { boundedText, quoted } from '../shared/text.js';
import type { RequestApprovalInput, RollbackApprovalInput } from './core.js';

/**
 * What responders read when Cordon asks: the approval request for a playbook
 * step and for a rollback. Every field that came from a finding is bounded
 * and quoted, so it cannot add lines or pose as Cordon's own text.
 */

export const SUBJECT_MAX = 100;
const FIELD_MAX = 256;
const SUMMARY_MAX = 300;

/** Who else the step hits besides the attacker: each of its actions' reach, in order. */
export function blastRadius(spec: StepSpec, incident: Incident): string {
  return actionsOfStep(spec)
    .map((name) => actionNamed(name)?.blastRadius(incident) ?? `runs ${name}`)
    .join('; ');
}

/** What is proposed, for the ledger and the message: the catalog summary and its reach. */
export function proposal(spec: StepSpec, incident: Incident): string {
  return `${spec.summary}: ${blastRadius(spec, incident)}`;
}

/** What triage found when it verified the target: the state the step would change. */
export function currentState(incident: Incident): string[] {
  const { principal, instance, secret, lambdaFunction, bucket } = incident;
  const lines: string[] = [];
  if (principal) {
    const key = principal.accessKeyId ? `, access key ${quoted(principal.accessKeyId, 40)}` : '';
    lines.push(`${principal.kind} ${quoted(principal.arn, FIELD_MAX)}${key}`);
  }
  if (instance) {
    const others = instance.profileSharedWith ?? 0;
    lines.push(
      [
        `instance ${quoted(instance.arn, FIELD_MAX)}`,
        instance.vpcId ? `in VPC ${quoted(instance.vpcId, 64)}` : 'in no VPC',
        instance.autoScalingGroup
          ? `in Auto Scaling group ${quoted(instance.autoScalingGroup, FIELD_MAX)}`
          : 'in no Auto Scaling group',
        instance.instanceProfileArn
          ? `instance profile ${quoted(instance.instanceProfileArn, FIELD_MAX)} (shared with ${others} other instance${others === 1 ? '' : 's'})`
          : 'no instance profile',
      ].join(', '),
    );
  }
  if (secret) {
    lines.push(
      `secret ${quoted(secret.arn, FIELD_MAX)}, rotation ${secret.rotationEnabled ? 'configured' : 'not configured'}`,
    );
  }
  if (lambdaFunction) {
    const role = lambdaFunction.roleArn ? quoted(lambdaFunction.roleArn, FIELD_MAX) : '(unknown)';
    lines.push(`function ${quoted(lambdaFunction.arn, FIELD_MAX)}, execution role ${role}`);
  }
  if (bucket) lines.push(`bucket ${quoted(bucket.arn, FIELD_MAX)}`);
  return lines.length > 0 ? lines : ['(triage recorded no target)'];
}

export interface MessageContext {
  readonly required: 1 | 2;
  readonly expiresAt: Date;
  readonly endpointUrl: string;
}

/** The commands that decide a request, then the one that shows the incident. */
export function decisionCommands(incidentId: string, step: string): string[] {
  return [
    `npx cordon approve ${incidentId} --step ${step} --reason "..."`,
    `npx cordon reject ${incidentId} --step ${step} --reason "..."`,
    `npx cordon show ${incidentId}`,
  ];
}

/** How to decide, who decides, what a timeout means, and the execution: every request ends so. */
function decisionLines(
  incidentId: string,
  step: string,
  context: MessageContext,
  ifNoDecision: string,
  executionArn: string,
): string[] {
  return [
    'To decide, as a Cordon responder, with your own AWS credentials:',
    ...decisionCommands(incidentId, step).map((command, i) =>
      i === 2 ? `  ${command}      (the timeline so far)` : `  ${command}`,
    ),
    `Endpoint: ${boundedText(context.endpointUrl, 256)} (AWS_IAM; POST /decisions)`,
    context.required === 2
      ? 'Two-person rule: two different responders must approve before it runs; one rejection stops it.'
      : 'One responder decides.',
    `If no decision arrives by ${context.expiresAt.toISOString()}, Cordon ${ifNoDecision}, records that, and tells you.`,
    '',
    `Execution: ${boundedText(executionArn, 2048)}`,
  ];
}

export function approvalMessage(
  input: RequestApprovalInput,
  spec: StepSpec,
  context: MessageContext,
): string {
  const { incident, step } = input;
  const id = incident.incidentId;
  const stepId = boundedText(step, 64);
  return [
    'Cordon asks for a decision before it acts.',
    '',
    `Incident: ${id}`,
    `Playbook: ${incident.playbook}`,
    `Step: ${stepId} (${spec.action})`,
    `Proposed: ${spec.summary}`,
    ...(incident.plan[step]?.fallback === true && spec.fallbackFor !== undefined
      ? [
          `Why: step ${spec.fallbackFor} did not finish (its failure was recorded and notified); this step stands in for it`,
        ]
      : []),
    `Blast radius: ${blastRadius(spec, incident)}`,
    '',
    `Finding type: ${quoted(incident.findingType, FIELD_MAX)}`,
    `Severity: ${incident.severityLabel} (${incident.severity})`,
    `Account / region: ${incident.account} / ${quoted(incident.region, 64)}`,
    '',
    'Current state (verified by triage):',
    ...currentState(incident).map((line) => `  - ${line}`),
    '',
    ...decisionLines(id, stepId, context, 'does not act', input.executionArn),
  ].join('\n');
}

/** The rollback request's message: exactly what would be restored, to what, and by whom asked. */
export function rollbackApprovalMessage(
  input: RollbackApprovalInput,
  context: MessageContext,
): string {
  const { plan, force, requestedBy, reason } = input.rollback;
  const id = plan.incidentId;
  const step = plan.approvalStep;
  return [
    'Cordon asks for a decision before it rolls back a containment.',
    'Approving RE-OPENS access that Cordon closed.',
    '',
    `Incident: ${id}`,
    `Step: ${step} (rollback)`,
    `Requested by: ${boundedText(requestedBy, 2048)} (the signed caller)`,
    `Reason: ${quoted(reason, 1002)}`,
    `Finding type: ${quoted(plan.findingType, FIELD_MAX)}`,
    force
      ? 'Force: YES: targets changed since containment are restored to the recorded state anyway'
      : 'Force: no: a target changed since containment is refused, and nothing after it is attempted',
    '',
    'It would restore, in this order (newest containment first):',
    ...plan.items.map(
      (item, i) => `  ${i + 1}. [${boundedText(item.step, 64)} #${item.seq}] ${item.restores}`,
    ),
    ...(plan.skipped.length > 0
      ? [
          'Not rolled back:',
          ...plan.skipped.map(
            (s) => `  - [${boundedText(s.step, 64)} #${s.seq}] ${s.action}: ${s.reason}`,
          ),
        ]
      : []),
    '',
    ...decisionLines(id, step, context, 'does not roll back', input.executionArn),
  ].join('\n');
}

/** Most characters the members' lines of a sequence's request take; `cordon show` lists the rest. */
const MEMBERS_TEXT_MAX = 40_000;

/** What is proposed for an attack sequence, for the ledger and `cordon pending`: the set in one line. */
export function sequenceProposal(incident: Incident, sequence: Sequence): string {
  const { members, notActedOn, notListed = 0 } = sequence;
  const left = notActedOn.length + notListed;
  return [
    `contain attack sequence ${incident.findingType}: ${members.length} member${members.length === 1 ? '' : 's'} (${members.map((m) => m.what).join('; ')})`,
    ...(left > 0 ? [`${left} not acted on`] : []),
  ].join('; ');
}

/**
 * A member's block: what it is, where, each step it would run (its mode and
 * what it does) and what those steps reach beyond it. Every member is in the
 * sequence's account: triage refuses one in another.
 */
function memberLines(member: SequenceMember, index: number, account: string): string[] {
  return [
    `  ${index + 1}. ${quoted(member.what, FIELD_MAX)} (${member.playbook}, incident ${member.incidentId})`,
    `     account ${account}, target ${quoted(member.targetArn, FIELD_MAX)}`,
    ...member.steps.map(
      (s) =>
        `     - ${boundedText(s.step, 64)} [${s.mode}]: ${boundedText(s.summary, SUMMARY_MAX)}`,
    ),
    ...(member.blastRadius.length === 0
      ? ['     Blast radius: nothing beyond it']
      : member.blastRadius.map((b) => `     Blast radius: ${quoted(b, SUMMARY_MAX)}`)),
  ];
}

/** The members' blocks, until the text budget: the rest are counted, and `cordon show` lists them. */
function membersLines(incident: Incident, sequence: Sequence): string[] {
  const lines: string[] = [];
  let used = 0;
  for (const [i, member] of sequence.members.entries()) {
    const block = memberLines(member, i, incident.account);
    const size = block.reduce((n, line) => n + line.length + 1, 0);
    if (used + size > MEMBERS_TEXT_MAX) {
      lines.push(
        `  ... and ${sequence.members.length - i} more members: npx cordon show ${incident.incidentId} lists them`,
      );
      break;
    }
    lines.push(...block);
    used += size;
  }
  return lines;
}

/** What the sequence names that Cordon leaves alone: why, and the AWS guide to follow instead. */
function notActedOnLines(sequence: Sequence): string[] {
  const { notActedOn, notListed } = sequence;
  if (notActedOn.length === 0 && notListed === undefined) return [];
  return [
    '',
    `Not acted on (${notActedOn.length + (notListed ?? 0)}): approving does nothing to these`,
    ...notActedOn.flatMap((n) => [
      `  - ${quoted(n.what, 64)} ${quoted(n.id, FIELD_MAX)}: ${quoted(n.reason, SUMMARY_MAX)}`,
      ...(n.guide === undefined ? [] : [`    not contained: follow ${boundedText(n.guide, 500)}`]),
    ]),
    ...(notListed === undefined ? [] : [`  - ... and ${notListed} more, not listed`]),
  ];
}

/**
 * The one request for an attack sequence: every member with the steps that
 * would run on it and their reach, then what the sequence names that is not
 * acted on. One approval runs every listed step; one rejection runs none.
 */
export function sequenceApprovalMessage(
  input: RequestApprovalInput,
  sequence: Sequence,
  context: MessageContext,
): string {
  const { incident, step } = input;
  const id = incident.incidentId;
  const stepId = boundedText(step, 64);
  const count = sequence.members.length;
  return [
    'Cordon asks for one decision before it contains an attack sequence.',
    'Approving runs every step listed below on every member; rejecting runs none of them.',
    '',
    `Incident: ${id}`,
    `Playbook: ${incident.playbook}`,
    `Step: ${stepId} (the whole set)`,
    `Proposed: contain ${count} member${count === 1 ? '' : 's'}, each with its own playbook's steps`,
    '',
    `Finding type: ${quoted(incident.findingType, FIELD_MAX)}`,
    `Sequence: ${quoted(sequence.uid, FIELD_MAX)}, ${sequence.signals} signals`,
    `Severity: ${incident.severityLabel} (${incident.severity})`,
    `Account / region: ${incident.account} / ${quoted(incident.region, 64)}`,
    '',
    `Members (${count}), as triage verified them:`,
    ...membersLines(incident, sequence),
    ...notActedOnLines(sequence),
    '',
    ...decisionLines(id, stepId, context, 'does not act on any member', input.executionArn),
  ].join('\n');
}

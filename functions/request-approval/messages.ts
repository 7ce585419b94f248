import { actionNamed } from '../actions/registry.js';
import { actionsOfStep, type StepSpec } from '../shared/catalog.js';
import type { Incident } from '../shared/incident.js';
import { boundedText, quoted } from '../shared/text.js';
import type { RequestApprovalInput, RollbackApprovalInput } from './core.js';

/**
 * What responders read when Cordon asks: the approval request for a playbook
 * step and for a rollback. Every field that came from a finding is bounded
 * and quoted, so it cannot add lines or pose as Cordon's own text.
 */

export const SUBJECT_MAX = 100;
const FIELD_MAX = 256;

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

import type { Logger } from '@aws-lambda-powertools/logger';
import { PublishCommand, type SNSClient } from '@aws-sdk/client-sns';
import { z } from 'zod';
import type { ApprovalStore } from '../shared/approval-store.js';
import {
  PLAYBOOK_NAMES,
  playbookOfStep,
  ROLLBACK_MACHINE,
  type StepSpec,
  stepsOf,
} from '../shared/catalog.js';
import { classifyAwsError, InvalidTaskInputError } from '../shared/errors.js';
import { actionTargetArn, type Incident, IncidentSchema } from '../shared/incident.js';
import type { Ledger } from '../shared/ledger.js';
import { accountOf, RollbackPlanSchema } from '../shared/rollback.js';
import { asciiLine, boundedText, quoted } from '../shared/text.js';

/**
 * The input of the `.waitForTaskToken` task. The token is the one field that
 * must never be written anywhere: not the ledger, not a log, not SNS (whoever
 * holds it can approve the step).
 */
export const StepApprovalInputSchema = z.strictObject({
  incident: IncidentSchema,
  step: z.string().min(1),
  taskToken: z.string().min(1),
  executionArn: z.string().min(1),
});
export type RequestApprovalInput = z.infer<typeof StepApprovalInputSchema>;

/** The rollback variant: approve restoring what a rollback plan lists. */
export const RollbackApprovalInputSchema = z.strictObject({
  rollback: z.strictObject({
    plan: RollbackPlanSchema,
    force: z.boolean(),
    requestedBy: z.string().min(1),
    reason: z.string().min(1),
  }),
  taskToken: z.string().min(1),
  executionArn: z.string().min(1),
});
export type RollbackApprovalInput = z.infer<typeof RollbackApprovalInputSchema>;

/** A playbook step's approval, or a rollback's. */
export const RequestApprovalInputSchema = z.union([
  StepApprovalInputSchema,
  RollbackApprovalInputSchema,
]);

/** Deployment settings of the approval service, from the function's environment. */
export const ApprovalSettingsSchema = z.strictObject({
  /** How long a step waits: the state machine's task timeout, in seconds. */
  timeoutSeconds: z.number().int().positive(),
  /** Steps that need two different approvers, by playbook. */
  twoPersonSteps: z.record(z.string(), z.array(z.string())),
  /** The approval endpoint (a function URL), for the message's instructions. */
  endpointUrl: z.string().min(1),
});
export type ApprovalSettings = z.infer<typeof ApprovalSettingsSchema>;

export interface RequestApprovalDeps {
  readonly sns: SNSClient;
  readonly topicArn: string;
  readonly ledger: Ledger;
  readonly approvals: Pick<ApprovalStore, 'put'>;
  readonly settings: ApprovalSettings;
  readonly actor: string;
  readonly logger: Pick<Logger, 'info'>;
  readonly now?: () => Date;
}

export interface RequestApprovalResult {
  readonly requested: true;
  readonly step: string;
}

const SUBJECT_MAX = 100;
const FIELD_MAX = 256;

function stepSpec(incident: Incident, step: string): StepSpec {
  const playbook = PLAYBOOK_NAMES.find((p) => p === incident.playbook);
  const spec = playbook
    ? Object.entries(stepsOf(playbook)).find(([id]) => id === step)?.[1]
    : undefined;
  if (!spec) {
    throw new InvalidTaskInputError(
      `step ${JSON.stringify(step)} is not a step of playbook ${incident.playbook}`,
    );
  }
  return spec;
}

/** Who else the step hits besides the attacker, in one sentence. */
export function blastRadius(spec: StepSpec, incident: Incident): string {
  const { principal, instance } = incident;
  const who = principal ? quoted(principal.name ?? principal.arn, FIELD_MAX) : '(no principal)';
  const machine = instance ? quoted(instance.instanceId, 64) : '(no instance)';
  switch (spec.action) {
    case 'disable-access-key':
      return `access key ${quoted(principal?.accessKeyId ?? '(none named)', 140)} of user ${who} stops working for every application and person that uses it`;
    case 'revoke-sessions':
      if (instance) {
        const others = instance.profileSharedWith ?? 0;
        return `denies every session of role ${who} issued before now: on instance ${machine} and on ${others} other instance${others === 1 ? '' : 's'} using the same instance profile, whose running applications lose their credentials until they are refreshed`;
      }
      return principal?.kind === 'AssumedRole'
        ? `denies every session of role ${who} issued before now, including those of legitimate users of the role; they must assume the role again`
        : `denies every temporary credential of user ${who} issued before now; long-term keys are not affected`;
    case 'quarantine-user':
      return `user ${who} can make no AWS call at all and cannot sign in to the console; the console password is deleted and cannot be restored, only replaced`;
    case 'preserve-evidence':
      return `instance ${machine} keeps running; it can no longer be terminated by API, stops instead of terminating on shutdown, and its volumes are kept and snapshotted`;
    case 'detach-from-asg': {
      const group = instance?.autoScalingGroup;
      return [
        group
          ? `instance ${machine} leaves Auto Scaling group ${quoted(group, 256)} (its desired capacity drops by one; no replacement is launched)`
          : `instance ${machine} is in no Auto Scaling group`,
        'every network interface is isolated: all connections drop, legitimate ones too',
        instance?.instanceProfileArn
          ? `instance profile ${quoted(instance.instanceProfileArn, FIELD_MAX)} is detached`
          : 'it has no instance profile',
      ].join('; ');
    }
    case 'rotate-secret':
      return `secret ${secretName(incident)} gets a new value now; every application that reads it must pick up the new version, and any that cached the old value fail until they do`;
    case 'lock-secret':
      return `only the break-glass principals can read secret ${secretName(incident)} until the lock is removed: every application that reads it fails`;
    case 'quarantine-function': {
      const fn = incident.lambdaFunction;
      return `function ${quoted(fn?.name ?? '(none named)', 140)} stops running: every invocation (events, API calls, schedules) is throttled until its concurrency is restored`;
    }
    case 'block-public-access':
      return `bucket ${quoted(incident.bucket?.name ?? '(none named)', 80)} can no longer be reached through public ACLs or policies; legitimate public uses (a website, public downloads) stop too`;
    default:
      return `acts on ${principal ? who : machine}`;
  }
}

function secretName(incident: Incident): string {
  return quoted(incident.secret?.name ?? '(none named)', 140);
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

/** How many approvers a step needs: two for steps configured for the two-person rule. */
export function approvalsRequired(
  settings: ApprovalSettings,
  incident: Incident,
  step: string,
): 1 | 2 {
  return settings.twoPersonSteps[incident.playbook]?.includes(step) ? 2 : 1;
}

export interface MessageContext {
  readonly required: 1 | 2;
  readonly expiresAt: Date;
  readonly endpointUrl: string;
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
    `Blast radius: ${blastRadius(spec, incident)}`,
    '',
    `Finding type: ${quoted(incident.findingType, FIELD_MAX)}`,
    `Severity: ${incident.severityLabel} (${incident.severity})`,
    `Account / region: ${incident.account} / ${quoted(incident.region, 64)}`,
    '',
    'Current state (verified by triage):',
    ...currentState(incident).map((line) => `  - ${line}`),
    '',
    'To decide, as a Cordon responder, with your own AWS credentials:',
    `  npx cordon approve ${id} --step ${stepId} --reason "..."`,
    `  npx cordon reject ${id} --step ${stepId} --reason "..."`,
    `  npx cordon show ${id}      (the timeline so far)`,
    `Endpoint: ${boundedText(context.endpointUrl, 256)} (AWS_IAM; POST /decisions)`,
    context.required === 2
      ? 'Two-person rule: two different responders must approve before it runs; one rejection stops it.'
      : 'One responder decides.',
    `If no decision arrives by ${context.expiresAt.toISOString()}, Cordon does not act, records that, and tells you.`,
    '',
    `Execution: ${boundedText(input.executionArn, 2048)}`,
  ].join('\n');
}

/**
 * Stores the step's task token where only the approval function can read it,
 * records that approval was requested, and tells responders what is
 * proposed and how to decide. The token goes to the approvals table and
 * nowhere else: not the ledger, the message or a log line.
 */
export async function requestApproval(
  input: RequestApprovalInput | RollbackApprovalInput,
  deps: RequestApprovalDeps,
): Promise<RequestApprovalResult> {
  if ('rollback' in input) return requestRollbackApproval(input, deps);
  const { incident, step } = input;
  const spec = stepSpec(incident, step);
  const now = (deps.now ?? (() => new Date()))();
  const expiresAt = new Date(now.getTime() + deps.settings.timeoutSeconds * 1000);
  const required = approvalsRequired(deps.settings, incident, step);
  const targetArn = actionTargetArn(incident, spec.action);
  const proposed = boundedText(proposal(spec, incident), 1000);

  await deps.approvals.put({
    incidentId: incident.incidentId,
    step,
    taskToken: input.taskToken,
    executionArn: input.executionArn,
    findingId: incident.findingId,
    playbook: incident.playbook,
    action: spec.action,
    proposal: proposed,
    findingType: boundedText(incident.findingType, FIELD_MAX),
    severityLabel: incident.severityLabel,
    account: incident.account,
    ...(targetArn === undefined ? {} : { targetArn }),
    requestedAt: now.toISOString(),
    expiresAt: Math.ceil(expiresAt.getTime() / 1000),
    approvalsRequired: required,
  });
  await deps.ledger.append(incident.incidentId, {
    step,
    action: 'request-approval',
    actor: deps.actor,
    outcome: 'APPROVAL_REQUESTED',
    ...(targetArn === undefined ? {} : { targetArn }),
    mode: incident.plan[step]?.mode ?? 'approve',
    summary: boundedText(`approval requested to ${proposed}`, 1000),
    executionArn: input.executionArn,
    findingId: incident.findingId,
    detail: {
      proposedAction: spec.action,
      approvalsRequired: required,
      expiresAt: expiresAt.toISOString(),
    },
  });
  return announce(deps, incident.incidentId, step, {
    subject: `Cordon approval needed: ${step} in ${incident.account}: ${incident.severityLabel} ${incident.findingType}`,
    message: approvalMessage(input, spec, {
      required,
      expiresAt,
      endpointUrl: deps.settings.endpointUrl,
    }),
  });
}

/** Publishes the request to responders and logs it; the token is in neither. */
async function announce(
  deps: Pick<RequestApprovalDeps, 'sns' | 'topicArn' | 'logger'>,
  incidentId: string,
  step: string,
  text: { readonly subject: string; readonly message: string },
): Promise<RequestApprovalResult> {
  let messageId: string | undefined;
  try {
    const out = await deps.sns.send(
      new PublishCommand({
        TopicArn: deps.topicArn,
        Subject: asciiLine(text.subject, SUBJECT_MAX),
        Message: text.message,
      }),
    );
    messageId = out.MessageId;
  } catch (error) {
    throw classifyAwsError(error, 'request-approval publish');
  }
  deps.logger.info('approval requested', { incidentId, step, messageId });
  return { requested: true, step };
}

/**
 * Approvers a rollback needs: two when any step it undoes needs two
 * under the two-person rule (re-opening must not be easier than closing).
 */
export function rollbackApprovalsRequired(
  settings: ApprovalSettings,
  input: RollbackApprovalInput,
): 1 | 2 {
  const steps = input.rollback.plan.items.map((i) => i.step);
  return steps.some((step) => {
    const playbook = playbookOfStep(step);
    return playbook !== undefined && settings.twoPersonSteps[playbook]?.includes(step);
  })
    ? 2
    : 1;
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
    'To decide, as a Cordon responder, with your own AWS credentials:',
    `  npx cordon approve ${id} --step ${step} --reason "..."`,
    `  npx cordon reject ${id} --step ${step} --reason "..."`,
    `  npx cordon show ${id}      (the timeline so far)`,
    `Endpoint: ${boundedText(context.endpointUrl, 256)} (AWS_IAM; POST /decisions)`,
    context.required === 2
      ? 'Two-person rule: two different responders must approve before it runs; one rejection stops it.'
      : 'One responder decides.',
    `If no decision arrives by ${context.expiresAt.toISOString()}, Cordon does not roll back, records that, and tells you.`,
    '',
    `Execution: ${boundedText(input.executionArn, 2048)}`,
  ].join('\n');
}

async function requestRollbackApproval(
  input: RollbackApprovalInput,
  deps: RequestApprovalDeps,
): Promise<RequestApprovalResult> {
  const { plan, requestedBy, force } = input.rollback;
  const step = plan.approvalStep;
  const now = (deps.now ?? (() => new Date()))();
  const expiresAt = new Date(now.getTime() + deps.settings.timeoutSeconds * 1000);
  const required = rollbackApprovalsRequired(deps.settings, input);
  const proposed = boundedText(
    `roll back ${plan.items.length} action(s)${force ? ' with --force' : ''}, re-opening access: ${plan.items.map((i) => i.restores).join(' | ')}`,
    1000,
  );
  await deps.approvals.put({
    incidentId: plan.incidentId,
    step,
    taskToken: input.taskToken,
    executionArn: input.executionArn,
    findingId: plan.findingId,
    playbook: ROLLBACK_MACHINE,
    action: ROLLBACK_MACHINE,
    proposal: proposed,
    findingType: boundedText(plan.findingType, FIELD_MAX),
    severityLabel: 'ROLLBACK',
    account: accountOf(deps.actor),
    requestedAt: now.toISOString(),
    expiresAt: Math.ceil(expiresAt.getTime() / 1000),
    approvalsRequired: required,
  });
  await deps.ledger.append(plan.incidentId, {
    step,
    action: 'request-approval',
    actor: deps.actor,
    outcome: 'APPROVAL_REQUESTED',
    mode: 'approve',
    summary: boundedText(`approval requested to ${proposed}`, 1000),
    executionArn: input.executionArn,
    findingId: plan.findingId,
    detail: {
      proposedAction: ROLLBACK_MACHINE,
      requestedBy,
      approvalsRequired: required,
      expiresAt: expiresAt.toISOString(),
    },
  });
  return announce(deps, plan.incidentId, step, {
    subject: `Cordon rollback approval needed: ${plan.incidentId}`,
    message: rollbackApprovalMessage(input, {
      required,
      expiresAt,
      endpointUrl: deps.settings.endpointUrl,
    }),
  });
}

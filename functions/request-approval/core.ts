import type { Logger } from '@aws-lambda-powertools/logger';
import { PublishCommand, type SNSClient } from '@aws-sdk/client-sns';
import { z } from 'zod';
import { PLAYBOOK_NAMES, type StepSpec, stepsOf } from '../shared/catalog.js';
import { classifyAwsError, InvalidTaskInputError } from '../shared/errors.js';
import { actionTargetArn, type Incident, IncidentSchema } from '../shared/incident.js';
import type { Ledger } from '../shared/ledger.js';
import { asciiLine, boundedText, quoted } from '../shared/text.js';

/**
 * The input of the `.waitForTaskToken` task. The token is the one field that
 * must never be written anywhere: not the ledger, not a log, not SNS (whoever
 * holds it can approve the step).
 */
export const RequestApprovalInputSchema = z.strictObject({
  incident: IncidentSchema,
  step: z.string().min(1),
  taskToken: z.string().min(1),
  executionArn: z.string().min(1),
});
export type RequestApprovalInput = z.infer<typeof RequestApprovalInputSchema>;

export interface RequestApprovalDeps {
  readonly sns: SNSClient;
  readonly topicArn: string;
  readonly ledger: Ledger;
  readonly actor: string;
  readonly logger: Pick<Logger, 'info'>;
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
    default:
      return `acts on ${principal ? who : machine}`;
  }
}

/** What is proposed, for the ledger and the message: the catalog summary and its reach. */
export function proposal(spec: StepSpec, incident: Incident): string {
  return `${spec.summary}: ${blastRadius(spec, incident)}`;
}

export function approvalMessage(input: RequestApprovalInput, spec: StepSpec): string {
  const { incident, step } = input;
  const { principal } = incident;
  return [
    'Cordon asks for a decision before it acts.',
    '',
    `Incident: ${incident.incidentId}`,
    `Playbook: ${incident.playbook}`,
    `Step: ${boundedText(step, 64)} (${spec.action})`,
    `Proposed: ${spec.summary}`,
    `Blast radius: ${blastRadius(spec, incident)}`,
    '',
    `Finding type: ${quoted(incident.findingType, FIELD_MAX)}`,
    `Severity: ${incident.severityLabel} (${incident.severity})`,
    `Account / region: ${incident.account} / ${quoted(incident.region, 64)}`,
    ...(incident.instance ? [`Instance: ${quoted(incident.instance.arn, FIELD_MAX)}`] : []),
    ...(principal ? [`Principal: ${principal.kind} ${quoted(principal.arn, FIELD_MAX)}`] : []),
    '',
    'This step waits for a responder to approve or reject it. If no decision',
    'arrives before the timeout, it will not act, and that is recorded.',
    '',
    `Execution: ${boundedText(input.executionArn, 2048)}`,
  ].join('\n');
}

/**
 * Tells responders that a high-impact step is waiting for them, and records
 * that it asked. The task token is deliberately not used here: the approval
 * service that will hold it is not built yet.
 */
export async function requestApproval(
  input: RequestApprovalInput,
  deps: RequestApprovalDeps,
): Promise<RequestApprovalResult> {
  const { incident, step } = input;
  const spec = stepSpec(incident, step);
  const summary = boundedText(`approval requested to ${proposal(spec, incident)}`, 1000);
  await deps.ledger.append(incident.incidentId, {
    step,
    action: 'request-approval',
    actor: deps.actor,
    outcome: 'APPROVAL_REQUESTED',
    targetArn: actionTargetArn(incident, spec.action),
    mode: incident.plan[step]?.mode ?? 'approve',
    summary,
    executionArn: input.executionArn,
    findingId: incident.findingId,
    detail: { proposedAction: spec.action },
  });
  let messageId: string | undefined;
  try {
    const out = await deps.sns.send(
      new PublishCommand({
        TopicArn: deps.topicArn,
        Subject: asciiLine(
          `Cordon approval needed: ${step} in ${incident.account}: ${incident.severityLabel} ${incident.findingType}`,
          SUBJECT_MAX,
        ),
        Message: approvalMessage(input, spec),
      }),
    );
    messageId = out.MessageId;
  } catch (error) {
    throw classifyAwsError(error, 'request-approval publish');
  }
  deps.logger.info('approval requested', { incidentId: incident.incidentId, step, messageId });
  return { requested: true, step };
}

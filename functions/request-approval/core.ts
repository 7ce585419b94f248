import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import { targetArnOf } from '../actions/registry.js';
import { ApprovalStore, type NewApproval } from '../responder-api/store.js';
import { principalsAmong } from '../shared/approval-record.js';
import { clientOptions } from '../shared/aws.js';
import { boot } from '../shared/boot.js';
import {
  type Mode,
  PLAYBOOK_NAMES,
  playbookOfStep,
  ROLLBACK_MACHINE,
  SEQUENCE,
  type StepSpec,
  stepsOf,
} from '../shared/catalog.js';
import { ConfigError } from '../shared/config-error.js';
import { type Environment, requireEnv, requireJsonEnv } from '../shared/env.js';
import { classifyAwsError, InvalidTaskInputError, NotValidatedError } from '../shared/errors.js';
import { taskHandler } from '../shared/handler.js';
import { type Incident, IncidentSchema, type Sequence } from '../shared/incident.js';
import type { Ledger } from '../shared/ledger.js';
import { publishInput } from '../shared/notice.js';
import type { Logger } from '../shared/observability.js';
import { accountOf, RollbackPlanSchema } from '../shared/rollback.js';
import { ENV } from '../shared/runtime-config.js';
import { boundedText } from '../shared/text.js';
import { kmsTokenSeal, type TokenSeal } from '../shared/token-seal.js';
import { notValidated, type SequenceClaim, sequenceClaim } from '../shared/validated.js';
import { z } from '../shared/z.js';
import {
  approvalMessage,
  decisionCommands,
  type MessageContext,
  proposal,
  rollbackApprovalMessage,
  sequenceApprovalMessage,
  sequenceProposal,
} from './messages.js';

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
  /** Encrypts the token before it is stored: only the responder API can decrypt it. */
  readonly tokens: TokenSeal;
  readonly settings: ApprovalSettings;
  readonly actor: string;
  readonly logger: Pick<Logger, 'info'>;
  readonly now: () => Date;
}

export interface RequestApprovalResult {
  readonly requested: true;
  readonly step: string;
}

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

/** How many approvers a step needs: two for steps configured for the two-person rule. */
export function approvalsRequired(
  settings: ApprovalSettings,
  incident: Incident,
  step: string,
): 1 | 2 {
  return settings.twoPersonSteps[incident.playbook]?.includes(step) ? 2 : 1;
}

/**
 * Approvers an attack sequence's one approval needs: two when any step of
 * any member is configured for the two-person rule in its own playbook.
 * Each member's action checks its own step's rule against the grant, so a
 * grant with fewer approvers would only be refused there.
 */
export function sequenceApprovalsRequired(settings: ApprovalSettings, sequence: Sequence): 1 | 2 {
  return sequence.members.some((m) =>
    m.steps.some((s) => settings.twoPersonSteps[m.playbook]?.includes(s.step)),
  )
    ? 2
    : 1;
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

/**
 * Stores the step's task token, encrypted, where only the responder API function can read and decrypt it,
 * records that approval was requested, and tells responders what is
 * proposed and how to decide. The token goes to the approvals table and
 * nowhere else: not the ledger, the message or a log line.
 */
export async function requestApproval(
  input: RequestApprovalInput | RollbackApprovalInput,
  deps: RequestApprovalDeps,
): Promise<RequestApprovalResult> {
  return 'rollback' in input ? forRollback(input, deps) : forStep(input, deps);
}

function forStep(input: RequestApprovalInput, deps: RequestApprovalDeps) {
  const { incident, step } = input;
  if (incident.playbook === SEQUENCE.playbook && step === SEQUENCE.step) {
    return forSequence(input, deps);
  }
  const spec = stepSpec(incident, step);
  const targetArn = targetArnOf(incident, spec.action);
  return request(deps, {
    item: {
      incidentId: incident.incidentId,
      step,
      subjects: principalsAmong([incident.principal?.arn, targetArn]),
      taskToken: input.taskToken,
      executionArn: input.executionArn,
      findingId: incident.findingId,
      playbook: incident.playbook,
      action: spec.action,
      findingType: boundedText(incident.findingType, FIELD_MAX),
      severityLabel: incident.severityLabel,
      account: incident.account,
      ...(targetArn === undefined ? {} : { targetArn }),
    },
    proposal: proposal(spec, incident),
    required: approvalsRequired(deps.settings, incident, step),
    mode: incident.plan[step]?.mode ?? 'approve',
    detail: {},
    subject: `Cordon approval needed: ${step} in ${incident.account}: ${incident.severityLabel} ${incident.findingType}`,
    message: (context) => approvalMessage(input, spec, context),
  });
}

/**
 * The one request for an attack sequence's whole set. No principal of the
 * set may decide it (each member's user or role, and every target that is
 * one): a contained role approving its own containment, or rejecting it.
 * The item names no single target: the proposal lists the members.
 */
async function forSequence(input: RequestApprovalInput, deps: RequestApprovalDeps) {
  const { incident, step } = input;
  const { sequence } = incident;
  if (sequence === undefined || sequence.members.length === 0) {
    throw new InvalidTaskInputError(
      `incident ${incident.incidentId} names no member of an attack sequence to contain`,
    );
  }
  const claim = await claimedSet(input, deps.ledger);
  return request(deps, {
    item: {
      incidentId: incident.incidentId,
      step,
      subjects: principalsAmong([
        ...sequence.members.flatMap((m) => [m.principalArn, m.targetArn]),
        ...claim.subjects,
      ]),
      taskToken: input.taskToken,
      executionArn: input.executionArn,
      findingId: incident.findingId,
      playbook: incident.playbook,
      action: SEQUENCE.playbook,
      findingType: boundedText(incident.findingType, FIELD_MAX),
      severityLabel: incident.severityLabel,
      account: incident.account,
    },
    proposal: sequenceProposal(incident, sequence),
    required: sequenceApprovalsRequired(deps.settings, sequence),
    mode: incident.plan[step]?.mode ?? 'approve',
    detail: { members: sequence.members.map((m) => m.incidentId) },
    subject: `Cordon approval needed: attack sequence in ${incident.account}: ${incident.severityLabel} ${incident.findingType}`,
    message: (context) => sequenceApprovalMessage(input, sequence, context),
  });
}

/**
 * The set triage claimed, checked against the request's input: what the
 * responders read must be what triage validated (whoever may invoke this
 * function, or holds a task token, could hand it a parent listing fewer
 * members), and every principal the sequence names, from the claim, is
 * barred from deciding.
 */
async function claimedSet(input: RequestApprovalInput, ledger: Ledger): Promise<SequenceClaim> {
  const { incident, step, executionArn } = input;
  const entries = await ledger.entries(incident.incidentId);
  const why = notValidated(
    { incident, step, executionArn, approval: { decision: 'NOT_REQUIRED', step } },
    entries,
  );
  const claim = sequenceClaim(entries, executionArn);
  if (why !== undefined || claim === undefined) {
    throw new NotValidatedError(
      `request-approval refused to ask about attack sequence ${incident.incidentId}: ${why ?? 'its claim records no set of members'}`,
    );
  }
  return claim;
}

function forRollback(input: RollbackApprovalInput, deps: RequestApprovalDeps) {
  const { plan, requestedBy, force } = input.rollback;
  return request(deps, {
    item: {
      incidentId: plan.incidentId,
      step: plan.approvalStep,
      subjects: principalsAmong(plan.items.map((i) => i.targetArn)),
      requestedBy,
      taskToken: input.taskToken,
      executionArn: input.executionArn,
      findingId: plan.findingId,
      playbook: ROLLBACK_MACHINE,
      action: ROLLBACK_MACHINE,
      findingType: boundedText(plan.findingType, FIELD_MAX),
      severityLabel: 'ROLLBACK',
      account: accountOf(deps.actor),
    },
    proposal: `roll back ${plan.items.length} action(s)${force ? ' with --force' : ''}, re-opening access: ${plan.items.map((i) => i.restores).join(' | ')}`,
    required: rollbackApprovalsRequired(deps.settings, input),
    mode: 'approve',
    detail: { requestedBy },
    subject: `Cordon rollback approval needed: ${plan.incidentId}`,
    message: (context) => rollbackApprovalMessage(input, context),
  });
}

/** One approval request, of a step or of a rollback. */
interface Request {
  /** The approvals table item, but for what `request` works out. */
  readonly item: Omit<NewApproval, 'proposal' | 'requestedAt' | 'expiresAt' | 'approvalsRequired'>;
  readonly proposal: string;
  readonly required: 1 | 2;
  readonly mode: Mode;
  /** More of the ledger entry's detail. */
  readonly detail: Readonly<Record<string, unknown>>;
  readonly subject: string;
  message(context: MessageContext): string;
}

/** Stores the token, records the request, and tells responders; the token is in neither of the last two. */
async function request(deps: RequestApprovalDeps, r: Request): Promise<RequestApprovalResult> {
  const { item } = r;
  const now = deps.now();
  const expiresAt = new Date(now.getTime() + deps.settings.timeoutSeconds * 1000);
  const proposed = boundedText(r.proposal, 1000);
  const sealed =
    item.taskToken === undefined
      ? {}
      : {
          taskToken: await deps.tokens.seal(item.taskToken, {
            incidentId: item.incidentId,
            step: item.step,
          }),
        };
  await deps.approvals.put({
    ...item,
    ...sealed,
    proposal: proposed,
    requestedAt: now.toISOString(),
    expiresAt: Math.ceil(expiresAt.getTime() / 1000),
    approvalsRequired: r.required,
  });
  await deps.ledger.append(item.incidentId, {
    step: item.step,
    action: 'request-approval',
    actor: deps.actor,
    outcome: 'APPROVAL_REQUESTED',
    ...(item.targetArn === undefined ? {} : { targetArn: item.targetArn }),
    mode: r.mode,
    summary: boundedText(`approval requested to ${proposed}`, 1000),
    executionArn: item.executionArn,
    findingId: item.findingId,
    detail: {
      proposedAction: item.action,
      ...r.detail,
      approvalsRequired: r.required,
      expiresAt: expiresAt.toISOString(),
    },
  });
  const message = r.message({
    required: r.required,
    expiresAt,
    endpointUrl: deps.settings.endpointUrl,
  });
  let messageId: string | undefined;
  try {
    const out = await deps.sns.send(
      new PublishCommand(
        publishInput(deps.topicArn, {
          subject: r.subject,
          text: message,
          title: `Cordon approval needed: ${item.incidentId} step ${item.step}`,
          kind: 'APPROVAL_REQUESTED',
          incidentId: item.incidentId,
          nextSteps: decisionCommands(item.incidentId, item.step),
        }),
      ),
    );
    messageId = out.MessageId;
  } catch (error) {
    throw classifyAwsError(error, 'request-approval publish');
  }
  deps.logger.info('approval requested', {
    incidentId: item.incidentId,
    step: item.step,
    messageId,
  });
  return { requested: true, step: item.step };
}

export function makeHandler(env: Environment, clients = { sns: new SNSClient(clientOptions) }) {
  const { logger, ledger, actor, dynamo, now } = boot(env, 'request-approval');
  // The event carries the task token: refuse to start if the logger is asked to
  // log events (POWERTOOLS_LOGGER_LOG_EVENT), rather than leak the token once.
  // Cordon's logger never logs events; the refusal stays for a logger that would.
  if (env.POWERTOOLS_LOGGER_LOG_EVENT?.toLowerCase() === 'true') {
    throw new ConfigError('POWERTOOLS_LOGGER_LOG_EVENT must be off for request-approval');
  }
  const deps: RequestApprovalDeps = {
    sns: clients.sns,
    topicArn: requireEnv(env, ENV.topicArn),
    ledger,
    approvals: new ApprovalStore({
      client: dynamo,
      tableName: requireEnv(env, ENV.approvalsTable),
    }),
    tokens: kmsTokenSeal(requireEnv(env, ENV.tokenKey)),
    settings: requireJsonEnv(env, ENV.approvalSettings, ApprovalSettingsSchema),
    actor,
    logger,
    now,
  };
  // Never log the input: it holds the task token.
  return taskHandler(logger, RequestApprovalInputSchema, (input) => requestApproval(input, deps));
}

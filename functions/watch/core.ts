import { SFNClient } from '@aws-sdk/client-sfn';
import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import { GetParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import { z } from 'zod';
import { clientOptions } from '../shared/aws.js';
import { boot } from '../shared/boot.js';
import { ROLLBACK_MACHINE } from '../shared/catalog.js';
import { type Environment, requireEnv, requireJsonEnv } from '../shared/env.js';
import { classifyAwsError } from '../shared/errors.js';
import { taskHandler } from '../shared/handler.js';
import type { Ledger, LedgerEntry, LedgerEntryInput } from '../shared/ledger.js';
import { ENV } from '../shared/runtime-config.js';
import { boundedText, quoted } from '../shared/text.js';
import {
  type ApiCall,
  type EventEnvelope,
  EventEnvelopeSchema,
  readWatchedEvent,
  type WatchedEvent,
} from './events.js';
import {
  describeExecution,
  type Execution,
  incidentOfExecution,
  machineOfExecution,
  type OfIncident,
  type Orphan,
  type WatchedMachine,
  WatchedMachineSchema,
} from './executions.js';
import {
  callerName,
  callLines,
  callRecord,
  executionLines,
  incidentLines,
  showLine,
  subject,
  unfinished,
} from './messages.js';

/**
 * The watch: what stops Cordon or switches it off without a word otherwise.
 * EventBridge rules deliver four kinds of event here, and each becomes a
 * ledger entry and a notification:
 * - an execution of one of Cordon's state machines ABORTED (StopExecution
 *   does that), recorded in the incident it was about;
 * - a StopExecution call on one of them, with who made it (CloudTrail);
 * - a call that writes, deletes or relabels the runtime mode parameter, with
 *   who made it and what the parameter reads now (CloudTrail);
 * - a call that disables, deletes or redefines one of Cordon's rules, or
 *   removes or replaces its targets, with who made it (CloudTrail).
 *
 * Nothing in an event is trusted beyond locating what it is about: the
 * execution, its status, its dates and its input are read from Step
 * Functions, so a forged event about a running execution records nothing.
 * A repeated delivery appends nothing, and is not notified again once a
 * notification of it is recorded.
 */

/** Ledger keys of what the watch records outside any incident. */
export const WATCH_LEDGER = {
  runtimeMode: 'guardrail-runtime-mode',
  rules: 'guardrail-rules',
} as const;

export const WatchConfigSchema = z.strictObject({
  /** Every playbook's state machine, and the rollback machine. */
  machines: z.array(WatchedMachineSchema).min(1),
  /** The runtime mode parameter (`/cordon/mode`). */
  runtimeModeParameter: z.string().startsWith('/'),
});
export type WatchConfig = z.infer<typeof WatchConfigSchema>;

export interface WatchDeps {
  readonly ledger: Ledger;
  /** The watch's role ARN: the ledger's actor. */
  readonly actor: string;
  readonly sns: SNSClient;
  readonly topicArn: string;
  readonly sfn: SFNClient;
  readonly ssm: SSMClient;
  readonly config: WatchConfig;
  readonly now: () => Date;
}

export type WatchResult =
  | {
      readonly status: 'recorded';
      readonly ledgerId: string;
      readonly seq: number;
      /** False for a repeated delivery: the entry was there already. */
      readonly appended: boolean;
      /** False when a notification of the event is recorded already. */
      readonly notified: boolean;
    }
  | { readonly status: 'ignored'; readonly reason: string };

const NOTIFIED = 'NOTIFIED';
const SUMMARY_MAX = 500;

/** One event, ready to record and tell. */
interface Report {
  readonly ledgerId: string;
  /** The same for every delivery of one event, and different for any other. */
  readonly eventKey: string;
  readonly entry: LedgerEntryInput;
  readonly subject: string;
  readonly lines: readonly string[];
}

const ignored = (reason: string): WatchResult => ({ status: 'ignored', reason });

/** Records and notifies what the event says, or says why it does not. */
export async function watch(event: EventEnvelope, deps: WatchDeps): Promise<WatchResult> {
  const watched = readWatchedEvent(event);
  switch (watched.kind) {
    case 'status-change':
      return onStatusChange(watched, deps);
    case 'stop-execution':
      return onStopExecution(watched, deps);
    case 'parameter':
      return onParameter(watched, deps);
    case 'rule':
      return onRule(watched, deps);
    default:
      return ignored(watched.reason);
  }
}

/** The execution an event names, if it is one of Cordon's: read from Step Functions. */
async function cordonExecution(
  executionArn: string,
  deps: WatchDeps,
): Promise<{ machine: WatchedMachine; execution: Execution } | string> {
  const machine = machineOfExecution(deps.config.machines, executionArn);
  if (machine === undefined) return "not an execution of one of Cordon's state machines";
  const execution = await describeExecution(deps.sfn, executionArn);
  if (execution === undefined) return 'Step Functions has no such execution';
  if (execution.stateMachineArn !== machine.arn) {
    return 'Step Functions names another state machine for the execution';
  }
  return { machine, execution };
}

/** What the ledger keeps of where an execution's entry went, beyond its key. */
function aboutDetail(about: OfIncident | Orphan, execution: Execution): Record<string, string> {
  if (about.kind === 'orphan') {
    return {
      noIncident: about.reason,
      ...(about.unclaimed === undefined ? {} : { unclaimedIncidentId: about.unclaimed }),
    };
  }
  return about.claimedBy !== undefined && about.claimedBy !== execution.executionArn
    ? { claimedBy: about.claimedBy }
    : {};
}

function executionEntry(
  about: OfIncident | Orphan,
  execution: Execution,
  machine: WatchedMachine,
): Pick<LedgerEntryInput, 'executionArn' | 'findingId' | 'targetArn'> {
  return {
    executionArn: execution.executionArn,
    ...(about.kind === 'incident' && about.findingId !== undefined
      ? { findingId: about.findingId }
      : {}),
    ...(about.kind === 'incident' && about.targetArn !== undefined && machine.name !== 'rollback'
      ? { targetArn: about.targetArn }
      : {}),
  };
}

const what = (machine: WatchedMachine) =>
  machine.name === ROLLBACK_MACHINE ? 'the rollback' : 'containment';

async function onStatusChange(
  event: Extract<WatchedEvent, { kind: 'status-change' }>,
  deps: WatchDeps,
): Promise<WatchResult> {
  if (event.status !== 'ABORTED')
    return ignored(`status ${event.status}: the watch records ABORTED`);
  if (!deps.config.machines.some((m) => m.arn === event.stateMachineArn)) {
    return ignored("not one of Cordon's state machines");
  }
  const found = await cordonExecution(event.executionArn, deps);
  if (typeof found === 'string') return ignored(found);
  const { machine, execution } = found;
  if (execution.status !== 'ABORTED') {
    return ignored(`Step Functions says the execution is ${execution.status}, not ABORTED`);
  }
  const about = await incidentOfExecution(machine, execution, deps.ledger);
  const stopped = execution.stopDate?.toISOString() ?? 'an unknown time';
  return record(deps, {
    ledgerId: about.incidentId,
    eventKey: `aborted ${execution.executionArn} ${stopped}`,
    entry: {
      step: 'execution',
      action: 'watch',
      actor: deps.actor,
      outcome: 'ABORTED',
      ...executionEntry(about, execution, machine),
      summary: boundedText(
        `${machine.name} execution aborted at ${stopped}: ${what(machine)} did not finish`,
        SUMMARY_MAX,
      ),
      detail: {
        stateMachine: machine.name,
        stateMachineArn: machine.arn,
        startedAt: execution.startDate.toISOString(),
        stoppedAt: stopped,
        ...(execution.error ? { stopError: boundedText(execution.error, 256) } : {}),
        ...(execution.cause ? { stopCause: boundedText(execution.cause, 1000) } : {}),
        ...aboutDetail(about, execution),
      },
    },
    subject: subject(`Cordon execution ABORTED: ${machine.name}: ${what(machine)} did not finish`),
    lines: [
      'Cordon execution ABORTED',
      '',
      unfinished(machine),
      '',
      ...incidentLines(about, execution),
      ...executionLines(machine, execution),
      '',
      'Who stopped it is not in this event: a separate "StopExecution" notice names the caller, when a CloudTrail trail delivers the call.',
      showLine(about.incidentId),
    ],
  });
}

async function onStopExecution(
  event: Extract<WatchedEvent, { kind: 'stop-execution' }>,
  deps: WatchDeps,
): Promise<WatchResult> {
  const found = await cordonExecution(event.executionArn, deps);
  if (typeof found === 'string') return ignored(found);
  const { machine, execution } = found;
  const { call } = event;
  const about = await incidentOfExecution(machine, execution, deps.ledger);
  const who = callerName(call.caller);
  const refused = call.errorCode !== undefined;
  return record(deps, {
    ledgerId: about.incidentId,
    eventKey: cloudTrailKey(call),
    entry: {
      step: 'execution',
      action: 'watch',
      actor: deps.actor,
      outcome: refused ? 'STOP_REFUSED' : 'STOP_REQUESTED',
      ...executionEntry(about, execution, machine),
      summary: boundedText(
        `StopExecution by ${who}${refused ? `, refused (${call.errorCode})` : ''}: ${machine.name} execution ${execution.name}`,
        SUMMARY_MAX,
      ),
      detail: {
        stateMachine: machine.name,
        stateMachineArn: machine.arn,
        statusWhenRead: String(execution.status),
        call: callRecord(call),
        ...aboutDetail(about, execution),
      },
    },
    subject: subject(
      refused
        ? `Cordon: refused StopExecution on ${machine.name} by ${who}`
        : `Cordon execution stopped: ${machine.name}, by ${who}`,
    ),
    lines: [
      refused ? 'Someone tried to stop a Cordon execution' : 'A Cordon execution was stopped',
      '',
      refused
        ? 'AWS refused the StopExecution call: the execution was not stopped by it.'
        : unfinished(machine),
      '',
      ...callLines(call),
      '',
      ...incidentLines(about, execution),
      ...executionLines(machine, execution),
      showLine(about.incidentId),
    ],
  });
}

/** What the runtime mode parameter reads now, or why it cannot be read. */
async function readMode(
  ssm: SSMClient,
  name: string,
): Promise<{ value: string } | { unreadable: string }> {
  try {
    const out = await ssm.send(new GetParameterCommand({ Name: name }));
    const value = out.Parameter?.Value;
    return value === undefined ? { unreadable: 'it has no value' } : { value };
  } catch (error) {
    if (error instanceof Error && error.name === 'ParameterNotFound') {
      return { unreadable: 'it does not exist (deleted)' };
    }
    const name = error instanceof Error ? error.name : 'error';
    return { unreadable: `reading it failed: ${name}` };
  }
}

async function onParameter(
  event: Extract<WatchedEvent, { kind: 'parameter' }>,
  deps: WatchDeps,
): Promise<WatchResult> {
  const parameter = deps.config.runtimeModeParameter;
  if (!event.names.includes(parameter)) return ignored('the call names no parameter of Cordon');
  const { call } = event;
  const reading = await readMode(deps.ssm, parameter);
  const readAt = deps.now().toISOString();
  const who = callerName(call.caller);
  const refused = call.errorCode !== undefined;
  const now =
    'value' in reading
      ? `it reads ${quoted(reading.value, 64)} (read at ${readAt})`
      : `it cannot be read: ${reading.unreadable} (at ${readAt}); triage then holds every automatic step for approval`;
  return record(deps, {
    ledgerId: WATCH_LEDGER.runtimeMode,
    eventKey: cloudTrailKey(call),
    entry: {
      step: 'runtime-mode',
      action: 'watch',
      actor: deps.actor,
      outcome: refused ? 'CHANGE_REFUSED' : 'CHANGED',
      summary: boundedText(
        `${call.eventName} on ${parameter} by ${who}${refused ? `, refused (${call.errorCode})` : ''}; ${now}`,
        SUMMARY_MAX,
      ),
      detail: {
        parameter,
        call: callRecord(call),
        ...('value' in reading
          ? { nowReads: boundedText(reading.value, 64) }
          : { unreadable: reading.unreadable }),
        readAt,
      },
    },
    subject: subject(
      refused
        ? `Cordon: refused ${call.eventName} on the runtime mode, by ${who}`
        : `Cordon runtime mode changed: ${call.eventName}, by ${who}`,
    ),
    lines: [
      refused
        ? "Someone tried to change Cordon's runtime mode"
        : "Cordon's runtime mode parameter was changed",
      '',
      'The runtime mode applies to every new incident: auto, approve-all, dry-run or off (off records and notifies, and contains nothing).',
      `Parameter: ${quoted(parameter, 256)}`,
      `Call: ${quoted(call.eventName, 64)}`,
      `Now: ${now}`,
      '',
      ...callLines(call),
    ],
  });
}

/** PutTargets' targets, as far as the notice names them; anything else reads as none. */
const TargetsSchema = z
  .array(z.looseObject({ id: z.string().optional(), arn: z.string().optional() }))
  .catch([]);

const strings = (value: unknown): string[] =>
  Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string') : [];

/** What a rule call does, in words, and the request fields worth keeping. */
function ruleChange(
  call: ApiCall,
  rule: string,
): { change: string; kept: Record<string, unknown> } {
  const name = quoted(rule, 128);
  switch (call.eventName) {
    case 'DisableRule':
      return { change: `disabled rule ${name}`, kept: {} };
    case 'DeleteRule':
      return { change: `deleted rule ${name}`, kept: {} };
    case 'PutRule': {
      const state = typeof call.request.state === 'string' ? call.request.state : undefined;
      return state === 'DISABLED'
        ? { change: `disabled rule ${name} (PutRule with state DISABLED)`, kept: { state } }
        : {
            change: `redefined rule ${name} (PutRule${state ? `, state ${quoted(state, 32)}` : ''}): its pattern may have changed`,
            kept: state ? { state } : {},
          };
    }
    case 'RemoveTargets': {
      const ids = strings(call.request.ids).slice(0, 10);
      return {
        change: `removed target(s) ${ids.map((i) => quoted(i, 64)).join(', ') || '(none named)'} from rule ${name}`,
        kept: { targetIds: ids.map((i) => boundedText(i, 64)) },
      };
    }
    default: {
      const shown = TargetsSchema.parse(call.request.targets)
        .slice(0, 10)
        .map((t) => ({ id: boundedText(t.id ?? '?', 64), arn: boundedText(t.arn ?? '?', 2048) }));
      return {
        change: `put target(s) ${shown.map((t) => `${quoted(t.id, 64)} -> ${quoted(t.arn, 2048)}`).join(', ') || '(none named)'} on rule ${name}`,
        kept: { targets: shown },
      };
    }
  }
}

async function onRule(
  event: Extract<WatchedEvent, { kind: 'rule' }>,
  deps: WatchDeps,
): Promise<WatchResult> {
  const { call, rule } = event;
  const who = callerName(call.caller);
  const refused = call.errorCode !== undefined;
  const { change, kept } = ruleChange(call, rule);
  return record(deps, {
    ledgerId: WATCH_LEDGER.rules,
    eventKey: cloudTrailKey(call),
    entry: {
      step: 'rules',
      action: 'watch',
      actor: deps.actor,
      outcome: refused ? 'CHANGE_REFUSED' : 'CHANGED',
      summary: boundedText(
        `${refused ? `refused (${call.errorCode}): ` : ''}${change}, by ${who}`,
        SUMMARY_MAX,
      ),
      detail: { rule: boundedText(rule, 128), call: callRecord(call), ...kept },
    },
    subject: subject(
      refused
        ? `Cordon: refused ${call.eventName} on rule ${rule}, by ${who}`
        : `Cordon rule changed: ${call.eventName} ${rule}, by ${who}`,
    ),
    lines: [
      refused
        ? "Someone tried to change one of Cordon's rules"
        : "One of Cordon's rules was changed",
      '',
      "Cordon's rules start its playbooks and watch it: a rule disabled, deleted or redefined, or whose targets were removed or replaced, may start or report nothing from now on.",
      `Change: ${change}`,
      '',
      ...callLines(call),
    ],
  });
}

/** One CloudTrail record, whichever rule delivered it and however often. */
function cloudTrailKey(call: ApiCall): string {
  return `cloudtrail ${call.eventId}`;
}

/**
 * Appends the report's entry unless the ledger holds it (a repeated
 * delivery), then notifies unless a notification of the same event is
 * recorded, and records that notification.
 */
async function record(deps: WatchDeps, report: Report): Promise<WatchResult> {
  const { ledgerId, eventKey } = report;
  const keyOf = (e: LedgerEntry) => e.detail?.eventKey;
  const isEvent = (e: LedgerEntry) => e.outcome !== NOTIFIED && keyOf(e) === eventKey;
  const isNotice = (e: LedgerEntry) => e.outcome === NOTIFIED && keyOf(e) === eventKey;
  const entry = {
    ...report.entry,
    detail: { ...report.entry.detail, eventKey, recordedBy: 'watch' },
  };
  const recorded = await deps.ledger.appendOnce(ledgerId, entry, isEvent);
  const { seq } = recorded.entry;
  const result = { status: 'recorded', ledgerId, seq, appended: recorded.appended } as const;
  if (recorded.entries.some(isNotice)) return { ...result, notified: false };
  const message = [...report.lines, '', `Ledger: ${ledgerId} #${seq}`].join('\n');
  let messageId: string;
  try {
    const out = await deps.sns.send(
      new PublishCommand({ TopicArn: deps.topicArn, Subject: report.subject, Message: message }),
    );
    messageId = out.MessageId ?? 'unknown';
  } catch (error) {
    throw classifyAwsError(error, 'watch publish');
  }
  await deps.ledger.appendOnce(
    ledgerId,
    {
      step: 'notify',
      action: 'watch',
      actor: deps.actor,
      outcome: NOTIFIED,
      summary: report.subject,
      ...(entry.executionArn === undefined ? {} : { executionArn: entry.executionArn }),
      ...(entry.findingId === undefined ? {} : { findingId: entry.findingId }),
      detail: { eventKey, messageId },
    },
    isNotice,
  );
  return { ...result, notified: true };
}

export function makeHandler(
  env: Environment,
  clients = {
    sns: new SNSClient(clientOptions),
    sfn: new SFNClient(clientOptions),
    ssm: new SSMClient(clientOptions),
  },
) {
  const { logger, ledger, actor, now } = boot(env, 'watch');
  const deps: WatchDeps = {
    ...clients,
    ledger,
    actor,
    now,
    topicArn: requireEnv(env, ENV.topicArn),
    config: requireJsonEnv(env, ENV.watch, WatchConfigSchema),
  };
  return taskHandler(logger, EventEnvelopeSchema, async (event) => {
    const result = await watch(event, deps);
    if (result.status === 'ignored') {
      logger.warn('event not recorded', {
        source: event.source,
        detailType: event['detail-type'],
        reason: result.reason,
      });
    } else {
      logger.info('event recorded', { ...result, detailType: event['detail-type'] });
    }
    return result;
  });
}

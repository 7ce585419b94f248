import { FAILURE_PATH_ERRORS, FAILURE_UNREPORTED, ROLLBACK_MACHINE } from '../shared/catalog.js';
import type { LedgerEntryInput } from '../shared/ledger.js';
import { boundedText } from '../shared/text.js';
import type { Report, WatchDeps } from './core.js';
import { cloudTrailKey, type WatchedEvent } from './events.js';
import {
  describeExecution,
  type Execution,
  incidentOfExecution,
  machineOfExecution,
  type OfIncident,
  type Orphan,
  type WatchedMachine,
} from './executions.js';
import {
  callerName,
  callLines,
  callRecord,
  executionLines,
  incidentLines,
  SUMMARY_MAX,
  showLine,
  subject,
  unfinished,
} from './messages.js';

/**
 * Executions that ended without their failure path: the status change
 * (ABORTED, TIMED_OUT, or FAILED past every Catch; recorded in the incident
 * the execution was about) and the StopExecution call (who made it). Each
 * returns the report to record, or why there is none.
 */

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
    ...(about.kind === 'incident' &&
    about.targetArn !== undefined &&
    machine.name !== ROLLBACK_MACHINE
      ? { targetArn: about.targetArn }
      : {}),
  };
}

const what = (machine: WatchedMachine) =>
  machine.name === ROLLBACK_MACHINE ? 'the rollback' : 'containment';

/** How an execution ended without its failure path, by the status Step Functions gives it. */
const UNFINISHED = {
  ABORTED: { verb: 'aborted', how: 'it was stopped' },
  TIMED_OUT: { verb: 'timed out', how: 'it reached its execution timeout' },
  FAILED: { verb: 'failed outside its failure path', how: 'a state failed past every Catch' },
} as const;
type Unfinished = keyof typeof UNFINISHED;

/**
 * Why Cordon would not record an execution in this state here: its failure
 * path notified a FAILED execution whose error is one of FAILURE_PATH_ERRORS
 * (one whose notice did not go out ends FAILURE_UNREPORTED instead); a
 * running or succeeded one did not end unfinished.
 */
function notUnfinished(status: string, error: string | undefined): string | undefined {
  if (!Object.hasOwn(UNFINISHED, status)) {
    return `status ${status}: the watch records ABORTED, TIMED_OUT and FAILED`;
  }
  const recorded: readonly string[] = Object.values(FAILURE_PATH_ERRORS);
  if (status === 'FAILED' && error !== undefined && recorded.includes(error)) {
    return `failed with ${error}: its failure path notified it`;
  }
  return undefined;
}

/**
 * An execution that ended without its failure path (ABORTED, TIMED_OUT, or
 * FAILED past every Catch): recorded in the incident it was about. The
 * status and error are Step Functions' own, read back; the event's are only
 * a filter.
 */
export async function unfinishedReport(
  event: Extract<WatchedEvent, { kind: 'status-change' }>,
  deps: WatchDeps,
): Promise<Report | string> {
  const early = notUnfinished(event.status, undefined);
  if (early !== undefined) return early;
  if (!deps.config.machines.some((m) => m.arn === event.stateMachineArn)) {
    return "not one of Cordon's state machines";
  }
  const found = await cordonExecution(event.executionArn, deps);
  if (typeof found === 'string') return found;
  const { machine, execution } = found;
  const status = String(execution.status);
  if (status !== event.status) {
    return `Step Functions says the execution is ${status}, not ${event.status}`;
  }
  const notRecorded = notUnfinished(status, execution.error);
  if (notRecorded !== undefined) return notRecorded;
  const { verb } = UNFINISHED[status as Unfinished];
  const how =
    execution.error === FAILURE_UNREPORTED
      ? 'its failure path could not send the failure notice'
      : UNFINISHED[status as Unfinished].how;
  const about = await incidentOfExecution(machine, execution, deps.ledger);
  const stopped = execution.stopDate?.toISOString() ?? 'an unknown time';
  const error = execution.error ? boundedText(execution.error, 256) : undefined;
  return {
    ledgerId: about.incidentId,
    eventKey: `${status.toLowerCase()} ${execution.executionArn} ${stopped}`,
    entry: {
      step: 'execution',
      action: 'watch',
      actor: deps.actor,
      outcome: status,
      ...executionEntry(about, execution, machine),
      summary: boundedText(
        `${machine.name} execution ${verb} at ${stopped}${error ? ` (${error})` : ''}: ${what(machine)} did not finish`,
        SUMMARY_MAX,
      ),
      detail: {
        stateMachine: machine.name,
        stateMachineArn: machine.arn,
        startedAt: execution.startDate.toISOString(),
        stoppedAt: stopped,
        ...(error ? { stopError: error } : {}),
        ...(execution.cause ? { stopCause: boundedText(execution.cause, 1000) } : {}),
        ...aboutDetail(about, execution),
      },
    },
    subject: subject(
      `Cordon execution ${status}: ${machine.name}: ${what(machine)} did not finish`,
    ),
    lines: [
      `Cordon execution ${status}`,
      '',
      `The execution ended without its failure path: ${how}${error ? ` (${error})` : ''}.`,
      unfinished(machine),
      '',
      ...incidentLines(about, execution),
      ...executionLines(machine, execution),
      ...(status === 'ABORTED'
        ? [
            '',
            'Who stopped it is not in this event: a separate "StopExecution" notice names the caller, when a CloudTrail trail delivers the call.',
          ]
        : []),
      showLine(about.incidentId),
    ],
  };
}

/** A StopExecution call: who made it, in the incident the execution was about. */
export async function stopReport(
  event: Extract<WatchedEvent, { kind: 'stop-execution' }>,
  deps: WatchDeps,
): Promise<Report | string> {
  const found = await cordonExecution(event.executionArn, deps);
  if (typeof found === 'string') return found;
  const { machine, execution } = found;
  const { call } = event;
  const refused = call.errorCode !== undefined;
  // A stop that took effect left the execution ABORTED: a record saying one
  // succeeded on a running execution is not CloudTrail's.
  if (!refused && execution.status !== 'ABORTED') {
    return `Step Functions says the execution is ${execution.status}: no StopExecution took effect`;
  }
  const about = await incidentOfExecution(machine, execution, deps.ledger);
  const who = callerName(call.caller);
  return {
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
  };
}

import { ROLLBACK_MACHINE } from '../shared/catalog.js';
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
 * Executions stopped from outside: the ABORTED status change (recorded in
 * the incident the execution was about) and the StopExecution call (who
 * made it). Each returns the report to record, or why there is none.
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

/** An ABORTED status change: the abort, in the incident the execution was about. */
export async function abortReport(
  event: Extract<WatchedEvent, { kind: 'status-change' }>,
  deps: WatchDeps,
): Promise<Report | string> {
  if (event.status !== 'ABORTED') return `status ${event.status}: the watch records ABORTED`;
  if (!deps.config.machines.some((m) => m.arn === event.stateMachineArn)) {
    return "not one of Cordon's state machines";
  }
  const found = await cordonExecution(event.executionArn, deps);
  if (typeof found === 'string') return found;
  const { machine, execution } = found;
  if (execution.status !== 'ABORTED') {
    return `Step Functions says the execution is ${execution.status}, not ABORTED`;
  }
  const about = await incidentOfExecution(machine, execution, deps.ledger);
  const stopped = execution.stopDate?.toISOString() ?? 'an unknown time';
  return {
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

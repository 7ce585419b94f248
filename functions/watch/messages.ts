import { ROLLBACK_MACHINE } from '../shared/catalog.js';
import { asciiLine, boundedText, quoted } from '../shared/text.js';
import type { ApiCall, Caller } from './events.js';
import type { Execution, OfIncident, Orphan, WatchedMachine } from './executions.js';

/**
 * What the watch tells responders, and records. Every value that came from
 * an event or from the caller of an API (names, error text, the cause given
 * to StopExecution) is bounded and quoted, so it cannot add lines or pose as
 * Cordon's own text.
 */

/** SNS subject limit. */
export const SUBJECT_MAX = 100;
/** A ledger entry's one-line summary. */
export const SUMMARY_MAX = 500;
const ARN_MAX = 2048;
const FIELD_MAX = 256;
const TEXT_MAX = 1000;

/** Who made a call, in a few words: the identity's ARN when CloudTrail gives one. */
export function callerName(caller: Caller): string {
  return caller.arn ?? caller.principalId ?? caller.invokedBy ?? caller.type ?? 'an unknown caller';
}

/** A subject line: ASCII, one line, at most SUBJECT_MAX characters. */
export function subject(text: string): string {
  return asciiLine(text, SUBJECT_MAX);
}

/** The call and who made it, as a responder needs it to act: identity, role, source, time, record id. */
export function callLines(call: ApiCall): string[] {
  const { caller } = call;
  const lines = [
    `Called by: ${quoted(callerName(caller), ARN_MAX)}${caller.type ? ` (${quoted(caller.type, 64)})` : ''}`,
    ...(caller.roleArn ? [`Role: ${quoted(caller.roleArn, ARN_MAX)}`] : []),
    ...(caller.principalId ? [`Principal id: ${quoted(caller.principalId, FIELD_MAX)}`] : []),
    ...(caller.accountId ? [`Account: ${quoted(caller.accountId, 64)}`] : []),
    ...(caller.invokedBy ? [`Through: ${quoted(caller.invokedBy, FIELD_MAX)}`] : []),
    `From: ${call.sourceIp ? quoted(call.sourceIp, FIELD_MAX) : '(no source address recorded)'}`,
    `At: ${quoted(call.eventTime, 64)}${call.region ? ` in ${quoted(call.region, 64)}` : ''}`,
    `CloudTrail event id: ${quoted(call.eventId, FIELD_MAX)}`,
  ];
  if (call.errorCode) {
    lines.push(
      `The call FAILED: ${quoted(call.errorCode, FIELD_MAX)}${
        call.errorMessage ? ` ${quoted(call.errorMessage, TEXT_MAX)}` : ''
      }: AWS refused it, so it changed nothing, but someone tried.`,
    );
  }
  return lines;
}

/** The call as the ledger keeps it: who, from where, when, the record id, and any error. */
export function callRecord(call: ApiCall): Record<string, string> {
  const { caller } = call;
  const field = (key: string, value: string | undefined, max = FIELD_MAX) =>
    value === undefined ? {} : { [key]: boundedText(value, max) };
  return {
    eventName: boundedText(call.eventName, FIELD_MAX),
    cloudTrailEventId: boundedText(call.eventId, FIELD_MAX),
    eventTime: boundedText(call.eventTime, 64),
    ...field('callerArn', caller.arn, ARN_MAX),
    ...field('callerType', caller.type),
    ...field('callerRoleArn', caller.roleArn, ARN_MAX),
    ...field('callerPrincipalId', caller.principalId),
    ...field('callerAccount', caller.accountId, 64),
    ...field('invokedBy', caller.invokedBy),
    ...field('sourceIp', call.sourceIp),
    ...field('region', call.region, 64),
    ...field('errorCode', call.errorCode),
    ...field('errorMessage', call.errorMessage, TEXT_MAX),
  };
}

/** Where an execution's entry went: its incident, or its orphan key and why. */
export function incidentLines(about: OfIncident | Orphan, execution: Execution): string[] {
  if (about.kind === 'orphan') {
    return [
      `Incident: none (${about.reason})`,
      `Recorded under: ${about.incidentId} (this execution's own key)`,
    ];
  }
  const duplicate =
    about.claimedBy !== undefined && about.claimedBy !== execution.executionArn
      ? [`Claimed by another execution: ${quoted(about.claimedBy, ARN_MAX)}`]
      : [];
  return [
    `Incident: ${about.incidentId}`,
    ...(about.findingId ? [`Finding id: ${quoted(about.findingId, FIELD_MAX)}`] : []),
    ...(about.targetArn ? [`Target: ${quoted(about.targetArn, ARN_MAX)}`] : []),
    ...duplicate,
  ];
}

/** What stopping this machine's execution means, in one line. */
export function unfinished(machine: WatchedMachine): string {
  return machine.name === ROLLBACK_MACHINE
    ? 'The rollback did not finish: the items it had not reached were not restored (the ledger shows the ones it did).'
    : 'Containment did not finish: the execution stopped before its last step, so the steps it had not reached did not run (the ledger shows the ones that did).';
}

/** The execution, as Step Functions describes it. */
export function executionLines(machine: WatchedMachine, execution: Execution): string[] {
  return [
    `Playbook: ${machine.name}`,
    `Execution: ${quoted(execution.executionArn, ARN_MAX)}`,
    `Started: ${execution.startDate.toISOString()}`,
    ...(execution.stopDate ? [`Stopped: ${execution.stopDate.toISOString()}`] : []),
    `Status now: ${quoted(String(execution.status), 64)}`,
    ...(execution.error ? [`Stop error given: ${quoted(execution.error, FIELD_MAX)}`] : []),
    ...(execution.cause ? [`Stop cause given: ${quoted(execution.cause, TEXT_MAX)}`] : []),
  ];
}

/** Where a responder looks next. */
export function showLine(incidentId: string): string {
  return `See: npm run cordon -- show ${incidentId}`;
}

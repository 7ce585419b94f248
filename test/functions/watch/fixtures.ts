/**
 * Events for the watch tests, from the published samples in
 * test/fixtures/events (see its README for where each comes from), with
 * Cordon's names put in where a test needs them: an execution of one of
 * Cordon's state machines, one of its rules, its mode parameter.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { type EventEnvelope, EventEnvelopeSchema } from '../../../functions/watch/events.js';
import { REPO_ROOT } from '../../../rehearsal/synth.js';

export const ACCOUNT = '123456789012';
const STATES = `arn:aws:states:us-east-1:${ACCOUNT}`;

export const PLAYBOOK_MACHINE = `${STATES}:stateMachine:IamCredentialsStateMachineB0128289-x1`;
export const ROLLBACK_MACHINE_ARN = `${STATES}:stateMachine:Cordon-rollback`;
export const PLAYBOOK_EXECUTION = `${STATES}:execution:IamCredentialsStateMachineB0128289-x1:7c6d4c9a-guardduty`;
export const ROLLBACK_EXECUTION = `${STATES}:execution:Cordon-rollback:inc-0123456789abcdef0123-1`;
export const MODE_PARAMETER = '/cordon/mode';

const JsonObject = z.record(z.string(), z.unknown());

/** A fixture file as JSON. */
export function fixtureJson(name: string): Record<string, unknown> {
  const path = join(REPO_ROOT, 'test', 'fixtures', 'events', name);
  return JsonObject.parse(JSON.parse(readFileSync(path, 'utf8')));
}

/** A fixture that is an EventBridge event. */
export function fixture(name: string): EventEnvelope {
  return EventEnvelopeSchema.parse(fixtureJson(name));
}

/** The finding event a playbook execution started with. */
export const FINDING = () => fixtureJson('guardduty-iam-user.json');

/**
 * AWS's documented ABORTED status-change event, about `executionArn` of
 * `stateMachineArn`; `detail` overrides the rest (drop the input with
 * `{ input: undefined, inputDetails: { included: false } }`).
 */
export function abortedEvent(
  executionArn: string,
  stateMachineArn: string,
  detail: Record<string, unknown> = {},
): EventEnvelope {
  const event = fixture('states-execution-aborted.json');
  return {
    ...event,
    resources: [executionArn],
    detail: { ...event.detail, executionArn, stateMachineArn, ...detail },
  };
}

/**
 * A CloudTrail fixture with `requestParameters` merged with `request`, and
 * the record's other fields overridden by `detail` (`errorCode`, `eventID`...).
 */
export function apiCallEvent(
  name: string,
  request: Record<string, unknown> = {},
  detail: Record<string, unknown> = {},
): EventEnvelope {
  const event = fixture(name);
  const requestParameters = JsonObject.catch({}).parse(event.detail.requestParameters);
  return {
    ...event,
    detail: { ...event.detail, requestParameters: { ...requestParameters, ...request }, ...detail },
  };
}

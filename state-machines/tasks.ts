import { Duration } from 'aws-cdk-lib';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import * as tasks from 'aws-cdk-lib/aws-stepfunctions-tasks';
import type { Construct } from 'constructs';
import {
  FAILURE_UNREPORTED,
  type FunctionName,
  type PollSpec,
} from '../functions/shared/catalog.js';
import { RETRYABLE_ERROR_NAMES } from '../functions/shared/errors.js';

/** The functions a playbook's states invoke, by name. */
export type PlaybookFunctions = Readonly<Record<FunctionName, IFunction>>;

/** Lambda service errors worth retrying, plus Cordon's retryable names. */
export const RETRYABLE_TASK_ERRORS = [
  'Lambda.ServiceException',
  'Lambda.AWSLambdaException',
  'Lambda.SdkClientException',
  'Lambda.TooManyRequestsException',
  ...RETRYABLE_ERROR_NAMES,
];

/** Longest a plain (non-callback) task may run; functions time out sooner. */
export const TASK_TIMEOUT = Duration.seconds(90);

/** Where a task's error lands when a Catch fires. */
export const ERROR_PATH = '$.error';

/**
 * A Lambda task whose result is the function's own return value, with a
 * timeout and a retry policy limited to errors that can succeed later
 * (never `States.ALL`), with exponential backoff and full jitter.
 */
export interface InvokeProps {
  /** What the function receives. @default the whole state input */
  readonly payload?: sfn.TaskInput;
  /**
   * Where the result goes; `JsonPath.DISCARD` keeps the state unchanged.
   * @default the result replaces the state (ResultPath omitted, which is
   * what `$` means; the local engine mishandles an explicit `$`)
   */
  readonly resultPath?: string;
  readonly resultSelector?: Record<string, unknown>;
  /**
   * A retrier tried before the usual one: an action that fails with a
   * "not finished yet" error until AWS has finished what it started.
   * @default none
   */
  readonly pollOn?: PollSpec;
}

export function invoke(
  scope: Construct,
  id: string,
  fn: IFunction,
  props: InvokeProps,
): tasks.LambdaInvoke {
  const task = new tasks.LambdaInvoke(scope, id, {
    lambdaFunction: fn,
    ...(props.payload ? { payload: props.payload } : {}),
    payloadResponseOnly: true,
    retryOnServiceExceptions: false,
    ...(props.resultPath ? { resultPath: props.resultPath } : {}),
    ...(props.resultSelector ? { resultSelector: props.resultSelector } : {}),
    taskTimeout: sfn.Timeout.duration(TASK_TIMEOUT),
  });
  if (props.pollOn) {
    const { error, intervalSeconds, maxDelaySeconds, checks } = props.pollOn;
    task.addRetry({
      errors: [error],
      interval: Duration.seconds(intervalSeconds),
      maxAttempts: checks,
      backoffRate: 1.5,
      maxDelay: Duration.seconds(maxDelaySeconds),
      // No jitter: these are checks on something running, not calls backing
      // off a throttled service, and the waits are what bound how long it
      // may take before the step counts as failed; full jitter could call a
      // rotation stalled after a few seconds.
      jitterStrategy: sfn.JitterType.NONE,
    });
  }
  task.addRetry({
    errors: RETRYABLE_TASK_ERRORS,
    interval: Duration.seconds(2),
    maxAttempts: 4,
    backoffRate: 2,
    maxDelay: Duration.seconds(30),
    jitterStrategy: sfn.JitterType.FULL,
  });
  return task;
}

/**
 * Routes any error of `task` (or only `errors`) to the failure path, first
 * noting which step failed (the Catch output carries only Error and Cause).
 */
export function catchInto(
  scope: Construct,
  task: tasks.LambdaInvoke,
  step: string,
  label: string,
  failure: sfn.IChainable,
  errors: readonly string[] = ['States.ALL'],
): void {
  const note = new sfn.Pass(scope, `${label}: failed`, {
    result: sfn.Result.fromObject({ step }),
    resultPath: '$.failedStep',
  });
  task.addCatch(note.next(failure), { errors: [...errors], resultPath: ERROR_PATH });
}

/**
 * A wait for a responder: request-approval stores the task token and asks,
 * and the state waits (`.waitForTaskToken`) until the responder API sends
 * the decision, or `timeout` passes. The decision lands at `$.approval`.
 */
export function approvalTask(
  scope: Construct,
  id: string,
  functions: PlaybookFunctions,
  payload: Record<string, unknown>,
  timeout: Duration,
): tasks.LambdaInvoke {
  const task = new tasks.LambdaInvoke(scope, id, {
    lambdaFunction: functions['request-approval'],
    integrationPattern: sfn.IntegrationPattern.WAIT_FOR_TASK_TOKEN,
    payload: sfn.TaskInput.fromObject({
      ...payload,
      taskToken: sfn.JsonPath.taskToken,
      executionArn: sfn.JsonPath.executionId,
    }),
    resultPath: '$.approval',
    taskTimeout: sfn.Timeout.duration(timeout),
  });
  task.addRetry({
    errors: RETRYABLE_TASK_ERRORS,
    interval: Duration.seconds(2),
    maxAttempts: 3,
    backoffRate: 2,
    jitterStrategy: sfn.JitterType.FULL,
  });
  return task;
}

export interface FailurePathProps {
  /** The Fail state's error and cause. */
  readonly error: string;
  readonly cause: string;
  /** What the failure is recorded and notified about: `{ incident }`, or `{ incidentId }`. */
  readonly about: Readonly<Record<string, unknown>>;
  /** Extra fields of the failure notice (the results so far). @default none */
  readonly notice?: Readonly<Record<string, unknown>>;
}

/**
 * The one way an execution fails: record the failure in the ledger (under
 * the step each Catch noted at `$.failedStep`), notify, then fail. A failing
 * record still notifies. A failing notice fails with FAILURE_UNREPORTED
 * instead, which the watch records and notifies (it does not trust a
 * failure path whose notice did not go out).
 */
export function failurePath(
  scope: Construct,
  functions: PlaybookFunctions,
  props: FailurePathProps,
): {
  readonly record: tasks.LambdaInvoke;
  readonly notify: tasks.LambdaInvoke;
  readonly failed: sfn.Fail;
  /** Where a failure whose notice did not go out ends. */
  readonly unreported: sfn.Fail;
} {
  const executionArn = sfn.JsonPath.executionId;
  const error = sfn.JsonPath.objectAt(ERROR_PATH);
  const failed = new sfn.Fail(scope, 'Failed', { error: props.error, cause: props.cause });
  const unreported = new sfn.Fail(scope, 'Failed, not notified', {
    error: FAILURE_UNREPORTED,
    cause: `${props.cause} The failure notice did not go out: the watch records and notifies this execution.`,
  });
  const notify = invoke(scope, 'Notify failure', functions.notify, {
    payload: sfn.TaskInput.fromObject({
      kind: 'FAILURE',
      ...props.about,
      ...props.notice,
      error,
      executionArn,
    }),
    resultPath: sfn.JsonPath.DISCARD,
  });
  notify.addCatch(unreported, { errors: ['States.ALL'], resultPath: '$.notifyError' });
  notify.next(failed);
  const record = invoke(scope, 'Record failure', functions['record-failure'], {
    payload: sfn.TaskInput.fromObject({
      step: sfn.JsonPath.stringAt('$.failedStep.step'),
      ...props.about,
      error,
      executionArn,
    }),
    resultPath: '$.failureRecord',
  });
  record.addCatch(notify, { errors: ['States.ALL'], resultPath: '$.recordError' });
  record.next(notify);
  return { record, notify, failed, unreported };
}

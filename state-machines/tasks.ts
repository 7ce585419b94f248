import { Duration } from 'aws-cdk-lib';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import * as tasks from 'aws-cdk-lib/aws-stepfunctions-tasks';
import type { Construct } from 'constructs';
import type { ActionName } from '../functions/shared/catalog.js';
import { RETRYABLE_ERROR_NAMES } from '../functions/shared/errors.js';

/** The functions a playbook's states invoke, by action name. */
export type PlaybookFunctions = Readonly<Record<ActionName, IFunction>>;

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
 * Routes any error of `task` to the failure path, first noting which step
 * failed (the Catch output carries only Error and Cause).
 */
export function catchInto(
  scope: Construct,
  task: tasks.LambdaInvoke,
  step: string,
  label: string,
  failure: sfn.IChainable,
): void {
  const note = new sfn.Pass(scope, `${label}: failed`, {
    result: sfn.Result.fromObject({ step }),
    resultPath: '$.failedStep',
  });
  task.addCatch(note.next(failure), { errors: ['States.ALL'], resultPath: ERROR_PATH });
}

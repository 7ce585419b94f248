import { Duration } from 'aws-cdk-lib';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import * as tasks from 'aws-cdk-lib/aws-stepfunctions-tasks';
import type { Construct } from 'constructs';
import { ROLLBACK_ACTIONS, type RollbackAction } from '../functions/shared/catalog.js';
import { APPROVAL_NOT_GRANTED } from '../functions/shared/errors.js';
import {
  catchInto,
  ERROR_PATH,
  invoke,
  type PlaybookFunctions,
  RETRYABLE_TASK_ERRORS,
} from './tasks.js';

export interface RollbackProps {
  readonly functions: PlaybookFunctions;
  readonly approvalTimeout: Duration;
}

/** State names of the rollback actions. */
export const ROLLBACK_LABELS: Readonly<Record<RollbackAction, string>> = {
  'rollback-access-key': 'Re-enable access key',
  'rollback-session-revocation': 'Remove session revocation',
  'rollback-user-quarantine': 'Lift user quarantine',
  'rollback-network-isolation': 'Restore network interfaces',
  'rollback-instance-profile': 'Re-associate instance profile',
  'rollback-asg-detach': 'Return to Auto Scaling group',
  'rollback-secret-lock': 'Remove secret lock',
  'rollback-function-quarantine': 'Restore function concurrency',
  'rollback-public-access': 'Restore public access block',
};

/**
 * rollback: started by the approval endpoint with `{ incidentId, step?,
 * force, requestedBy, reason }`, never by a finding. Plan (the incident's
 * CONTAINED entries, newest first) → one approval for the whole plan, with
 * the configured timeout → each item in order, one at a time, through its
 * own function → a summary. Rejected or timed out: recorded, announced,
 * nothing restored.
 */
export function rollbackDefinition(scope: Construct, props: RollbackProps): sfn.IChainable {
  const { functions } = props;
  const executionArn = sfn.JsonPath.executionId;

  // Failure path: record in the incident's ledger, notify, fail.
  const failed = new sfn.Fail(scope, 'Failed', {
    error: 'Cordon.RollbackFailed',
    cause: 'A rollback step failed; see the ledger and the failure notification.',
  });
  const notifyFailure = invoke(scope, 'Notify failure', functions.notify, {
    payload: sfn.TaskInput.fromObject({
      kind: 'FAILURE',
      error: sfn.JsonPath.objectAt(ERROR_PATH),
      executionArn,
    }),
    resultPath: sfn.JsonPath.DISCARD,
  });
  notifyFailure.addCatch(failed, { errors: ['States.ALL'], resultPath: '$.notifyError' });
  notifyFailure.next(failed);
  const recordFailure = invoke(scope, 'Record failure', functions['record-failure'], {
    payload: sfn.TaskInput.fromObject({
      step: sfn.JsonPath.stringAt('$.failedStep.step'),
      incidentId: sfn.JsonPath.stringAt('$.incidentId'),
      error: sfn.JsonPath.objectAt(ERROR_PATH),
      executionArn,
    }),
    resultPath: '$.failureRecord',
  });
  recordFailure.addCatch(notifyFailure, { errors: ['States.ALL'], resultPath: '$.recordError' });
  recordFailure.next(notifyFailure);

  const report = (results: unknown, extra: Record<string, unknown> = {}) =>
    sfn.TaskInput.fromObject({
      kind: 'ROLLBACK',
      rollback: {
        incidentId: sfn.JsonPath.stringAt('$.plan.incidentId'),
        requestedBy: sfn.JsonPath.stringAt('$.requestedBy'),
        reason: sfn.JsonPath.stringAt('$.reason'),
        force: sfn.JsonPath.objectAt('$.force'),
        results,
        skipped: sfn.JsonPath.objectAt('$.plan.skipped'),
        ...extra,
      },
      executionArn,
    });

  // Finish: the summary of what each item did.
  const notifySummary = invoke(scope, 'Notify summary', functions.notify, {
    payload: report(sfn.JsonPath.objectAt('$.results')),
    resultPath: sfn.JsonPath.DISCARD,
  });
  catchInto(scope, notifySummary, 'notify', 'Notify summary', recordFailure);
  notifySummary.next(new sfn.Succeed(scope, 'Done'));

  // Each item, in order, through its own function (one at a time: order matters).
  const route = new sfn.Choice(scope, 'Rollback action?');
  for (const action of ROLLBACK_ACTIONS) {
    route.when(
      sfn.Condition.stringEquals('$.item.rollbackAction', action),
      invoke(scope, ROLLBACK_LABELS[action], functions[action], {}),
    );
  }
  route.otherwise(
    new sfn.Fail(scope, 'Unknown rollback action', {
      error: 'Cordon.InvalidTaskInput',
      cause: 'The plan named an action the rollback state machine does not run.',
    }),
  );
  const each = new sfn.Map(scope, 'Roll back each', {
    itemsPath: '$.plan.items',
    maxConcurrency: 1,
    itemSelector: {
      item: sfn.JsonPath.stringAt('$$.Map.Item.Value'),
      incidentId: sfn.JsonPath.stringAt('$.plan.incidentId'),
      approvalStep: sfn.JsonPath.stringAt('$.plan.approvalStep'),
      force: sfn.JsonPath.objectAt('$.force'),
      requestedBy: sfn.JsonPath.stringAt('$.requestedBy'),
      reason: sfn.JsonPath.stringAt('$.reason'),
      approval: sfn.JsonPath.objectAt('$.approval'),
      executionArn: sfn.JsonPath.stringAt('$$.Execution.Id'),
    },
    resultPath: '$.results',
  });
  each.itemProcessor(route);
  const eachFailed = new sfn.Pass(scope, 'Roll back each: failed', {
    result: sfn.Result.fromObject({ step: 'rollback' }),
    resultPath: '$.failedStep',
  });
  each.addCatch(eachFailed.next(recordFailure), {
    errors: ['States.ALL'],
    resultPath: ERROR_PATH,
  });
  each.next(notifySummary);

  // One approval for the whole plan.
  const requestApproval = new tasks.LambdaInvoke(scope, 'Request approval', {
    lambdaFunction: functions['request-approval'],
    integrationPattern: sfn.IntegrationPattern.WAIT_FOR_TASK_TOKEN,
    payload: sfn.TaskInput.fromObject({
      rollback: {
        plan: sfn.JsonPath.objectAt('$.plan'),
        force: sfn.JsonPath.objectAt('$.force'),
        requestedBy: sfn.JsonPath.stringAt('$.requestedBy'),
        reason: sfn.JsonPath.stringAt('$.reason'),
      },
      taskToken: sfn.JsonPath.taskToken,
      executionArn,
    }),
    resultPath: '$.approval',
    taskTimeout: sfn.Timeout.duration(props.approvalTimeout),
  });
  requestApproval.addRetry({
    errors: RETRYABLE_TASK_ERRORS,
    interval: Duration.seconds(2),
    maxAttempts: 3,
    backoffRate: 2,
    jitterStrategy: sfn.JitterType.FULL,
  });
  const notActedOn = invoke(scope, 'Not acted on', functions['record-failure'], {
    payload: sfn.TaskInput.fromObject({
      step: sfn.JsonPath.stringAt('$.plan.approvalStep'),
      incidentId: sfn.JsonPath.stringAt('$.plan.incidentId'),
      error: sfn.JsonPath.objectAt('$.approvalError'),
      waited: 'approval',
      executionArn,
    }),
    resultPath: '$.decision',
  });
  catchInto(scope, notActedOn, 'rollback', 'Not acted on', recordFailure);
  const notifyNotActedOn = invoke(scope, 'Notify not acted on', functions.notify, {
    payload: report([], { decision: sfn.JsonPath.objectAt('$.decision') }),
    resultPath: sfn.JsonPath.DISCARD,
  });
  catchInto(scope, notifyNotActedOn, 'notify', 'Notify not acted on', recordFailure);
  notActedOn.next(notifyNotActedOn);
  notifyNotActedOn.next(new sfn.Succeed(scope, 'Not rolled back'));
  requestApproval.addCatch(notActedOn, {
    errors: [...APPROVAL_NOT_GRANTED],
    resultPath: '$.approvalError',
  });
  catchInto(scope, requestApproval, 'rollback', 'Request approval', recordFailure);
  requestApproval.next(each);

  // Plan: a plan that fails (unknown incident, nothing to roll back) recorded
  // what it could itself; say so and stop.
  const plan = invoke(scope, 'Plan rollback', functions['rollback-plan'], {
    payload: sfn.TaskInput.fromObject({
      request: sfn.JsonPath.objectAt('$'),
      executionArn,
    }),
    resultPath: '$.plan',
  });
  plan.addCatch(notifyFailure, { errors: ['States.ALL'], resultPath: ERROR_PATH });
  return plan.next(requestApproval);
}

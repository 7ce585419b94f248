import type { Duration } from 'aws-cdk-lib';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import type { Construct } from 'constructs';
import { ACTIONS, undoOf } from '../functions/actions/registry.js';
import { FAILURE_PATH_ERRORS } from '../functions/shared/catalog.js';
import { APPROVAL_NOT_GRANTED } from '../functions/shared/errors.js';
import {
  approvalTask,
  catchInto,
  ERROR_PATH,
  failurePath,
  invoke,
  type PlaybookFunctions,
} from './tasks.js';

export interface RollbackProps {
  readonly functions: PlaybookFunctions;
  readonly approvalTimeout: Duration;
}

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
  const { record: recordFailure, notify: notifyFailure } = failurePath(scope, functions, {
    error: FAILURE_PATH_ERRORS.rollback,
    cause: 'A rollback step failed; see the ledger and the failure notification.',
    about: { incidentId: sfn.JsonPath.stringAt('$.incidentId') },
  });

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
  for (const action of ACTIONS) {
    const undo = undoOf(action.name);
    if (undo === undefined) continue;
    route.when(
      sfn.Condition.stringEquals('$.item.rollbackAction', undo.name),
      invoke(scope, undo.label, functions[undo.name], {}),
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
  const requestApproval = approvalTask(
    scope,
    'Request approval',
    functions,
    {
      rollback: {
        plan: sfn.JsonPath.objectAt('$.plan'),
        force: sfn.JsonPath.objectAt('$.force'),
        requestedBy: sfn.JsonPath.stringAt('$.requestedBy'),
        reason: sfn.JsonPath.stringAt('$.reason'),
      },
    },
    props.approvalTimeout,
  );
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

import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import type { Construct } from 'constructs';
import { FAILURE_PATH_ERRORS, type PlaybookName } from '../functions/shared/catalog.js';
import { catchInto, failurePath, invoke, type PlaybookFunctions } from './tasks.js';

export interface FrameParts {
  /** Continue here when the steps are done: resolve the finding, notify, succeed. */
  readonly finish: sfn.IChainable;
  /** Send errors here: record the failure, notify, fail. */
  readonly failure: sfn.IChainable;
}

/**
 * What every playbook shares around its own steps: triage (validate, guard,
 * claim, plan), the Security Hub pickup and resolution updates, the summary
 * notification, and one failure path that records and notifies before it
 * ends. `body` builds the playbook's steps between pickup and finish.
 */
export interface FrameOptions {
  /** More of the state after triage, beside its result (the attack sequence's children). */
  readonly state?: Readonly<Record<string, unknown>>;
  /** More of the summary notice's payload. */
  readonly summary?: Readonly<Record<string, unknown>>;
}

export function playbookFrame(
  scope: Construct,
  playbook: PlaybookName,
  functions: PlaybookFunctions,
  body: (parts: FrameParts) => sfn.IChainable,
  options: FrameOptions = {},
): sfn.IChainable {
  const executionArn = sfn.JsonPath.executionId;
  const incident = sfn.JsonPath.objectAt('$.incident');
  const fromSecurityHub = sfn.Condition.stringEquals('$.incident.source', 'securityhub');

  // Failure path. Each step's Catch notes the step at $.failedStep first.
  const {
    record: failure,
    failed,
    unreported,
  } = failurePath(scope, functions, {
    error: FAILURE_PATH_ERRORS.playbook,
    cause: 'A step failed; see the ledger and the failure notification.',
    about: { incident },
    notice: { results: sfn.JsonPath.objectAt('$.results') },
  });

  // Finish: resolve (or annotate) the Security Hub finding, then notify.
  const done = new sfn.Succeed(scope, 'Done');
  const notifySummary = invoke(scope, 'Notify summary', functions.notify, {
    payload: sfn.TaskInput.fromObject({
      kind: 'SUMMARY',
      incident,
      results: sfn.JsonPath.objectAt('$.results'),
      ...options.summary,
      executionArn,
    }),
    resultPath: sfn.JsonPath.DISCARD,
  });
  catchInto(scope, notifySummary, 'notify', 'Notify summary', failure);
  notifySummary.next(done);
  const markResolved = invoke(scope, 'Update finding: finished', functions['update-finding'], {
    payload: sfn.TaskInput.fromObject({
      incident,
      phase: 'FINISH',
      results: sfn.JsonPath.objectAt('$.results'),
      executionArn,
    }),
    resultPath: sfn.JsonPath.DISCARD,
  });
  catchInto(scope, markResolved, 'finding', 'Update finding: finished', failure);
  markResolved.next(notifySummary);
  const finish = new sfn.Choice(scope, 'Finished: from Security Hub?')
    .when(fromSecurityHub, markResolved)
    .otherwise(notifySummary);

  const steps = body({ finish, failure });

  // Pickup: mark a Security Hub finding NOTIFIED before acting.
  const markNotified = invoke(scope, 'Update finding: picked up', functions['update-finding'], {
    payload: sfn.TaskInput.fromObject({ incident, phase: 'PICKUP', executionArn }),
    resultPath: sfn.JsonPath.DISCARD,
  });
  catchInto(scope, markNotified, 'finding', 'Update finding: picked up', failure);
  markNotified.next(steps);

  // Refusals are recorded by triage and announced; so are re-emissions of a
  // finding a responder dismissed or rolled back. Duplicates, and
  // re-emissions that join their incident's execution, end quietly
  // (triage recorded the re-emission).
  /** Tells responders why triage did not act (its reason), then ends at `end`. */
  const notifyThenEnd = (kind: 'SUPPRESSED' | 'REFUSED', label: string, end: string) => {
    const notify = invoke(scope, label, functions.notify, {
      payload: sfn.TaskInput.fromObject({
        kind,
        incident,
        reason: sfn.JsonPath.stringAt('$.reason'),
        executionArn,
      }),
      resultPath: sfn.JsonPath.DISCARD,
    });
    catchInto(scope, notify, 'notify', label, failure);
    notify.next(new sfn.Succeed(scope, end));
    return notify;
  };
  const notifySuppressed = notifyThenEnd('SUPPRESSED', 'Notify suppressed', 'Suppressed');
  const notifyRefusal = notifyThenEnd('REFUSED', 'Notify refusal', 'Not acted on');
  // A Security Hub finding is marked picked up before the steps; the one
  // Choice decides both, a state transition less on every acting path.
  const proceed = sfn.Condition.stringEquals('$.decision', 'PROCEED');
  const decision = new sfn.Choice(scope, 'Triage decision?')
    .when(sfn.Condition.and(proceed, fromSecurityHub), markNotified)
    .when(proceed, steps)
    .when(sfn.Condition.stringEquals('$.decision', 'REFUSED'), notifyRefusal)
    .when(sfn.Condition.stringEquals('$.decision', 'SUPPRESSED'), notifySuppressed)
    .when(
      sfn.Condition.stringEquals('$.decision', 'JOINED'),
      new sfn.Succeed(scope, 'Joined its incident'),
    )
    .otherwise(new sfn.Succeed(scope, 'Duplicate delivery'));

  // Triage's result replaces the (possibly large) event: the state stays
  // small, and the event itself remains in the execution history.
  const triage = invoke(scope, 'Triage', functions.triage, {
    payload: sfn.TaskInput.fromObject({
      event: sfn.JsonPath.objectAt('$'),
      executionArn,
      playbook,
    }),
    resultSelector: {
      'decision.$': '$.decision',
      'reason.$': '$.reason',
      'incident.$': '$.incident',
      results: {},
      // What an action in approve mode replaces with its own decision
      // (gated-step.ts): no approval given yet.
      approval: { decision: 'NOT_REQUIRED', step: 'triage' },
      ...options.state,
    },
  });
  // Triage's error replaces the event (see its Catch below): an event near
  // Step Functions' payload quota plus an error would exceed it, and
  // States.DataLimitExceeded ends an execution past every Catch.
  const triageError = sfn.JsonPath.objectAt('$');
  const invalid = invoke(scope, 'Record invalid finding', functions['record-failure'], {
    payload: sfn.TaskInput.fromObject({ step: 'triage', error: triageError, executionArn }),
    resultPath: '$.failureRecord',
  });
  const notifyInvalid = invoke(scope, 'Notify invalid finding', functions.notify, {
    payload: sfn.TaskInput.fromObject({ kind: 'FAILURE', error: triageError, executionArn }),
    resultPath: sfn.JsonPath.DISCARD,
  });
  invalid.addCatch(notifyInvalid, { errors: ['States.ALL'], resultPath: '$.recordError' });
  invalid.next(notifyInvalid);
  notifyInvalid.addCatch(unreported, { errors: ['States.ALL'], resultPath: '$.notifyError' });
  notifyInvalid.next(failed);
  // No ResultPath: the default, $, replaces the state with the error (the
  // local engine reads an explicit "$" as a key named "$").
  triage.addCatch(invalid, { errors: ['States.ALL'] });
  return triage.next(decision);
}

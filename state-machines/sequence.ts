import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import type { Construct } from 'constructs';
import { SEQUENCE } from '../functions/shared/catalog.js';
import { playbookFrame } from './frame.js';
import { approvalWait, stepChain } from './gated-step.js';
import type { PlaybookDefinitionProps } from './playbook.js';
import { ERROR_PATH, invoke } from './tasks.js';

/** The error the attack-sequence playbook fails with when a member's containment failed. */
export const MEMBER_FAILED = 'Cordon.SequenceMemberFailed';

/**
 * The attack-sequence playbook: triage claims the parent incident and one
 * child per member; one approval of the whole set (the parent's step);
 * then each child's own playbook steps, one child after another (Map,
 * concurrency 1, so the record reads in order), each acting on that
 * approval. A member that fails is recorded and notified, and the others
 * still run: one broken member (a user re-created under its name) must not
 * shield the rest. Then the execution fails if any member failed, else it
 * finishes as every playbook does.
 */
export function sequenceDefinition(
  scope: Construct,
  props: PlaybookDefinitionProps,
): sfn.IChainable {
  const { functions } = props;
  return playbookFrame(
    scope,
    SEQUENCE.playbook,
    functions,
    ({ finish, failure }) => {
      const members = new sfn.Map(scope, 'Contain each member', {
        itemsPath: '$.children',
        maxConcurrency: 1,
        itemSelector: {
          'incident.$': '$$.Map.Item.Value',
          'approval.$': '$.approval',
          results: {},
        },
        resultPath: '$.members',
      });
      members.itemProcessor(memberSteps(scope, props));
      const anyFailed = new sfn.Pass(scope, 'Any member failed?', {
        parameters: {
          'failed.$': 'States.ArrayContains($.members[*].failed, true)',
        },
        resultPath: '$.memberCheck',
      });
      // Recorded on the parent and notified by the failure path, as any failed step.
      const failedMember = new sfn.Pass(scope, 'A member failed', {
        result: sfn.Result.fromObject({ step: SEQUENCE.step }),
        resultPath: '$.failedStep',
      });
      failedMember
        .next(
          new sfn.Pass(scope, 'Member failure as the error', {
            result: sfn.Result.fromObject({
              Error: MEMBER_FAILED,
              Cause:
                'A member of the attack sequence was not contained; its own failure was recorded and notified.',
            }),
            resultPath: ERROR_PATH,
          }),
        )
        .next(failure);
      members
        .next(anyFailed)
        .next(
          new sfn.Choice(scope, 'Every member contained?')
            .when(sfn.Condition.booleanEquals('$.memberCheck.failed', true), failedMember)
            .otherwise(finish),
        );
      return approvalGate(scope, props, members, finish, failure);
    },
    {
      state: { 'children.$': '$.children', members: [] },
      summary: { members: sfn.JsonPath.objectAt('$.members') },
    },
  );
}

/**
 * The one approval of the whole set, as triage planned the parent's step:
 * `approve` waits for a responder (rejected or timed out: recorded as not
 * acted on, and a timeout or an unverified decision notified); `dry-run`
 * goes straight to the members, whose steps are dry runs; anything else
 * contains nothing.
 */
function approvalGate(
  scope: Construct,
  props: PlaybookDefinitionProps,
  members: sfn.IChainable,
  finish: sfn.IChainable,
  failure: sfn.IChainable,
): sfn.IChainable {
  const { step, label } = SEQUENCE;
  const modePath = `$.incident.plan.${step}.mode`;
  const approve = approvalWait(scope, { ...props, step, label, next: finish, failure }, members);
  const off = new sfn.Pass(scope, `${label}: off`, {
    result: sfn.Result.fromObject({
      step,
      action: SEQUENCE.playbook,
      outcome: 'OFF',
      mode: 'off',
      summary: 'nothing of the sequence is acted on',
    }),
    resultPath: `$.results.${step}`,
  });
  off.next(finish);
  const modeIs = (mode: string) =>
    sfn.Condition.and(
      sfn.Condition.isPresent(modePath),
      sfn.Condition.stringEquals(modePath, mode),
    );
  return new sfn.Choice(scope, `${label}?`)
    .when(modeIs('approve'), approve)
    .when(modeIs('dry-run'), members)
    .otherwise(off);
}

/**
 * One member: its own playbook's steps, in catalog order, each acting on
 * the set's approval at `$.approval`. Ends with what the Map collects:
 * the child's id, playbook, results, and whether it failed. A failure is
 * recorded on the child and notified, and the iteration ends as failed.
 */
function memberSteps(scope: Construct, props: PlaybookDefinitionProps): sfn.IChainable {
  const { functions, approvalTimeout } = props;
  const collected = (failed: boolean) => ({
    'incidentId.$': '$.incident.incidentId',
    'playbook.$': '$.incident.playbook',
    'results.$': '$.results',
    failed,
  });
  const done = new sfn.Pass(scope, 'Member done', { parameters: collected(false) });
  const failed = new sfn.Pass(scope, 'Member failed', { parameters: collected(true) });
  const error = sfn.JsonPath.objectAt(ERROR_PATH);
  const executionArn = sfn.JsonPath.executionId;
  const incident = sfn.JsonPath.objectAt('$.incident');
  const notify = invoke(scope, 'Member: notify failure', functions.notify, {
    payload: sfn.TaskInput.fromObject({
      kind: 'FAILURE',
      incident,
      results: sfn.JsonPath.objectAt('$.results'),
      error,
      executionArn,
    }),
    resultPath: sfn.JsonPath.DISCARD,
  });
  // A notice that did not go out still ends the member as failed: the
  // parent's failure notice names the sequence.
  notify.addCatch(failed, { errors: ['States.ALL'], resultPath: '$.notifyError' });
  notify.next(failed);
  const record = invoke(scope, 'Member: record failure', functions['record-failure'], {
    payload: sfn.TaskInput.fromObject({
      step: sfn.JsonPath.stringAt('$.failedStep.step'),
      incident,
      error,
      executionArn,
    }),
    resultPath: '$.failureRecord',
  });
  record.addCatch(notify, { errors: ['States.ALL'], resultPath: '$.recordError' });
  record.next(notify);

  const which = new sfn.Choice(scope, 'Member playbook?');
  for (const playbook of SEQUENCE.members) {
    const chain = stepChain(scope, playbook, {
      functions,
      approvalTimeout,
      next: done,
      failure: record,
      approvedAbove: true,
    });
    which.when(sfn.Condition.stringEquals('$.incident.playbook', playbook), chain);
  }
  // Triage makes no other member; a state machine that got one acts on nothing.
  const unknown = new sfn.Pass(scope, 'Not a member playbook', {
    parameters: {
      failedStep: { step: SEQUENCE.step },
      error: { Error: 'Cordon.InvalidTaskInput', Cause: 'not a playbook a member may have' },
    },
    resultPath: '$.unknownMember',
  });
  unknown.next(failed);
  return which.otherwise(unknown);
}

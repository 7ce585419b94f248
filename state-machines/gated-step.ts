import type { Duration } from 'aws-cdk-lib';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import type { Construct } from 'constructs';
import { type PlaybookName, type StepSpec, stepsOf } from '../functions/shared/catalog.js';
import { APPROVAL_NOT_GRANTED, REFUSAL_ERROR_NAMES } from '../functions/shared/errors.js';
import { approvalTask, catchInto, ERROR_PATH, invoke, type PlaybookFunctions } from './tasks.js';

export interface GatedStepProps {
  /** Step id from the catalog; also the key of its result under `$.results`. */
  readonly step: string;
  /** The step as the catalog declares it: its action(s) and state names. */
  readonly spec: StepSpec;
  readonly functions: PlaybookFunctions;
  readonly approvalTimeout: Duration;
  /** Where every path of the step continues. */
  readonly next: sfn.IChainable;
  /** Where errors go (record failure, notify, fail). */
  readonly failure: sfn.IChainable;
  /**
   * A later step stands in for this one when it fails (catalog
   * `fallbackFor`): an action error other than a refusal is recorded and
   * notified, and the playbook goes on to that step instead of failing.
   * @default false
   */
  readonly hasFallback?: boolean;
  /**
   * The step's approval was given before it (an attack sequence's members
   * act on the one approval of the whole set, at `$.approval`): `approve`
   * goes straight to the action, which checks that grant.
   * @default false
   */
  readonly approvedAbove?: boolean;
}

export interface StepChainProps {
  readonly functions: PlaybookFunctions;
  readonly approvalTimeout: Duration;
  /** Where the last step continues. */
  readonly next: sfn.IChainable;
  readonly failure: sfn.IChainable;
  /** @default false (see GatedStepProps) */
  readonly approvedAbove?: boolean;
}

/**
 * A playbook's steps, one after the other in catalog order, each behind its
 * own gate (a step another stands in for goes to that one when it fails),
 * then `next`.
 */
export function stepChain(
  scope: Construct,
  playbook: PlaybookName,
  props: StepChainProps,
): sfn.IChainable {
  const steps = Object.entries(stepsOf(playbook));
  const replaced = new Set(steps.flatMap(([, spec]) => spec.fallbackFor ?? []));
  return steps.reduceRight<sfn.IChainable>(
    (next, [step, spec]) =>
      gatedStep(scope, { ...props, step, spec, next, hasFallback: replaced.has(step) }),
    props.next,
  );
}

/**
 * One playbook step behind its mode gate, as triage decided it:
 *
 * - `approve`: request approval and wait on a task token (with a timeout);
 *   approved → act; rejected or timed out → record "not acted on" (and tell
 *   responders about a timeout, which nobody saw happen), go on.
 * - `auto` / `dry-run`: act (the action itself turns dry-run into a plan).
 * - anything else (`off`, or a step that does not apply): record OFF, go on.
 *
 * The action receives `$.approval`: in `approve` mode the decision its own
 * request just received, and it refuses to act without an APPROVED decision
 * for its own step. An `auto` or `dry-run` step goes from its gate straight
 * to its action (a Pass setting a marker would cost a state transition on
 * every automatic step), so there `$.approval` is whatever an earlier step
 * left, or triage's marker, and the action does not read it.
 */
export function gatedStep(scope: Construct, props: GatedStepProps): sfn.State {
  const {
    step,
    spec,
    functions,
    next,
    failure,
    hasFallback = false,
    approvedAbove = false,
  } = props;
  const { label } = spec;
  const modePath = `$.incident.plan.${step}.mode`;
  const resultPath = `$.results.${step}`;

  // The step's actions, in order, each behind the same approval.
  const first = { action: spec.action, key: step, label: spec.actionLabel ?? label };
  const didNotFinish = hasFallback ? fallbackPath(scope, props) : undefined;
  const actions = [first, ...(spec.followedBy ?? [])].map(({ action, key, label: actionLabel }) => {
    const task = invoke(scope, actionLabel, functions[action], {
      payload: sfn.TaskInput.fromObject({
        incident: sfn.JsonPath.objectAt('$.incident'),
        step,
        executionArn: sfn.JsonPath.executionId,
        approval: sfn.JsonPath.objectAt('$.approval'),
      }),
      resultPath: `$.results.${key}`,
      ...(key === step && spec.pollsOn ? { pollOn: spec.pollsOn } : {}),
    });
    if (didNotFinish) {
      // A refusal means "do not act": no fallback acts in its place.
      catchInto(scope, task, step, actionLabel, failure, [...REFUSAL_ERROR_NAMES]);
      task.addCatch(didNotFinish, { errors: ['States.ALL'], resultPath: ERROR_PATH });
    } else {
      catchInto(scope, task, step, actionLabel, failure);
    }
    return task;
  });
  const [act, ...followers] = actions;
  if (!act) throw new Error(`step ${step} has no action`);
  let last = act;
  for (const task of followers) {
    last.next(task);
    last = task;
  }
  last.next(next);

  const approve = approvedAbove ? act : approvalWait(scope, { ...props, label }, act);

  const off = new sfn.Pass(scope, `${label}: off`, {
    result: sfn.Result.fromObject({
      step,
      action: spec.action,
      outcome: 'OFF',
      mode: 'off',
      summary: 'step is off or does not apply to this principal',
    }),
    resultPath,
  });
  off.next(next);

  const modeIs = (mode: string) =>
    sfn.Condition.and(
      sfn.Condition.isPresent(modePath),
      sfn.Condition.stringEquals(modePath, mode),
    );
  const gate = new sfn.Choice(scope, `${label}?`);
  if (spec.fallbackFor !== undefined) {
    // Planned as a fallback: needed only when the step it stands in for failed.
    const outcome = `$.results.${spec.fallbackFor}.outcome`;
    const notNeeded = new sfn.Pass(scope, `${label}: not needed`, {
      resultPath: sfn.JsonPath.DISCARD,
    });
    notNeeded.next(next);
    gate.when(
      sfn.Condition.and(
        sfn.Condition.isPresent(`$.incident.plan.${step}.fallback`),
        sfn.Condition.not(
          sfn.Condition.and(
            sfn.Condition.isPresent(outcome),
            sfn.Condition.stringEquals(outcome, 'FAILED'),
          ),
        ),
      ),
      notNeeded,
    );
  }
  return gate
    .when(modeIs('approve'), approve)
    .when(sfn.Condition.or(modeIs('auto'), modeIs('dry-run')), act)
    .otherwise(off);
}

/**
 * Where a step with a fallback goes when its action fails: record the
 * failure (FAILED, with the error, so the step's result says what is left),
 * tell the responders, and go on: the fallback step, next, sees the FAILED
 * result and asks a responder. A failing record or notice fails the
 * execution, as any other.
 */
function fallbackPath(scope: Construct, props: GatedStepProps): sfn.IChainable {
  const { step, spec, functions, next, failure } = props;
  const { label } = spec;
  const resultPath = `$.results.${step}`;
  const record = invoke(scope, `${label}: did not finish`, functions['record-failure'], {
    payload: sfn.TaskInput.fromObject({
      step,
      incident: sfn.JsonPath.objectAt('$.incident'),
      error: sfn.JsonPath.objectAt(ERROR_PATH),
      executionArn: sfn.JsonPath.executionId,
    }),
    resultPath,
  });
  catchInto(scope, record, step, `${label}: did not finish`, failure);
  const notify = invoke(scope, `${label}: notify fallback`, functions.notify, {
    payload: sfn.TaskInput.fromObject({
      kind: 'FALLBACK',
      incident: sfn.JsonPath.objectAt('$.incident'),
      results: { [step]: sfn.JsonPath.objectAt(resultPath) },
      error: sfn.JsonPath.objectAt(ERROR_PATH),
      executionArn: sfn.JsonPath.executionId,
    }),
    resultPath: sfn.JsonPath.DISCARD,
  });
  catchInto(scope, notify, step, `${label}: notify fallback`, failure);
  notify.next(next);
  return record.next(notify);
}

export interface ApprovalWaitProps {
  /** The step asked about; its result lands at `$.results.<step>`. */
  readonly step: string;
  /** Its state names start with this. */
  readonly label: string;
  readonly functions: PlaybookFunctions;
  readonly approvalTimeout: Duration;
  /** Where a step not acted on goes on. */
  readonly next: sfn.IChainable;
  readonly failure: sfn.IChainable;
}

/**
 * The wait for a responder in front of `act`: approved → act; rejected or
 * timed out → record "not acted on" (and tell responders about a timeout,
 * or a decision nobody can show came from them), then go on. A playbook
 * step's, or an attack sequence's one approval of its set.
 */
export function approvalWait(
  scope: Construct,
  props: ApprovalWaitProps,
  act: sfn.IChainable,
): sfn.State {
  const { step, label, functions, next, failure } = props;
  const resultPath = `$.results.${step}`;
  const requestApproval = approvalTask(
    scope,
    `${label}: request approval`,
    functions,
    { incident: sfn.JsonPath.objectAt('$.incident'), step },
    props.approvalTimeout,
  );
  const notActedOn = invoke(scope, `${label}: not acted on`, functions['record-failure'], {
    payload: sfn.TaskInput.fromObject({
      step,
      incident: sfn.JsonPath.objectAt('$.incident'),
      error: sfn.JsonPath.objectAt('$.approvalError'),
      waited: 'approval',
      executionArn: sfn.JsonPath.executionId,
    }),
    resultPath,
  });
  catchInto(scope, notActedOn, step, `${label}: not acted on`, failure);
  // Tells responders of the step's outcome, then goes on.
  const notifyOf = (kind: string, name: string) => {
    const notify = invoke(scope, `${label}: ${name}`, functions.notify, {
      payload: sfn.TaskInput.fromObject({
        kind,
        incident: sfn.JsonPath.objectAt('$.incident'),
        results: { [step]: sfn.JsonPath.objectAt(resultPath) },
        executionArn: sfn.JsonPath.executionId,
      }),
      resultPath: sfn.JsonPath.DISCARD,
    });
    catchInto(scope, notify, step, `${label}: ${name}`, failure);
    notify.next(next);
    return notify;
  };
  // A rejection was a responder's own act; a timeout nobody saw is news.
  const notifyTimeout = notifyOf('APPROVAL_TIMEOUT', 'notify timeout');
  // A rejection or timeout nobody can show came from a responder or from
  // Step Functions is news too: whoever holds the token may have sent it.
  const notifyUnverified = notifyOf('APPROVAL_UNVERIFIED', 'notify unverified');
  notActedOn.next(
    new sfn.Choice(scope, `${label}: timed out?`)
      .when(sfn.Condition.stringEquals(`${resultPath}.outcome`, 'NOT_ACTED_ON'), notifyTimeout)
      .when(
        sfn.Condition.or(
          sfn.Condition.stringEquals(`${resultPath}.outcome`, 'REJECTED_UNVERIFIED'),
          sfn.Condition.stringEquals(`${resultPath}.outcome`, 'TIMEOUT_UNVERIFIED'),
        ),
        notifyUnverified,
      )
      .otherwise(next),
  );
  requestApproval.addCatch(notActedOn, {
    errors: [...APPROVAL_NOT_GRANTED],
    resultPath: '$.approvalError',
  });
  catchInto(scope, requestApproval, step, `${label}: request approval`, failure);
  requestApproval.next(act);
  return requestApproval;
}

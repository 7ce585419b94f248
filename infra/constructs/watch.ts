import { ArnFormat, Duration, Stack } from 'aws-cdk-lib';
import type * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import type * as sns from 'aws-cdk-lib/aws-sns';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import type * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import {
  API_CALL_DETAIL_TYPE,
  PARAMETER_CALLS,
  RULE_CALLS,
  STATUS_CHANGE_DETAIL_TYPE,
  TARGET_CALLS,
} from '../../functions/watch/events.js';
import { alarmOn } from './alarm.js';
import { deadLetterQueue } from './dead-letter-queue.js';

/** EventBridge rule names: at most 64 characters. */
const RULE_NAME_MAX = 64;

/**
 * Executions of Cordon's state machines that ended ABORTED (StopExecution
 * does that), TIMED_OUT or FAILED. The watch function reads each back and
 * records those that ended without their failure path (a FAILED one whose
 * error is not a failure path's, States.DataLimitExceeded or States.Runtime
 * past every Catch, or a failure path whose notice did not go out); the rule
 * does not filter on the error, so no event is lost to how it is written.
 */
export function unfinishedPattern(stateMachineArns: readonly string[]): events.EventPattern {
  return {
    source: ['aws.states'],
    detailType: [STATUS_CHANGE_DETAIL_TYPE],
    detail: {
      status: ['ABORTED', 'TIMED_OUT', 'FAILED'],
      stateMachineArn: [...stateMachineArns],
    },
  };
}

/** StopExecution calls on executions whose ARNs start with one of `executionPrefixes`. */
export function stopExecutionPattern(executionPrefixes: readonly string[]): events.EventPattern {
  return {
    source: ['aws.states'],
    detailType: [API_CALL_DETAIL_TYPE],
    detail: {
      eventSource: ['states.amazonaws.com'],
      eventName: ['StopExecution'],
      requestParameters: { executionArn: executionPrefixes.map((prefix) => ({ prefix })) },
    },
  };
}

/**
 * Calls that write, delete or relabel the parameter: DeleteParameters names
 * it in a list (`names`), the others in `name`.
 */
export function parameterCallsPattern(parameterName: string): events.EventPattern {
  return {
    source: ['aws.ssm'],
    detailType: [API_CALL_DETAIL_TYPE],
    detail: {
      eventSource: ['ssm.amazonaws.com'],
      $or: [
        {
          eventName: PARAMETER_CALLS.filter((c) => c !== 'DeleteParameters'),
          requestParameters: { name: [parameterName] },
        },
        { eventName: ['DeleteParameters'], requestParameters: { names: [parameterName] } },
      ],
    },
  };
}

/**
 * Calls that disable, delete or redefine one of the rules (PutRule can
 * disable a rule too, or change its pattern), or remove or replace its
 * targets: rule calls name the rule in `name`, target calls in `rule`.
 */
export function ruleCallsPattern(ruleNames: readonly string[]): events.EventPattern {
  return {
    source: ['aws.events'],
    detailType: [API_CALL_DETAIL_TYPE],
    detail: {
      eventSource: ['events.amazonaws.com'],
      $or: [
        { eventName: [...RULE_CALLS], requestParameters: { name: [...ruleNames] } },
        { eventName: [...TARGET_CALLS], requestParameters: { rule: [...ruleNames] } },
      ],
    },
  };
}

export interface WatchProps {
  /** Records and notifies each event the rules match (the `watch` function). */
  readonly handler: lambda.IFunction;
  /** Every state machine Cordon runs: each playbook's and the rollback machine. */
  readonly stateMachines: readonly sfn.StateMachine[];
  /** The runtime mode parameter's name. */
  readonly runtimeModeParameterName: string;
  /** Cordon's other rules (those that start the playbooks): changes to them are watched too. */
  readonly rules: readonly events.IRule[];
  /** Alarms publish here. */
  readonly alarmTopic: sns.ITopic;
}

/**
 * What would stop Cordon or switch it off in silence, watched: EventBridge
 * rules deliver to the watch function every execution of Cordon's state
 * machines that ended without its failure path (aborted, timed out, or
 * failed past every Catch), and (from CloudTrail, which needs a trail that logs
 * management events) every StopExecution call on them, every call that
 * changes the runtime mode parameter, and every call that disables, deletes
 * or redefines one of Cordon's rules or changes its targets. The rules
 * watching rules are two, each watching the other, so no single call
 * silences the watch unnoticed: a rule may not see its own disabling. Every
 * target retries into a dead-letter queue; the queue and the function's
 * errors and throttles alarm.
 *
 * The rules deliver to the function, not straight to the topic with an input
 * transformer: switches are recorded in the ledger as well as notified, the
 * caller's text is bounded and quoted like every other notice, and the
 * topic's key and policy admit no new publisher.
 */
export class Watch extends Construct {
  readonly unfinished: events.Rule;
  readonly stopExecution: events.Rule;
  readonly runtimeMode: events.Rule;
  /** Watches every Cordon rule but itself. */
  readonly ruleChanges: events.Rule;
  /** Watches `ruleChanges`. */
  readonly ruleChangesWatch: events.Rule;
  readonly deadLetterQueue: sqs.Queue;

  constructor(scope: Construct, id: string, props: WatchProps) {
    super(scope, id);
    const stack = Stack.of(this);
    const ruleChangesName = fixedRuleName(stack, 'rule-changes');
    const ruleChangesWatchName = fixedRuleName(stack, 'rule-changes-watch');

    this.deadLetterQueue = deadLetterQueue(this, 'the watch rules');
    const target = new targets.LambdaFunction(props.handler, {
      deadLetterQueue: this.deadLetterQueue,
      retryAttempts: 8,
      maxEventAge: Duration.hours(6),
    });
    const rule = (
      ruleId: string,
      description: string,
      pattern: events.EventPattern,
      name?: string,
    ) =>
      new events.Rule(this, ruleId, {
        description,
        eventPattern: pattern,
        targets: [target],
        ...(name === undefined ? {} : { ruleName: name }),
      });

    const machineArns = props.stateMachines.map((m) => m.stateMachineArn);
    this.unfinished = rule(
      'UnfinishedRule',
      "Cordon watch: executions of Cordon's state machines that ended aborted, timed out, or failed outside their failure path",
      unfinishedPattern(machineArns),
    );
    const executionPrefixes = props.stateMachines.map((m) =>
      stack.formatArn({
        service: 'states',
        resource: 'execution',
        resourceName: `${m.stateMachineName}:`,
        arnFormat: ArnFormat.COLON_RESOURCE_NAME,
      }),
    );
    this.stopExecution = rule(
      'StopExecutionRule',
      "Cordon watch: StopExecution calls on Cordon's executions, with who made them (CloudTrail)",
      stopExecutionPattern(executionPrefixes),
    );
    this.runtimeMode = rule(
      'RuntimeModeRule',
      'Cordon watch: calls that change the runtime mode parameter, with who made them (CloudTrail)',
      parameterCallsPattern(props.runtimeModeParameterName),
    );
    const watched = [
      ...props.rules.map((r) => r.ruleName),
      this.unfinished.ruleName,
      this.stopExecution.ruleName,
      this.runtimeMode.ruleName,
      ruleChangesWatchName,
    ];
    this.ruleChanges = rule(
      'RuleChangesRule',
      "Cordon watch: calls that disable, delete or redefine Cordon's rules or change their targets (CloudTrail)",
      ruleCallsPattern(watched),
      ruleChangesName,
    );
    this.ruleChangesWatch = rule(
      'RuleChangesWatchRule',
      `Cordon watch: calls that disable, delete or redefine ${ruleChangesName} or change its targets (CloudTrail)`,
      ruleCallsPattern([ruleChangesName]),
      ruleChangesWatchName,
    );

    const period = Duration.minutes(5);
    const alarm = (alarmId: string, metric: cloudwatch.IMetric, description: string) =>
      alarmOn(this, alarmId, props.alarmTopic, metric, description);
    alarm(
      'DeadLetterAlarm',
      this.deadLetterQueue.metricApproximateNumberOfMessagesVisible({ period, statistic: 'Max' }),
      'Cordon watch: an event could not be delivered to the watch function (dead-letter queue)',
    );
    alarm(
      'ErrorsAlarm',
      props.handler.metricErrors({ period, statistic: 'Sum' }),
      'Cordon watch: the watch function failed on an event: it may be neither recorded nor notified',
    );
    alarm(
      'ThrottlesAlarm',
      props.handler.metricThrottles({ period, statistic: 'Sum' }),
      'Cordon watch: the watch function was throttled (is its concurrency set to 0?)',
    );
  }
}

/**
 * A rule's fixed name, so the two rules watching rules can name each other
 * (references both ways would be a cycle).
 */
function fixedRuleName(stack: Stack, suffix: string): string {
  const name = `${stack.stackName}-${suffix}`;
  if (name.length > RULE_NAME_MAX) {
    throw new Error(
      `the watch rule name ${JSON.stringify(name)} is longer than ${RULE_NAME_MAX} characters: give the stack a name of at most ${RULE_NAME_MAX - suffix.length - 1}`,
    );
  }
  return name;
}

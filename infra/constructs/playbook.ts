import { Duration, Tags } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as actions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as logs from 'aws-cdk-lib/aws-logs';
import type * as sns from 'aws-cdk-lib/aws-sns';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import type { PlaybookName } from '../../functions/shared/catalog.js';
import { CORDON_ROLE_PATH } from '../../functions/shared/runtime-config.js';

export interface PlaybookTrigger {
  /** Construct id of the rule; part of the contract, keep stable. */
  readonly id: string;
  readonly description: string;
  readonly eventPattern: events.EventPattern;
}

export interface PlaybookProps {
  readonly name: PlaybookName;
  /** Builds the states, inside the playbook's own scope. */
  readonly definition: (scope: Construct) => sfn.IChainable;
  readonly triggers: readonly PlaybookTrigger[];
  /** Alarms publish here. */
  readonly alarmTopic: sns.ITopic;
  /** Upper bound of one execution. @default 24 hours */
  readonly timeout?: Duration;
}

/**
 * One playbook: a Standard state machine (Express cannot wait for task
 * tokens) logging ALL with tracing on, the EventBridge rules that start it
 * (each target with retries and a dead-letter queue), and alarms on failed
 * or timed-out executions and on anything in the dead-letter queue.
 */
export class Playbook extends Construct {
  readonly stateMachine: sfn.StateMachine;
  readonly deadLetterQueue: sqs.Queue;
  readonly rules: events.Rule[] = [];

  constructor(scope: Construct, id: string, props: PlaybookProps) {
    super(scope, id);
    const role = new iam.Role(this, 'Role', {
      assumedBy: new iam.ServicePrincipal('states.amazonaws.com'),
      path: CORDON_ROLE_PATH,
      description: `Cordon ${props.name} playbook`,
    });
    const logGroup = new logs.LogGroup(this, 'Logs', {
      retention: logs.RetentionDays.ONE_YEAR,
    });
    this.stateMachine = new sfn.StateMachine(this, 'StateMachine', {
      stateMachineType: sfn.StateMachineType.STANDARD,
      definitionBody: sfn.DefinitionBody.fromChainable(props.definition(this)),
      comment: `Cordon ${props.name} playbook`,
      role,
      tracingEnabled: true,
      timeout: props.timeout ?? Duration.hours(24),
      logs: {
        destination: logGroup,
        level: sfn.LogLevel.ALL,
        // Execution data would put approval task tokens into log lines; the
        // execution history keeps the data, behind states:GetExecutionHistory.
        includeExecutionData: false,
      },
    });

    // The rehearsal engine finds each playbook's definition by this tag.
    Tags.of(this.stateMachine).add('cordon:playbook', props.name);

    this.deadLetterQueue = new sqs.Queue(this, 'DeadLetterQueue', {
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
    });
    const eventsRole = new iam.Role(this, 'EventsRole', {
      assumedBy: new iam.ServicePrincipal('events.amazonaws.com'),
      path: CORDON_ROLE_PATH,
      description: `Starts the Cordon ${props.name} playbook`,
    });
    for (const trigger of props.triggers) {
      const rule = new events.Rule(this, trigger.id, {
        description: trigger.description,
        eventPattern: trigger.eventPattern,
      });
      rule.addTarget(
        new targets.SfnStateMachine(this.stateMachine, {
          role: eventsRole,
          deadLetterQueue: this.deadLetterQueue,
          retryAttempts: 8,
          maxEventAge: Duration.hours(6),
        }),
      );
      this.rules.push(rule);
    }

    const alarm = (alarmId: string, metric: cloudwatch.IMetric, description: string) => {
      const a = new cloudwatch.Alarm(this, alarmId, {
        metric,
        threshold: 1,
        evaluationPeriods: 1,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
        alarmDescription: description,
      });
      a.addAlarmAction(new actions.SnsAction(props.alarmTopic));
    };
    const period = Duration.minutes(5);
    alarm(
      'FailedAlarm',
      this.stateMachine.metricFailed({ period, statistic: 'Sum' }),
      `Cordon ${props.name}: an execution failed`,
    );
    alarm(
      'TimedOutAlarm',
      this.stateMachine.metricTimedOut({ period, statistic: 'Sum' }),
      `Cordon ${props.name}: an execution timed out`,
    );
    alarm(
      'DeadLetterAlarm',
      this.deadLetterQueue.metricApproximateNumberOfMessagesVisible({ period, statistic: 'Max' }),
      `Cordon ${props.name}: a finding could not start the playbook (dead-letter queue)`,
    );
  }
}

import { Duration } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import type * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import { CONTAIN_FROM, METRIC, METRICS_NAMESPACE } from '../../functions/metrics/contract.js';

export interface ContainmentDashboardProps {
  /** The metrics' `service` dimension: the stack's name. */
  readonly service: string;
  /** The function that derives the metrics from the ledger: its errors are shown too. */
  readonly metricsFunction: lambda.IFunction;
  /** Every playbook's state machine and the rollback machine. */
  readonly stateMachines: readonly sfn.StateMachine[];
}

const PERIOD = Duration.minutes(5);
const WIDTH = 8;
const HEIGHT = 6;

/**
 * One CloudWatch dashboard of containment: how long it takes (from the
 * finding, and from its arrival: p50, p90, p99), what the steps did, what
 * triage refused and why, the approvals waiting and how long decisions
 * took, circuit breaker trips and rollbacks, and the executions that did not
 * finish. Every figure but the last row comes from the metrics function,
 * which derives it from the ledger.
 */
export class ContainmentDashboard extends Construct {
  readonly dashboard: cloudwatch.Dashboard;

  constructor(scope: Construct, id: string, props: ContainmentDashboardProps) {
    super(scope, id);
    const { service } = props;
    const metric = (
      name: string,
      statistic: string,
      dimensions: Record<string, string> = {},
      label?: string,
    ) =>
      new cloudwatch.Metric({
        namespace: METRICS_NAMESPACE,
        metricName: name,
        dimensionsMap: { service, ...dimensions },
        statistic,
        period: PERIOD,
        ...(label === undefined ? {} : { label }),
      });
    /** Every series of `name` split by `by` (a SEARCH: steps and guards are many). */
    const split = (name: string, by: readonly string[], label: string) =>
      new cloudwatch.MathExpression({
        expression: `SEARCH('{${METRICS_NAMESPACE},${['service', ...by].join(',')}} MetricName="${name}" service="${service}"', 'Sum', ${PERIOD.toSeconds()})`,
        label,
        period: PERIOD,
      });
    const percentiles = (name: string, dimensions: Record<string, string>, what: string) =>
      ['p50', 'p90', 'p99'].map((p) => metric(name, p, dimensions, `${what} ${p}`));

    this.dashboard = new cloudwatch.Dashboard(this, 'Dashboard', {
      dashboardName: `${service}-containment`,
      defaultInterval: Duration.days(7),
    });
    this.dashboard.addWidgets(
      new cloudwatch.GraphWidget({
        title: 'Time to contain (ms): from the event arriving to the first containment change',
        left: percentiles(
          METRIC.timeToContain,
          { From: CONTAIN_FROM.eventArrival },
          'from arrival',
        ),
        width: WIDTH,
        height: HEIGHT,
      }),
      new cloudwatch.GraphWidget({
        title: 'Time to contain (ms): from the finding created to the first containment change',
        left: percentiles(
          METRIC.timeToContain,
          { From: CONTAIN_FROM.findingCreated },
          'from finding',
        ),
        width: WIDTH,
        height: HEIGHT,
      }),
      new cloudwatch.SingleValueWidget({
        title: 'Approvals waiting for a responder',
        metrics: [metric(METRIC.approvalsWaiting, 'Maximum', {}, 'waiting')],
        width: WIDTH,
        height: HEIGHT,
      }),
    );
    this.dashboard.addWidgets(
      new cloudwatch.GraphWidget({
        title: 'Step outcomes',
        left: [split(METRIC.stepOutcome, ['Outcome', 'Step'], 'steps')],
        stacked: true,
        width: WIDTH,
        height: HEIGHT,
      }),
      new cloudwatch.GraphWidget({
        title: 'Refused by triage, by guard',
        left: [split(METRIC.refused, ['Guard'], 'refused')],
        stacked: true,
        width: WIDTH,
        height: HEIGHT,
      }),
      new cloudwatch.GraphWidget({
        title: 'Approval decisions, and how long they waited (ms)',
        left: [split(METRIC.approvalDecided, ['Decision'], 'decisions')],
        right: [
          metric(METRIC.approvalWait, 'p50', {}, 'wait p50'),
          metric(METRIC.approvalWait, 'Maximum', {}, 'wait max'),
        ],
        width: WIDTH,
        height: HEIGHT,
      }),
    );
    const machines = props.stateMachines;
    this.dashboard.addWidgets(
      new cloudwatch.GraphWidget({
        title: 'Circuit breaker trips and rollbacks',
        left: [
          metric(METRIC.breakerTripped, 'Sum', {}, 'breaker tripped'),
          split(METRIC.rollback, ['Outcome'], 'rollbacks'),
        ],
        width: WIDTH,
        height: HEIGHT,
      }),
      new cloudwatch.GraphWidget({
        title: 'Executions that did not finish',
        left: machines.flatMap((m) => [
          m.metricFailed({ period: PERIOD, statistic: 'Sum' }),
          m.metricAborted({ period: PERIOD, statistic: 'Sum' }),
          m.metricTimedOut({ period: PERIOD, statistic: 'Sum' }),
        ]),
        width: WIDTH,
        height: HEIGHT,
      }),
      new cloudwatch.GraphWidget({
        title: 'Metrics function errors (a failed batch loses its metrics, not its ledger entries)',
        left: [props.metricsFunction.metricErrors({ period: PERIOD, statistic: 'Sum' })],
        width: WIDTH,
        height: HEIGHT,
      }),
    );
  }
}

import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as actions from 'aws-cdk-lib/aws-cloudwatch-actions';
import type * as sns from 'aws-cdk-lib/aws-sns';
import type { Construct } from 'constructs';

/**
 * An alarm that publishes on `topic` when `metric` reaches `threshold` (by
 * default 1: any failure, throttle or dead letter) in one period; no data is
 * not a breach. Every alarm of Cordon's is of this shape.
 */
export function alarmOn(
  scope: Construct,
  id: string,
  topic: sns.ITopic,
  metric: cloudwatch.IMetric,
  description: string,
  threshold = 1,
): cloudwatch.Alarm {
  const alarm = new cloudwatch.Alarm(scope, id, {
    metric,
    threshold,
    evaluationPeriods: 1,
    comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
    treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    alarmDescription: description,
  });
  alarm.addAlarmAction(new actions.SnsAction(topic));
  return alarm;
}

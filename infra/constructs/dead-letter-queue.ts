import { Duration, Validations } from 'aws-cdk-lib';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import type { Construct } from 'constructs';

/**
 * A dead-letter queue for EventBridge targets: encrypted, TLS only, kept 14
 * days (what a responder reads it by), with no consumer to redrive from.
 * `of` says whose it is, for the cdk-nag acknowledgements ("the rule targets").
 */
export function deadLetterQueue(scope: Construct, of: string): sqs.Queue {
  const queue = new sqs.Queue(scope, 'DeadLetterQueue', {
    encryption: sqs.QueueEncryption.SQS_MANAGED,
    enforceSSL: true,
    retentionPeriod: Duration.days(14),
  });
  Validations.of(queue).acknowledge(
    { id: 'AwsSolutions-SQS3', reason: `This queue is the dead-letter queue of ${of}` },
    {
      id: 'Serverless-SQSRedrivePolicy',
      reason: `This queue is the dead-letter queue of ${of}; it has no consumer to redrive from`,
    },
  );
  return queue;
}

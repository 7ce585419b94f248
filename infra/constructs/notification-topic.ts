import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as subscriptions from 'aws-cdk-lib/aws-sns-subscriptions';
import { Construct } from 'constructs';

export interface NotificationTopicProps {
  /** Addresses subscribed by email (each must confirm). @default none */
  readonly emails?: readonly string[];
}

/**
 * Where responders hear from Cordon: summaries, refusals, failures, approval
 * requests and alarms. Encrypted with a customer-managed key (rotation on)
 * so CloudWatch alarms can publish to it; TLS enforced.
 */
/** The stack output naming the topic: a chat channel (Amazon Q Developer in chat applications) subscribes to it. */
export const NOTIFICATION_TOPIC_OUTPUT = 'NotificationTopicArn';

export class NotificationTopic extends Construct {
  readonly topic: sns.Topic;
  readonly key: kms.Key;

  constructor(scope: Construct, id: string, props: NotificationTopicProps = {}) {
    super(scope, id);
    this.key = new kms.Key(this, 'Key', {
      description: 'Encrypts Cordon notifications',
      enableKeyRotation: true,
    });
    // CloudWatch alarms publish to the topic and need the key for that; the
    // statement is the one AWS documents for alarms on an encrypted topic.
    this.key.addToResourcePolicy(
      new iam.PolicyStatement({
        principals: [new iam.ServicePrincipal('cloudwatch.amazonaws.com')],
        actions: ['kms:Decrypt', 'kms:GenerateDataKey*'],
        resources: ['*'],
      }),
    );
    this.topic = new sns.Topic(this, 'Topic', {
      displayName: 'Cordon',
      masterKey: this.key,
      enforceSSL: true,
    });
    for (const email of props.emails ?? []) {
      this.topic.addSubscription(new subscriptions.EmailSubscription(email));
    }
  }
}

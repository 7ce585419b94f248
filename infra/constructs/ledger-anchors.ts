import { Duration, RemovalPolicy, Validations } from 'aws-cdk-lib';
import type * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as s3 from 'aws-cdk-lib/aws-s3';
import type * as sns from 'aws-cdk-lib/aws-sns';
import { Construct } from 'constructs';
import { ANCHOR_PREFIX, TAMPERING_PREFIX } from '../../functions/anchor/contract.js';
import { alarmOn } from './alarm.js';

export interface LedgerAnchorsProps {
  /** Days each anchor is locked, in compliance mode. */
  readonly retentionDays: number;
}

/** How far behind the ledger's stream the anchors may fall before responders are told. */
export const ANCHOR_LAG_ALARM = Duration.minutes(15);

/**
 * Calls on the anchors bucket denied to every principal: removing or
 * unlocking an anchor, and changing the lock or the lifecycle. Compliance
 * retention already refuses deleting a locked version to everyone, the
 * root user included; the Deny also covers a delete marker hiding one.
 */
export const ANCHORS_DENIED = [
  's3:DeleteObject',
  's3:DeleteObjectVersion',
  's3:PutObjectRetention',
  's3:PutObjectLegalHold',
  's3:BypassGovernanceRetention',
  's3:PutBucketObjectLockConfiguration',
  's3:PutLifecycleConfiguration',
  's3:DeleteBucket',
] as const;

/**
 * The ledger's anchors: an S3 bucket with Object Lock in compliance mode
 * (versioned, every object locked for `retentionDays`), which the anchor
 * function fills from the ledger table's stream. Its policy enforces TLS,
 * denies deletes and lock changes to everyone, and lets no principal but the
 * anchor function's role put objects under the anchors' prefixes.
 */
export class LedgerAnchors extends Construct {
  readonly bucket: s3.Bucket;

  constructor(scope: Construct, id: string, props: LedgerAnchorsProps) {
    super(scope, id);
    this.bucket = new s3.Bucket(this, 'Bucket', {
      objectLockEnabled: true,
      objectLockDefaultRetention: s3.ObjectLockRetention.compliance(
        Duration.days(props.retentionDays),
      ),
      versioned: true,
      enforceSSL: true,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      encryption: s3.BucketEncryption.S3_MANAGED,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    this.bucket.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'AnchorsAreNeverRemoved',
        effect: iam.Effect.DENY,
        principals: [new iam.AnyPrincipal()],
        actions: [...ANCHORS_DENIED],
        resources: [this.bucket.bucketArn, this.bucket.arnForObjects('*')],
      }),
    );
    Validations.of(this.bucket).acknowledge({
      id: 'AwsSolutions-S1',
      reason:
        'The anchors are the audit record; every write to them is the anchor function (its logs) and object-level data events can be sent to a trail; a log bucket of its own would need the same lock to be worth having',
    });
  }

  /** The objects the anchor function writes: anchors and tampering records. */
  objects(): string[] {
    return [
      this.bucket.arnForObjects(`${ANCHOR_PREFIX}*`),
      this.bucket.arnForObjects(`${TAMPERING_PREFIX}*`),
    ];
  }

  /**
   * Connects the anchor function to the ledger stream (from the oldest record
   * still held, retried in order, never skipped), lets nobody else put
   * objects under the anchors' prefixes, and alarms on `alarmTopic` when the
   * anchors stop keeping up: the function fails or is throttled, or the
   * oldest record it has not anchored is older than ANCHOR_LAG_ALARM (a
   * failing batch is retried until its records expire, after 24 hours).
   */
  connect(
    fn: lambda.IFunction,
    role: iam.IRole,
    props: { readonly stream: string; readonly alarmTopic: sns.ITopic },
  ): void {
    this.bucket.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'OnlyTheAnchorFunctionWrites',
        effect: iam.Effect.DENY,
        principals: [new iam.AnyPrincipal()],
        actions: ['s3:PutObject'],
        resources: [this.bucket.arnForObjects('*')],
        conditions: { ArnNotEquals: { 'aws:PrincipalArn': role.roleArn } },
      }),
    );
    const mapping = new lambda.EventSourceMapping(this, 'Stream', {
      target: fn,
      eventSourceArn: props.stream,
      startingPosition: lambda.StartingPosition.TRIM_HORIZON,
      batchSize: 100,
      retryAttempts: -1,
      bisectBatchOnError: false,
    });
    // The mapping checks at creation that the role may read the stream.
    mapping.node.addDependency(role);

    const period = Duration.minutes(5);
    const alarm = (id: string, metric: cloudwatch.IMetric, threshold: number, why: string) =>
      alarmOn(this, id, props.alarmTopic, metric, why, threshold);
    alarm(
      'ErrorsAlarm',
      fn.metricErrors({ period, statistic: 'Sum' }),
      1,
      'Cordon ledger anchors: the anchor function failed on a batch of ledger entries; they are not anchored until it succeeds',
    );
    alarm(
      'ThrottlesAlarm',
      fn.metricThrottles({ period, statistic: 'Sum' }),
      1,
      'Cordon ledger anchors: the anchor function was throttled (is its concurrency set to 0?)',
    );
    alarm(
      'LagAlarm',
      fn.metric('IteratorAge', { period, statistic: 'Maximum' }),
      ANCHOR_LAG_ALARM.toMilliseconds(),
      `Cordon ledger anchors: ledger entries older than ${ANCHOR_LAG_ALARM.toMinutes()} minutes are not anchored yet; after 24 hours the stream drops them`,
    );
    Validations.of(mapping).acknowledge({
      id: 'Serverless-LambdaEventSourceMappingDestination',
      reason:
        "A failed batch is retried in order until it succeeds or its records expire (24 hours); a destination would receive only the expired batch's shard positions, not the entries; a gap left that way shows in cordon ledger verify as entries not anchored",
    });
  }
}

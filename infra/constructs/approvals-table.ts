import { RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';
import {
  APPROVALS_PARTITION_KEY,
  APPROVALS_SORT_KEY,
  APPROVALS_TTL_ATTRIBUTE,
  APPROVALS_WAITING_INDEX,
  WAITING_INDEX_ATTRIBUTES,
} from '../../functions/responder-api/store.js';

/**
 * Every IAM action that returns item data from a table or its indexes
 * (TransactGetItems is authorised as GetItem; the table has no stream).
 */
export const READ_ACTIONS = [
  'dynamodb:GetItem',
  'dynamodb:BatchGetItem',
  'dynamodb:Query',
  'dynamodb:Scan',
  'dynamodb:PartiQLSelect',
];

/**
 * Item writes. A write can return the item it replaced (`ReturnValues`, or
 * `ReturnValuesOnConditionCheckFailure`, which no condition key names), so
 * only the two functions that write here may write at all
 * (TransactWriteItems is authorised as these).
 */
export const WRITE_ACTIONS = [
  'dynamodb:PutItem',
  'dynamodb:UpdateItem',
  'dynamodb:DeleteItem',
  'dynamodb:BatchWriteItem',
  'dynamodb:PartiQLInsert',
  'dynamodb:PartiQLUpdate',
  'dynamodb:PartiQLDelete',
];

/** Copies of the table's items elsewhere: nobody makes one. */
export const COPY_ACTIONS = [
  'dynamodb:CreateBackup',
  'dynamodb:ExportTableToPointInTime',
  'dynamodb:RestoreTableFromBackup',
  'dynamodb:RestoreTableToPointInTime',
  'dynamodb:StartAwsBackupJob',
];

/** The table's own resource policy. */
export const POLICY_ACTIONS = [
  'dynamodb:PutResourcePolicy',
  'dynamodb:DeleteResourcePolicy',
  'dynamodb:GetResourcePolicy',
];

/** `ReturnValues` that return an item. */
export const ITEM_RETURN_VALUES = ['ALL_OLD', 'UPDATED_OLD', 'ALL_NEW', 'UPDATED_NEW'];

export interface ApprovalsTableProps {
  /** The responder API's role: the only principal that reads the table. */
  readonly reader: iam.IRole;
  /** request-approval's role: stores tokens (PutItem, returning nothing). */
  readonly writer: iam.IRole;
  /**
   * The metrics function's role: counts the waiting approvals, and may read
   * nothing else (a Query with `Select: COUNT` returns no item).
   */
  readonly counter: iam.IRole;
}

/**
 * Where task tokens wait for a decision. A token lets its holder answer
 * its step (an answer acts only with the responder API's MAC'd record,
 * but a rejection or timeout still ends the wait), so the table's resource
 * policy keeps item data to one principal, whatever IAM policies allow
 * (administrators included): every read (but the metrics function's count
 * of the waiting ones, which returns no item), and every write (a write can
 * return an old item), is denied to all but the responder API (and, for
 * writes, request-approval); no write by anyone returns an item through
 * `ReturnValues`; nobody backs up, exports or restores the table; and only
 * the CDK bootstrap's CloudFormation execution role may change or read
 * the policy itself (a Deny of everyone would trip DynamoDB's lock-out
 * check on deploy). Items expire by TTL at the approval timeout, or at
 * once when decided; the ledger, not this table, is the record, so the
 * table is not retained.
 */
export class ApprovalsTable extends Construct {
  readonly table: dynamodb.TableV2;

  constructor(scope: Construct, id: string, props: ApprovalsTableProps) {
    super(scope, id);
    const stack = Stack.of(this);
    // A table's own policy cannot name the table's ARN (a circular
    // reference); `*` in these statements means this table and its indexes.
    const denyAll = (sid: string, actions: string[], conditions?: Record<string, unknown>) =>
      new iam.PolicyStatement({
        sid,
        effect: iam.Effect.DENY,
        principals: [new iam.AnyPrincipal()],
        actions,
        resources: ['*'],
        ...(conditions ? { conditions } : {}),
      });
    this.table = new dynamodb.TableV2(this, 'Table', {
      partitionKey: { name: APPROVALS_PARTITION_KEY, type: dynamodb.AttributeType.STRING },
      sortKey: { name: APPROVALS_SORT_KEY, type: dynamodb.AttributeType.STRING },
      billing: dynamodb.Billing.onDemand(),
      timeToLiveAttribute: APPROVALS_TTL_ATTRIBUTE,
      removalPolicy: RemovalPolicy.DESTROY,
      globalSecondaryIndexes: [
        {
          // Sparse: only waiting items carry `waiting`. It projects what a
          // responder sees, and never the token.
          indexName: APPROVALS_WAITING_INDEX,
          partitionKey: { name: 'waiting', type: dynamodb.AttributeType.STRING },
          sortKey: { name: 'requestedAt', type: dynamodb.AttributeType.STRING },
          projectionType: dynamodb.ProjectionType.INCLUDE,
          nonKeyAttributes: WAITING_INDEX_ATTRIBUTES.filter((a) => a !== 'requestedAt'),
        },
      ],
      resourcePolicy: new iam.PolicyDocument({
        statements: [
          denyAll('OnlyTheResponderApiReadsTokens', READ_ACTIONS, {
            ArnNotEquals: { 'aws:PrincipalArn': [props.reader.roleArn, props.counter.roleArn] },
          }),
          denyAll('TheMetricsFunctionOnlyCounts', READ_ACTIONS, {
            ArnEquals: { 'aws:PrincipalArn': props.counter.roleArn },
            StringNotEqualsIfExists: { 'dynamodb:Select': 'COUNT' },
          }),
          denyAll('OnlyCordonWritesApprovals', WRITE_ACTIONS, {
            ArnNotEquals: { 'aws:PrincipalArn': [props.reader.roleArn, props.writer.roleArn] },
          }),
          denyAll(
            'NoWriteReturnsAnItem',
            ['dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:DeleteItem'],
            { StringEquals: { 'dynamodb:ReturnValues': ITEM_RETURN_VALUES } },
          ),
          denyAll('NoCopiesOfTokens', COPY_ACTIONS),
          denyAll('OnlyDeploymentsTouchThisPolicy', POLICY_ACTIONS, {
            ArnNotLike: {
              'aws:PrincipalArn': `arn:${stack.partition}:iam::${stack.account}:role/cdk-*-cfn-exec-role-${stack.account}-${stack.region}`,
            },
          }),
        ],
      }),
    });
    Validations.of(this.table).acknowledge({
      id: 'AwsSolutions-DDB3',
      reason:
        'Holds only task tokens that expire within the approval timeout; the retained, point-in-time-recovered ledger is the record of every request and decision',
    });
  }
}

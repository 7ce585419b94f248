import { RemovalPolicy, Validations } from 'aws-cdk-lib';
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
const READ_ACTIONS = [
  'dynamodb:GetItem',
  'dynamodb:BatchGetItem',
  'dynamodb:Query',
  'dynamodb:Scan',
  'dynamodb:PartiQLSelect',
];

/**
 * Where task tokens wait for a decision. Whoever holds a token can approve
 * its step, so only one principal may ever read this table: the table's
 * resource policy denies every read call to any other principal, whatever
 * its IAM policies allow (administrators included). Items expire by TTL at
 * the approval timeout, or at once when decided; the ledger, not this
 * table, is the record, so the table is not retained.
 */
export class ApprovalsTable extends Construct {
  readonly table: dynamodb.TableV2;

  constructor(scope: Construct, id: string, props: { readonly reader: iam.IRole }) {
    super(scope, id);
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
          new iam.PolicyStatement({
            sid: 'OnlyTheResponderApiReadsTokens',
            effect: iam.Effect.DENY,
            principals: [new iam.AnyPrincipal()],
            actions: READ_ACTIONS,
            // A table's own policy cannot name the table's ARN (a circular
            // reference); `*` here means this table and its indexes.
            resources: ['*'],
            conditions: { ArnNotEquals: { 'aws:PrincipalArn': props.reader.roleArn } },
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

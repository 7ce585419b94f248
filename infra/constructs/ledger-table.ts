import { RemovalPolicy } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';
import {
  LEDGER_PARTITION_KEY,
  LEDGER_SORT_KEY,
  LEDGER_TARGET_INDEX,
} from '../../functions/shared/ledger.js';

/**
 * The append-only audit ledger: every write is a conditional put on a new
 * key, so the only write permission ever granted is PutItem (no UpdateItem,
 * DeleteItem or BatchWriteItem). Point-in-time recovery and deletion
 * protection on, retained when the stack is deleted, no TTL.
 */
export class LedgerTable extends Construct {
  readonly table: dynamodb.TableV2;

  constructor(scope: Construct, id: string) {
    super(scope, id);
    this.table = new dynamodb.TableV2(this, 'Table', {
      partitionKey: { name: LEDGER_PARTITION_KEY, type: dynamodb.AttributeType.STRING },
      sortKey: { name: LEDGER_SORT_KEY, type: dynamodb.AttributeType.NUMBER },
      billing: dynamodb.Billing.onDemand(),
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      deletionProtection: true,
      removalPolicy: RemovalPolicy.RETAIN,
      globalSecondaryIndexes: [
        {
          indexName: LEDGER_TARGET_INDEX,
          partitionKey: { name: 'targetArn', type: dynamodb.AttributeType.STRING },
          sortKey: { name: 'at', type: dynamodb.AttributeType.STRING },
        },
      ],
    });
  }

  /**
   * Lets a function append entries: PutItem (always conditional in code) and
   * Query on the base table, to find the latest entry it chains onto.
   */
  grantAppend(grantee: iam.IGrantable): iam.Grant {
    return iam.Grant.addToPrincipal({
      grantee,
      actions: ['dynamodb:PutItem', 'dynamodb:Query'],
      resourceArns: [this.table.tableArn],
    });
  }
}

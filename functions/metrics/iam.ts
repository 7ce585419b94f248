import { APPROVALS_WAITING_INDEX } from '../responder-api/store.js';
import { allow, type RoleSpec } from '../shared/iam.js';

/**
 * Read the ledger's stream (Lambda's poller makes those calls with this
 * role) and, from the baseline, the ledger itself (an incident's entries,
 * for times to contain and approval waits); count the waiting approvals on
 * the approvals table's waiting index. It writes nothing of Cordon's: its
 * metrics go to its log group, in embedded metric format.
 */
export const iam: RoleSpec = {
  statements: (ctx) => [
    allow(
      ['dynamodb:DescribeStream', 'dynamodb:GetRecords', 'dynamodb:GetShardIterator'],
      [ctx.cordon.ledgerStream],
    ),
    allow(['dynamodb:ListStreams'], ['*']),
    allow(['dynamodb:Query'], [`${ctx.cordon.approvalsTable}/index/${APPROVALS_WAITING_INDEX}`]),
  ],
  notCalled: {
    'dynamodb:GetItem':
      "The approvals store's other methods (the responder API's): the metrics function only counts",
    'dynamodb:UpdateItem':
      "The approvals store's other methods (the responder API's): the metrics function only counts",
  },
  unscoped: {
    'dynamodb:ListStreams': 'ListStreams has no resource type: IAM takes only "*" (read only)',
  },
  onItsBehalf: {
    'dynamodb:DescribeStream': "Lambda's event source mapping reads the ledger stream as this role",
    'dynamodb:GetRecords': "Lambda's event source mapping reads the ledger stream as this role",
    'dynamodb:GetShardIterator':
      "Lambda's event source mapping reads the ledger stream as this role",
    'dynamodb:ListStreams': "Lambda's event source mapping reads the ledger stream as this role",
  },
};

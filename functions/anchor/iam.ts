import { allow, publishNotifications, type RoleSpec } from '../shared/iam.js';

/**
 * Put anchors and tampering records into the anchors bucket, under their two
 * prefixes only: no delete, no retention or legal-hold change, no bypass
 * (the bucket's compliance retention refuses those to everyone anyway).
 * Read the ledger's stream (Lambda's poller makes those calls with this
 * role). Tell responders of tampering on the notification topic.
 */
export const iam: RoleSpec = {
  statements: (ctx) => [
    {
      ...allow(['s3:PutObject'], ctx.cordon.anchorObjects),
      wildcard:
        'Object keys name the incident and entry anchored; limited to the two prefixes of the anchors bucket',
    },
    allow(
      ['dynamodb:DescribeStream', 'dynamodb:GetRecords', 'dynamodb:GetShardIterator'],
      [ctx.cordon.ledgerStream],
    ),
    allow(['dynamodb:ListStreams'], ['*']),
    ...publishNotifications(ctx),
  ],
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

import { allow, publishNotifications, type RoleSpec } from '../shared/iam.js';

/**
 * Store a step's task token in the approvals table (PutItem only: the
 * table's resource policy denies it every read), and tell responders on the
 * notification topic.
 */
export const iam: RoleSpec = {
  statements: (ctx) => [
    allow(['dynamodb:PutItem'], [ctx.cordon.approvalsTable]),
    // Seal the token before it is stored; the key's policy denies it Decrypt.
    allow(['kms:Encrypt'], [ctx.cordon.tokenKey]),
    ...publishNotifications(ctx),
  ],
  notCalled: {
    'dynamodb:GetItem':
      "the approval store reads a waiting step for the responder API; request-approval only stores a token and never reads one back (the table's policy denies it any read)",
    'dynamodb:UpdateItem':
      'the approval store settles decisions for the responder API; request-approval never changes a stored item',
  },
};

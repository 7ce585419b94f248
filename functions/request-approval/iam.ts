import { ENCRYPTED_PUBLISH, type IamAction } from '../shared/iam-baseline.js';

/**
 * The IAM actions request-approval's code calls, beyond the baseline every function
 * holds (functions/shared/iam-baseline.ts). The infra tests hold its role in
 * the synthesized template to exactly these.
 */
export const IAM_ACTIONS = [
  // Send the approval request to the KMS-encrypted notification topic.
  ...ENCRYPTED_PUBLISH,
  // Store the task token in the approvals table (a table of its own, not the ledger).
  'dynamodb:PutItem',
] as const satisfies readonly IamAction[];

/**
 * Calls of shared modules this function's code imports but never sends,
 * and why: its role does not hold them.
 */
export const NOT_CALLED = {
  'dynamodb:GetItem':
    "approval-store.ts reads a waiting step for the approval endpoint; request-approval only stores a token and never reads one back (the table's policy denies it any read)",
  'dynamodb:UpdateItem':
    'approval-store.ts settles decisions for the approval endpoint; request-approval never changes a stored item',
} as const satisfies Record<IamAction, string>;

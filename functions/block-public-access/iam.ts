import type { IamAction } from '../shared/iam-baseline.js';

/**
 * The IAM actions block-public-access's code calls, beyond the baseline every function
 * holds (functions/shared/iam-baseline.ts). The infra tests hold its role in
 * the synthesized template to exactly these.
 *
 * The SDK's Get/PutPublicAccessBlock are authorised as these bucket actions.
 */
export const IAM_ACTIONS = [
  's3:GetBucketPublicAccessBlock',
  's3:PutBucketPublicAccessBlock',
] as const satisfies readonly IamAction[];

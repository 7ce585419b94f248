import type { IamAction } from '../shared/iam-baseline.js';

/**
 * The IAM actions rollback-public-access's code calls, beyond the baseline every function
 * holds (functions/shared/iam-baseline.ts). The infra tests hold its role in
 * the synthesized template to exactly these.
 *
 * DeletePublicAccessBlock is authorised as s3:PutBucketPublicAccessBlock.
 */
export const IAM_ACTIONS = [
  's3:GetBucketPublicAccessBlock',
  's3:PutBucketPublicAccessBlock',
] as const satisfies readonly IamAction[];

import type { IamAction } from '../shared/iam-baseline.js';

/**
 * The IAM actions rollback-secret-lock's code calls, beyond the baseline every function
 * holds (functions/shared/iam-baseline.ts). The infra tests hold its role in
 * the synthesized template to exactly these.
 */
export const IAM_ACTIONS = [
  'secretsmanager:DescribeSecret',
  'secretsmanager:GetResourcePolicy',
  'secretsmanager:PutResourcePolicy',
  'secretsmanager:DeleteResourcePolicy',
] as const satisfies readonly IamAction[];

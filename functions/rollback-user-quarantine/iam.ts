import type { IamAction } from '../shared/iam-baseline.js';

/**
 * The IAM actions rollback-user-quarantine's code calls, beyond the baseline every function
 * holds (functions/shared/iam-baseline.ts). The infra tests hold its role in
 * the synthesized template to exactly these.
 *
 * No CreateLoginProfile: a deleted console password cannot be restored.
 */
export const IAM_ACTIONS = [
  'iam:GetUser',
  'iam:GetUserPolicy',
  'iam:GetLoginProfile',
  'iam:DeleteUserPolicy',
] as const satisfies readonly IamAction[];

import type { IamAction } from '../shared/iam-baseline.js';

/**
 * The IAM actions quarantine-user's code calls, beyond the baseline every function
 * holds (functions/shared/iam-baseline.ts). The infra tests hold its role in
 * the synthesized template to exactly these.
 */
export const IAM_ACTIONS = [
  'iam:GetUser',
  'iam:GetUserPolicy',
  'iam:PutUserPolicy',
  'iam:GetLoginProfile',
  'iam:DeleteLoginProfile',
] as const satisfies readonly IamAction[];

import type { IamAction } from '../shared/iam-baseline.js';

/**
 * The IAM actions revoke-sessions's code calls, beyond the baseline every function
 * holds (functions/shared/iam-baseline.ts). The infra tests hold its role in
 * the synthesized template to exactly these.
 *
 * Users and roles alike: read the principal and its inline policy, put the
 * deny on tokens issued before now.
 */
export const IAM_ACTIONS = [
  'iam:GetUser',
  'iam:GetUserPolicy',
  'iam:PutUserPolicy',
  'iam:GetRole',
  'iam:GetRolePolicy',
  'iam:PutRolePolicy',
] as const satisfies readonly IamAction[];

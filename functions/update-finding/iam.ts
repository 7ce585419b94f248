import type { IamAction } from '../shared/iam-baseline.js';

/**
 * The IAM actions update-finding's code calls, beyond the baseline every function
 * holds (functions/shared/iam-baseline.ts). The infra tests hold its role in
 * the synthesized template to exactly these.
 */
export const IAM_ACTIONS = [
  'securityhub:BatchUpdateFindings',
] as const satisfies readonly IamAction[];

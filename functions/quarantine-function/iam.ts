import type { IamAction } from '../shared/iam-baseline.js';

/**
 * The IAM actions quarantine-function's code calls, beyond the baseline every function
 * holds (functions/shared/iam-baseline.ts). The infra tests hold its role in
 * the synthesized template to exactly these.
 *
 * Not GetFunction: its answer carries environment variables and a code URL.
 */
export const IAM_ACTIONS = [
  'lambda:GetFunctionConcurrency',
  'lambda:PutFunctionConcurrency',
] as const satisfies readonly IamAction[];

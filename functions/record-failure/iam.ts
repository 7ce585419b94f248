import type { IamAction } from '../shared/iam-baseline.js';

/**
 * The IAM actions record-failure's code calls, beyond the baseline every function
 * holds (functions/shared/iam-baseline.ts). The infra tests hold its role in
 * the synthesized template to exactly these.
 *
 * It only appends to the ledger: the baseline holds everything it needs.
 */
export const IAM_ACTIONS = [] as const satisfies readonly IamAction[];

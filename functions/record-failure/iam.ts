import { type RoleSpec, verifyApprovals } from '../shared/iam.js';

/**
 * It appends to the ledger (the baseline) and verifies a rejection's
 * approval record (VerifyMac on the approval key).
 */
export const iam: RoleSpec = { statements: (ctx) => [verifyApprovals(ctx)] };

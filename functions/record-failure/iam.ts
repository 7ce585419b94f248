import type { RoleSpec } from '../shared/iam.js';

/** It only appends to the ledger: the baseline holds everything it needs. */
export const iam: RoleSpec = { statements: () => [] };

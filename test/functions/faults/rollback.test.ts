import { describe } from 'vitest';
import { ROLLBACK_ROWS } from './rows.js';
import { rollbackFaults } from './suite.js';

/**
 * Every rollback action under the same faults as containment, from a ledger
 * holding a real CONTAINED entry and a granted approval: classified errors,
 * nothing recorded ROLLED_BACK that is not, and a retry that converges
 * without restoring twice.
 */
describe('rollback under faults', () => {
  for (const row of ROLLBACK_ROWS) rollbackFaults(row);
});

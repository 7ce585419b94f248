import { describe } from 'vitest';
import { CONTAINMENT_ROWS } from './rows.js';
import { containmentFaults } from './suite.js';

/**
 * Every containment action under throttling, 5xx, timeouts and access denied
 * at its read and its write, a lost answer to a write that took effect, and a
 * crash before the ledger write: the error is classified as the state machine
 * needs it, nothing is recorded CONTAINED that is not, and the next attempt
 * converges without repeating an AWS change.
 */
describe('containment under faults', () => {
  for (const row of CONTAINMENT_ROWS) containmentFaults(row);
});

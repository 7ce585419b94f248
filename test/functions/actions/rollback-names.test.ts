import { describe, expect, it } from 'vitest';
import { ROLLBACK_FUNCTIONS } from '../../../functions/actions/registry.js';
import { ROLLBACK_FUNCTION_NAMES } from '../../../functions/actions/rollback-names.js';

describe('ROLLBACK_FUNCTION_NAMES', () => {
  it('names every rollback function of the registry, and only those', () => {
    expect([...ROLLBACK_FUNCTION_NAMES].sort()).toEqual([...ROLLBACK_FUNCTIONS].sort());
  });
});

import type { RollbackFunctionName } from './registry.js';

/**
 * The registry's ROLLBACK_FUNCTIONS, spelled out: a function that only
 * validates a rollback's name (shared/rollback.ts, in every action's bundle)
 * would otherwise bundle every action's definition and IAM declaration
 * (about 14 KB). The type admits only real names, and
 * test/functions/actions/rollback-names.test.ts keeps the list complete.
 */
export const ROLLBACK_FUNCTION_NAMES = [
  'rollback-disable-access-key',
  'rollback-revoke-sessions',
  'rollback-quarantine-user',
  'rollback-preserve-evidence',
  'rollback-detach-from-asg',
  'rollback-isolate-network',
  'rollback-detach-instance-profile',
  'rollback-lock-secret',
  'rollback-quarantine-function',
  'rollback-block-public-access',
] as const satisfies readonly [RollbackFunctionName, ...RollbackFunctionName[]];

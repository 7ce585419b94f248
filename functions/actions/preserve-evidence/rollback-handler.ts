import { makeRollbackHandler } from './rollback.js';

/** The Lambda entry point of rollback-preserve-evidence. */
export const handler = makeRollbackHandler(process.env);

import { makeRollbackHandler } from './rollback.js';

/** The Lambda entry point of rollback-quarantine-function. */
export const handler = makeRollbackHandler(process.env);

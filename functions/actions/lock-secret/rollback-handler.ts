import { makeRollbackHandler } from './rollback.js';

/** The Lambda entry point of rollback-lock-secret. */
export const handler = makeRollbackHandler(process.env);

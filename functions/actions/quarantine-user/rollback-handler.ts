import { makeRollbackHandler } from './rollback.js';

/** The Lambda entry point of rollback-quarantine-user. */
export const handler = makeRollbackHandler(process.env);

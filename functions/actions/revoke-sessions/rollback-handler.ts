import { makeRollbackHandler } from './rollback.js';

/** The Lambda entry point of rollback-revoke-sessions. */
export const handler = makeRollbackHandler(process.env);

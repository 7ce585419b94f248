import { makeRollbackHandler } from './rollback.js';

/** The Lambda entry point of rollback-disable-access-key. */
export const handler = makeRollbackHandler(process.env);

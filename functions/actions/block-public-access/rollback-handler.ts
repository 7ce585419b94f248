import { makeRollbackHandler } from './rollback.js';

/** The Lambda entry point of rollback-block-public-access. */
export const handler = makeRollbackHandler(process.env);

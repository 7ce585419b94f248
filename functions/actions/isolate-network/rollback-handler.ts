import { makeRollbackHandler } from './rollback.js';

/** The Lambda entry point of rollback-isolate-network. */
export const handler = makeRollbackHandler(process.env);

import { makeRollbackHandler } from './rollback.js';

/** The Lambda entry point of rollback-detach-instance-profile. */
export const handler = makeRollbackHandler(process.env);

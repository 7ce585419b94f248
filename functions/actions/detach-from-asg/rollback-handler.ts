import { makeRollbackHandler } from './rollback.js';

/** The Lambda entry point of rollback-detach-from-asg. */
export const handler = makeRollbackHandler(process.env);

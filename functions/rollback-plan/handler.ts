import { makeHandler } from './core.js';

/** The Lambda entry point of rollback-plan. */
export const handler = makeHandler(process.env);

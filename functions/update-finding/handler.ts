import { makeHandler } from './core.js';

/** The Lambda entry point of update-finding. */
export const handler = makeHandler(process.env);

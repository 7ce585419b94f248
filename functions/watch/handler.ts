import { makeHandler } from './core.js';

/** The Lambda entry point of the watch. */
export const handler = makeHandler(process.env);

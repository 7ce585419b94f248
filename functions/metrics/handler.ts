import { makeHandler } from './core.js';

/** The Lambda entry point of the metrics function. */
export const handler = makeHandler(process.env);

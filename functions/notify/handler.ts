import { makeHandler } from './core.js';

/** The Lambda entry point of notify. */
export const handler = makeHandler(process.env);

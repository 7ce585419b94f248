import { makeHandler } from './core.js';

/** The Lambda entry point of the anchor function. */
export const handler = makeHandler(process.env);

import { makeHandler } from './core.js';

/** The Lambda entry point of record-failure. */
export const handler = makeHandler(process.env);

import { makeHandler } from './triage.js';

/** The Lambda entry point of triage. */
export const handler = makeHandler(process.env);

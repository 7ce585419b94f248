import { makeHandler } from './containment.js';

/** The Lambda entry point of quarantine-function. */
export const handler = makeHandler(process.env);

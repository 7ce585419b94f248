import { makeHandler } from './containment.js';

/** The Lambda entry point of quarantine-user. */
export const handler = makeHandler(process.env);

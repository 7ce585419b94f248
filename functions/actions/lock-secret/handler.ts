import { makeHandler } from './containment.js';

/** The Lambda entry point of lock-secret. */
export const handler = makeHandler(process.env);

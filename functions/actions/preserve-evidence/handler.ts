import { makeHandler } from './containment.js';

/** The Lambda entry point of preserve-evidence. */
export const handler = makeHandler(process.env);

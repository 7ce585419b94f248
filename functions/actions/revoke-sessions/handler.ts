import { makeHandler } from './containment.js';

/** The Lambda entry point of revoke-sessions. */
export const handler = makeHandler(process.env);

import { makeHandler } from './containment.js';

/** The Lambda entry point of disable-access-key. */
export const handler = makeHandler(process.env);

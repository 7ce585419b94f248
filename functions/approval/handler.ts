import { makeHandler } from './core.js';

/** The Lambda entry point of the responder API. */
export const handler = makeHandler(process.env);

import { makeHandler } from './http.js';

/** The Lambda entry point of the responder API. */
export const handler = makeHandler(process.env);

import { makeHandler } from './core.js';

/** The Lambda entry point of request-approval. */
export const handler = makeHandler(process.env);

import { makeHandler } from './containment.js';

/** The Lambda entry point of isolate-network. */
export const handler = makeHandler(process.env);

import { makeHandler } from './containment.js';

/** The Lambda entry point of rotate-secret. */
export const handler = makeHandler(process.env);

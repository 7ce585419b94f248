import { makeHandler } from './containment.js';

/** The Lambda entry point of block-public-access. */
export const handler = makeHandler(process.env);

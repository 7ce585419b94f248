import { makeHandler } from './containment.js';

/** The Lambda entry point of detach-instance-profile. */
export const handler = makeHandler(process.env);

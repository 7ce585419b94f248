import { makeHandler } from './containment.js';

/** The Lambda entry point of detach-from-asg. */
export const handler = makeHandler(process.env);

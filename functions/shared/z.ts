/** Zod's `z`, as far as the functions use it, without Zod's weight: see schema.ts. */
export * as z from './schema.js';

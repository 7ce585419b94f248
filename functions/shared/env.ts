import { ConfigError } from './config-error.js';
import { firstIssue } from './validation.js';
import type { z } from './z.js';

/**
 * A function's environment: `process.env` when Lambda runs it, an object the
 * rehearsal or a test builds otherwise. Handlers read it once, in their
 * factory, so a misconfigured function fails at cold start, not halfway
 * through a containment.
 */
export type Environment = Readonly<Record<string, string | undefined>>;

/** A required variable; empty counts as unset. */
export function requireEnv(env: Environment, name: string): string {
  const value = env[name];
  if (value === undefined || value.trim() === '') {
    throw new ConfigError(`environment variable ${name} is required and is not set`);
  }
  return value;
}

/** A required variable holding JSON that `schema` accepts. */
export function requireJsonEnv<T>(env: Environment, name: string, schema: z.ZodType<T>): T {
  const raw = requireEnv(env, name);
  let value: unknown;
  try {
    value = JSON.parse(raw);
  } catch (cause) {
    throw new ConfigError(`environment variable ${name} is not valid JSON`, { cause });
  }
  const parsed = schema.safeParse(value);
  if (!parsed.success) {
    const { where, message } = firstIssue(parsed.error);
    throw new ConfigError(`environment variable ${name} is invalid at ${where}: ${message}`);
  }
  return parsed.data;
}

import { ConfigError } from './config-error.js';

/**
 * Reads a required environment variable. Call it at module scope in a handler
 * so a misconfigured function fails at cold start, not halfway through a
 * containment.
 */
export function requireEnv(name: string): string {
  const value = process.env[name];
  if (value === undefined || value.trim() === '') {
    throw new ConfigError(`environment variable ${name} is required and is not set`);
  }
  return value;
}

/** Reads a required environment variable holding JSON, parsed by `parse`. */
export function requireJsonEnv<T>(name: string, parse: (value: unknown) => T): T {
  const raw = requireEnv(name);
  let value: unknown;
  try {
    value = JSON.parse(raw);
  } catch (cause) {
    throw new ConfigError(`environment variable ${name} is not valid JSON`, { cause });
  }
  return parse(value);
}

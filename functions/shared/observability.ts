import { Logger, LogLevel } from '@aws-lambda-powertools/logger';
import type { Environment } from './env.js';

type Level = (typeof LogLevel)[keyof typeof LogLevel];
const LEVELS: readonly string[] = Object.values(LogLevel);
const isLevel = (value: string | undefined): value is Level =>
  value !== undefined && LEVELS.includes(value);

/**
 * One logger per function, keyed by its name, at the level its environment
 * asks for (`POWERTOOLS_LOG_LEVEL`). Log incident id, step and target as
 * keys; never whole events, secret values or task tokens.
 */
export function createLogger(name: string, env: Environment): Logger {
  const level = env.POWERTOOLS_LOG_LEVEL?.toUpperCase();
  return new Logger({
    serviceName: 'cordon',
    persistentKeys: { action: name },
    ...(isLevel(level) ? { logLevel: level } : {}),
  });
}

import { Logger } from '@aws-lambda-powertools/logger';

/**
 * One logger per function, keyed by the action name. Log incident id, step and
 * target as keys; never whole events, secret values or task tokens.
 */
export function createLogger(action: string): Logger {
  return new Logger({ serviceName: 'cordon', persistentKeys: { action } });
}

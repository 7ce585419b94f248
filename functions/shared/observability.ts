import type { Context } from 'aws-lambda';
import type { Environment } from './env.js';

/**
 * One logger per function, keyed by its name, at the level its environment
 * asks for (`POWERTOOLS_LOG_LEVEL`, else Lambda's `AWS_LAMBDA_LOG_LEVEL`,
 * else `LOG_LEVEL`; INFO by default). Log incident id, step and target as
 * keys; never whole events, secret values or task tokens.
 *
 * It writes the JSON lines Powertools Logger writes (level, message,
 * timestamp, service, the Lambda context keys, then ours), in a few hundred
 * bytes: Powertools Logger and Middy were about 24 KB of every bundle, more
 * than the SDK floor leaves room for. A Powertools Logger still satisfies
 * the interface, as the tests use it.
 */
export interface Logger {
  debug(message: string, ...extra: Record<string, unknown>[]): void;
  info(message: string, ...extra: Record<string, unknown>[]): void;
  warn(message: string, ...extra: Record<string, unknown>[]): void;
  error(message: string, ...extra: Record<string, unknown>[]): void;
  /** Keys added to every line until the end of the invocation. */
  appendKeys(keys: Record<string, unknown>): void;
}

const LEVELS = { TRACE: 6, DEBUG: 8, INFO: 12, WARN: 16, ERROR: 20, CRITICAL: 24, SILENT: 28 };
type Level = keyof typeof LEVELS;
const isLevel = (value: string | undefined): value is Level =>
  value !== undefined && Object.hasOwn(LEVELS, value);

function levelOf(env: Environment): Level | undefined {
  for (const name of ['POWERTOOLS_LOG_LEVEL', 'AWS_LAMBDA_LOG_LEVEL', 'LOG_LEVEL']) {
    const level = env[name]?.toUpperCase();
    if (isLevel(level)) return level;
  }
  return undefined;
}

/** Errors as Powertools writes them: name, message, stack and cause, not `{}`. */
function replacer(_key: string, value: unknown): unknown {
  if (value instanceof Error) {
    return {
      ...{ name: value.name, message: value.message, stack: value.stack },
      ...(value.cause === undefined ? {} : { cause: value.cause }),
    };
  }
  return typeof value === 'bigint' ? value.toString() : value;
}

/** The logger of a Lambda handler: the context of each invocation, then its keys reset. */
export class LambdaLogger implements Logger {
  private context: Record<string, unknown> = {};
  private keys: Record<string, unknown> = {};
  private coldStart = true;
  private readonly threshold: number;

  constructor(
    private readonly persistent: Readonly<Record<string, unknown>>,
    level: Level,
    private readonly write: (line: string) => void = (line) => process.stdout.write(line),
  ) {
    this.threshold = LEVELS[level];
  }

  debug(message: string, ...extra: Record<string, unknown>[]): void {
    this.log('DEBUG', message, extra);
  }
  info(message: string, ...extra: Record<string, unknown>[]): void {
    this.log('INFO', message, extra);
  }
  warn(message: string, ...extra: Record<string, unknown>[]): void {
    this.log('WARN', message, extra);
  }
  error(message: string, ...extra: Record<string, unknown>[]): void {
    this.log('ERROR', message, extra);
  }
  appendKeys(keys: Record<string, unknown>): void {
    Object.assign(this.keys, keys);
  }

  /** Starts an invocation: its context on every line, and no keys from the one before. */
  addContext(context: Partial<Context> | undefined): void {
    this.keys = {};
    this.context = {
      cold_start: this.coldStart,
      function_arn: context?.invokedFunctionArn,
      function_memory_size: Number(context?.memoryLimitInMB),
      function_name: context?.functionName,
      function_request_id: context?.awsRequestId,
    };
    this.coldStart = false;
  }

  private log(level: Level, message: string, extra: readonly Record<string, unknown>[]): void {
    if (LEVELS[level] < this.threshold) return;
    const trace = process.env._X_AMZN_TRACE_ID?.match(/Root=([^;]+)/)?.[1];
    const line = {
      level,
      message,
      timestamp: new Date().toISOString(),
      ...this.persistent,
      ...this.context,
      ...(trace ? { xray_trace_id: trace } : {}),
      ...this.keys,
      ...Object.assign({}, ...extra),
    };
    this.write(`${JSON.stringify(line, replacer)}\n`);
  }
}

export function createLogger(name: string, env: Environment): LambdaLogger {
  const level = levelOf(env) ?? levelOf(process.env) ?? 'INFO';
  return new LambdaLogger({ service: 'cordon', action: name }, level);
}

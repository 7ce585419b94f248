import { randomUUID } from 'node:crypto';
import { extname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { z } from 'zod';
import { functionNamed } from '../functions/registry.js';
import { REPO_ROOT } from './synth.js';
import type { TemplateFunction } from './template.js';

/**
 * Cordon's functions hosted in this process, as Lambda would run them: each
 * built once by its own factory from the environment the template gives it
 * (the handler's cold start), then invoked with JSON in and JSON out, its
 * errors by name, as Step Functions sees them.
 */

export type JSONValue =
  | string
  | number
  | boolean
  | null
  | JSONValue[]
  | { [key: string]: JSONValue };

/** An error Step Functions matches by name (a Lambda's `errorType`, a timeout). */
export class NamedError extends Error {
  constructor(name: string, message: string) {
    super(message);
    this.name = name;
  }
}

const JsonSchema: z.ZodType<JSONValue> = z.json();

/** `value` as JSON would carry it. */
export function jsonValue(value: unknown): JSONValue {
  return JsonSchema.parse(JSON.parse(JSON.stringify(value ?? null)));
}

/** `.ts` from a clone (through tsx), `.js` compiled into the package. */
const SOURCE_EXTENSION = extname(fileURLToPath(import.meta.url));

export type Handler = (event: unknown, context: unknown) => Promise<unknown>;

const HandlerFactory = z.custom<(env: Record<string, string>, dependencies?: unknown) => Handler>(
  (v) => typeof v === 'function',
  'a handler factory must be a function',
);

export class FunctionHost {
  /**
   * One handler per function, held as the promise of its build: invocations
   * that arrive while the first is still building wait for that build, so a
   * function is built once however many invocations start together (one warm
   * instance per function, whose caches, such as its spoke sessions, they all
   * share).
   */
  private readonly handlers = new Map<string, Promise<Handler>>();

  /**
   * `environment` is added to every function's, over the template's;
   * `dependencies[action]`, when given, is its factory's second argument.
   */
  constructor(
    private readonly environment: Readonly<Record<string, string>> = {},
    private readonly dependencies: Readonly<Record<string, unknown>> = {},
  ) {}

  /** The function's handler, built on first use from its factory and its environment. */
  handler(fn: TemplateFunction): Promise<Handler> {
    const cached = this.handlers.get(fn.logicalId);
    if (cached) return cached;
    const built = this.build(fn);
    this.handlers.set(fn.logicalId, built);
    // A build that failed (a bad environment) is not kept: the next invocation tries again, as a new cold start would.
    built.catch(() => {
      if (this.handlers.get(fn.logicalId) === built) this.handlers.delete(fn.logicalId);
    });
    return built;
  }

  private async build(fn: TemplateFunction): Promise<Handler> {
    const spec = functionNamed(fn.action);
    const entry = spec.factory.module.replace(/\.ts$/, SOURCE_EXTENSION);
    const file = pathToFileURL(join(REPO_ROOT, 'functions', spec.dir, entry)).href;
    const module = z.record(z.string(), z.unknown()).parse(await import(/* @vite-ignore */ file));
    const factory = HandlerFactory.parse(module[spec.factory.name]);
    const environment = {
      POWERTOOLS_LOG_LEVEL: process.env.POWERTOOLS_LOG_LEVEL ?? 'SILENT',
      ...fn.environment,
      ...this.environment,
    };
    const dependencies = this.dependencies[fn.action];
    return dependencies === undefined ? factory(environment) : factory(environment, dependencies);
  }

  /** Invokes a handler as Lambda would: JSON in, JSON out, errors by name. */
  async invoke(fn: TemplateFunction, input: JSONValue): Promise<JSONValue> {
    const handler = await this.handler(fn);
    try {
      const out = await handler(structuredClone(input), lambdaContext(fn));
      return jsonValue(out ?? null);
    } catch (error) {
      const errorType = error instanceof Error ? error.name : 'Error';
      const errorMessage = error instanceof Error ? error.message : String(error);
      throw new NamedError(errorType, JSON.stringify({ errorType, errorMessage }));
    }
  }
}

/** The Lambda context a handler receives. */
export function lambdaContext(fn: TemplateFunction) {
  return {
    functionName: fn.logicalId,
    functionVersion: '$LATEST',
    invokedFunctionArn: fn.arn,
    memoryLimitInMB: '256',
    awsRequestId: randomUUID(),
    logGroupName: `/aws/lambda/${fn.logicalId}`,
    logStreamName: 'rehearsal',
    callbackWaitsForEmptyEventLoop: true,
    getRemainingTimeInMillis: () => 30_000,
    done: () => undefined,
    fail: () => undefined,
    succeed: () => undefined,
  };
}

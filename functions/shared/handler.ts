import type { Logger } from '@aws-lambda-powertools/logger';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import middy from '@middy/core';
import type { Context } from 'aws-lambda';
import { InvalidTaskInputError } from './errors.js';
import { firstIssue } from './validation.js';
import type { z } from './z.js';

/**
 * Wraps a core function as a Lambda handler: parses the input with a strict
 * schema at the boundary (a mismatch is a wiring bug and fails the task),
 * and injects the Lambda context into the logger (never the event: it may
 * hold a task token). The core never sees Lambda types.
 */
export function taskHandler<S extends z.ZodType, R>(
  logger: Logger,
  schema: S,
  core: (input: z.infer<S>) => Promise<R>,
) {
  return middy(async (event: unknown, _context: Context): Promise<R> => {
    const parsed = schema.safeParse(event);
    if (!parsed.success) {
      const { where, message } = firstIssue(parsed.error);
      throw new InvalidTaskInputError(`task input rejected at ${where}: ${message}`);
    }
    return core(parsed.data);
  }).use(injectLambdaContext(logger, { resetKeys: true, logEvent: false }));
}

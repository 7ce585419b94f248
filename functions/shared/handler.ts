import type { Context } from 'aws-lambda';
import { InvalidTaskInputError } from './errors.js';
import type { LambdaLogger } from './observability.js';
import { firstIssue } from './validation.js';
import type { z } from './z.js';

/**
 * Wraps a core function as a Lambda handler: parses the input with a strict
 * schema at the boundary (a mismatch is a wiring bug and fails the task),
 * and injects the Lambda context into the logger (never the event: it may
 * hold a task token). The core never sees Lambda types.
 */
export function taskHandler<S extends z.ZodType, R>(
  logger: LambdaLogger,
  schema: S,
  core: (input: z.infer<S>) => Promise<R>,
) {
  return async (event: unknown, context: Context): Promise<R> => {
    logger.addContext(context);
    const parsed = schema.safeParse(event);
    if (!parsed.success) {
      const { where, message } = firstIssue(parsed.error);
      throw new InvalidTaskInputError(`task input rejected at ${where}: ${message}`);
    }
    return core(parsed.data);
  };
}

import {
  DeleteFunctionConcurrencyCommand,
  type LambdaClient,
  PutFunctionConcurrencyCommand,
} from '@aws-sdk/client-lambda';
import { z } from 'zod';
import {
  type ConcurrencyState,
  concurrencyContainment,
  type FunctionTarget,
  parseFunctionArn,
} from '../quarantine-function/core.js';
import { InvalidTaskInputError } from '../shared/errors.js';
import {
  accountOf,
  differs,
  type Rollback,
  type RollbackDeps,
  type RollbackInput,
  type RollbackResult,
  runRollback,
} from '../shared/rollback.js';

export interface RollbackFunctionQuarantineDeps extends RollbackDeps {
  readonly lambda: LambdaClient;
}

const ConcurrencyStateSchema = z.object({
  reservedConcurrency: z.union([z.number().int().min(0), z.literal('unreserved')]),
});

const shown = (c: ConcurrencyState['reservedConcurrency']) =>
  c === 'unreserved' ? 'unreserved' : `reserved ${c}`;

/**
 * Puts back the function's recorded reserved concurrency, or removes the
 * reservation when it was unreserved, so invocations run again.
 */
export function functionQuarantineRollback(
  lambda: LambdaClient,
  account: string,
): Rollback<FunctionTarget, ConcurrencyState> {
  const containment = concurrencyContainment(lambda);
  return {
    action: 'rollback-function-quarantine',
    undoes: 'quarantine-function',
    state: ConcurrencyStateSchema,
    target(entry) {
      const arn = entry.targetArn ?? '';
      const parsed = parseFunctionArn(arn);
      if (parsed?.account !== account) {
        throw new InvalidTaskInputError(
          `rollback-function-quarantine: ${JSON.stringify(arn)} is not a function ARN of account ${account}`,
        );
      }
      return { arn, name: parsed.name, functionArn: parsed.functionArn };
    },
    read: (target) => containment.read(target),
    drift: (current, after) =>
      differs('its reserved concurrency', current.reservedConcurrency, after.reservedConcurrency),
    isRestored: (current, before) => current.reservedConcurrency === before.reservedConcurrency,
    describe: ({ name }, before) =>
      `set the concurrency of function ${name} back to ${shown(before.reservedConcurrency)}: invocations run again`,
    async restore({ functionArn }, before) {
      if (before.reservedConcurrency === 'unreserved') {
        await lambda.send(new DeleteFunctionConcurrencyCommand({ FunctionName: functionArn }));
        return { reservedConcurrency: 'unreserved' };
      }
      const out = await lambda.send(
        new PutFunctionConcurrencyCommand({
          FunctionName: functionArn,
          ReservedConcurrentExecutions: before.reservedConcurrency,
        }),
      );
      return {
        reservedConcurrency: out.ReservedConcurrentExecutions ?? before.reservedConcurrency,
      };
    },
  };
}

export function rollbackFunctionQuarantine(
  input: RollbackInput,
  deps: RollbackFunctionQuarantineDeps,
): Promise<RollbackResult> {
  return runRollback(input, functionQuarantineRollback(deps.lambda, accountOf(deps.actor)), deps);
}

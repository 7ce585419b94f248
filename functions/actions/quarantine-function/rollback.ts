import {
  DeleteFunctionConcurrencyCommand,
  LambdaClient,
  PutFunctionConcurrencyCommand,
} from '@aws-sdk/client-lambda';
import { clientOptions } from '../../shared/aws.js';
import type { Environment } from '../../shared/env.js';
import { InvalidTaskInputError } from '../../shared/errors.js';
import { accountOf, type RollbackInput, type RollbackResult } from '../../shared/rollback.js';
import { type Clients, type PlaceConfig, placedClients } from '../../shared/spoke.js';
import { rollbackNameOf } from '../definition.js';
import { rollbackHandler } from '../handlers.js';
import { differs, type Rollback, type RollbackDeps, runRollback } from '../rollback.js';
import { action } from './action.js';
import {
  type ConcurrencyState,
  ConcurrencyStateSchema,
  describeConcurrency,
  type FunctionTarget,
  parseFunctionArn,
  readConcurrency,
} from './state.js';

export interface RollbackFunctionQuarantineDeps extends RollbackDeps {
  readonly lambda: LambdaClient;
}

const NAME = rollbackNameOf(action.name);

/**
 * Puts back the function's recorded reserved concurrency, or removes the
 * reservation when it was unreserved, so invocations run again.
 */
export function functionQuarantineRollback(
  lambda: LambdaClient,
  account: string,
): Rollback<FunctionTarget, ConcurrencyState> {
  return {
    action: NAME,
    undoes: action.name,
    state: ConcurrencyStateSchema,
    target(entry) {
      const arn = entry.targetArn ?? '';
      const parsed = parseFunctionArn(arn);
      if (parsed?.account !== account) {
        throw new InvalidTaskInputError(
          `${NAME}: ${JSON.stringify(arn)} is not a function ARN of account ${account}`,
        );
      }
      return { arn, name: parsed.name, functionArn: parsed.functionArn };
    },
    read: (target) => readConcurrency(lambda, target),
    drift: (current, after) =>
      differs('its reserved concurrency', current.reservedConcurrency, after.reservedConcurrency),
    isRestored: (current, before) => current.reservedConcurrency === before.reservedConcurrency,
    describe: ({ name }, before) =>
      `set the concurrency of function ${name} back to ${describeConcurrency(before.reservedConcurrency)}: invocations run again`,
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
  return runRollback(
    input,
    functionQuarantineRollback(deps.lambda, deps.place?.account ?? accountOf(deps.actor)),
    deps,
  );
}

/** The function's AWS clients where the incident's calls are made. */
const placed = (config: PlaceConfig) => ({
  lambda: new LambdaClient({ ...clientOptions, ...config }),
});

export function makeRollbackHandler(
  env: Environment,
  clients: Clients<ReturnType<typeof placed>> = placedClients(env, NAME, placed),
) {
  return rollbackHandler(env, NAME, clients, rollbackFunctionQuarantine);
}

import { LambdaClient, PutFunctionConcurrencyCommand } from '@aws-sdk/client-lambda';
import { clientOptions } from '../../shared/aws.js';
import type { Environment } from '../../shared/env.js';
import { InvalidTaskInputError } from '../../shared/errors.js';
import {
  type ActionInput,
  type ActionResult,
  type Incident,
  requireResource,
} from '../../shared/incident.js';
import { type Clients, type PlaceConfig, placedClients } from '../../shared/spoke.js';
import { type Containment, type ContainmentDeps, runContainment } from '../containment.js';
import { containmentHandler } from '../handlers.js';
import { action } from './action.js';
import {
  type ConcurrencyState,
  describeConcurrency,
  type FunctionTarget,
  isQuarantined,
  parseFunctionArn,
  readConcurrency,
} from './state.js';

export interface QuarantineFunctionDeps extends ContainmentDeps {
  readonly lambda: LambdaClient;
}

/** The incident's function, refused unless its ARN is a function of the incident's account. */
function functionTarget(incident: Incident): FunctionTarget {
  const fn = requireResource(incident, 'lambdaFunction', action.name);
  const { functionArn, account, name } = parseFunctionArn(fn.arn) ?? {};
  if (functionArn === undefined || account !== incident.account || name !== fn.name) {
    throw new InvalidTaskInputError(
      `${action.name}: ${JSON.stringify(fn.arn)} is not the ARN of function ${JSON.stringify(fn.name)} in account ${incident.account}`,
    );
  }
  return { arn: fn.arn, name: fn.name, functionArn };
}

/**
 * Sets the function's reserved concurrency to 0. Lambda then starts no new
 * invocation: synchronous callers are throttled (429), asynchronous events
 * are retried and then go to the function's dead-letter queue or on-failure
 * destination, event source mappings stop pulling. Invocations already
 * running finish. It does not work on a function with provisioned
 * concurrency (reserved cannot go below provisioned): that fails, for a human.
 *
 * Existence and concurrency come from GetFunctionConcurrency alone, on
 * purpose: GetFunction would also return the function's environment
 * variables (often secrets) and a code download URL, which Cordon's role has
 * no business being able to read.
 */
export function concurrencyContainment(
  lambda: LambdaClient,
): Containment<FunctionTarget, ConcurrencyState> {
  return {
    action: action.name,
    target: functionTarget,
    targetArn: (target) => target.arn,
    read: (target) => readConcurrency(lambda, target),
    isContained: isQuarantined,
    describe: (target, state) =>
      `set the reserved concurrency of function ${target.name} to 0 (was ${describeConcurrency(state.reservedConcurrency)}): no new invocation starts, running ones finish`,
    async apply(target) {
      const out = await lambda.send(
        new PutFunctionConcurrencyCommand({
          FunctionName: target.functionArn,
          ReservedConcurrentExecutions: 0,
        }),
      );
      return { reservedConcurrency: out.ReservedConcurrentExecutions ?? 0 };
    },
  };
}

export function quarantineFunction(
  input: ActionInput,
  deps: QuarantineFunctionDeps,
): Promise<ActionResult> {
  return runContainment(input, concurrencyContainment(deps.lambda), deps);
}

/** The function's AWS clients where the incident's calls are made. */
const placed = (config: PlaceConfig) => ({
  lambda: new LambdaClient({ ...clientOptions, ...config }),
});

export function makeHandler(
  env: Environment,
  clients: Clients<ReturnType<typeof placed>> = placedClients(env, action.name, placed),
) {
  return containmentHandler(env, action.name, clients, quarantineFunction);
}

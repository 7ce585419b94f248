import {
  GetFunctionConcurrencyCommand,
  type LambdaClient,
  PutFunctionConcurrencyCommand,
} from '@aws-sdk/client-lambda';
import { type Containment, type ContainmentDeps, runContainment } from '../shared/action.js';
import { InvalidTaskInputError, isNotFound } from '../shared/errors.js';
import {
  type ActionInput,
  type ActionResult,
  type Incident,
  requireResource,
} from '../shared/incident.js';

/**
 * What the ledger records: the reserved concurrency before ('unreserved'
 * when the function used the account's unreserved pool), so a rollback either
 * puts the number back (PutFunctionConcurrency) or removes the reservation
 * (DeleteFunctionConcurrency).
 */
export interface ConcurrencyState {
  readonly reservedConcurrency: number | 'unreserved';
}

export interface FunctionTarget {
  /** The function ARN as the incident names it: the ledger's target. */
  readonly arn: string;
  readonly name: string;
  /** The unqualified ARN: concurrency belongs to the function, not a version or alias. */
  readonly functionArn: string;
}

export interface QuarantineFunctionDeps extends ContainmentDeps {
  readonly lambda: LambdaClient;
}

const ACTION = 'quarantine-function';

const FUNCTION_ARN =
  /^(arn:aws[a-z-]*:lambda:[a-z0-9-]+:(\d{12}):function:([\w-]{1,64}))(?::[\w$-]{1,128})?$/;

/** A function ARN (maybe qualified) as its unqualified ARN, account and name, or undefined. */
export function parseFunctionArn(
  arn: string,
): { readonly functionArn: string; readonly account: string; readonly name: string } | undefined {
  const [, functionArn, account, name] = FUNCTION_ARN.exec(arn) ?? [];
  if (functionArn === undefined || account === undefined || name === undefined) return undefined;
  return { functionArn, account, name };
}

/** The incident's function, refused unless its ARN is a function of the incident's account. */
function functionTarget(incident: Incident): FunctionTarget {
  const fn = requireResource(incident, 'lambdaFunction', ACTION);
  const { functionArn, account, name } = parseFunctionArn(fn.arn) ?? {};
  if (functionArn === undefined || account !== incident.account || name !== fn.name) {
    throw new InvalidTaskInputError(
      `${ACTION}: ${JSON.stringify(fn.arn)} is not the ARN of function ${JSON.stringify(fn.name)} in account ${incident.account}`,
    );
  }
  return { arn: fn.arn, name: fn.name, functionArn };
}

const describeConcurrency = (c: ConcurrencyState['reservedConcurrency']): string =>
  c === 'unreserved' ? 'unreserved' : `reserved ${c}`;

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
    action: ACTION,
    target: functionTarget,
    targetArn: (target) => target.arn,
    async read(target) {
      try {
        const out = await lambda.send(
          new GetFunctionConcurrencyCommand({ FunctionName: target.functionArn }),
        );
        return { reservedConcurrency: out.ReservedConcurrentExecutions ?? 'unreserved' };
      } catch (error) {
        if (isNotFound(error)) return undefined;
        throw error;
      }
    },
    isContained: (state) => state.reservedConcurrency === 0,
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

import { GetFunctionConcurrencyCommand, type LambdaClient } from '@aws-sdk/client-lambda';
import { isNotFound } from '../../shared/errors.js';
import { z } from '../../shared/z.js';

/**
 * What the ledger records: the reserved concurrency before ('unreserved'
 * when the function used the account's unreserved pool), so a rollback either
 * puts the number back (PutFunctionConcurrency) or removes the reservation
 * (DeleteFunctionConcurrency).
 */
export interface ConcurrencyState {
  readonly reservedConcurrency: number | 'unreserved';
}

/** A recorded state a rollback can act on: a reservation of 0 or more, or none. */
export const ConcurrencyStateSchema = z.object({
  reservedConcurrency: z.union([z.number().int().min(0), z.literal('unreserved')]),
});

export interface FunctionTarget {
  /** The function ARN as the incident names it: the ledger's target. */
  readonly arn: string;
  readonly name: string;
  /** The unqualified ARN: concurrency belongs to the function, not a version or alias. */
  readonly functionArn: string;
}

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

/** No new invocation starts. */
export const isQuarantined = (state: ConcurrencyState) => state.reservedConcurrency === 0;

export const describeConcurrency = (c: ConcurrencyState['reservedConcurrency']): string =>
  c === 'unreserved' ? 'unreserved' : `reserved ${c}`;

/**
 * The function's reserved concurrency; undefined when the function is gone.
 * From GetFunctionConcurrency alone, on purpose: GetFunction would also
 * return the function's environment variables and a code download URL.
 */
export async function readConcurrency(
  lambda: LambdaClient,
  target: FunctionTarget,
): Promise<ConcurrencyState | undefined> {
  try {
    const out = await lambda.send(
      new GetFunctionConcurrencyCommand({ FunctionName: target.functionArn }),
    );
    return { reservedConcurrency: out.ReservedConcurrentExecutions ?? 'unreserved' };
  } catch (error) {
    if (isNotFound(error)) return undefined;
    throw error;
  }
}

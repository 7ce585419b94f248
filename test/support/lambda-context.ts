import type { Context } from 'aws-lambda';

/**
 * The context Lambda hands a handler of function `cordon-<name>`, for tests
 * that invoke handlers themselves. Cordon's handlers read only the request
 * id (for logs); the rest is what the type requires.
 */
export function lambdaContext(name: string, requestId = 'req-1'): Context {
  return {
    callbackWaitsForEmptyEventLoop: false,
    functionName: `cordon-${name}`,
    functionVersion: '$LATEST',
    invokedFunctionArn: `arn:aws:lambda:us-east-1:123456789012:function:cordon-${name}`,
    memoryLimitInMB: '256',
    awsRequestId: requestId,
    logGroupName: `/aws/lambda/cordon-${name}`,
    logStreamName: 'stream',
    getRemainingTimeInMillis: () => 30_000,
    done: () => undefined,
    fail: () => undefined,
    succeed: () => undefined,
  };
}

import { type ActionIam, allow } from '../../shared/iam.js';

/**
 * The reserved concurrency of this account's functions: read and set to 0,
 * then put back or removed by the rollback.
 */
export const iam = {
  containment: {
    statements: (ctx) => [
      // Not GetFunction: its answer carries environment variables and a code URL.
      allow(
        ['lambda:GetFunctionConcurrency', 'lambda:PutFunctionConcurrency'],
        [ctx.arn.lambdaFunctions()],
      ),
    ],
  },
  rollback: {
    statements: (ctx) => [
      allow(
        [
          'lambda:GetFunctionConcurrency',
          'lambda:PutFunctionConcurrency',
          'lambda:DeleteFunctionConcurrency',
        ],
        [ctx.arn.lambdaFunctions()],
      ),
    ],
  },
} satisfies ActionIam;

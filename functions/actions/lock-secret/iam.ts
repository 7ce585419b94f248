import { type ActionIam, allow } from '../../shared/iam.js';

export const iam = {
  /** Read the secret and its resource policy, put the lock into it; this account's secrets only. */
  containment: {
    statements: (ctx) => [
      allow(
        [
          'secretsmanager:DescribeSecret',
          'secretsmanager:GetResourcePolicy',
          'secretsmanager:PutResourcePolicy',
        ],
        [ctx.arn.secrets()],
      ),
    ],
  },
  /**
   * Read the secret and its resource policy, put back or delete the policy it
   * had before the lock; this account's secrets only.
   */
  rollback: {
    statements: (ctx) => [
      allow(
        [
          'secretsmanager:DescribeSecret',
          'secretsmanager:GetResourcePolicy',
          'secretsmanager:PutResourcePolicy',
          'secretsmanager:DeleteResourcePolicy',
        ],
        [ctx.arn.secrets()],
      ),
    ],
  },
} satisfies ActionIam;

import { type ActionIam, allow, type IamContext } from '../../shared/iam.js';

/**
 * IAM condition: the request asks Secrets Manager to refuse a public policy
 * (`BlockPublicPolicy: true`). A request without it, or with false, is not
 * allowed, so this role can never make a secret public.
 */
const BLOCKING_PUBLIC_POLICIES = { Bool: { 'secretsmanager:BlockPublicPolicy': 'true' } };

/** This account's secrets. */
const secrets = (ctx: IamContext) => [ctx.arn.secrets()];

export const iam = {
  /**
   * Read the secret and its resource policy, put the lock into it, blocking
   * public policies; this account's secrets only.
   */
  containment: {
    statements: (ctx) => [
      allow(['secretsmanager:DescribeSecret', 'secretsmanager:GetResourcePolicy'], secrets(ctx)),
      allow(['secretsmanager:PutResourcePolicy'], secrets(ctx), BLOCKING_PUBLIC_POLICIES),
    ],
  },
  /**
   * Read the secret and its resource policy, put back (blocking public
   * policies) or delete the policy it had before the lock; this account's
   * secrets only. Deleting a policy cannot make a secret public.
   */
  rollback: {
    statements: (ctx) => [
      allow(
        [
          'secretsmanager:DescribeSecret',
          'secretsmanager:GetResourcePolicy',
          'secretsmanager:DeleteResourcePolicy',
        ],
        secrets(ctx),
      ),
      allow(['secretsmanager:PutResourcePolicy'], secrets(ctx), BLOCKING_PUBLIC_POLICIES),
    ],
  },
} satisfies ActionIam;

import { type ActionIam, allow, deny } from '../../shared/iam.js';

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
      // Defence in depth: an exempt-tagged secret is never changed, whatever triage decides.
      deny(
        ['secretsmanager:RotateSecret', 'secretsmanager:PutResourcePolicy'],
        [ctx.arn.secrets()],
        { StringEquals: { [`aws:ResourceTag/${ctx.exemptTag.key}`]: ctx.exemptTag.value } },
      ),
    ],
  },
  /**
   * Read the secret and its resource policy, put back or delete the policy it
   * had before the lock; this account's secrets, never exempt-tagged ones.
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
      deny(
        ['secretsmanager:PutResourcePolicy', 'secretsmanager:DeleteResourcePolicy'],
        [ctx.arn.secrets()],
        { StringEquals: { [`aws:ResourceTag/${ctx.exemptTag.key}`]: ctx.exemptTag.value } },
      ),
    ],
  },
} satisfies ActionIam;

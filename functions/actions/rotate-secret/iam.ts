import { type ActionIam, allow, deny } from '../../shared/iam.js';

export const iam = {
  /** Read the secret's versions (ids, labels and dates, never a value) and rotate it; this account's secrets only. */
  containment: {
    statements: (ctx) => [
      allow(
        [
          'secretsmanager:DescribeSecret',
          'secretsmanager:ListSecretVersionIds',
          'secretsmanager:RotateSecret',
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
} satisfies ActionIam;

import { type ActionIam, allow } from '../../shared/iam.js';

export const iam = {
  /** Read the secret's version labels (ids and labels, never a value) and rotate it; this account's secrets only. */
  containment: {
    statements: (ctx) => [
      allow(['secretsmanager:DescribeSecret', 'secretsmanager:RotateSecret'], [ctx.arn.secrets()]),
    ],
  },
} satisfies ActionIam;

import { type ActionIam, allow } from '../../shared/iam.js';

/** Find the key among the user's keys, set its status; both on this account's users only. */
export const iam = {
  containment: {
    statements: (ctx) => [
      allow(['iam:ListAccessKeys', 'iam:UpdateAccessKey'], [ctx.arn.iam('user')]),
    ],
  },
  rollback: {
    statements: (ctx) => [
      allow(['iam:ListAccessKeys', 'iam:UpdateAccessKey'], [ctx.arn.iam('user')]),
    ],
  },
} satisfies ActionIam;

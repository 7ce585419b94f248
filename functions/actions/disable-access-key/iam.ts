import { type ActionIam, allow } from '../../shared/iam.js';

/**
 * Check the user is still the one triage verified, find the key among its
 * keys, set its status; on this account's users only.
 */
export const iam = {
  containment: {
    statements: (ctx) => [
      allow(['iam:GetUser', 'iam:ListAccessKeys', 'iam:UpdateAccessKey'], [ctx.arn.iam('user')]),
    ],
    notCalled: {
      'iam:GetRole':
        'the principal check (actions/principal-guard.ts) reads roles for revoke-sessions; this action acts on users only',
    },
  },
  rollback: {
    statements: (ctx) => [
      allow(['iam:ListAccessKeys', 'iam:UpdateAccessKey'], [ctx.arn.iam('user')]),
    ],
  },
} satisfies ActionIam;

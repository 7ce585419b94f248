import { type ActionIam, allow } from '../../shared/iam.js';

export const iam = {
  /** Read the user, its inline policy and login profile; put the deny-all policy, delete the login profile; this account's users only. */
  containment: {
    statements: (ctx) => [
      allow(
        [
          'iam:GetUser',
          'iam:GetUserPolicy',
          'iam:PutUserPolicy',
          'iam:GetLoginProfile',
          'iam:DeleteLoginProfile',
        ],
        [ctx.arn.iam('user')],
      ),
    ],
    notCalled: {
      'iam:GetRole':
        'the principal check (actions/principal-guard.ts) reads roles for revoke-sessions; this action acts on users only',
    },
  },
  /**
   * Read the same state, delete the deny-all policy; this account's users only.
   * No CreateLoginProfile: a deleted console password cannot be restored.
   */
  rollback: {
    statements: (ctx) => [
      allow(
        ['iam:GetUser', 'iam:GetUserPolicy', 'iam:GetLoginProfile', 'iam:DeleteUserPolicy'],
        [ctx.arn.iam('user')],
      ),
    ],
  },
} satisfies ActionIam;

import { type ActionIam, allow, cordonRoles, deny } from '../../shared/iam.js';

export const iam = {
  /**
   * Users and roles alike: read the principal and its inline policy, put the
   * deny on tokens issued before now; this account's users and roles only.
   */
  containment: {
    statements: (ctx) => [
      allow(['iam:GetUser', 'iam:GetUserPolicy', 'iam:PutUserPolicy'], [ctx.arn.iam('user')]),
      allow(['iam:GetRole', 'iam:GetRolePolicy', 'iam:PutRolePolicy'], [ctx.arn.iam('role')]),
      // Defence in depth: whatever triage decides, this role cannot lock out Cordon itself.
      deny(['iam:PutRolePolicy'], [cordonRoles(ctx)]),
    ],
  },
  /**
   * Read the principal and its inline policy, put back the older cutoff or
   * delete the deny policy; never on Cordon's own roles.
   */
  rollback: {
    statements: (ctx) => [
      allow(
        ['iam:GetUser', 'iam:GetUserPolicy', 'iam:PutUserPolicy', 'iam:DeleteUserPolicy'],
        [ctx.arn.iam('user')],
      ),
      allow(
        ['iam:GetRole', 'iam:GetRolePolicy', 'iam:PutRolePolicy', 'iam:DeleteRolePolicy'],
        [ctx.arn.iam('role')],
      ),
      deny(['iam:PutRolePolicy', 'iam:DeleteRolePolicy'], [cordonRoles(ctx)]),
    ],
  },
} satisfies ActionIam;

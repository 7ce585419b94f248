import { type ActionIam, allow } from '../../shared/iam.js';

export const iam = {
  /**
   * Users and roles alike: read the principal and its inline policy, put the
   * deny on tokens issued before now; this account's users and roles only.
   */
  containment: {
    statements: (ctx) => [
      allow(['iam:GetUser', 'iam:GetUserPolicy', 'iam:PutUserPolicy'], [ctx.arn.iam('user')]),
      allow(['iam:GetRole', 'iam:GetRolePolicy', 'iam:PutRolePolicy'], [ctx.arn.iam('role')]),
      // Its writes are fenced off Cordon's own roles and the break-glass
      // principals by exact ARN (`fences` in functions/shared/iam.ts): whatever
      // triage decides, it cannot lock out Cordon or the responders' way in.
    ],
  },
  /**
   * Read the principal and its inline policy, put back the older cutoff or
   * delete the deny policy; fenced like the containment.
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
    ],
  },
} satisfies ActionIam;

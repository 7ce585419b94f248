import { type ActionIam, allow, type IamContext } from '../../shared/iam.js';

/**
 * What quarantine attaches: AWS's own managed policy that denies every
 * action. Attaching a managed policy lets Cordon's role hold
 * iam:AttachUserPolicy conditioned on exactly this policy's ARN
 * (`iam:PolicyARN`), where writing an inline policy (iam:PutUserPolicy)
 * could give any user any permission. (Here, not in state.ts: this module
 * is read everywhere the action is described and sends nothing.)
 */
export const DENY_ALL_POLICY = 'AWSDenyAll';

/** IAM condition: the managed policy attached or detached is AWSDenyAll, and no other. */
const onlyDenyAll = (ctx: IamContext) => ({
  ArnEquals: { 'iam:PolicyARN': ctx.arn.awsManagedPolicy(DENY_ALL_POLICY) },
});

export const iam = {
  /**
   * Read the user, its attached policies, its earlier inline deny-all policy
   * and its login profile; attach AWSDenyAll (and no other policy), delete
   * the login profile; this account's users only. No PutUserPolicy: an
   * inline policy can say anything, where the attached one is fixed by ARN.
   */
  containment: {
    statements: (ctx) => [
      allow(
        [
          'iam:GetUser',
          'iam:ListAttachedUserPolicies',
          'iam:GetUserPolicy',
          'iam:GetLoginProfile',
          'iam:DeleteLoginProfile',
        ],
        [ctx.arn.iam('user')],
      ),
      allow(['iam:AttachUserPolicy'], [ctx.arn.iam('user')], onlyDenyAll(ctx)),
    ],
    notCalled: {
      'iam:GetRole':
        'the principal check (actions/principal-guard.ts) reads roles for revoke-sessions; this action acts on users only',
    },
  },
  /**
   * Read the same state; detach AWSDenyAll (and no other policy), or delete
   * CordonQuarantine from a user an earlier Cordon quarantined with that
   * inline policy (IAM cannot scope DeleteUserPolicy to a policy name: the
   * code names only that one); this account's users only. No
   * CreateLoginProfile: a deleted console password cannot be restored.
   */
  rollback: {
    statements: (ctx) => [
      allow(
        [
          'iam:GetUser',
          'iam:ListAttachedUserPolicies',
          'iam:GetUserPolicy',
          'iam:GetLoginProfile',
          'iam:DeleteUserPolicy',
        ],
        [ctx.arn.iam('user')],
      ),
      allow(['iam:DetachUserPolicy'], [ctx.arn.iam('user')], onlyDenyAll(ctx)),
    ],
  },
} satisfies ActionIam;

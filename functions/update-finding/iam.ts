import { allow, type RoleSpec } from '../shared/iam.js';

/** Mark this account's Security Hub findings NOTIFIED or RESOLVED, with a note. */
export const iam: RoleSpec = {
  statements: (ctx) => [allow(['securityhub:BatchUpdateFindings'], [ctx.arn.securityHubHub()])],
};

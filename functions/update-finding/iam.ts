import { allow, type RoleSpec } from '../shared/iam.js';

/**
 * Mark this account's Security Hub findings NOTIFIED or RESOLVED, with a
 * note. `BatchUpdateFindingsV2` (OCSF) is the same IAM action as
 * `BatchUpdateFindings`, on the V2 hub; the condition keeps it to the two
 * fields Cordon sets, `StatusId` and `Comment`: a request naming
 * `SeverityId` (the only other field V2 updates) is denied, so even this
 * function's role cannot lower or raise a finding's severity. ASFF requests
 * carry no OCSF field, so the condition holds for them.
 */
export const iam: RoleSpec = {
  statements: (ctx) => [
    allow(
      ['securityhub:BatchUpdateFindings'],
      [ctx.arn.securityHubHub(), ctx.arn.securityHubHubV2()],
      { Null: { 'securityhub:OCSFSyntaxPath/SeverityId': 'true' } },
    ),
  ],
};

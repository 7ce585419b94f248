import { allow, type RoleSpec } from '../shared/iam.js';
import { OCSF_STATUS_IDS, WORKFLOW_STATUSES } from './status.js';

/** The fields a request sets, as IAM sees them: OCSF (`BatchUpdateFindingsV2`) and ASFF. */
const SEVERITY_ID = 'securityhub:OCSFSyntaxPath/SeverityId';
const STATUS_ID = 'securityhub:OCSFSyntaxPath/StatusId';
const WORKFLOW_STATUS = 'securityhub:ASFFSyntaxPath/Workflow.Status';

/**
 * Mark this account's Security Hub findings NOTIFIED or RESOLVED, with a
 * note. `BatchUpdateFindingsV2` (OCSF) is the same IAM action as
 * `BatchUpdateFindings`, on the V2 hub, and `securityhub:OCSFSyntaxPath/<field>`
 * carries each OCSF field the request sets, with its value. The conditions
 * hold it to what Cordon sends: a request naming `SeverityId` is denied, so
 * even this function's role cannot lower or raise a finding's severity; a
 * `StatusId` is allowed only with a value Cordon sets (2 In Progress, 4
 * Resolved: status.ts), so it cannot suppress (3) a finding, or reopen one as
 * New (1) to start a playbook again. `securityhub:ASFFSyntaxPath/<field>`
 * does the same for `BatchUpdateFindings`: its `Workflow.Status` only
 * NOTIFIED or RESOLVED. Each request carries the keys of its own form only,
 * so `...IfExists` lets the other form's absent key pass.
 */
export const iam: RoleSpec = {
  statements: (ctx) => [
    allow(
      ['securityhub:BatchUpdateFindings'],
      [ctx.arn.securityHubHub(), ctx.arn.securityHubHubV2()],
      {
        Null: { [SEVERITY_ID]: 'true' },
        StringEqualsIfExists: {
          [STATUS_ID]: OCSF_STATUS_IDS.map(String),
          [WORKFLOW_STATUS]: [...WORKFLOW_STATUSES],
        },
      },
    ),
  ],
};

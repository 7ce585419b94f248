import { InvalidTaskInputError } from '../shared/errors.js';

/** The workflow statuses Cordon sets on a finding, in ASFF's words (`Workflow.Status`). */
export const WORKFLOW_STATUSES = ['NOTIFIED', 'RESOLVED'] as const;
export type WorkflowStatus = (typeof WORKFLOW_STATUSES)[number];

/**
 * OCSF `status_id` for each workflow status Cordon sets: 2 In Progress, 4
 * Resolved. Never 1 (New), which the rules match, so an update never starts
 * a playbook; never 3 (Suppressed), which would hide the finding.
 */
export const OCSF_STATUS: Readonly<Record<WorkflowStatus, number>> = { NOTIFIED: 2, RESOLVED: 4 };

/**
 * Every `StatusId` update-finding may send with `BatchUpdateFindingsV2`, and
 * the only ones its role allows (iam.ts): the code and the policy read this
 * one list.
 */
export const OCSF_STATUS_IDS: readonly number[] = Object.values(OCSF_STATUS);

const BY_NAME: ReadonlyMap<string, number> = new Map(Object.entries(OCSF_STATUS));

/**
 * The `StatusId` for `status`; anything but NOTIFIED or RESOLVED is refused
 * before a request is built, so the function never asks IAM to judge a value
 * its role would deny.
 */
export function ocsfStatusId(status: string): number {
  const id = BY_NAME.get(status);
  if (id === undefined || !OCSF_STATUS_IDS.includes(id)) {
    throw new InvalidTaskInputError(
      `update-finding sets only ${[...BY_NAME.keys()].join(' or ')} (status_id ${OCSF_STATUS_IDS.join(' or ')}), not ${JSON.stringify(status)}`,
    );
  }
  return id;
}

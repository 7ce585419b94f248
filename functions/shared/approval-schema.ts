import { z } from './z.js';

/**
 * The shape of approval records (approval-record.ts says what they are
 * for), apart from the code that makes and checks them, so the incident
 * contract can carry one without importing that code.
 */

/** KMS takes at most 4096 bytes of message. */
const RECORD_MAX = 4096;

export const APPROVAL_RECORD_KINDS = ['grant', 'rejection'] as const;
export type ApprovalRecordKind = (typeof APPROVAL_RECORD_KINDS)[number];

export const ApprovalRecordSchema = z.strictObject({
  kind: z.enum(APPROVAL_RECORD_KINDS),
  incidentId: z.string().min(1),
  /** The step decided: a playbook step id, or a rollback's approval step. */
  step: z.string().min(1),
  /** The execution waiting on the decision. */
  executionArn: z.string().min(1),
  /** The proven callers who decided, in order (both, under the two-person rule). */
  approvers: z.array(z.string().min(1)).min(1),
  /** How many the approvals table item asked for. */
  approvalsRequired: z.union([z.literal(1), z.literal(2)]),
  decidedAt: z.string().min(1),
  /** A rollback's requester, who may not approve it. */
  requestedBy: z.string().min(1).optional(),
});
export type ApprovalRecord = z.infer<typeof ApprovalRecordSchema>;

/** A record as MAC'd (its exact text) and its MAC (base64). */
export const SignedApprovalSchema = z.strictObject({
  record: z.string().min(1).max(RECORD_MAX),
  mac: z.string().min(1).max(256),
});
export type SignedApproval = z.infer<typeof SignedApprovalSchema>;

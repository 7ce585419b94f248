import { BreakerStateSchema } from '../shared/breaker.js';
import { INCIDENT_ID } from '../shared/incident-id.js';
import { z } from '../shared/z.js';

export { INCIDENT_ID };

/**
 * The approval endpoint's HTTP contract, shared by the responder API function and
 * the `cordon` CLI. The endpoint is a Lambda function URL with AWS_IAM auth:
 * every request is SigV4-signed (service `lambda`) and carries a caller
 * proof (caller-proof.ts): an STS GetCallerIdentity request the caller
 * signed for this very request. The caller is whom STS names, never
 * anything in the body or the event.
 *
 * - `GET  /pending`           → 200 PendingResponse
 * - `GET  /incidents/{id}`    → 200 TimelineResponse
 * - `POST /decisions`         → 200 DecisionResponse (body: DecisionRequest)
 * - `GET  /breaker`           → 200 BreakerStatus
 * - `POST /breaker/reset`     → 200 BreakerStatus (body: BreakerResetRequest)
 * - `POST /rollbacks`         → 200 RollbackResponse (body: RollbackRequestBody)
 * - `POST /dismissals`        → 200 DismissResponse (body: DismissRequest)
 *
 * Every error is `{ error: <code>, message }` with the status in ERROR_STATUS.
 */

/** Step ids are catalog keys: letters and digits, starting with a letter. */
export const STEP_ID = /^[A-Za-z][A-Za-z0-9]{0,63}$/;
export const REASON_MAX = 1000;

export const DECISIONS = ['approve', 'reject'] as const;
export type DecisionVerb = (typeof DECISIONS)[number];

export const DecisionRequestSchema = z.strictObject({
  incidentId: z.string().regex(INCIDENT_ID, 'must look like inc-<20 hex digits>'),
  /** Optional when the incident has exactly one step waiting. */
  step: z.string().regex(STEP_ID, 'must be a step id (letters and digits)').optional(),
  decision: z.enum(DECISIONS),
  reason: z
    .string()
    .trim()
    .min(1, 'a reason is required')
    .max(REASON_MAX, `at most ${REASON_MAX} characters`),
});
export type DecisionRequest = z.infer<typeof DecisionRequestSchema>;

export const DECISION_STATUSES = [
  /** The step runs now. */
  'APPROVED',
  /** The step will not run; recorded as REJECTED. */
  'REJECTED',
  /** Two-person rule: this approval is recorded, a different responder must approve too. */
  'AWAITING_SECOND_APPROVER',
] as const;

export const ApproverSchema = z.strictObject({
  approver: z.string(),
  at: z.string(),
  reason: z.string(),
});

export const DecisionResponseSchema = z.strictObject({
  incidentId: z.string(),
  step: z.string(),
  status: z.enum(DECISION_STATUSES),
  /** The signed caller, as Lambda authenticated it. */
  approver: z.string(),
  decidedAt: z.string(),
  approvalsRequired: z.number().int(),
  approvals: z.array(ApproverSchema),
  message: z.string(),
});
export type DecisionResponse = z.infer<typeof DecisionResponseSchema>;

/** A step waiting for a decision, as `cordon pending` shows it. Never holds the token. */
export const PendingApprovalSchema = z.strictObject({
  incidentId: z.string(),
  step: z.string(),
  playbook: z.string(),
  action: z.string(),
  /** What the step does and whom it hits (the message responders received). */
  proposal: z.string(),
  findingType: z.string(),
  severityLabel: z.string(),
  account: z.string(),
  targetArn: z.string().optional(),
  requestedAt: z.string(),
  expiresAt: z.string(),
  approvalsRequired: z.number().int(),
  approvals: z.array(ApproverSchema),
});
export type PendingApproval = z.infer<typeof PendingApprovalSchema>;

export const PendingResponseSchema = z.strictObject({
  pending: z.array(PendingApprovalSchema),
});
export type PendingResponse = z.infer<typeof PendingResponseSchema>;

export const TimelineEntrySchema = z.looseObject({
  incidentId: z.string(),
  seq: z.number(),
  at: z.string(),
  step: z.string(),
  action: z.string(),
  actor: z.string(),
  outcome: z.string(),
  summary: z.string().optional(),
  targetArn: z.string().optional(),
  prevHash: z.string(),
  hash: z.string(),
});

export const TimelineResponseSchema = z.strictObject({
  incidentId: z.string(),
  entries: z.array(TimelineEntrySchema),
});
export type TimelineResponse = z.infer<typeof TimelineResponseSchema>;

/** The circuit breaker, as `cordon breaker status` shows it: its stored state, nothing more. */
export const BreakerStatusSchema = z.strictObject(BreakerStateSchema.shape);
export type BreakerStatus = z.infer<typeof BreakerStatusSchema>;

export const BreakerResetRequestSchema = z.strictObject({
  reason: z
    .string()
    .trim()
    .min(1, 'a reason is required')
    .max(REASON_MAX, `at most ${REASON_MAX} characters`),
});
export type BreakerResetRequest = z.infer<typeof BreakerResetRequestSchema>;

/** Ledger key of the circuit breaker's trips and resets (not an incident). */
export const BREAKER_LEDGER_ID = 'guardrail-breaker';

/**
 * A responder asks to roll back an incident's containment (or one step's).
 * The requester is the signed caller, never a body field.
 */
export const RollbackRequestBodySchema = z.strictObject({
  incidentId: z.string().regex(INCIDENT_ID, 'must look like inc-<20 hex digits>'),
  /** Only this step's actions; all of the incident's when absent. */
  step: z.string().regex(STEP_ID, 'must be a step id (letters and digits)').optional(),
  /** Restore targets that changed since containment too. */
  force: z.boolean().optional(),
  reason: z
    .string()
    .trim()
    .min(1, 'a reason is required')
    .max(REASON_MAX, `at most ${REASON_MAX} characters`),
});
export type RollbackRequestBody = z.infer<typeof RollbackRequestBodySchema>;

export const RollbackResponseSchema = z.strictObject({
  incidentId: z.string(),
  step: z.string().optional(),
  force: z.boolean(),
  /** The signed caller, as Lambda authenticated it. */
  requestedBy: z.string(),
  /** The rollback state machine's execution; it waits for an approval before it restores. */
  executionArn: z.string(),
  startedAt: z.string(),
  message: z.string(),
});
export type RollbackResponse = z.infer<typeof RollbackResponseSchema>;

/**
 * A responder dismisses an incident as a false positive: later emissions
 * of its finding are recorded and notified, never acted on. The responder
 * is the signed caller, never a body field.
 */
export const DismissRequestSchema = z.strictObject({
  incidentId: z.string().regex(INCIDENT_ID, 'must look like inc-<20 hex digits>'),
  reason: z
    .string()
    .trim()
    .min(1, 'a reason is required')
    .max(REASON_MAX, `at most ${REASON_MAX} characters`),
});
export type DismissRequest = z.infer<typeof DismissRequestSchema>;

export const DismissResponseSchema = z.strictObject({
  incidentId: z.string(),
  /** The signed caller, as its caller proof proved it. */
  dismissedBy: z.string(),
  dismissedAt: z.string(),
  /** Steps of the incident still waiting for a decision: a dismissal does not decide them. */
  waiting: z.array(z.string()),
  message: z.string(),
});
export type DismissResponse = z.infer<typeof DismissResponseSchema>;

export const ERROR_STATUS = {
  invalid_request: 400,
  /** No valid caller proof: who is calling is unknown. */
  unauthenticated: 401,
  forbidden: 403,
  unknown_incident: 404,
  unknown_step: 404,
  not_found: 404,
  method_not_allowed: 405,
  already_decided: 409,
  same_approver: 409,
  ambiguous_step: 409,
  expired: 410,
  not_tripped: 409,
  internal: 500,
} as const;
export type ErrorCode = keyof typeof ERROR_STATUS;

export const ErrorResponseSchema = z.strictObject({
  error: z.enum(Object.keys(ERROR_STATUS) as [ErrorCode, ...ErrorCode[]]),
  message: z.string(),
});
export type ErrorResponse = z.infer<typeof ErrorResponseSchema>;

/** The stack output holding the endpoint's URL (`cdk deploy` prints it). */
export const APPROVAL_URL_OUTPUT = 'ApprovalUrl';
/** Environment variable the CLI reads the endpoint URL from. */
export const APPROVAL_URL_ENV = 'CORDON_APPROVAL_URL';

import type { IamAction } from '../shared/iam-baseline.js';

/**
 * The IAM actions approval's code calls, beyond the baseline every function
 * holds (functions/shared/iam-baseline.ts). The infra tests hold its role in
 * the synthesized template to exactly these.
 */
export const IAM_ACTIONS = [
  // Deliver a decision to the waiting step.
  'states:SendTaskSuccess',
  'states:SendTaskFailure',
  // Start the rollback state machine for a responder.
  'states:StartExecution',
  // Read and settle waiting steps (approvals table) and the circuit breaker (guardrails table).
  'dynamodb:GetItem',
  'dynamodb:Query',
  'dynamodb:UpdateItem',
] as const satisfies readonly IamAction[];

/** Calls granted on `Resource: "*"`, each with why IAM allows nothing narrower. */
export const UNSCOPED = {
  'states:SendTaskSuccess':
    'Task-token callbacks have no resource types: IAM takes only "*"; a call names one task token, which only this function can read',
  'states:SendTaskFailure':
    'Task-token callbacks have no resource types: IAM takes only "*"; a call names one task token, which only this function can read',
} as const satisfies Partial<Record<(typeof IAM_ACTIONS)[number], string>>;

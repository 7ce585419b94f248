import { BREAKER_KEY } from '../shared/breaker.js';
import { allow, anywhere, executionData, type RoleSpec } from '../shared/iam.js';
import { PROOF_KEY_PREFIX } from './replay.js';
import { APPROVALS_WAITING_INDEX } from './store.js';

/**
 * The responder API: record each caller proof it accepts (STS needs no
 * permission), read and settle waiting steps (the only principal the
 * approvals table lets read), deliver each decision to its waiting task,
 * show and reset the circuit breaker, start the rollback state machine.
 */
export const iam: RoleSpec = {
  statements: (ctx) => [
    allow(
      ['dynamodb:GetItem', 'dynamodb:Query', 'dynamodb:UpdateItem'],
      [ctx.cordon.approvalsTable],
    ),
    allow(['dynamodb:Query'], [`${ctx.cordon.approvalsTable}/index/${APPROVALS_WAITING_INDEX}`]),
    // The circuit breaker: read it, and reset it by writing its generation item only.
    allow(['dynamodb:GetItem'], [ctx.cordon.guardrailsTable]),
    allow(['dynamodb:UpdateItem'], [ctx.cordon.guardrailsTable], {
      'ForAllValues:StringEquals': { 'dynamodb:LeadingKeys': [BREAKER_KEY] },
      Null: { 'dynamodb:LeadingKeys': 'false' },
    }),
    // Caller proofs are single use: one conditional put of each, under its own key prefix.
    allow(['dynamodb:PutItem'], [ctx.cordon.guardrailsTable], {
      'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': [`${PROOF_KEY_PREFIX}*`] },
      Null: { 'dynamodb:LeadingKeys': 'false' },
    }),
    // Open a waiting step's sealed token; the key's policy denies Decrypt to everyone else.
    allow(['kms:Decrypt'], [ctx.cordon.tokenKey]),
    // Each decision's record: the approval key's policy denies this call to every other principal.
    allow(['kms:GenerateMac'], [ctx.cordon.approvalKey]),
    // Only this function can answer a waiting step.
    anywhere(['states:SendTaskSuccess', 'states:SendTaskFailure']),
    allow(['states:StartExecution'], [ctx.cordon.rollbackStateMachine]),
    // Both calls write execution data, which Step Functions encrypts as this role.
    executionData(ctx, ['kms:Decrypt', 'kms:GenerateDataKey']),
  ],
  unscoped: {
    'states:SendTaskSuccess':
      'Task-token callbacks have no resource types: IAM takes only "*"; a call names one task token, which only this function can read',
    'states:SendTaskFailure':
      'Task-token callbacks have no resource types: IAM takes only "*"; a call names one task token, which only this function can read',
  },
};

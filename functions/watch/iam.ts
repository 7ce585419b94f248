import { allow, executionData, publishNotifications, type RoleSpec } from '../shared/iam.js';

/**
 * Read the execution an event names (its state machine, status, dates and
 * input: nothing in the event is trusted for them), on Cordon's own state
 * machines only, which Step Functions decrypts with the execution key as
 * this role; read what the runtime mode parameter holds after a change;
 * tell responders on the notification topic.
 */
export const iam: RoleSpec = {
  statements: (ctx) => [
    {
      ...allow(['states:DescribeExecution'], ctx.cordon.executions),
      wildcard:
        "Execution names are chosen per run; each resource is one of Cordon's own state machines' executions, nothing else",
    },
    executionData(ctx, ['kms:Decrypt']),
    allow(['ssm:GetParameter'], [ctx.cordon.runtimeModeParameter]),
    ...publishNotifications(ctx),
  ],
};

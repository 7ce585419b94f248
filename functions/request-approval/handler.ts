import { SNSClient } from '@aws-sdk/client-sns';
import { ApprovalStore } from '../shared/approval-store.js';
import { clientOptions } from '../shared/aws.js';
import { bootAction } from '../shared/boot.js';
import { ConfigError } from '../shared/config-error.js';
import { requireEnv, requireJsonEnv } from '../shared/env.js';
import { taskHandler } from '../shared/handler.js';
import { ENV } from '../shared/runtime-config.js';
import { ApprovalSettingsSchema, RequestApprovalInputSchema, requestApproval } from './core.js';

const { logger, ledger, actor, dynamo } = bootAction('request-approval');
// The event carries the task token: refuse to start if Powertools was told to
// log events (POWERTOOLS_LOGGER_LOG_EVENT), rather than leak the token once.
if (logger.getLogEvent()) {
  throw new ConfigError('POWERTOOLS_LOGGER_LOG_EVENT must be off for request-approval');
}
const deps = {
  sns: new SNSClient(clientOptions),
  topicArn: requireEnv(ENV.topicArn),
  ledger,
  approvals: new ApprovalStore({
    client: dynamo,
    tableName: requireEnv(ENV.approvalsTable),
  }),
  settings: requireJsonEnv(ENV.approvalSettings, (v) => ApprovalSettingsSchema.parse(v)),
  actor,
  logger,
};

// Never log the input: it holds the task token.
export const handler = taskHandler(logger, RequestApprovalInputSchema, (input) =>
  requestApproval(input, deps),
);

import { SNSClient } from '@aws-sdk/client-sns';
import { clientOptions, documentClient } from '../shared/aws.js';
import { ConfigError } from '../shared/config-error.js';
import { requireEnv } from '../shared/env.js';
import { taskHandler } from '../shared/handler.js';
import { Ledger } from '../shared/ledger.js';
import { createLogger } from '../shared/observability.js';
import { ENV } from '../shared/runtime-config.js';
import { RequestApprovalInputSchema, requestApproval } from './core.js';

const ACTION = 'request-approval';
if (requireEnv(ENV.action) !== ACTION) {
  throw new ConfigError(`${ENV.action} must be ${ACTION} for this function`);
}

const logger = createLogger(ACTION);
// The event carries the task token: refuse to start if Powertools was told to
// log events (POWERTOOLS_LOGGER_LOG_EVENT), rather than leak the token once.
if (logger.getLogEvent()) {
  throw new ConfigError('POWERTOOLS_LOGGER_LOG_EVENT must be off for request-approval');
}
const deps = {
  sns: new SNSClient(clientOptions),
  topicArn: requireEnv(ENV.topicArn),
  ledger: new Ledger({ client: documentClient(), tableName: requireEnv(ENV.ledgerTable) }),
  actor: requireEnv(ENV.actor),
  logger,
};

// Never log the input: it holds the task token.
export const handler = taskHandler(logger, RequestApprovalInputSchema, (input) =>
  requestApproval(input, deps),
);

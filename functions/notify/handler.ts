import { SNSClient } from '@aws-sdk/client-sns';
import { clientOptions, documentClient } from '../shared/aws.js';
import { ConfigError } from '../shared/config-error.js';
import { requireEnv } from '../shared/env.js';
import { taskHandler } from '../shared/handler.js';
import { Ledger } from '../shared/ledger.js';
import { createLogger } from '../shared/observability.js';
import { ENV } from '../shared/runtime-config.js';
import { NotifyInputSchema, notify } from './core.js';

const ACTION = 'notify';
if (requireEnv(ENV.action) !== ACTION) {
  throw new ConfigError(`${ENV.action} must be ${ACTION} for this function`);
}

const logger = createLogger(ACTION);
const deps = {
  sns: new SNSClient(clientOptions),
  topicArn: requireEnv(ENV.topicArn),
  ledger: new Ledger({ client: documentClient(), tableName: requireEnv(ENV.ledgerTable) }),
  actor: requireEnv(ENV.actor),
};

export const handler = taskHandler(logger, NotifyInputSchema, async (input) => {
  if (input.incident) logger.appendKeys({ incidentId: input.incident.incidentId });
  const result = await notify(input, deps);
  logger.info('notification published', { kind: input.kind, messageId: result.messageId });
  return result;
});

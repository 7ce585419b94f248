import { IAMClient } from '@aws-sdk/client-iam';
import { clientOptions, documentClient } from '../shared/aws.js';
import { ConfigError } from '../shared/config-error.js';
import { requireEnv } from '../shared/env.js';
import { taskHandler } from '../shared/handler.js';
import { ActionInputSchema } from '../shared/incident.js';
import { Ledger } from '../shared/ledger.js';
import { createLogger } from '../shared/observability.js';
import { ENV } from '../shared/runtime-config.js';
import { quarantineUser } from './core.js';

const ACTION = 'quarantine-user';
if (requireEnv(ENV.action) !== ACTION) {
  throw new ConfigError(`${ENV.action} must be ${ACTION} for this function`);
}

const logger = createLogger(ACTION);
const deps = {
  iam: new IAMClient(clientOptions),
  ledger: new Ledger({ client: documentClient(), tableName: requireEnv(ENV.ledgerTable) }),
  actor: requireEnv(ENV.actor),
};

export const handler = taskHandler(logger, ActionInputSchema, async (input) => {
  logger.appendKeys({ incidentId: input.incident.incidentId, step: input.step });
  const result = await quarantineUser(input, deps);
  logger.info('step finished', { outcome: result.outcome, targetArn: result.targetArn });
  return result;
});

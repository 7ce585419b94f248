import { SecurityHubClient } from '@aws-sdk/client-securityhub';
import { clientOptions, documentClient } from '../shared/aws.js';
import { ConfigError } from '../shared/config-error.js';
import { requireEnv } from '../shared/env.js';
import { taskHandler } from '../shared/handler.js';
import { Ledger } from '../shared/ledger.js';
import { createLogger } from '../shared/observability.js';
import { ENV } from '../shared/runtime-config.js';
import { UpdateFindingInputSchema, updateFinding } from './core.js';

const ACTION = 'update-finding';
if (requireEnv(ENV.action) !== ACTION) {
  throw new ConfigError(`${ENV.action} must be ${ACTION} for this function`);
}

const logger = createLogger(ACTION);
const deps = {
  securityHub: new SecurityHubClient(clientOptions),
  ledger: new Ledger({ client: documentClient(), tableName: requireEnv(ENV.ledgerTable) }),
  actor: requireEnv(ENV.actor),
};

export const handler = taskHandler(logger, UpdateFindingInputSchema, async (input) => {
  logger.appendKeys({ incidentId: input.incident.incidentId, phase: input.phase });
  const result = await updateFinding(input, deps);
  logger.info('finding update finished', { ...result });
  return result;
});

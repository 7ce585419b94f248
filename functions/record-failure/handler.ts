import { documentClient } from '../shared/aws.js';
import { ConfigError } from '../shared/config-error.js';
import { requireEnv } from '../shared/env.js';
import { taskHandler } from '../shared/handler.js';
import { Ledger } from '../shared/ledger.js';
import { createLogger } from '../shared/observability.js';
import { ENV } from '../shared/runtime-config.js';
import { RecordFailureInputSchema, recordFailure } from './core.js';

const ACTION = 'record-failure';
if (requireEnv(ENV.action) !== ACTION) {
  throw new ConfigError(`${ENV.action} must be ${ACTION} for this function`);
}

const logger = createLogger(ACTION);
const deps = {
  ledger: new Ledger({ client: documentClient(), tableName: requireEnv(ENV.ledgerTable) }),
  actor: requireEnv(ENV.actor),
};

export const handler = taskHandler(logger, RecordFailureInputSchema, async (input) => {
  if (input.incident) logger.appendKeys({ incidentId: input.incident.incidentId });
  const result = await recordFailure(input, deps);
  logger.info('failure recorded', { step: result.step, outcome: result.outcome });
  return result;
});

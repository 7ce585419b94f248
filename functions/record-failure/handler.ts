import { bootAction } from '../shared/boot.js';
import { taskHandler } from '../shared/handler.js';
import { RecordFailureInputSchema, recordFailure } from './core.js';

const { logger, ledger, actor } = bootAction('record-failure');
const deps = { ledger, actor };

export const handler = taskHandler(logger, RecordFailureInputSchema, async (input) => {
  if (input.incident) logger.appendKeys({ incidentId: input.incident.incidentId });
  const result = await recordFailure(input, deps);
  logger.info('failure recorded', { step: result.step, outcome: result.outcome });
  return result;
});

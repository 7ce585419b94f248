import { SecurityHubClient } from '@aws-sdk/client-securityhub';
import { clientOptions } from '../shared/aws.js';
import { bootAction } from '../shared/boot.js';
import { taskHandler } from '../shared/handler.js';
import { UpdateFindingInputSchema, updateFinding } from './core.js';

const { logger, ledger, actor } = bootAction('update-finding');
const deps = { securityHub: new SecurityHubClient(clientOptions), ledger, actor };

export const handler = taskHandler(logger, UpdateFindingInputSchema, async (input) => {
  logger.appendKeys({ incidentId: input.incident.incidentId, phase: input.phase });
  const result = await updateFinding(input, deps);
  logger.info('finding update finished', { ...result });
  return result;
});

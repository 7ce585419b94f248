import { SNSClient } from '@aws-sdk/client-sns';
import { clientOptions } from '../shared/aws.js';
import { bootAction } from '../shared/boot.js';
import { requireEnv } from '../shared/env.js';
import { taskHandler } from '../shared/handler.js';
import { ENV } from '../shared/runtime-config.js';
import { NotifyInputSchema, notify } from './core.js';

const { logger, ledger, actor } = bootAction('notify');
const deps = {
  sns: new SNSClient(clientOptions),
  topicArn: requireEnv(ENV.topicArn),
  ledger,
  actor,
};

export const handler = taskHandler(logger, NotifyInputSchema, async (input) => {
  if (input.incident) logger.appendKeys({ incidentId: input.incident.incidentId });
  const result = await notify(input, deps);
  logger.info('notification published', { kind: input.kind, messageId: result.messageId });
  return result;
});

import { bootAction } from '../shared/boot.js';
import { taskHandler } from '../shared/handler.js';
import { planRollback, RollbackPlanInputSchema } from './core.js';

const { logger, ledger, actor } = bootAction('rollback-plan');
const deps = { ledger, actor };

export const handler = taskHandler(logger, RollbackPlanInputSchema, async (input) => {
  logger.appendKeys({ incidentId: input.request.incidentId });
  const plan = await planRollback(input, deps);
  logger.info('rollback planned', { items: plan.items.length, skipped: plan.skipped.length });
  return plan;
});

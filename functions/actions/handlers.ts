import { type ApprovalVerifier, approvalVerifier } from '../shared/approval-record.js';
import { type Boot, boot } from '../shared/boot.js';
import type { Environment } from '../shared/env.js';
import { taskHandler } from '../shared/handler.js';
import { type ActionInput, ActionInputSchema, type ActionResult } from '../shared/incident.js';
import {
  type RollbackInput,
  RollbackInputSchema,
  type RollbackResult,
} from '../shared/rollback.js';

/**
 * The two handler shapes of an action folder. Each action's `handler.ts`
 * names its AWS clients and its core function; these wire the rest once, at
 * cold start (`boot`), and wrap the core: parse the input strictly, log the
 * keys, run, log the outcome.
 */

/** What a containment or rollback core gets besides its AWS clients. */
export type ActionDeps = Pick<Boot, 'ledger' | 'actor' | 'now'> & {
  readonly approvals: ApprovalVerifier;
};

export function containmentHandler(
  env: Environment,
  name: string,
  run: (input: ActionInput, deps: ActionDeps) => Promise<ActionResult>,
) {
  const deps = { ...boot(env, name), approvals: approvalVerifier(env) };
  const { logger } = deps;
  return taskHandler(logger, ActionInputSchema, async (input) => {
    logger.appendKeys({ incidentId: input.incident.incidentId, step: input.step });
    const result = await run(input, deps);
    logger.info('step finished', { outcome: result.outcome, targetArn: result.targetArn });
    return result;
  });
}

export function rollbackHandler(
  env: Environment,
  name: string,
  run: (input: RollbackInput, deps: ActionDeps) => Promise<RollbackResult>,
) {
  const deps = { ...boot(env, name), approvals: approvalVerifier(env) };
  const { logger } = deps;
  return taskHandler(logger, RollbackInputSchema, async (input) => {
    logger.appendKeys({ incidentId: input.incidentId, step: input.item.step, seq: input.item.seq });
    const result = await run(input, deps);
    logger.info('rollback finished', { outcome: result.outcome, targetArn: result.targetArn });
    return result;
  });
}

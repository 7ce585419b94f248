import type { Logger } from '@aws-lambda-powertools/logger';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { documentClient } from './aws.js';
import type { ActionName } from './catalog.js';
import { ConfigError } from './config-error.js';
import { requireEnv } from './env.js';
import { taskHandler } from './handler.js';
import { type ActionInput, ActionInputSchema, type ActionResult } from './incident.js';
import { Ledger } from './ledger.js';
import { createLogger } from './observability.js';
import { type RollbackInput, RollbackInputSchema, type RollbackResult } from './rollback.js';
import { ENV } from './runtime-config.js';

/** What every function wires first: its logger, the ledger, and its own role ARN. */
export interface ActionBoot {
  readonly logger: Logger;
  readonly ledger: Ledger;
  /** The function's role ARN: the actor of every ledger entry it writes. */
  readonly actor: string;
  /** The DynamoDB client the ledger uses, for the function's other tables. */
  readonly dynamo: DynamoDBDocumentClient;
}

/**
 * Cold-start wiring shared by every handler. Call it at module scope: it fails
 * the cold start when the function is deployed as another action or its
 * configuration is missing, rather than halfway through a containment.
 */
export function bootAction(action: ActionName): ActionBoot {
  if (requireEnv(ENV.action) !== action) {
    throw new ConfigError(`${ENV.action} must be ${action} for this function`);
  }
  const dynamo = documentClient();
  return {
    logger: createLogger(action),
    ledger: new Ledger({ client: dynamo, tableName: requireEnv(ENV.ledgerTable) }),
    actor: requireEnv(ENV.actor),
    dynamo,
  };
}

/** The Lambda handler of a containment action: parse, log keys, run, log the outcome. */
export function containmentHandler(
  logger: Logger,
  run: (input: ActionInput) => Promise<ActionResult>,
) {
  return taskHandler(logger, ActionInputSchema, async (input) => {
    logger.appendKeys({ incidentId: input.incident.incidentId, step: input.step });
    const result = await run(input);
    logger.info('step finished', { outcome: result.outcome, targetArn: result.targetArn });
    return result;
  });
}

/** The Lambda handler of a rollback action: parse, log keys, run, log the outcome. */
export function rollbackHandler(
  logger: Logger,
  run: (input: RollbackInput) => Promise<RollbackResult>,
) {
  return taskHandler(logger, RollbackInputSchema, async (input) => {
    logger.appendKeys({ incidentId: input.incidentId, step: input.item.step, seq: input.item.seq });
    const result = await run(input);
    logger.info('rollback finished', { outcome: result.outcome, targetArn: result.targetArn });
    return result;
  });
}

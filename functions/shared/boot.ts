import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { documentClient } from './aws.js';
import { ConfigError } from './config-error.js';
import { type Environment, requireEnv } from './env.js';
import { ENV } from './env-names.js';
import { Ledger } from './ledger.js';
import { KmsLedgerMac } from './ledger-mac.js';
import { createLogger, type LambdaLogger } from './observability.js';

/** What every function wires first: its logger, the ledger, its own role ARN and a clock. */
export interface Boot {
  readonly logger: LambdaLogger;
  readonly ledger: Ledger;
  /** The function's role ARN: the actor of every ledger entry it writes. */
  readonly actor: string;
  /** The DynamoDB client the ledger uses, for the function's other tables. */
  readonly dynamo: DynamoDBDocumentClient;
  readonly now: () => Date;
}

/**
 * Cold-start wiring shared by every handler factory: it fails when the
 * function is deployed as another one or its configuration is missing,
 * rather than halfway through a containment.
 */
export function boot(env: Environment, name: string): Boot {
  if (requireEnv(env, ENV.action) !== name) {
    throw new ConfigError(`${ENV.action} must be ${name} for this function`);
  }
  const dynamo = documentClient();
  const now = () => new Date();
  return {
    logger: createLogger(name, env),
    ledger: new Ledger({
      client: dynamo,
      tableName: requireEnv(env, ENV.ledgerTable),
      now,
      mac: new KmsLedgerMac(requireEnv(env, ENV.ledgerKey)),
    }),
    actor: requireEnv(env, ENV.actor),
    dynamo,
    now,
  };
}

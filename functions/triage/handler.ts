import { EC2Client } from '@aws-sdk/client-ec2';
import { IAMClient } from '@aws-sdk/client-iam';
import { LambdaClient } from '@aws-sdk/client-lambda';
import { S3Client } from '@aws-sdk/client-s3';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { z } from 'zod';
import { clientOptions, documentClient } from '../shared/aws.js';
import { PLAYBOOK_NAMES, type PlaybookName } from '../shared/catalog.js';
import { ConfigError } from '../shared/config-error.js';
import { requireEnv, requireJsonEnv } from '../shared/env.js';
import { taskHandler } from '../shared/handler.js';
import { incidentTargetArn } from '../shared/incident.js';
import { Ledger } from '../shared/ledger.js';
import { createLogger } from '../shared/observability.js';
import { ENV, type RuntimeConfig, RuntimeConfigSchema } from '../shared/runtime-config.js';
import { type TriageDeps, triage } from './triage.js';

const logger = createLogger('triage');

function parseConfig(value: unknown): RuntimeConfig {
  const parsed = RuntimeConfigSchema.safeParse(value);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new ConfigError(
      `environment variable ${ENV.config} is invalid at ${issue?.path.join('.') || '(root)'}: ${issue?.message ?? 'invalid'}`,
    );
  }
  return parsed.data;
}

/**
 * Path-style S3 addressing only against an emulator: a local endpoint
 * (`http://localhost:PORT`) has no `<bucket>.localhost` DNS name for
 * virtual-hosted requests to reach. Deployed, neither variable is set and
 * the SDK's default (virtual-hosted) applies.
 */
const s3Emulated =
  process.env.AWS_ENDPOINT_URL_S3 !== undefined || process.env.AWS_ENDPOINT_URL !== undefined;

const deps: TriageDeps = {
  iam: new IAMClient(clientOptions),
  ec2: new EC2Client(clientOptions),
  secretsManager: new SecretsManagerClient(clientOptions),
  lambda: new LambdaClient(clientOptions),
  s3: new S3Client({ ...clientOptions, forcePathStyle: s3Emulated }),
  ledger: new Ledger({ client: documentClient(), tableName: requireEnv(ENV.ledgerTable) }),
  config: requireJsonEnv(ENV.config, parseConfig),
  actor: requireEnv(ENV.actor),
};

/**
 * The input is a raw EventBridge event, not our own contract, so the wrapper
 * passes it through (`z.unknown()`) and triage validates it leniently.
 */
/**
 * The state machine passes the raw EventBridge event, not our own contract,
 * so only the envelope is strict: triage validates the event leniently.
 */
const TriageInputSchema = z.strictObject({
  event: z.unknown(),
  executionArn: z.string().min(1),
  playbook: z.enum(PLAYBOOK_NAMES as [PlaybookName, ...PlaybookName[]]),
});

export const handler = taskHandler(logger, TriageInputSchema, async (input) => {
  const { event, executionArn, playbook } = input;
  const result = await triage(event, deps, { executionArn, playbook });
  logger.info('triage decided', {
    incidentId: result.incident.incidentId,
    decision: result.decision,
    reason: result.reason,
    // An instance or function incident is about its resource, even when it names its role.
    targetArn: incidentTargetArn(result.incident),
  });
  return result;
});

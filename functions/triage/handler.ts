import { EC2Client } from '@aws-sdk/client-ec2';
import { GuardDutyClient } from '@aws-sdk/client-guardduty';
import { IAMClient } from '@aws-sdk/client-iam';
import { LambdaClient } from '@aws-sdk/client-lambda';
import { S3Client } from '@aws-sdk/client-s3';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SecurityHubClient } from '@aws-sdk/client-securityhub';
import { SNSClient } from '@aws-sdk/client-sns';
import { SSMClient } from '@aws-sdk/client-ssm';
import { z } from 'zod';
import { clientOptions, s3ClientOptions } from '../shared/aws.js';
import { bootAction } from '../shared/boot.js';
import { CircuitBreaker } from '../shared/breaker.js';
import { PLAYBOOK_NAMES, type PlaybookName } from '../shared/catalog.js';
import { ConfigError } from '../shared/config-error.js';
import { requireEnv, requireJsonEnv } from '../shared/env.js';
import { taskHandler } from '../shared/handler.js';
import { incidentTargetArn } from '../shared/incident.js';
import { ENV, type RuntimeConfig, RuntimeConfigSchema } from '../shared/runtime-config.js';
import { announceTrip } from './announce.js';
import { RUNTIME_MODE_TTL_MS, RuntimeModeSwitch } from './guardrails.js';
import { verifyAtSource } from './source.js';
import { type TriageDeps, triage } from './triage.js';

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

/** The runtime mode cache, in seconds: RUNTIME_MODE_TTL_MS unless configured. */
function cacheSeconds(value: string | undefined): number {
  if (value === undefined || value === '') return RUNTIME_MODE_TTL_MS / 1000;
  const seconds = Number(value);
  if (!Number.isInteger(seconds) || seconds < 0 || seconds > 300) {
    throw new ConfigError(
      `${ENV.runtimeModeCacheSeconds} must be a whole number of seconds, 0 to 300`,
    );
  }
  return seconds;
}

const { logger, ledger, actor, dynamo } = bootAction('triage');
const config = requireJsonEnv(ENV.config, parseConfig);
const sns = new SNSClient(clientOptions);
const sources = {
  guardDuty: new GuardDutyClient(clientOptions),
  securityHub: new SecurityHubClient(clientOptions),
};
const topicArn = requireEnv(ENV.topicArn);
const deps: TriageDeps = {
  iam: new IAMClient(clientOptions),
  ec2: new EC2Client(clientOptions),
  secretsManager: new SecretsManagerClient(clientOptions),
  lambda: new LambdaClient(clientOptions),
  s3: new S3Client(s3ClientOptions()),
  ledger,
  config,
  actor,
  guardrails: {
    runtimeMode: new RuntimeModeSwitch(
      new SSMClient(clientOptions),
      config.runtimeModeParameter,
      Date.now,
      cacheSeconds(process.env[ENV.runtimeModeCacheSeconds]) * 1000,
    ),
    breaker: new CircuitBreaker({
      client: dynamo,
      tableName: requireEnv(ENV.guardrailsTable),
    }),
    limits: config.circuitBreaker,
    announceTrip: (incident, reason) => announceTrip({ sns, topicArn }, incident, reason),
    verifySource: (finding) => verifyAtSource(finding, sources, config.securityHubProductAllowList),
  },
};

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

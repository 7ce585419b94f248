import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { clientOptions } from '../shared/aws.js';
import { bootAction, containmentHandler } from '../shared/boot.js';
import { ConfigError } from '../shared/config-error.js';
import { requireJsonEnv } from '../shared/env.js';
import { ENV } from '../shared/runtime-config.js';
import { BreakGlassSchema, lockSecret } from './core.js';

const { logger, ledger, actor } = bootAction('lock-secret');

function parseBreakGlass(value: unknown): string[] {
  const parsed = BreakGlassSchema.safeParse(value);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new ConfigError(
      `environment variable ${ENV.breakGlass} is invalid at ${issue?.path.join('.') || '(root)'}: ${issue?.message ?? 'invalid'}`,
    );
  }
  return parsed.data;
}

const deps = {
  secrets: new SecretsManagerClient(clientOptions),
  breakGlass: requireJsonEnv(ENV.breakGlass, parseBreakGlass),
  ledger,
  actor,
};

export const handler = containmentHandler(logger, (input) => lockSecret(input, deps));

import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { clientOptions } from '../shared/aws.js';
import { bootAction, rollbackHandler } from '../shared/boot.js';
import { rollbackSecretLock } from './core.js';

const { logger, ledger, actor } = bootAction('rollback-secret-lock');
const deps = { secrets: new SecretsManagerClient(clientOptions), ledger, actor };

export const handler = rollbackHandler(logger, (input) => rollbackSecretLock(input, deps));

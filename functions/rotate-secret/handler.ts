import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { clientOptions } from '../shared/aws.js';
import { bootAction, containmentHandler } from '../shared/boot.js';
import { rotateSecret } from './core.js';

const { logger, ledger, actor } = bootAction('rotate-secret');
const deps = { secrets: new SecretsManagerClient(clientOptions), ledger, actor };

export const handler = containmentHandler(logger, (input) => rotateSecret(input, deps));

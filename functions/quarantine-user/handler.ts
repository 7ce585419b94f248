import { IAMClient } from '@aws-sdk/client-iam';
import { clientOptions } from '../shared/aws.js';
import { bootAction, containmentHandler } from '../shared/boot.js';
import { quarantineUser } from './core.js';

const { logger, ledger, actor } = bootAction('quarantine-user');
const deps = { iam: new IAMClient(clientOptions), ledger, actor };

export const handler = containmentHandler(logger, (input) => quarantineUser(input, deps));

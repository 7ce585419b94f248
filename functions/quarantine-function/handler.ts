import { LambdaClient } from '@aws-sdk/client-lambda';
import { clientOptions } from '../shared/aws.js';
import { bootAction, containmentHandler } from '../shared/boot.js';
import { quarantineFunction } from './core.js';

const { logger, ledger, actor } = bootAction('quarantine-function');
const deps = { lambda: new LambdaClient(clientOptions), ledger, actor };

export const handler = containmentHandler(logger, (input) => quarantineFunction(input, deps));

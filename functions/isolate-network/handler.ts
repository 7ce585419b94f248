import { EC2Client } from '@aws-sdk/client-ec2';
import { clientOptions } from '../shared/aws.js';
import { bootAction, containmentHandler } from '../shared/boot.js';
import { isolateNetwork } from './core.js';

const { logger, ledger, actor } = bootAction('isolate-network');
const deps = { ec2: new EC2Client(clientOptions), ledger, actor };

export const handler = containmentHandler(logger, (input) => isolateNetwork(input, deps));

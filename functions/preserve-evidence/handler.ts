import { EC2Client } from '@aws-sdk/client-ec2';
import { clientOptions } from '../shared/aws.js';
import { bootAction, containmentHandler } from '../shared/boot.js';
import { preserveEvidence } from './core.js';

const { logger, ledger, actor } = bootAction('preserve-evidence');
const deps = { ec2: new EC2Client(clientOptions), ledger, actor };

export const handler = containmentHandler(logger, (input) => preserveEvidence(input, deps));

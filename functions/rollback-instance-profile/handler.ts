import { EC2Client } from '@aws-sdk/client-ec2';
import { clientOptions } from '../shared/aws.js';
import { bootAction, rollbackHandler } from '../shared/boot.js';
import { rollbackInstanceProfile } from './core.js';

const { logger, ledger, actor } = bootAction('rollback-instance-profile');
const deps = { ec2: new EC2Client(clientOptions), ledger, actor };

export const handler = rollbackHandler(logger, (input) => rollbackInstanceProfile(input, deps));

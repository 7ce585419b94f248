import { AutoScalingClient } from '@aws-sdk/client-auto-scaling';
import { EC2Client } from '@aws-sdk/client-ec2';
import { clientOptions } from '../shared/aws.js';
import { bootAction, rollbackHandler } from '../shared/boot.js';
import { rollbackAsgDetach } from './core.js';

const { logger, ledger, actor } = bootAction('rollback-asg-detach');
const deps = {
  ec2: new EC2Client(clientOptions),
  autoScaling: new AutoScalingClient(clientOptions),
  ledger,
  actor,
};

export const handler = rollbackHandler(logger, (input) => rollbackAsgDetach(input, deps));

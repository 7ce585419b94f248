import { AutoScalingClient } from '@aws-sdk/client-auto-scaling';
import { EC2Client } from '@aws-sdk/client-ec2';
import { clientOptions } from '../shared/aws.js';
import { bootAction, containmentHandler } from '../shared/boot.js';
import { detachFromAsg } from './core.js';

const { logger, ledger, actor } = bootAction('detach-from-asg');
const deps = {
  ec2: new EC2Client(clientOptions),
  autoScaling: new AutoScalingClient(clientOptions),
  ledger,
  actor,
};

export const handler = containmentHandler(logger, (input) => detachFromAsg(input, deps));

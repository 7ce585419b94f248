import { IAMClient } from '@aws-sdk/client-iam';
import { clientOptions } from '../shared/aws.js';
import { bootAction, containmentHandler } from '../shared/boot.js';
import { disableAccessKey } from './core.js';

const { logger, ledger, actor } = bootAction('disable-access-key');
const deps = { iam: new IAMClient(clientOptions), ledger, actor };

export const handler = containmentHandler(logger, (input) => disableAccessKey(input, deps));

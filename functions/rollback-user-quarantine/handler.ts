import { IAMClient } from '@aws-sdk/client-iam';
import { clientOptions } from '../shared/aws.js';
import { bootAction, rollbackHandler } from '../shared/boot.js';
import { rollbackUserQuarantine } from './core.js';

const { logger, ledger, actor } = bootAction('rollback-user-quarantine');
const deps = { iam: new IAMClient(clientOptions), ledger, actor };

export const handler = rollbackHandler(logger, (input) => rollbackUserQuarantine(input, deps));

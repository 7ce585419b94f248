import { IAMClient } from '@aws-sdk/client-iam';
import { clientOptions } from '../shared/aws.js';
import { bootAction, rollbackHandler } from '../shared/boot.js';
import { rollbackSessionRevocation } from './core.js';

const { logger, ledger, actor } = bootAction('rollback-session-revocation');
const deps = { iam: new IAMClient(clientOptions), ledger, actor };

export const handler = rollbackHandler(logger, (input) => rollbackSessionRevocation(input, deps));

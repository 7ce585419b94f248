import { LambdaClient } from '@aws-sdk/client-lambda';
import { clientOptions } from '../shared/aws.js';
import { bootAction, rollbackHandler } from '../shared/boot.js';
import { rollbackFunctionQuarantine } from './core.js';

const { logger, ledger, actor } = bootAction('rollback-function-quarantine');
const deps = { lambda: new LambdaClient(clientOptions), ledger, actor };

export const handler = rollbackHandler(logger, (input) => rollbackFunctionQuarantine(input, deps));

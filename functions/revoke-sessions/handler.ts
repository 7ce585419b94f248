import { IAMClient } from '@aws-sdk/client-iam';
import { clientOptions } from '../shared/aws.js';
import { bootAction, containmentHandler } from '../shared/boot.js';
import { revokeSessions } from './core.js';

const { logger, ledger, actor } = bootAction('revoke-sessions');
const deps = { iam: new IAMClient(clientOptions), ledger, actor, now: () => new Date() };

export const handler = containmentHandler(logger, (input) => revokeSessions(input, deps));

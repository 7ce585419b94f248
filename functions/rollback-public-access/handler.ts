import { S3Client } from '@aws-sdk/client-s3';
import { s3ClientOptions } from '../shared/aws.js';
import { bootAction, rollbackHandler } from '../shared/boot.js';
import { rollbackPublicAccess } from './core.js';

const { logger, ledger, actor } = bootAction('rollback-public-access');
const deps = { s3: new S3Client(s3ClientOptions()), ledger, actor };

export const handler = rollbackHandler(logger, (input) => rollbackPublicAccess(input, deps));

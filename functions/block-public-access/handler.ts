import { S3Client } from '@aws-sdk/client-s3';
import { s3ClientOptions } from '../shared/aws.js';
import { bootAction, containmentHandler } from '../shared/boot.js';
import { blockPublicAccess } from './core.js';

const { logger, ledger, actor } = bootAction('block-public-access');

const s3 = new S3Client(s3ClientOptions());
const deps = { s3, ledger, actor };

export const handler = containmentHandler(logger, (input) => blockPublicAccess(input, deps));

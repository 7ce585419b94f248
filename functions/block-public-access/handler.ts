import { S3Client } from '@aws-sdk/client-s3';
import { clientOptions } from '../shared/aws.js';
import { bootAction, containmentHandler } from '../shared/boot.js';
import { blockPublicAccess } from './core.js';

const { logger, ledger, actor } = bootAction('block-public-access');

// Emulators (moto, LocalStack at AWS_ENDPOINT_URL) serve S3 on one host, so
// buckets go in the path; real S3 keeps virtual-hosted style.
const s3 = new S3Client({
  ...clientOptions,
  forcePathStyle: process.env.AWS_ENDPOINT_URL !== undefined,
});
const deps = { s3, ledger, actor };

export const handler = containmentHandler(logger, (input) => blockPublicAccess(input, deps));

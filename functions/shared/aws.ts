import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';

/**
 * Options shared by every AWS client Cordon creates. The SDK reads region,
 * credentials and `AWS_ENDPOINT_URL` (an emulator, in tests and rehearsals)
 * from the environment; here we only bound retries and name ourselves.
 */
export const clientOptions = {
  maxAttempts: 3,
  customUserAgent: 'cordon',
} as const;

export function documentClient(client = new DynamoDBClient(clientOptions)): DynamoDBDocumentClient {
  return DynamoDBDocumentClient.from(client, {
    marshallOptions: { removeUndefinedValues: true, convertClassInstanceToMap: false },
  });
}

/**
 * Options for S3 clients: path-style addressing only against an emulator
 * (`AWS_ENDPOINT_URL` or `AWS_ENDPOINT_URL_S3`), whose single local host has
 * no `<bucket>.localhost` name for virtual-hosted requests. Deployed, neither
 * variable is set and the SDK's default (virtual-hosted) applies.
 */
export function s3ClientOptions() {
  const emulated =
    process.env.AWS_ENDPOINT_URL_S3 !== undefined || process.env.AWS_ENDPOINT_URL !== undefined;
  return { ...clientOptions, forcePathStyle: emulated };
}

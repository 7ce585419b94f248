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

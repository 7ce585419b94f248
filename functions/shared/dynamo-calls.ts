import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { type DynamoDBDocumentClient, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { classifyAwsError } from './errors.js';

/** A DynamoDB call whose AWS errors become Cordon's (retryable or not), named by `context`. */
export async function dynamoCall<T>(context: string, send: () => Promise<T>): Promise<T> {
  try {
    return await send();
  } catch (error) {
    throw classifyAwsError(error, context);
  }
}

/** A conditional update: true when it was applied, false when its condition did not hold. */
export async function conditionalUpdate(
  client: DynamoDBDocumentClient,
  tableName: string,
  context: string,
  update: Omit<ConstructorParameters<typeof UpdateCommand>[0], 'TableName'>,
): Promise<boolean> {
  try {
    await client.send(new UpdateCommand({ TableName: tableName, ...update }));
    return true;
  } catch (error) {
    if (error instanceof ConditionalCheckFailedException) return false;
    throw classifyAwsError(error, context);
  }
}

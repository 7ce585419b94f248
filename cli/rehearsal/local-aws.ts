import {
  type AttributeDefinition,
  CreateTableCommand,
  DescribeTableCommand,
  DynamoDBClient,
  type GlobalSecondaryIndex,
  type KeySchemaElement,
  ResourceNotFoundException,
  waitUntilTableExists,
} from '@aws-sdk/client-dynamodb';
import { CreateTopicCommand, SNSClient } from '@aws-sdk/client-sns';
import {
  GetParameterCommand,
  ParameterNotFound,
  PutParameterCommand,
  SSMClient,
} from '@aws-sdk/client-ssm';
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { z } from 'zod';
import { clientOptions } from '../../functions/shared/aws.js';

/**
 * The few resources a rehearsal needs wherever the SDK points: Cordon's
 * tables (the ledger and the approvals, created with the keys and indexes
 * the template declares) and the notification topic. All are idempotent.
 */

export async function callerAccount(sts = new STSClient(clientOptions)): Promise<string> {
  const identity = await sts.send(new GetCallerIdentityCommand({}));
  if (!identity.Account) throw new Error('STS GetCallerIdentity returned no account');
  return identity.Account;
}

const KeySchema = z.array(
  z.object({ AttributeName: z.string(), KeyType: z.enum(['HASH', 'RANGE']) }),
);
const TableProps = z.looseObject({
  KeySchema,
  AttributeDefinitions: z.array(
    z.object({ AttributeName: z.string(), AttributeType: z.enum(['S', 'N', 'B']) }),
  ),
  GlobalSecondaryIndexes: z
    .array(
      z.looseObject({
        IndexName: z.string(),
        KeySchema,
        Projection: z
          .object({
            ProjectionType: z.enum(['ALL', 'KEYS_ONLY', 'INCLUDE']).optional(),
            NonKeyAttributes: z.array(z.string()).optional(),
          })
          .optional(),
      }),
    )
    .optional(),
});

/** Creates a table if missing, from the template's table properties. */
export async function ensureTable(
  tableName: string,
  templateProperties: unknown,
  ddb = new DynamoDBClient(clientOptions),
): Promise<void> {
  try {
    await ddb.send(new DescribeTableCommand({ TableName: tableName }));
    return;
  } catch (error) {
    if (!(error instanceof ResourceNotFoundException)) throw error;
  }
  const props = TableProps.parse(templateProperties);
  const keys = (schema: z.infer<typeof KeySchema>): KeySchemaElement[] =>
    schema.map((k) => ({ AttributeName: k.AttributeName, KeyType: k.KeyType }));
  const indexes: GlobalSecondaryIndex[] = (props.GlobalSecondaryIndexes ?? []).map((gsi) => ({
    IndexName: gsi.IndexName,
    KeySchema: keys(gsi.KeySchema),
    Projection: gsi.Projection?.ProjectionType
      ? {
          ProjectionType: gsi.Projection.ProjectionType,
          ...(gsi.Projection.NonKeyAttributes
            ? { NonKeyAttributes: gsi.Projection.NonKeyAttributes }
            : {}),
        }
      : { ProjectionType: 'ALL' },
  }));
  const attributes: AttributeDefinition[] = props.AttributeDefinitions;
  await ddb.send(
    new CreateTableCommand({
      TableName: tableName,
      KeySchema: keys(props.KeySchema),
      AttributeDefinitions: attributes,
      BillingMode: 'PAY_PER_REQUEST',
      ...(indexes.length > 0 ? { GlobalSecondaryIndexes: indexes } : {}),
    }),
  );
  await waitUntilTableExists({ client: ddb, maxWaitTime: 60 }, { TableName: tableName });
}

export async function ensureTopic(
  name: string,
  sns = new SNSClient(clientOptions),
): Promise<string> {
  const created = await sns.send(new CreateTopicCommand({ Name: name }));
  if (!created.TopicArn) throw new Error(`CreateTopic ${name} returned no ARN`);
  return created.TopicArn;
}

/** Creates a String parameter with its template value if it does not exist; an existing value is kept. */
export async function ensureParameter(
  name: string,
  value: string,
  ssm = new SSMClient(clientOptions),
): Promise<void> {
  try {
    await ssm.send(new GetParameterCommand({ Name: name }));
    return;
  } catch (error) {
    if (!(error instanceof ParameterNotFound)) throw error;
  }
  await ssm.send(new PutParameterCommand({ Name: name, Value: value, Type: 'String' }));
}

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
import {
  CreateAliasCommand,
  CreateKeyCommand,
  type CustomerMasterKeySpec,
  DescribeKeyCommand,
  type KeyUsageType,
  KMSClient,
  NotFoundException,
} from '@aws-sdk/client-kms';
import { CreateTopicCommand, SNSClient } from '@aws-sdk/client-sns';
import {
  GetParameterCommand,
  ParameterNotFound,
  PutParameterCommand,
  SSMClient,
} from '@aws-sdk/client-ssm';
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { z } from 'zod';
import { clientOptions } from '../functions/shared/aws.js';

/**
 * The few resources a rehearsal needs wherever the SDK points, read from the
 * synthesized template: Cordon's tables (the ledger, the approvals and the
 * guardrails, with the keys and indexes the template declares), its KMS keys,
 * the runtime mode parameter and the notification topic. Creating them is
 * idempotent.
 */

/** A table the rehearsal creates, as the template declares it. */
export interface LocalTable {
  readonly name: string;
  readonly properties: unknown;
}

/**
 * A KMS key the rehearsal creates, of the template's spec and usage. An
 * emulator gives each new key an id of its own, so functions name it by an
 * alias that survives a reset: `alias/rehearsal-<logical id>`.
 */
export interface LocalKey {
  readonly alias: string;
  readonly spec: CustomerMasterKeySpec;
  readonly usage: KeyUsageType;
}

/** What a rehearsal creates where the SDK points, if missing. */
export interface LocalResources {
  readonly tables: ReadonlyMap<string, LocalTable>;
  /** By logical id. */
  readonly keys: ReadonlyMap<string, LocalKey>;
  readonly topicName: string;
  /** SSM parameters (the runtime mode) with their template values. */
  readonly parameters: readonly { readonly name: string; readonly value: string }[];
}

/** Local names of Cordon's tables, by their keys (`<hash>:<range>`), and of its topic. */
export interface LocalNames {
  readonly tables: Readonly<Record<string, string>>;
  readonly topicName: string;
}

/** The template's tables and parameters, named locally. */
export function localResources(template: unknown, names: LocalNames): LocalResources {
  return {
    tables: templateTables(template, names.tables),
    keys: templateKeys(template),
    topicName: names.topicName,
    parameters: templateParameters(template),
  };
}

/** Creates whatever of `resources` is missing (an emulator reset between tests); the topic's ARN. */
export async function ensureResources(resources: LocalResources): Promise<string> {
  for (const table of resources.tables.values()) await ensureTable(table.name, table.properties);
  for (const key of resources.keys.values()) await ensureKey(key);
  for (const p of resources.parameters) await ensureParameter(p.name, p.value);
  return ensureTopic(resources.topicName);
}

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

/** Creates a key and its alias if the alias does not exist. */
export async function ensureKey(key: LocalKey, kms = new KMSClient(clientOptions)): Promise<void> {
  try {
    await kms.send(new DescribeKeyCommand({ KeyId: key.alias }));
    return;
  } catch (error) {
    if (!(error instanceof NotFoundException)) throw error;
  }
  const created = await kms.send(
    new CreateKeyCommand({ KeySpec: key.spec, KeyUsage: key.usage, Description: key.alias }),
  );
  const keyId = created.KeyMetadata?.KeyId;
  if (!keyId) throw new Error(`CreateKey for ${key.alias} returned no key id`);
  await kms.send(new CreateAliasCommand({ AliasName: key.alias, TargetKeyId: keyId }));
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

const TableProperties = z.looseObject({
  KeySchema: z.array(z.object({ AttributeName: z.string(), KeyType: z.string() })),
});

/** Cordon's tables in the template, named locally by their keys (`<hash>:<range>`). */
function templateTables(
  template: unknown,
  names: Readonly<Record<string, string>>,
): Map<string, LocalTable> {
  const resources = z
    .record(z.string(), z.looseObject({ Type: z.string(), Properties: z.unknown() }))
    .parse(z.looseObject({ Resources: z.unknown() }).parse(template).Resources);
  const tables = new Map<string, LocalTable>();
  for (const [id, resource] of Object.entries(resources)) {
    if (
      resource.Type !== 'AWS::DynamoDB::GlobalTable' &&
      resource.Type !== 'AWS::DynamoDB::Table'
    ) {
      continue;
    }
    const properties = TableProperties.parse(resource.Properties);
    const key = (type: string) =>
      properties.KeySchema.find((k) => k.KeyType === type)?.AttributeName ?? '';
    const name = names[`${key('HASH')}:${key('RANGE')}`];
    if (!name) throw new Error(`rehearsal does not know table ${id}`);
    tables.set(id, { name, properties });
  }
  return tables;
}

const KeyProperties = z.looseObject({
  KeySpec: z
    .enum(['SYMMETRIC_DEFAULT', 'HMAC_224', 'HMAC_256', 'HMAC_384', 'HMAC_512'])
    .default('SYMMETRIC_DEFAULT'),
  KeyUsage: z.enum(['ENCRYPT_DECRYPT', 'GENERATE_VERIFY_MAC']).default('ENCRYPT_DECRYPT'),
});

/** The template's KMS keys, each named locally by an alias. */
function templateKeys(template: unknown): Map<string, LocalKey> {
  const resources = z
    .record(z.string(), z.looseObject({ Type: z.string(), Properties: z.unknown() }))
    .parse(z.looseObject({ Resources: z.unknown() }).parse(template).Resources);
  const keys = new Map<string, LocalKey>();
  for (const [id, resource] of Object.entries(resources)) {
    if (resource.Type !== 'AWS::KMS::Key') continue;
    const { KeySpec, KeyUsage } = KeyProperties.parse(resource.Properties ?? {});
    keys.set(id, { alias: `alias/rehearsal-${id}`, spec: KeySpec, usage: KeyUsage });
  }
  return keys;
}

/** The template's SSM parameters (literal names and values only). */
function templateParameters(template: unknown): { name: string; value: string }[] {
  const resources = z
    .record(z.string(), z.looseObject({ Type: z.string(), Properties: z.unknown() }))
    .parse(z.looseObject({ Resources: z.unknown() }).parse(template).Resources);
  return Object.values(resources)
    .filter((r) => r.Type === 'AWS::SSM::Parameter')
    .map((r) => {
      const { Name, Value } = z.object({ Name: z.string(), Value: z.string() }).parse(r.Properties);
      return { name: Name, value: Value };
    });
}

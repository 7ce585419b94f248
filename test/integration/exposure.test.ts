/**
 * Layer 4: after approved rehearsals of the secret-exposure,
 * integration-quarantine and s3-exposure playbooks against moto, the real
 * resulting AWS state, read back with Secrets Manager, Lambda, IAM, S3 and
 * DynamoDB clients of this file's own (not the handlers'): the secret's
 * resource policy, the function's reserved concurrency and its role's
 * policy, the bucket's public access block, and the ledger with the exact
 * before-state a rollback needs and its hash chain.
 *
 * The secret is one without rotation (lock path): moto rotates only through
 * a rotation Lambda, which needs Docker (the rotation path is covered in
 * test/state-machines/exposure.integration.test.ts with a mocked Secrets
 * Manager). moto 5.2 does not implement Security Hub BatchUpdateFindings, so
 * the secret's Security Hub finding has that one command mocked.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { GetRolePolicyCommand, IAMClient } from '@aws-sdk/client-iam';
import { GetFunctionConcurrencyCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { GetPublicAccessBlockCommand, S3Client } from '@aws-sdk/client-s3';
import {
  GetResourcePolicyCommand,
  PutResourcePolicyCommand,
  SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import { BatchUpdateFindingsCommand, SecurityHubClient } from '@aws-sdk/client-securityhub';
import { DynamoDBDocumentClient, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import {
  bucketFinding,
  functionFinding,
  secretFinding,
  seedCompromisedFunction,
  seedExposedSecret,
  seedPublicBucket,
} from '../../demo/exposure.js';
import { entryHash, GENESIS_HASH } from '../../functions/shared/ledger.js';
import { processedFindings } from '../state-machines/events.js';
import {
  explain,
  LEDGER_TABLE,
  onlyExecution,
  rehearsalHarness,
} from '../state-machines/harness.js';
import { MOTO_ACCOUNT_ID, motoClientConfig, useMoto } from '../support/moto.js';

const { endpoint } = useMoto();
const harness = rehearsalHarness();
const iam = new IAMClient(motoClientConfig(endpoint));
const lambda = new LambdaClient(motoClientConfig(endpoint));
const s3 = new S3Client({ ...motoClientConfig(endpoint), forcePathStyle: true });
const secrets = new SecretsManagerClient(motoClientConfig(endpoint));
const ledgerTable = DynamoDBDocumentClient.from(new DynamoDBClient(motoClientConfig(endpoint)));

const hubMocks: Array<{ restore(): void }> = [];
afterEach(() => {
  for (const mock of hubMocks.splice(0)) mock.restore();
});

/** Contains `event` with every approval granted; the execution's incident id. */
async function contained(event: unknown): Promise<string> {
  const execution = onlyExecution(await harness.engine('approve').rehearse(event));
  expect(execution.status, explain(execution)).toBe('SUCCEEDED');
  const incidentId = execution.ledger[0]?.incidentId;
  if (!incidentId) throw new Error('the execution wrote no ledger entry');
  return incidentId;
}

/** A stored ledger item, unknown fields kept: the hash covers all of them. */
const StoredEntry = z.looseObject({
  incidentId: z.string(),
  seq: z.number(),
  at: z.string(),
  step: z.string(),
  action: z.string(),
  actor: z.string(),
  outcome: z.string(),
  before: z.unknown().optional(),
  after: z.unknown().optional(),
  prevHash: z.string(),
  hash: z.string(),
});
type StoredEntry = z.infer<typeof StoredEntry>;

async function storedEntries(incidentId: string): Promise<StoredEntry[]> {
  const page = await ledgerTable.send(
    new QueryCommand({
      TableName: LEDGER_TABLE,
      KeyConditionExpression: 'incidentId = :id',
      ExpressionAttributeValues: { ':id': incidentId },
      ConsistentRead: true,
    }),
  );
  return (page.Items ?? []).map((item) => StoredEntry.parse(item));
}

function containedEntry(entries: StoredEntry[], action: string): StoredEntry | undefined {
  const found = entries.filter((e) => e.action === action && e.outcome === 'CONTAINED');
  expect(found, `one CONTAINED entry of ${action}`).toHaveLength(1);
  return found[0];
}

/** Contiguous seq from 0, each prevHash the previous hash, each hash its own. */
function expectChained(stored: StoredEntry[]): void {
  expect(stored.length).toBeGreaterThan(1);
  expect(stored.map((e) => e.seq)).toEqual(stored.map((_, i) => i));
  expect(stored.map((e) => e.prevHash)).toEqual([
    GENESIS_HASH,
    ...stored.slice(0, -1).map((e) => e.hash),
  ]);
  for (const entry of stored) {
    const { hash, mac, ...body } = entry;
    expect(entryHash(body), `hash of seq ${entry.seq}`).toBe(hash);
    expect(mac, `MAC of seq ${entry.seq}`).toEqual(expect.any(String));
  }
}

const PolicyDocument = z.object({
  Version: z.string(),
  Statement: z.array(z.looseObject({ Sid: z.string().optional() })),
});

describe('a secret locked with approval', () => {
  /** The owner's own statement, there before Cordon: it must survive the lock. */
  const OWNER_STATEMENT = {
    Sid: 'AppReads',
    Effect: 'Allow',
    Principal: { AWS: `arn:aws:iam::${MOTO_ACCOUNT_ID}:role/payments-app` },
    Action: 'secretsmanager:GetSecretValue',
    Resource: '*',
  };

  async function lockedSecret() {
    const secret = await seedExposedSecret();
    await secrets.send(
      new PutResourcePolicyCommand({
        SecretId: secret.arn,
        ResourcePolicy: JSON.stringify({ Version: '2012-10-17', Statement: [OWNER_STATEMENT] }),
      }),
    );
    const before = await secrets.send(new GetResourcePolicyCommand({ SecretId: secret.arn }));
    const hub = mockClient(SecurityHubClient);
    hubMocks.push(hub);
    hub.on(BatchUpdateFindingsCommand).callsFake((input: unknown) => ({
      ProcessedFindings: processedFindings(input),
      UnprocessedFindings: [],
    }));
    const incidentId = await contained(secretFinding(secret));
    return { secret, policyBefore: before.ResourcePolicy, incidentId };
  }

  it("denies GetSecretValue in its resource policy and keeps the owner's statement", async () => {
    const { secret } = await lockedSecret();

    const out = await secrets.send(new GetResourcePolicyCommand({ SecretId: secret.arn }));

    const policy = PolicyDocument.parse(JSON.parse(out.ResourcePolicy ?? 'null'));
    expect(policy.Statement).toEqual([
      OWNER_STATEMENT,
      {
        Sid: 'CordonLockSecret',
        Effect: 'Deny',
        Principal: '*',
        Action: 'secretsmanager:GetSecretValue',
        Resource: '*',
      },
    ]);
  });

  it('records the exact policy before, the lock after, in a hash-chained ledger', async () => {
    const { secret, policyBefore, incidentId } = await lockedSecret();

    const stored = await storedEntries(incidentId);

    expect(policyBefore).toBeDefined();
    const after = await secrets.send(new GetResourcePolicyCommand({ SecretId: secret.arn }));
    expect(containedEntry(stored, 'lock-secret')).toMatchObject({
      before: { policy: policyBefore, locked: false },
      after: { policy: after.ResourcePolicy, locked: true },
    });
    expectChained(stored);
  });
});

describe('a function stopped with approval', () => {
  it('has reserved concurrency 0, its role denies older sessions, and the ledger says it was unreserved', async () => {
    const fn = await seedCompromisedFunction(undefined, { lambda, iam });

    const incidentId = await contained(functionFinding(fn));

    const concurrency = await lambda.send(
      new GetFunctionConcurrencyCommand({ FunctionName: fn.name }),
    );
    expect(concurrency.ReservedConcurrentExecutions).toBe(0);
    const policy = await iam.send(
      new GetRolePolicyCommand({ RoleName: fn.roleName, PolicyName: 'CordonRevokeOlderSessions' }),
    );
    expect(JSON.parse(decodeURIComponent(policy.PolicyDocument ?? '{}'))).toMatchObject({
      Statement: [
        {
          Effect: 'Deny',
          Action: '*',
          Resource: '*',
          Condition: { DateLessThan: { 'aws:TokenIssueTime': expect.any(String) } },
        },
      ],
    });
    const stored = await storedEntries(incidentId);
    expect(containedEntry(stored, 'quarantine-function')).toMatchObject({
      before: { reservedConcurrency: 'unreserved' },
      after: { reservedConcurrency: 0 },
    });
    expectChained(stored);
  });
});

describe('a bucket whose public access was blocked with approval', () => {
  it('has all four public access block settings on, and the ledger says it had none', async () => {
    const bucket = await seedPublicBucket();

    const incidentId = await contained(bucketFinding(bucket));

    const out = await s3.send(new GetPublicAccessBlockCommand({ Bucket: bucket.name }));
    expect(out.PublicAccessBlockConfiguration).toEqual({
      BlockPublicAcls: true,
      IgnorePublicAcls: true,
      BlockPublicPolicy: true,
      RestrictPublicBuckets: true,
    });
    const stored = await storedEntries(incidentId);
    expect(containedEntry(stored, 'block-public-access')).toMatchObject({
      before: { configuration: null },
      after: {
        configuration: {
          BlockPublicAcls: true,
          IgnorePublicAcls: true,
          BlockPublicPolicy: true,
          RestrictPublicBuckets: true,
        },
      },
    });
    expectChained(stored);
  });
});

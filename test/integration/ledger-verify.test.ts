/**
 * Integration (moto): `cordon ledger verify` against a real ledger table, a
 * real KMS HMAC key, the table's real stream and a real Object Lock bucket.
 *
 * Entries are written through the Ledger class (the code every function
 * appends with, MACs from the KMS key); the table's stream records are read
 * with the DynamoDB Streams API and handed to the anchor function's core,
 * which writes the anchors to the locked bucket. Each test then attacks as
 * someone with DynamoDB write access but not the ledger key would (moto
 * evaluates no resource policy, so these are the attacks that get past the
 * table's policy: test/infra/ledger-policy.test.ts shows it denying them),
 * and checks that verify names exactly the incident and entry, and exits 7.
 * One run goes through the `cordon` binary itself, for its exit status.
 */
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import {
  CreateTableCommand,
  DeleteItemCommand,
  DescribeTableCommand,
  DynamoDBClient,
  UpdateItemCommand,
  waitUntilTableExists,
} from '@aws-sdk/client-dynamodb';
import {
  DescribeStreamCommand,
  DynamoDBStreamsClient,
  GetRecordsCommand,
  GetShardIteratorCommand,
} from '@aws-sdk/client-dynamodb-streams';
import {
  CreateBucketCommand,
  DeleteObjectCommand,
  ListObjectVersionsCommand,
  PutObjectCommand,
  PutObjectLockConfigurationCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import { CreateTopicCommand, PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import { PutCommand } from '@aws-sdk/lib-dynamodb';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import { EXIT_BROKEN, ledgerCommand, type VerifyReport } from '../../cli/ledger.js';
import { anchorRecords, type StreamEvent } from '../../functions/anchor/core.js';
import { clientOptions, documentClient, s3ClientOptions } from '../../functions/shared/aws.js';
import {
  entryHash,
  GENESIS_HASH,
  Ledger,
  type LedgerEntry,
  type LedgerEntryInput,
} from '../../functions/shared/ledger.js';
import { KmsLedgerMac } from '../../functions/shared/ledger-mac.js';
import { REPO_ROOT } from '../../rehearsal/synth.js';
import { ensureLedgerKey, TEST_LEDGER_KEY } from '../support/ledger-mac.js';
import { useMoto } from '../support/moto.js';
import { forms } from '../support/notices.js';

const { endpoint } = useMoto();

const TABLE = 'cordon-ledger';
const BUCKET = 'cordon-anchors';
const ALPHA = 'inc-aaaaaaaaaaaaaaaaaaaa';
const BRAVO = 'inc-bbbbbbbbbbbbbbbbbbbb';
const ACTOR = 'arn:aws:iam::123456789012:role/cordon/DisableAccessKey';
const ANCHOR_ROLE = 'arn:aws:iam::123456789012:role/cordon/Anchor';
const KEY_ARN = 'arn:aws:iam::123456789012:user/alice';

const ddb = () => new DynamoDBClient(clientOptions);
const s3 = () => new S3Client(s3ClientOptions());

async function createLedgerTable(): Promise<void> {
  const client = ddb();
  await client.send(
    new CreateTableCommand({
      TableName: TABLE,
      KeySchema: [
        { AttributeName: 'incidentId', KeyType: 'HASH' },
        { AttributeName: 'seq', KeyType: 'RANGE' },
      ],
      AttributeDefinitions: [
        { AttributeName: 'incidentId', AttributeType: 'S' },
        { AttributeName: 'seq', AttributeType: 'N' },
      ],
      BillingMode: 'PAY_PER_REQUEST',
      StreamSpecification: { StreamEnabled: true, StreamViewType: 'NEW_AND_OLD_IMAGES' },
    }),
  );
  await waitUntilTableExists({ client, maxWaitTime: 30 }, { TableName: TABLE });
}

/** The anchors bucket as the stack creates it: Object Lock, compliance mode by default. */
async function createAnchorsBucket(): Promise<void> {
  await s3().send(new CreateBucketCommand({ Bucket: BUCKET, ObjectLockEnabledForBucket: true }));
  await s3().send(
    new PutObjectLockConfigurationCommand({
      Bucket: BUCKET,
      ObjectLockConfiguration: {
        ObjectLockEnabled: 'Enabled',
        Rule: { DefaultRetention: { Mode: 'COMPLIANCE', Days: 1 } },
      },
    }),
  );
}

/** Stream records already handed to the anchor function, by event id. */
let delivered: Set<string>;
let sns: SNSClient;
let topicArn: string;

/**
 * Delivers every stream record not delivered yet to the anchor function's
 * core, as Lambda's event source mapping would, in the shape Lambda gives it.
 */
async function pumpStream(): Promise<{ anchored: number; tampering: number }> {
  const table = await ddb().send(new DescribeTableCommand({ TableName: TABLE }));
  const streamArn = table.Table?.LatestStreamArn;
  if (!streamArn) throw new Error('the ledger table has no stream');
  const streams = new DynamoDBStreamsClient(clientOptions);
  const stream = await streams.send(new DescribeStreamCommand({ StreamArn: streamArn }));
  const records: StreamEvent['Records'] = [];
  for (const shard of stream.StreamDescription?.Shards ?? []) {
    const iterator = await streams.send(
      new GetShardIteratorCommand({
        StreamArn: streamArn,
        ShardId: shard.ShardId,
        ShardIteratorType: 'TRIM_HORIZON',
      }),
    );
    const page = await streams.send(
      new GetRecordsCommand({ ShardIterator: iterator.ShardIterator, Limit: 1000 }),
    );
    for (const r of page.Records ?? []) {
      if (!r.eventID || delivered.has(r.eventID)) continue;
      delivered.add(r.eventID);
      const when = r.dynamodb?.ApproximateCreationDateTime;
      records.push(
        JSON.parse(
          JSON.stringify({
            eventID: r.eventID,
            eventName: r.eventName,
            dynamodb: {
              Keys: r.dynamodb?.Keys,
              NewImage: r.dynamodb?.NewImage,
              OldImage: r.dynamodb?.OldImage,
              ...(when ? { ApproximateCreationDateTime: Math.floor(when.getTime() / 1000) } : {}),
            },
          }),
        ),
      );
    }
  }
  return anchorRecords(
    { Records: records },
    { s3: s3(), sns, bucket: BUCKET, topicArn, actor: ANCHOR_ROLE },
  );
}

const step = (outcome: string, extra: Partial<LedgerEntryInput> = {}): LedgerEntryInput => ({
  step: 'disableAccessKey',
  action: 'disable-access-key',
  actor: ACTOR,
  outcome,
  targetArn: KEY_ARN,
  mode: 'auto',
  ...extra,
});

/** An incident as the functions write it: claimed, contained, updated, notified. */
async function writeIncident(ledger: Ledger, incidentId: string): Promise<void> {
  await ledger.claim(incidentId, step('CLAIMED', { step: 'triage', action: 'triage' }));
  await ledger.append(
    incidentId,
    step('CONTAINED', {
      before: { accessKeyId: 'AKIAEXAMPLE', status: 'Active' },
      after: { accessKeyId: 'AKIAEXAMPLE', status: 'Inactive' },
      detail: { tags: [], attempts: 1 },
    }),
  );
  await ledger.append(incidentId, step('NOTIFIED', { step: 'playbook', action: 'update-finding' }));
  await ledger.append(incidentId, step('NOTIFIED', { step: 'playbook', action: 'notify' }));
}

/** Runs `cordon ledger verify --json` in-process; returns its exit status and report. */
async function verify(...args: string[]): Promise<{ code: number; report: VerifyReport }> {
  const printed: string[] = [];
  const anchors = args.includes('--skip-anchors') ? [] : ['--anchors', BUCKET];
  const flags = ['--table', TABLE, '--key', TEST_LEDGER_KEY, ...anchors, '--json'];
  const code = await ledgerCommand(['verify', ...flags, ...args], {
    print: (text) => printed.push(text),
  });
  return { code, report: JSON.parse(printed.join('\n')) as VerifyReport };
}

const key = (incidentId: string, seq: number) => ({
  incidentId: { S: incidentId },
  seq: { N: String(seq) },
});

/** The ledger as every function builds it: MACs from the KMS key. */
const keyedLedger = () =>
  new Ledger({
    client: documentClient(),
    tableName: TABLE,
    now: () => new Date(),
    mac: new KmsLedgerMac(TEST_LEDGER_KEY),
  });

/**
 * Re-chains `entries` from the one at `from` on: each re-hashed onto the one
 * before, as someone with PutItem and no ledger key would, keeping the MAC
 * each had (a MAC it cannot compute).
 */
function rehashForward(entries: readonly LedgerEntry[], from: number): LedgerEntry[] {
  const out: LedgerEntry[] = [];
  for (const e of entries) {
    if (e.seq < from) {
      out.push(e);
      continue;
    }
    const { hash: _hash, mac, ...content } = e;
    const body = { ...content, prevHash: out.at(-1)?.hash ?? GENESIS_HASH };
    out.push({ ...body, hash: entryHash(body), ...(mac ? { mac } : {}) });
  }
  return out;
}

const putItems = async (items: readonly LedgerEntry[]) => {
  for (const Item of items) await documentClient().send(new PutCommand({ TableName: TABLE, Item }));
};

describe('cordon ledger verify (moto)', () => {
  let published: ReturnType<typeof vi.fn<(command: unknown) => void>>;

  beforeEach(async () => {
    delivered = new Set();
    sns = new SNSClient(clientOptions);
    topicArn = (await sns.send(new CreateTopicCommand({ Name: 'cordon' }))).TopicArn ?? '';
    published = vi.fn<(command: unknown) => void>();
    const send = sns.send.bind(sns);
    vi.spyOn(sns, 'send').mockImplementation(((command: unknown) => {
      published(command);
      return send(command as PublishCommand);
    }) as typeof sns.send);
    await createLedgerTable();
    await createAnchorsBucket();
    await ensureLedgerKey();
    const ledger = keyedLedger();
    await writeIncident(ledger, ALPHA);
    await writeIncident(ledger, BRAVO);
    expect(await pumpStream()).toEqual({ anchored: 8, tampering: 0 });
  });

  const notifications = () =>
    published.mock.calls
      .map(([command]) => command)
      .filter((c): c is PublishCommand => c instanceof PublishCommand)
      .map((c) => forms(c.input).text);

  it('finds every chain, MAC and anchor intact and exits 0', async () => {
    const { code, report } = await verify();
    expect(code).toBe(0);
    expect(report).toEqual({
      table: TABLE,
      key: TEST_LEDGER_KEY,
      anchors: BUCKET,
      intact: true,
      incidents: [
        { incidentId: ALPHA, entries: 4, status: 'OK', unanchored: 0 },
        { incidentId: BRAVO, entries: 4, status: 'OK', unanchored: 0 },
      ],
    });
  });

  it('reports an entry rewritten and re-hashed forward without the key at that entry, and the stream notifies the rewrite', async () => {
    // Arrange: the attacker turns #1 into "nothing was done" and re-hashes
    // #1 to #3 so the chain holds again; the MACs are the old ones.
    const entries = await keyedLedger().entries(ALPHA);
    const edited = entries.map((e) => (e.seq === 1 ? { ...e, outcome: 'NOT_ACTED_ON' } : e));
    await putItems(rehashForward(edited, 1).slice(1));

    // Act
    const pumped = await pumpStream();
    const { code, report } = await verify();

    // Assert
    expect(code).toBe(EXIT_BROKEN);
    expect(report.incidents).toEqual([
      {
        incidentId: ALPHA,
        entries: 4,
        status: 'BROKEN',
        broken: {
          seq: 1,
          kind: 'forged',
          reason: "its MAC does not verify: written or rewritten without Cordon's ledger key",
        },
        unanchored: 0,
      },
      { incidentId: BRAVO, entries: 4, status: 'OK', unanchored: 0 },
    ]);
    expect(pumped).toEqual({ anchored: 0, tampering: 3 });
    expect(notifications()[0]).toContain(`ledger entry #1 of ${ALPHA} was rewritten`);
  });

  it('reports a rewrite that kept the MAC valid (a Cordon role re-sealing) as rewritten against its anchor', async () => {
    // Arrange: a compromised Cordon function holds GenerateMac: it rewrites
    // #2 through the Ledger's own sealing, so chain and MACs hold.
    const entries = await keyedLedger().entries(BRAVO);
    const mac = new KmsLedgerMac(TEST_LEDGER_KEY);
    const forged: LedgerEntry[] = [];
    for (const e of entries) {
      if (e.seq < 2) {
        forged.push(e);
        continue;
      }
      const { hash: _h, mac: _m, ...content } = e;
      const body = {
        ...content,
        ...(e.seq === 2 ? { summary: 'nothing happened' } : {}),
        prevHash: forged.at(-1)?.hash ?? GENESIS_HASH,
      };
      const hash = entryHash(body);
      forged.push({ ...body, hash, mac: await mac.generate(hash) });
    }
    await putItems(forged.slice(2));

    // Act
    const { code, report } = await verify('--incident', BRAVO);

    // Assert: the anchors, written before the rewrite, still hold the old hash.
    expect(code).toBe(EXIT_BROKEN);
    expect(report.incidents).toEqual([
      expect.objectContaining({
        incidentId: BRAVO,
        status: 'BROKEN',
        broken: expect.objectContaining({ seq: 2, kind: 'rewritten' }),
      }),
    ]);
  });

  it('reports a cut-off tail at the first anchored entry that is gone', async () => {
    // Arrange: the last two entries of ALPHA deleted; what is left chains and verifies.
    await ddb().send(new DeleteItemCommand({ TableName: TABLE, Key: key(ALPHA, 3) }));
    await ddb().send(new DeleteItemCommand({ TableName: TABLE, Key: key(ALPHA, 2) }));

    // Act
    const withoutAnchors = await verify('--incident', ALPHA, '--skip-anchors');
    const pumped = await pumpStream();
    const { code, report } = await verify('--incident', ALPHA);

    // Assert: the chain alone is fooled, which is why the anchors exist.
    expect(withoutAnchors.code).toBe(0);
    expect(pumped).toEqual({ anchored: 0, tampering: 2 });
    expect(code).toBe(EXIT_BROKEN);
    expect(report.incidents).toEqual([
      {
        incidentId: ALPHA,
        entries: 2,
        status: 'BROKEN',
        broken: {
          seq: 2,
          kind: 'truncated',
          reason: expect.stringMatching(
            /^entry #2 was anchored at \S+ but is gone: the entries after #1 were cut off$/,
          ),
        },
        unanchored: 0,
      },
    ]);
    expect(notifications()).toEqual([
      expect.stringContaining(`ledger entry #3 of ${ALPHA} was deleted`),
      expect.stringContaining(`ledger entry #2 of ${ALPHA} was deleted`),
    ]);
  });

  it('reports an incident deleted whole, which only its anchors still name', async () => {
    for (const seq of [0, 1, 2, 3]) {
      await ddb().send(new DeleteItemCommand({ TableName: TABLE, Key: key(BRAVO, seq) }));
    }

    const { code, report } = await verify();

    expect(code).toBe(EXIT_BROKEN);
    expect(report.incidents).toEqual([
      { incidentId: ALPHA, entries: 4, status: 'OK', unanchored: 0 },
      {
        incidentId: BRAVO,
        entries: 0,
        status: 'BROKEN',
        broken: {
          seq: 0,
          kind: 'deleted',
          reason: 'the incident was deleted: 4 entries anchored, none left in the table',
        },
        unanchored: 0,
      },
    ]);
    // And asked for by id, the deleted incident is not "unknown" (5) but broken (7).
    expect((await verify('--incident', BRAVO)).code).toBe(EXIT_BROKEN);
  });

  it('keeps the anchors: a locked version cannot be deleted, and neither a delete marker nor an overwrite hides it', async () => {
    // Arrange
    const versions = await s3().send(
      new ListObjectVersionsCommand({ Bucket: BUCKET, Prefix: `anchors/${ALPHA}/` }),
    );
    const [first] = versions.Versions ?? [];
    if (!first?.Key || !first.VersionId) throw new Error('no anchor');

    // Act
    const deleteVersion = s3().send(
      new DeleteObjectCommand({ Bucket: BUCKET, Key: first.Key, VersionId: first.VersionId }),
    );
    await expect(deleteVersion).rejects.toMatchObject({ name: 'AccessDenied' });
    await s3().send(new DeleteObjectCommand({ Bucket: BUCKET, Key: first.Key }));
    await s3().send(new PutObjectCommand({ Bucket: BUCKET, Key: first.Key, Body: '{}' }));
    await ddb().send(new DeleteItemCommand({ TableName: TABLE, Key: key(ALPHA, 3) }));

    // Assert: the anchors still show the cut.
    const { report } = await verify('--incident', ALPHA);
    expect(report.incidents[0]?.broken).toMatchObject({ seq: 3, kind: 'truncated' });
  });

  it('reports an entry MACed for one incident and replayed into another', async () => {
    // Arrange: ALPHA's #1, with its valid MAC, re-labelled as BRAVO's #4 and re-hashed onto BRAVO's #3.
    const alpha = await keyedLedger().entries(ALPHA);
    const bravo = await keyedLedger().entries(BRAVO);
    const one = alpha[1];
    const last = bravo.at(-1);
    if (!one || !last) throw new Error('short ledger');
    const { hash: _hash, mac, ...content } = one;
    const body = { ...content, incidentId: BRAVO, seq: 4, prevHash: last.hash };
    await putItems([{ ...body, hash: entryHash(body), ...(mac ? { mac } : {}) }]);

    const { code, report } = await verify('--incident', BRAVO, '--skip-anchors');

    expect(code).toBe(EXIT_BROKEN);
    expect(report.incidents[0]?.broken).toMatchObject({ seq: 4, kind: 'forged' });
  });

  it('names exactly the incident and entry edited with UpdateItem', async () => {
    await ddb().send(
      new UpdateItemCommand({
        TableName: TABLE,
        Key: key(BRAVO, 1),
        UpdateExpression: 'SET outcome = :o',
        ExpressionAttributeValues: { ':o': { S: 'NOT_ACTED_ON' } },
      }),
    );
    const { code, report } = await verify();
    expect(code).toBe(EXIT_BROKEN);
    expect(report.incidents[1]).toEqual({
      incidentId: BRAVO,
      entries: 4,
      status: 'BROKEN',
      broken: { seq: 1, kind: 'edited', reason: 'its content does not match its hash' },
      unanchored: 0,
    });
  });

  it('verifies one incident with --incident, and refuses one with no entries and no anchors (exit 5)', async () => {
    const { code, report } = await verify('--incident', BRAVO);
    expect(code).toBe(0);
    expect(report.incidents).toEqual([
      { incidentId: BRAVO, entries: 4, status: 'OK', unanchored: 0 },
    ]);
    await expect(verify('--incident', 'inc-cccccccccccccccccccc')).rejects.toMatchObject({
      exitCode: 5,
      message: `no ledger entries for inc-cccccccccccccccccccc in ${TABLE}`,
    });
  });

  it('exits 7 from the cordon binary, with one line per incident', async () => {
    await ddb().send(new DeleteItemCommand({ TableName: TABLE, Key: key(ALPHA, 3) }));
    const run = promisify(execFile);
    const bin = join(REPO_ROOT, 'cli', 'bin.ts');
    const tsx = join(REPO_ROOT, 'node_modules', '.bin', 'tsx');
    const result = await run(tsx, [bin, 'ledger', 'verify'], {
      cwd: REPO_ROOT,
      env: {
        ...process.env,
        AWS_ENDPOINT_URL: endpoint,
        CORDON_LEDGER_TABLE: TABLE,
        CORDON_LEDGER_KEY: TEST_LEDGER_KEY,
        CORDON_LEDGER_ANCHORS: BUCKET,
        NO_COLOR: '1',
      },
    }).then(
      () => ({ code: 0, stdout: '' }),
      (error: { code?: number; stdout?: string }) => ({
        code: error.code,
        stdout: error.stdout ?? '',
      }),
    );
    expect(result.code).toBe(EXIT_BROKEN);
    const lines = result.stdout.trim().split('\n');
    expect(lines).toEqual([
      expect.stringMatching(
        new RegExp(
          `^${ALPHA}  BROKEN  at #3: truncated: entry #3 was anchored at \\S+ but is gone: the entries after #2 were cut off$`,
        ),
      ),
      `${BRAVO}  OK      4 entries`,
      `2 incidents in ${TABLE}: 1 broken, 1 intact`,
    ]);
  }, 60_000);
});

/**
 * Integration (moto): `cordon ledger verify` against a real ledger table.
 *
 * Entries are written through the Ledger class (the code every function
 * appends with); the test then tampers with one entry directly, as someone
 * with DynamoDB write access would, and checks that verify names exactly
 * that incident and sequence number, and exits 7. One run goes through the
 * `cordon` binary itself, for its exit status.
 */
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import {
  CreateTableCommand,
  DeleteItemCommand,
  DynamoDBClient,
  UpdateItemCommand,
  waitUntilTableExists,
} from '@aws-sdk/client-dynamodb';
import { PutCommand } from '@aws-sdk/lib-dynamodb';
import { beforeEach, describe, expect, it } from 'vitest';
import { EXIT_BROKEN, ledgerCommand, type VerifyReport } from '../../cli/ledger.js';
import { clientOptions, documentClient } from '../../functions/shared/aws.js';
import { entryHash, Ledger, type LedgerEntryInput } from '../../functions/shared/ledger.js';
import { REPO_ROOT } from '../../rehearsal/synth.js';
import { useMoto } from '../support/moto.js';

const { endpoint } = useMoto();

const TABLE = 'cordon-ledger';
const ALPHA = 'inc-aaaaaaaaaaaaaaaaaaaa';
const BRAVO = 'inc-bbbbbbbbbbbbbbbbbbbb';
const ACTOR = 'arn:aws:iam::123456789012:role/cordon/DisableAccessKey';
const KEY_ARN = 'arn:aws:iam::123456789012:user/alice';

const ddb = () => new DynamoDBClient(clientOptions);

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
    }),
  );
  await waitUntilTableExists({ client, maxWaitTime: 30 }, { TableName: TABLE });
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
  const code = await ledgerCommand(['verify', '--table', TABLE, '--json', ...args], {
    print: (text) => printed.push(text),
  });
  return { code, report: JSON.parse(printed.join('\n')) as VerifyReport };
}

const key = (incidentId: string, seq: number) => ({
  incidentId: { S: incidentId },
  seq: { N: String(seq) },
});

describe('cordon ledger verify (moto)', () => {
  beforeEach(async () => {
    await createLedgerTable();
    const ledger = new Ledger({
      client: documentClient(),
      tableName: TABLE,
      now: () => new Date(),
    });
    await writeIncident(ledger, ALPHA);
    await writeIncident(ledger, BRAVO);
  });

  it('finds every chain intact and exits 0', async () => {
    const { code, report } = await verify();
    expect(code).toBe(0);
    expect(report).toEqual({
      table: TABLE,
      intact: true,
      incidents: [
        { incidentId: ALPHA, entries: 4, status: 'OK' },
        { incidentId: BRAVO, entries: 4, status: 'OK' },
      ],
    });
  });

  it('names exactly the incident and entry edited with UpdateItem, and exits 7', async () => {
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
    expect(report.intact).toBe(false);
    expect(report.incidents).toEqual([
      { incidentId: ALPHA, entries: 4, status: 'OK' },
      {
        incidentId: BRAVO,
        entries: 4,
        status: 'BROKEN',
        broken: { seq: 1, kind: 'edited', reason: 'its content does not match its hash' },
      },
    ]);
  });

  it('names a deleted middle entry as missing', async () => {
    await ddb().send(new DeleteItemCommand({ TableName: TABLE, Key: key(ALPHA, 2) }));
    const { code, report } = await verify();
    expect(code).toBe(EXIT_BROKEN);
    expect(report.incidents.filter((v) => v.status === 'BROKEN')).toEqual([
      {
        incidentId: ALPHA,
        entries: 3,
        status: 'BROKEN',
        broken: { seq: 2, kind: 'missing', reason: 'entry #2 is missing' },
      },
    ]);
  });

  it('catches an entry replaced with PutItem and re-hashed, at the link after it', async () => {
    const ledger = new Ledger({
      client: documentClient(),
      tableName: TABLE,
      now: () => new Date(),
    });
    const [, , two] = await ledger.entries(ALPHA);
    if (!two) throw new Error('no entry #2');
    const { hash: _hash, ...body } = { ...two, summary: 'nothing to see' };
    await documentClient().send(
      new PutCommand({ TableName: TABLE, Item: { ...body, hash: entryHash(body) } }),
    );
    const { code, report } = await verify('--incident', ALPHA);
    expect(code).toBe(EXIT_BROKEN);
    expect(report.incidents).toEqual([
      expect.objectContaining({
        incidentId: ALPHA,
        status: 'BROKEN',
        broken: expect.objectContaining({ seq: 3, kind: 'reordered' }),
      }),
    ]);
  });

  it('verifies one incident with --incident, and refuses one with no entries (exit 5)', async () => {
    await ddb().send(new DeleteItemCommand({ TableName: TABLE, Key: key(ALPHA, 0) }));
    const { code, report } = await verify('--incident', BRAVO);
    expect(code).toBe(0);
    expect(report.incidents).toEqual([{ incidentId: BRAVO, entries: 4, status: 'OK' }]);
    await expect(verify('--incident', 'inc-cccccccccccccccccccc')).rejects.toMatchObject({
      exitCode: 5,
      message: `no ledger entries for inc-cccccccccccccccccccc in ${TABLE}`,
    });
  });

  it('exits 7 from the cordon binary, with one line per incident', async () => {
    await ddb().send(
      new UpdateItemCommand({
        TableName: TABLE,
        Key: key(ALPHA, 3),
        UpdateExpression: 'SET summary = :s',
        ExpressionAttributeValues: { ':s': { S: 'edited by hand' } },
      }),
    );
    const run = promisify(execFile);
    const bin = join(REPO_ROOT, 'cli', 'bin.ts');
    const tsx = join(REPO_ROOT, 'node_modules', '.bin', 'tsx');
    const result = await run(tsx, [bin, 'ledger', 'verify'], {
      cwd: REPO_ROOT,
      env: {
        ...process.env,
        AWS_ENDPOINT_URL: endpoint,
        CORDON_LEDGER_TABLE: TABLE,
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
      `${ALPHA}  BROKEN  at #3: edited: its content does not match its hash`,
      `${BRAVO}  OK      4 entries`,
      `2 incidents in ${TABLE}: 1 broken, 1 intact`,
    ]);
  }, 60_000);
});

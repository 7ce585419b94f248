/**
 * `cordon ledger verify` without AWS: where the table name comes from,
 * pagination, usage errors, read errors, MACs, anchors, and the human
 * output. The chain check itself: test/functions/shared/ledger-chain.test.ts;
 * against a real table, key and bucket: test/integration/ledger-verify.test.ts.
 */
import 'aws-sdk-client-mock-vitest/extend';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { ListObjectVersionsCommand, S3Client } from '@aws-sdk/client-s3';
import { DynamoDBDocumentClient, QueryCommand, ScanCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import {
  formatVerify,
  type LedgerDeps,
  ledgerCommand,
  NO_ANCHORS,
  NO_KEY,
  NO_TABLE,
  resolveTable,
} from '../../cli/ledger.js';
import { anchorKey } from '../../functions/anchor/contract.js';
import { entryHash, GENESIS_HASH, type LedgerEntry } from '../../functions/shared/ledger.js';
import { fakeLedgerMac, fakeMacOf } from '../support/ledger-mac.js';

const INCIDENT = 'inc-0123456789abcdef0123';

function chain(incidentId: string, n: number): LedgerEntry[] {
  const out: LedgerEntry[] = [];
  for (let seq = 0; seq < n; seq++) {
    const body = {
      incidentId,
      seq,
      at: '2024-05-01T12:00:00.000Z',
      step: 'triage',
      action: 'triage',
      actor: 'arn:aws:iam::123456789012:role/cordon/Triage',
      outcome: 'CLAIMED',
      prevHash: out[seq - 1]?.hash ?? GENESIS_HASH,
    };
    const hash = entryHash(body);
    out.push({ ...body, hash, mac: fakeMacOf(hash) });
  }
  return out;
}

const ddbMock = mockClient(DynamoDBDocumentClient);
const s3Mock = mockClient(S3Client);

/** The listing of the anchors bucket holding `entries`' anchors. */
const listing = (entries: readonly LedgerEntry[]) => ({
  Versions: entries.map((e) => ({ Key: anchorKey(e), LastModified: new Date(e.at) })),
});
/** A fresh client per run: the command destroys the one it was given. */
const client = () => DynamoDBDocumentClient.from(new DynamoDBClient({ region: 'us-east-1' }));

function deps(overrides: Partial<LedgerDeps> = {}): Partial<LedgerDeps> {
  return {
    env: { CORDON_LEDGER_KEY: 'alias/ledger', CORDON_LEDGER_ANCHORS: 'anchors' },
    client,
    stackOutput: async () => undefined,
    mac: () => ({ ...fakeLedgerMac(), destroy: () => undefined }),
    s3: () => new S3Client({ region: 'us-east-1' }),
    ...overrides,
  };
}

async function run(argv: string[], d: Partial<LedgerDeps> = deps()) {
  const printed: string[] = [];
  const code = await ledgerCommand(argv, { print: (t) => printed.push(t), deps: d });
  return { code, out: printed.join('\n') };
}

beforeEach(() => {
  ddbMock.reset();
  s3Mock.reset();
  s3Mock.on(ListObjectVersionsCommand).resolves({ Versions: [] });
});

describe('resolveTable', () => {
  const output = async (stack: string, key: string) => `${stack}:${key}`;

  it('takes --table, else CORDON_LEDGER_TABLE, else the stack output LedgerTableName', async () => {
    const env = { CORDON_LEDGER_TABLE: 'from-env' };
    expect(await resolveTable({ table: 't' }, { env, stackOutput: output })).toBe('t');
    expect(await resolveTable({}, { env, stackOutput: output })).toBe('from-env');
    expect(await resolveTable({ stack: 'Prod' }, { env: {}, stackOutput: output })).toBe(
      'Prod:LedgerTableName',
    );
  });

  it('says where to look when no table is named anywhere (exit 2)', async () => {
    await expect(
      resolveTable({}, { env: {}, stackOutput: async () => undefined }),
    ).rejects.toMatchObject({ exitCode: 2, message: NO_TABLE });
  });
});

describe('cordon ledger verify', () => {
  it('scans every page, groups by incident, and exits 0 when every chain holds', async () => {
    const entries = chain(INCIDENT, 3);
    const other = chain('guardrail-breaker', 1);
    ddbMock
      .on(ScanCommand)
      .resolvesOnce({
        Items: [...entries.slice(0, 1), ...other],
        LastEvaluatedKey: { incidentId: 'x', seq: 0 },
      })
      .resolvesOnce({ Items: entries.slice(1).reverse() });
    s3Mock
      .on(ListObjectVersionsCommand, { Prefix: 'anchors/' })
      .resolves(listing([...entries, ...other]));
    const { code, out } = await run(['verify', '--table', 'ledger']);
    expect(code).toBe(0);
    expect(ddbMock).toHaveReceivedCommandTimes(ScanCommand, 2);
    expect(ddbMock).toHaveReceivedCommandWith(ScanCommand, {
      TableName: 'ledger',
      ConsistentRead: true,
    });
    expect(out.split('\n')).toEqual([
      'guardrail-breaker         OK      1 entry',
      `${INCIDENT}  OK      3 entries`,
      '2 incidents in ledger: every chain intact',
    ]);
  });

  it('queries only the incident with --incident, and exits 7 on a broken chain', async () => {
    const entries = chain(INCIDENT, 3).map((e) => (e.seq === 1 ? { ...e, outcome: 'X' } : e));
    ddbMock.on(QueryCommand).resolves({ Items: entries });
    const { code, out } = await run(
      ['verify', '--incident', INCIDENT, '--skip-anchors'],
      deps({ env: { CORDON_LEDGER_TABLE: 'l', CORDON_LEDGER_KEY: 'k' } }),
    );
    expect(code).toBe(7);
    expect(ddbMock).toHaveReceivedCommandWith(QueryCommand, {
      TableName: 'l',
      ExpressionAttributeValues: { ':pk': INCIDENT },
    });
    expect(ddbMock).not.toHaveReceivedCommand(ScanCommand);
    expect(out).toContain(
      `${INCIDENT}  BROKEN  at #1: edited: its content does not match its hash`,
    );
    expect(out).toContain('anchors NOT checked (--skip-anchors)');
  });

  it('reports an entry re-hashed without the ledger key as forged, and one without a MAC as unkeyed', async () => {
    // Arrange: #1 rewritten and every hash after it recomputed, as anyone with PutItem could.
    const entries = chain(INCIDENT, 3);
    const rehashed: LedgerEntry[] = [];
    for (const e of entries) {
      const { hash: _h, mac: _m, ...content } = e;
      const body = {
        ...content,
        ...(e.seq === 1 ? { outcome: 'NOT_ACTED_ON' } : {}),
        prevHash: rehashed.at(-1)?.hash ?? GENESIS_HASH,
      };
      rehashed.push({ ...body, hash: entryHash(body), ...(e.seq === 0 ? { mac: e.mac } : {}) });
    }
    ddbMock.on(QueryCommand).resolves({ Items: rehashed });
    const forger = fakeMacOf(rehashed[1]?.hash ?? '', 'a key of my own');
    const withForgedMac = rehashed.map((e) => (e.seq === 1 ? { ...e, mac: forger } : e));

    // Act
    const unkeyed = await run(['verify', '--incident', INCIDENT, '--table', 'l', '--skip-anchors']);
    ddbMock.on(QueryCommand).resolves({ Items: withForgedMac });
    const forged = await run(['verify', '--incident', INCIDENT, '--table', 'l', '--skip-anchors']);

    // Assert
    expect(unkeyed.code).toBe(7);
    expect(unkeyed.out).toContain(
      `${INCIDENT}  BROKEN  at #1: unkeyed: it has no MAC: written without the ledger key`,
    );
    expect(forged.code).toBe(7);
    expect(forged.out).toContain(
      `${INCIDENT}  BROKEN  at #1: forged: its MAC does not verify: written or rewritten without Cordon's ledger key`,
    );
  });

  it('reports a cut-off tail at the first anchored entry that is gone', async () => {
    // Arrange: five entries anchored, the last two deleted from the table.
    const entries = chain(INCIDENT, 5);
    ddbMock.on(QueryCommand).resolves({ Items: entries.slice(0, 3) });
    s3Mock
      .on(ListObjectVersionsCommand, { Prefix: `anchors/${INCIDENT}/` })
      .resolves(listing(entries));

    // Act
    const { code, out } = await run(['verify', '--incident', INCIDENT, '--table', 'l']);

    // Assert
    expect(code).toBe(7);
    expect(out).toContain(
      `${INCIDENT}  BROKEN  at #3: truncated: entry #3 was anchored at 2024-05-01T12:00:00.000Z but is gone: the entries after #2 were cut off`,
    );
  });

  it('reports an incident deleted whole, which only its anchors still name', async () => {
    const entries = chain(INCIDENT, 2);
    ddbMock.on(ScanCommand).resolves({ Items: [] });
    s3Mock.on(ListObjectVersionsCommand, { Prefix: 'anchors/' }).resolves(listing(entries));

    const { code, out } = await run(['verify', '--table', 'l']);

    expect(code).toBe(7);
    expect(out).toContain(
      `${INCIDENT}  BROKEN  at #0: deleted: the incident was deleted: 2 entries anchored, none left in the table`,
    );
  });

  it('will not verify without the key, nor without the anchors unless told to skip them (exit 2)', async () => {
    ddbMock.on(ScanCommand).resolves({ Items: chain(INCIDENT, 1) });
    await expect(
      run(['verify', '--table', 'l'], deps({ env: { CORDON_LEDGER_ANCHORS: 'a' } })),
    ).rejects.toMatchObject({ exitCode: 2, message: NO_KEY });
    await expect(
      run(['verify', '--table', 'l'], deps({ env: { CORDON_LEDGER_KEY: 'k' } })),
    ).rejects.toMatchObject({ exitCode: 2, message: NO_ANCHORS });
    await expect(
      run(['verify', '--table', 'l', '--anchors', 'a', '--skip-anchors']),
    ).rejects.toMatchObject({ exitCode: 2 });
  });

  it('refuses a missing subcommand and a malformed incident id (exit 2)', async () => {
    await expect(run([])).rejects.toMatchObject({ exitCode: 2 });
    await expect(run(['check'])).rejects.toMatchObject({ exitCode: 2 });
    await expect(run(['verify', '--incident', '../etc'])).rejects.toMatchObject({ exitCode: 2 });
  });

  it('reports a missing table (2) and a denied read (4) in one line', async () => {
    const named = (name: string) => Object.assign(new Error(name), { name });
    ddbMock.on(ScanCommand).rejects(named('ResourceNotFoundException'));
    await expect(run(['verify', '--table', 'gone'])).rejects.toMatchObject({
      exitCode: 2,
      message: 'ledger table gone not found (check --table and --region)',
    });
    ddbMock.reset();
    ddbMock.on(ScanCommand).rejects(named('AccessDeniedException'));
    await expect(run(['verify', '--table', 'ledger'])).rejects.toMatchObject({
      exitCode: 4,
      message:
        'not permitted to read ledger table ledger: verify needs dynamodb:Scan and dynamodb:Query on it',
    });
  });
});

describe('formatVerify', () => {
  it('says so when there is nothing to verify', () => {
    expect(formatVerify({ table: 't', key: 'k', anchors: 'a', intact: true, incidents: [] })).toBe(
      '0 incidents in t: every chain intact',
    );
  });
});

/**
 * `cordon ledger verify` without AWS: where the table name comes from,
 * pagination, usage errors, read errors, and the human output. The chain
 * check itself: test/functions/shared/ledger-chain.test.ts; against a real
 * table: test/integration/ledger-verify.test.ts.
 */
import 'aws-sdk-client-mock-vitest/extend';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, QueryCommand, ScanCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import {
  formatVerify,
  type LedgerDeps,
  ledgerCommand,
  NO_TABLE,
  resolveTable,
} from '../../cli/ledger.js';
import { entryHash, GENESIS_HASH, type LedgerEntry } from '../../functions/shared/ledger.js';

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
    out.push({ ...body, hash: entryHash(body) });
  }
  return out;
}

const ddbMock = mockClient(DynamoDBDocumentClient);
/** A fresh client per run: the command destroys the one it was given. */
const client = () => DynamoDBDocumentClient.from(new DynamoDBClient({ region: 'us-east-1' }));

function deps(overrides: Partial<LedgerDeps> = {}): Partial<LedgerDeps> {
  return {
    env: {},
    client,
    stackOutput: async () => undefined,
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
      ['verify', '--incident', INCIDENT],
      deps({ env: { CORDON_LEDGER_TABLE: 'l' } }),
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
    expect(formatVerify({ table: 't', intact: true, incidents: [] })).toBe(
      '0 incidents in t: every chain intact',
    );
  });
});

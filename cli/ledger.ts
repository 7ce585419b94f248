import { parseArgs } from 'node:util';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { type DynamoDBDocumentClient, QueryCommand, ScanCommand } from '@aws-sdk/lib-dynamodb';
import { z } from 'zod';
import { clientOptions, documentClient } from '../functions/shared/aws.js';
import {
  type ChainBreak,
  LEDGER_PARTITION_KEY,
  LEDGER_TABLE_OUTPUT,
  type LedgerEntry,
  verifyChain,
} from '../functions/shared/ledger.js';
import { describeStackOutput, EXIT, isCredentialsError, NO_CREDENTIALS } from './endpoint.js';
import { CliError } from './errors.js';
import { bold, green, red } from './format.js';

/**
 * `cordon ledger verify`: reads the ledger table directly, with the caller's
 * own credentials (dynamodb:Scan, or dynamodb:Query with --incident), and
 * checks every incident's hash chain (verifyChain in functions/shared/ledger.ts).
 */

export const LEDGER_USAGE =
  'usage: cordon ledger verify [--incident ID] [--json] [--table NAME] [--stack NAME] [--region REGION]';

/** Names the ledger table when --table does not. */
export const LEDGER_TABLE_ENV = 'CORDON_LEDGER_TABLE';

/** Exit status when any chain is broken. */
export const EXIT_BROKEN = 7;

/** The error when no table is configured anywhere. */
export const NO_TABLE = `no ledger table: pass --table, set ${LEDGER_TABLE_ENV}, or deploy the Cordon stack (output ${LEDGER_TABLE_OUTPUT})`;

/** What `ledger verify` talks to; tests replace these. */
export interface LedgerDeps {
  /** @default process.env */
  readonly env: NodeJS.ProcessEnv;
  /** A document client for the region (undefined: the SDK's own). */
  readonly client: (region?: string) => DynamoDBDocumentClient;
  /** The value of a stack output, or undefined. @default CloudFormation DescribeStacks */
  readonly stackOutput: (
    stack: string,
    output: string,
    region?: string,
  ) => Promise<string | undefined>;
}

export interface LedgerIO {
  /** @default console.log */
  readonly print?: (text: string) => void;
  readonly deps?: Partial<LedgerDeps>;
}

/** One incident's verdict. */
export interface IncidentVerdict {
  readonly incidentId: string;
  readonly entries: number;
  readonly status: 'OK' | 'BROKEN';
  /** The first broken link, when BROKEN. */
  readonly broken?: Omit<ChainBreak, 'incidentId'>;
}

/** What `--json` prints. */
export interface VerifyReport {
  readonly table: string;
  readonly intact: boolean;
  readonly incidents: readonly IncidentVerdict[];
}

const OPTIONS = {
  incident: { type: 'string' },
  table: { type: 'string' },
  stack: { type: 'string' },
  region: { type: 'string' },
  json: { type: 'boolean', default: false },
} as const;

/** Any ledger key: an incident id (`inc-…`) or a guardrail's (`guardrail-breaker`). */
const INCIDENT_KEY = /^[A-Za-z0-9][A-Za-z0-9:._-]{0,127}$/;

/**
 * The key attributes every item has. Anything else is the chain's to judge:
 * an item without its hash or prevHash does not match its hash (`edited`).
 */
const KeySchema = z.looseObject({ incidentId: z.string(), seq: z.number() });

function defaults(deps: Partial<LedgerDeps>): LedgerDeps {
  return {
    env: deps.env ?? process.env,
    client:
      deps.client ??
      ((region) =>
        documentClient(new DynamoDBClient({ ...clientOptions, ...(region ? { region } : {}) }))),
    stackOutput: deps.stackOutput ?? describeStackOutput,
  };
}

/** The ledger table: --table, else CORDON_LEDGER_TABLE, else the stack's LedgerTableName output. */
export async function resolveTable(
  options: { readonly table?: string; readonly stack?: string; readonly region?: string },
  deps: Pick<LedgerDeps, 'env' | 'stackOutput'>,
): Promise<string> {
  if (options.table) return options.table;
  const fromEnv = deps.env[LEDGER_TABLE_ENV];
  if (fromEnv) return fromEnv;
  const stack = options.stack ?? 'Cordon';
  let value: string | undefined;
  try {
    value = await deps.stackOutput(stack, LEDGER_TABLE_OUTPUT, options.region);
  } catch (error) {
    if (isCredentialsError(error)) throw new CliError(NO_CREDENTIALS, EXIT.noCredentials);
    const reason = error instanceof Error ? error.message : String(error);
    throw new CliError(`${NO_TABLE}; stack ${stack}: ${reason}`, EXIT.usage);
  }
  if (!value) throw new CliError(NO_TABLE, EXIT.usage);
  return value;
}

/** Every item of the table, or of one incident, page by page. */
async function readItems(
  client: DynamoDBDocumentClient,
  table: string,
  incident: string | undefined,
): Promise<Record<string, unknown>[]> {
  const items: Record<string, unknown>[] = [];
  let startKey: Record<string, unknown> | undefined;
  do {
    const page = await client.send(
      incident === undefined
        ? new ScanCommand({ TableName: table, ConsistentRead: true, ExclusiveStartKey: startKey })
        : new QueryCommand({
            TableName: table,
            KeyConditionExpression: '#pk = :pk',
            ExpressionAttributeNames: { '#pk': LEDGER_PARTITION_KEY },
            ExpressionAttributeValues: { ':pk': incident },
            ConsistentRead: true,
            ExclusiveStartKey: startKey,
          }),
    );
    items.push(...(page.Items ?? []));
    startKey = page.LastEvaluatedKey;
  } while (startKey);
  return items;
}

/** A read failure as the CLI reports it. */
function readError(error: unknown, table: string): CliError {
  if (isCredentialsError(error)) return new CliError(NO_CREDENTIALS, EXIT.noCredentials);
  const name = error instanceof Error ? error.name : '';
  if (name === 'ResourceNotFoundException') {
    return new CliError(`ledger table ${table} not found (check --table and --region)`, EXIT.usage);
  }
  if (name === 'AccessDeniedException' || name === 'UnrecognizedClientException') {
    return new CliError(
      `not permitted to read ledger table ${table}: verify needs dynamodb:Scan and dynamodb:Query on it`,
      EXIT.notPermitted,
    );
  }
  const reason = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
  return new CliError(`reading ledger table ${table}: ${reason}`, EXIT.failure);
}

/** Groups items by incident and checks each chain; incidents in id order. */
export function verifyItems(items: readonly Record<string, unknown>[]): IncidentVerdict[] {
  const byIncident = new Map<string, LedgerEntry[]>();
  for (const item of items) {
    const key = KeySchema.safeParse(item);
    if (!key.success) {
      throw new CliError(
        'not a Cordon ledger table: an item has no incidentId and seq',
        EXIT.usage,
      );
    }
    const entries = byIncident.get(key.data.incidentId) ?? [];
    byIncident.set(key.data.incidentId, entries);
    // Typed as an entry for verifyChain, which checks every field through the hash.
    entries.push(key.data as unknown as LedgerEntry);
  }
  return [...byIncident.entries()]
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([incidentId, entries]) => {
      const found = verifyChain(entries);
      return found
        ? {
            incidentId,
            entries: entries.length,
            status: 'BROKEN' as const,
            broken: { seq: found.seq, kind: found.kind, reason: found.reason },
          }
        : { incidentId, entries: entries.length, status: 'OK' as const };
    });
}

/** One line per incident, then a total. */
export function formatVerify(report: VerifyReport): string {
  const width = Math.max(0, ...report.incidents.map((v) => v.incidentId.length));
  const lines = report.incidents.map((v) => {
    const count = v.entries === 1 ? '1 entry' : `${v.entries} entries`;
    if (!v.broken) return `${v.incidentId.padEnd(width)}  ${green('OK')}      ${count}`;
    return `${v.incidentId.padEnd(width)}  ${red(bold('BROKEN'))}  at #${v.broken.seq}: ${v.broken.kind}: ${v.broken.reason}`;
  });
  const broken = report.incidents.filter((v) => v.status === 'BROKEN').length;
  const total =
    report.incidents.length === 1 ? '1 incident' : `${report.incidents.length} incidents`;
  lines.push(
    broken === 0
      ? `${total} in ${report.table}: every chain intact`
      : `${total} in ${report.table}: ${red(`${broken} broken`)}, ${report.incidents.length - broken} intact`,
  );
  return lines.join('\n');
}

/**
 * `cordon ledger verify`: exit 0 when every chain holds, EXIT_BROKEN (7)
 * when any is broken, 5 when --incident has no entries.
 */
export async function ledgerCommand(argv: string[], io: LedgerIO = {}): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    strict: true,
    options: OPTIONS,
  });
  const [sub, ...extra] = positionals;
  if (sub !== 'verify' || extra.length > 0) {
    throw new CliError(`say verify\n${LEDGER_USAGE}`, EXIT.usage);
  }
  const incident = values.incident;
  if (incident !== undefined && !INCIDENT_KEY.test(incident)) {
    throw new CliError(`--incident: "${incident}" is not a ledger incident id`, EXIT.usage);
  }
  const deps = defaults(io.deps ?? {});
  const table = await resolveTable(values, deps);
  const client = deps.client(values.region);
  let items: Record<string, unknown>[];
  try {
    items = await readItems(client, table, incident);
  } catch (error) {
    throw readError(error, table);
  } finally {
    client.destroy();
  }
  if (incident !== undefined && items.length === 0) {
    throw new CliError(`no ledger entries for ${incident} in ${table}`, EXIT.notFound);
  }
  const incidents = verifyItems(items);
  const report: VerifyReport = {
    table,
    intact: incidents.every((v) => v.status === 'OK'),
    incidents,
  };
  const print = io.print ?? ((text: string) => console.log(text));
  print(values.json ? JSON.stringify(report, null, 2) : formatVerify(report));
  return report.intact ? 0 : EXIT_BROKEN;
}

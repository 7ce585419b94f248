import { parseArgs } from 'node:util';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { KMSClient } from '@aws-sdk/client-kms';
import { S3Client } from '@aws-sdk/client-s3';
import { type DynamoDBDocumentClient, QueryCommand, ScanCommand } from '@aws-sdk/lib-dynamodb';
import { z } from 'zod';
import { ANCHORS_BUCKET_OUTPUT } from '../functions/anchor/contract.js';
import { clientOptions, documentClient, s3ClientOptions } from '../functions/shared/aws.js';
import {
  type ChainBreakKind,
  LEDGER_PARTITION_KEY,
  LEDGER_TABLE_OUTPUT,
  type LedgerEntry,
  verifyLedger,
} from '../functions/shared/ledger.js';
import { KmsLedgerMac, LEDGER_KEY_OUTPUT, type LedgerMac } from '../functions/shared/ledger-mac.js';
import { describeStackOutput, EXIT, isCredentialsError, NO_CREDENTIALS } from './endpoint.js';
import { CliError } from './errors.js';
import { bold, green, red, yellow } from './format.js';
import {
  type AnchorBreakKind,
  type AnchorIndex,
  compareAnchors,
  readAnchors,
} from './ledger-anchors.js';

/**
 * `cordon ledger verify`: reads the ledger table directly, with the caller's
 * own credentials (dynamodb:Scan, or dynamodb:Query with --incident), checks
 * every incident's hash chain and every entry's MAC with the ledger key
 * (kms:VerifyMac; verifyLedger in functions/shared/ledger.ts), then compares
 * the table with the anchors in the Object Lock bucket (s3:ListBucketVersions;
 * ./ledger-anchors.ts), which show what the chain cannot: a tail cut off,
 * an incident deleted whole. Without the anchors only `--skip-anchors`
 * verifies, and says so.
 */

export const LEDGER_USAGE =
  'usage: cordon ledger verify [--incident ID] [--json] [--table NAME] [--key KEY] [--anchors BUCKET | --skip-anchors] [--stack NAME] [--region REGION]';

/** Names the ledger table when --table does not. */
export const LEDGER_TABLE_ENV = 'CORDON_LEDGER_TABLE';
/** Names the ledger key when --key does not. */
export const LEDGER_KEY_ENV = 'CORDON_LEDGER_KEY';
/** Names the anchors bucket when --anchors does not. */
export const LEDGER_ANCHORS_ENV = 'CORDON_LEDGER_ANCHORS';

/** Exit status when any chain is broken. */
export const EXIT_BROKEN = 7;

/** The error when no table is configured anywhere. */
export const NO_TABLE = `no ledger table: pass --table, set ${LEDGER_TABLE_ENV}, or deploy the Cordon stack (output ${LEDGER_TABLE_OUTPUT})`;
/** The error when no key is configured anywhere: MACs are never skipped. */
export const NO_KEY = `no ledger key: pass --key, set ${LEDGER_KEY_ENV}, or deploy the Cordon stack (output ${LEDGER_KEY_OUTPUT})`;
/** The error when no anchors bucket is configured anywhere. */
export const NO_ANCHORS = `no anchors bucket: pass --anchors, set ${LEDGER_ANCHORS_ENV}, or deploy the Cordon stack (output ${ANCHORS_BUCKET_OUTPUT}); without anchors a cut-off tail or a deleted incident cannot be seen, so only --skip-anchors verifies without them`;

/** What `ledger verify` talks to; tests replace these. */
export interface LedgerDeps {
  /** @default process.env */
  readonly env: NodeJS.ProcessEnv;
  /** A document client for the region (undefined: the SDK's own). */
  readonly client: (region?: string) => DynamoDBDocumentClient;
  /** The ledger key's MAC check. @default KMS VerifyMac */
  readonly mac: (key: string, region?: string) => LedgerMac & { destroy(): void };
  /** An S3 client for the anchors bucket. */
  readonly s3: (region?: string) => S3Client;
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

/** What is wrong at an incident's first break: in its chain, its MACs, or against its anchors. */
export type BreakKind = ChainBreakKind | AnchorBreakKind;

/** One incident's verdict. */
export interface IncidentVerdict {
  readonly incidentId: string;
  readonly entries: number;
  readonly status: 'OK' | 'BROKEN';
  /** The first broken link, when BROKEN. */
  readonly broken?: { readonly seq: number; readonly kind: BreakKind; readonly reason: string };
  /** Entries the anchors do not hold yet (anchors checked only). */
  readonly unanchored?: number;
}

/** What `--json` prints. */
export interface VerifyReport {
  readonly table: string;
  readonly key: string;
  /** The anchors bucket compared with, or null with --skip-anchors. */
  readonly anchors: string | null;
  readonly intact: boolean;
  readonly incidents: readonly IncidentVerdict[];
}

const OPTIONS = {
  incident: { type: 'string' },
  table: { type: 'string' },
  key: { type: 'string' },
  anchors: { type: 'string' },
  'skip-anchors': { type: 'boolean', default: false },
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

/** A DynamoDB document client for the ledger's region (the SDK's default without one). */
export const ledgerClient = (region?: string) =>
  documentClient(new DynamoDBClient({ ...clientOptions, ...(region ? { region } : {}) }));

function defaults(deps: Partial<LedgerDeps>): LedgerDeps {
  return {
    env: deps.env ?? process.env,
    client: deps.client ?? ledgerClient,
    stackOutput: deps.stackOutput ?? describeStackOutput,
    mac:
      deps.mac ??
      ((key, region) =>
        new KmsLedgerMac(key, new KMSClient({ ...clientOptions, ...(region ? { region } : {}) }))),
    s3:
      deps.s3 ??
      ((region) => new S3Client({ ...s3ClientOptions(), ...(region ? { region } : {}) })),
  };
}

interface Setting {
  readonly flag: string | undefined;
  readonly env: string;
  readonly output: string;
  readonly missing: string;
}

/** A setting: its flag, else its environment variable, else the stack's output. */
async function resolveSetting(
  setting: Setting,
  options: { readonly stack?: string; readonly region?: string },
  deps: Pick<LedgerDeps, 'env' | 'stackOutput'>,
): Promise<string> {
  if (setting.flag) return setting.flag;
  const fromEnv = deps.env[setting.env];
  if (fromEnv) return fromEnv;
  const stack = options.stack ?? 'Cordon';
  let value: string | undefined;
  try {
    value = await deps.stackOutput(stack, setting.output, options.region);
  } catch (error) {
    if (isCredentialsError(error)) throw new CliError(NO_CREDENTIALS, EXIT.noCredentials);
    const reason = error instanceof Error ? error.message : String(error);
    throw new CliError(`${setting.missing}; stack ${stack}: ${reason}`, EXIT.usage);
  }
  if (!value) throw new CliError(setting.missing, EXIT.usage);
  return value;
}

/** The ledger table: --table, else CORDON_LEDGER_TABLE, else the stack's LedgerTableName output. */
export function resolveTable(
  options: { readonly table?: string; readonly stack?: string; readonly region?: string },
  deps: Pick<LedgerDeps, 'env' | 'stackOutput'>,
): Promise<string> {
  const setting = {
    flag: options.table,
    env: LEDGER_TABLE_ENV,
    output: LEDGER_TABLE_OUTPUT,
    missing: NO_TABLE,
  };
  return resolveSetting(setting, options, deps);
}

/** Every item of the table, or of one incident, page by page. */
export async function readItems(
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

/** A read failure as the CLI reports it; `needs` says what permission the command needs. */
export function readError(
  error: unknown,
  table: string,
  needs = 'verify needs dynamodb:Scan and dynamodb:Query on it',
): CliError {
  if (isCredentialsError(error)) return new CliError(NO_CREDENTIALS, EXIT.noCredentials);
  const name = error instanceof Error ? error.name : '';
  if (name === 'ResourceNotFoundException') {
    return new CliError(`ledger table ${table} not found (check --table and --region)`, EXIT.usage);
  }
  if (name === 'AccessDeniedException' || name === 'UnrecognizedClientException') {
    return new CliError(`not permitted to read ledger table ${table}: ${needs}`, EXIT.notPermitted);
  }
  const reason = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
  return new CliError(`reading ledger table ${table}: ${reason}`, EXIT.failure);
}

/** A failure to check MACs or read anchors, as the CLI reports it. */
function checkError(error: unknown, what: string, needs: string): CliError {
  if (error instanceof CliError) return error;
  if (isCredentialsError(error)) return new CliError(NO_CREDENTIALS, EXIT.noCredentials);
  const name = error instanceof Error ? error.name : '';
  if (name === 'AccessDeniedException' || name === 'AccessDenied') {
    return new CliError(`not permitted to read ${what}: verify needs ${needs}`, EXIT.notPermitted);
  }
  if (name === 'NotFoundException' || name === 'NoSuchBucket') {
    return new CliError(`${what} not found (check it and --region)`, EXIT.usage);
  }
  const reason = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
  return new CliError(`reading ${what}: ${reason}`, EXIT.failure);
}

/** Groups items by incident; incidents in id order. */
function byIncident(items: readonly Record<string, unknown>[]): Map<string, LedgerEntry[]> {
  const out = new Map<string, LedgerEntry[]>();
  for (const item of items) {
    const key = KeySchema.safeParse(item);
    if (!key.success) {
      throw new CliError(
        'not a Cordon ledger table: an item has no incidentId and seq',
        EXIT.usage,
      );
    }
    const entries = out.get(key.data.incidentId) ?? [];
    out.set(key.data.incidentId, entries);
    // Typed as an entry for verifyLedger, which checks every field through the hash and MAC.
    entries.push(key.data as unknown as LedgerEntry);
  }
  return out;
}

/**
 * Checks each incident's chain and MACs and, when given the anchors, its
 * entries against them; incidents that only the anchors know (deleted from
 * the table) included. The first break by sequence number is reported, the
 * chain's or MACs' at a tie.
 */
export async function verifyItems(
  items: readonly Record<string, unknown>[],
  mac: Pick<LedgerMac, 'verify'>,
  anchors?: AnchorIndex,
): Promise<IncidentVerdict[]> {
  const grouped = byIncident(items);
  const ids = new Set([
    ...grouped.keys(),
    ...(anchors?.anchors.keys() ?? []),
    ...(anchors?.tampering.keys() ?? []),
  ]);
  const verdicts: IncidentVerdict[] = [];
  for (const incidentId of [...ids].sort()) {
    const entries = grouped.get(incidentId) ?? [];
    const chain = await verifyLedger(entries, mac);
    const anchored = anchors
      ? compareAnchors(
          entries,
          anchors.anchors.get(incidentId) ?? [],
          anchors.tampering.get(incidentId) ?? [],
        )
      : undefined;
    const candidates = [chain, anchored?.broken].filter((b) => b !== undefined);
    const [first] = candidates.sort((a, b) => a.seq - b.seq);
    const unanchored = anchored ? { unanchored: anchored.unanchored } : {};
    verdicts.push(
      first
        ? {
            incidentId,
            entries: entries.length,
            status: 'BROKEN',
            broken: { seq: first.seq, kind: first.kind, reason: first.reason },
            ...unanchored,
          }
        : { incidentId, entries: entries.length, status: 'OK', ...unanchored },
    );
  }
  return verdicts;
}

/** One line per incident, then a total. */
export function formatVerify(report: VerifyReport): string {
  const width = Math.max(0, ...report.incidents.map((v) => v.incidentId.length));
  const lines = report.incidents.map((v) => {
    const count = v.entries === 1 ? '1 entry' : `${v.entries} entries`;
    const pending = v.unanchored ? ` (${v.unanchored} not anchored yet)` : '';
    if (!v.broken) return `${v.incidentId.padEnd(width)}  ${green('OK')}      ${count}${pending}`;
    return `${v.incidentId.padEnd(width)}  ${red(bold('BROKEN'))}  at #${v.broken.seq}: ${v.broken.kind}: ${v.broken.reason}`;
  });
  const broken = report.incidents.filter((v) => v.status === 'BROKEN').length;
  if (report.anchors === null) {
    lines.push(
      yellow(
        'anchors NOT checked (--skip-anchors): a cut-off tail or a deleted incident would pass unseen',
      ),
    );
  }
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
 * `cordon ledger verify`: exit 0 when every chain, MAC and anchor holds,
 * EXIT_BROKEN (7) when any does not, 5 when --incident has no entries and
 * no anchors.
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
  const skipAnchors = values['skip-anchors'];
  if (skipAnchors && values.anchors !== undefined) {
    throw new CliError(
      `--anchors and --skip-anchors contradict each other\n${LEDGER_USAGE}`,
      EXIT.usage,
    );
  }
  const deps = defaults(io.deps ?? {});
  const table = await resolveTable(values, deps);
  const key = await resolveSetting(
    { flag: values.key, env: LEDGER_KEY_ENV, output: LEDGER_KEY_OUTPUT, missing: NO_KEY },
    values,
    deps,
  );
  const bucket = skipAnchors
    ? undefined
    : await resolveSetting(
        {
          flag: values.anchors,
          env: LEDGER_ANCHORS_ENV,
          output: ANCHORS_BUCKET_OUTPUT,
          missing: NO_ANCHORS,
        },
        values,
        deps,
      );
  const client = deps.client(values.region);
  let items: Record<string, unknown>[];
  try {
    items = await readItems(client, table, incident);
  } catch (error) {
    throw readError(error, table);
  } finally {
    client.destroy();
  }
  let anchors: AnchorIndex | undefined;
  if (bucket !== undefined) {
    const s3 = deps.s3(values.region);
    try {
      anchors = await readAnchors(s3, bucket, incident);
    } catch (error) {
      throw checkError(error, `anchors bucket ${bucket}`, 's3:ListBucketVersions on it');
    } finally {
      s3.destroy();
    }
  }
  const noAnchors = !anchors || (anchors.anchors.size === 0 && anchors.tampering.size === 0);
  if (incident !== undefined && items.length === 0 && noAnchors) {
    throw new CliError(`no ledger entries for ${incident} in ${table}`, EXIT.notFound);
  }
  const mac = deps.mac(key, values.region);
  let incidents: IncidentVerdict[];
  try {
    incidents = await verifyItems(items, mac, anchors);
  } catch (error) {
    throw checkError(error, `ledger key ${key}`, 'kms:VerifyMac on it');
  } finally {
    mac.destroy();
  }
  const report: VerifyReport = {
    table,
    key,
    anchors: bucket ?? null,
    intact: incidents.every((v) => v.status === 'OK'),
    incidents,
  };
  const print = io.print ?? ((text: string) => console.log(text));
  print(values.json ? JSON.stringify(report, null, 2) : formatVerify(report));
  return report.intact ? 0 : EXIT_BROKEN;
}

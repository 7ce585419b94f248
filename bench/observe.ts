/**
 * What the rehearsal engine does not report, observed from outside it:
 *
 * - `tapExecutions()` wraps aws-local-stepfunctions' `StateMachine.run` so
 *   every execution's event log is also read here: states entered, retries
 *   (the engine's `states` lists a retried state once) and each Task
 *   attempt's duration. The engine still consumes every event unchanged.
 * - `startCountingProxy()` sits between the SDK clients and moto and counts
 *   every AWS request by service and operation (and DynamoDB write request
 *   units), so SNS publishes and ledger writes are counted, not inferred;
 *   and it keeps each STS AssumeRole request's role, session name and
 *   source identity, so spoke sessions are counted as STS received them.
 */
import '../rehearsal/polyfill.js';
import { Agent, createServer, request as httpRequest, type IncomingMessage } from 'node:http';
import { StateMachine } from 'aws-local-stepfunctions';
import { z } from 'zod';

type EventLog =
  ReturnType<StateMachine['run']>['eventLogs'] extends AsyncGenerator<infer E> ? E : never;

export interface ExecutionTrace {
  /** StateEntered events: every state entered once per visit. */
  entered: number;
  /** StateRetried events: each re-runs a state after an error. */
  retried: number;
  /** Task states entered. */
  taskEntered: number;
  /** Task states retried. */
  taskRetried: number;
  /** Duration of every finished Task attempt, in ms (event timestamps). */
  taskAttemptMs: number[];
}

const traces = new Map<string, ExecutionTrace>();
let tapped = false;

/** Starts recording every execution the engine runs, by execution ARN. Idempotent. */
export function tapExecutions(): void {
  if (tapped) return;
  tapped = true;
  const original = StateMachine.prototype.run;
  StateMachine.prototype.run = function run(this: StateMachine, input, options) {
    const execution = original.call(this, input, options);
    const id = options?.context?.Execution?.Id;
    // A Map's iterations run as machines of their own under the execution's
    // id; their events reach the execution's own log, counted there.
    if (typeof id !== 'string' || traces.has(id)) return execution;
    const trace: ExecutionTrace = {
      entered: 0,
      retried: 0,
      taskEntered: 0,
      taskRetried: 0,
      taskAttemptMs: [],
    };
    traces.set(id, trace);
    return { ...execution, eventLogs: observed(execution.eventLogs, trace) };
  };
}

/** The trace of one execution; taken once (the map does not grow through a burst). */
export function takeTrace(executionArn: string): ExecutionTrace {
  const trace = traces.get(executionArn);
  if (!trace) throw new Error(`no trace for ${executionArn}: was tapExecutions() called?`);
  traces.delete(executionArn);
  return trace;
}

async function* observed(
  source: AsyncGenerator<EventLog>,
  trace: ExecutionTrace,
): AsyncGenerator<EventLog> {
  const started = new Map<string, number>();
  for await (const event of source) {
    if ('state' in event && event.state.type === 'Task') {
      const name = event.state.name;
      if (event.type === 'StateEntered') {
        trace.taskEntered++;
        started.set(name, event.timestamp);
      } else if (event.type === 'StateRetried') {
        trace.taskRetried++;
        started.set(name, event.timestamp);
      } else if (event.type === 'StateExited' || event.type === 'StateFailed') {
        const from = started.get(name);
        if (from !== undefined) trace.taskAttemptMs.push(event.timestamp - from);
        started.delete(name);
      }
    }
    if (event.type === 'StateEntered') trace.entered++;
    if (event.type === 'StateRetried') trace.retried++;
    yield event;
  }
}

/** Requests by `service:Operation`, and DynamoDB write request units. */
export interface ApiCounts {
  readonly calls: Readonly<Record<string, number>>;
  readonly dynamoWriteUnits: number;
}

/** One STS AssumeRole request, as the proxy read it from the request's form body. */
export interface AssumeRoleRequest {
  readonly roleArn: string;
  readonly sessionName: string;
  readonly sourceIdentity?: string;
}

export interface CountingProxy {
  /** Where SDK clients should point (`AWS_ENDPOINT_URL`). */
  readonly endpoint: string;
  snapshot(): ApiCounts;
  /** Every AssumeRole request so far, in arrival order (slice from an earlier length for a window). */
  assumeRoleRequests(): readonly AssumeRoleRequest[];
  stop(): Promise<void>;
}

/** Counts since `before`: `after - before`, per key. */
export function countsSince(before: ApiCounts, after: ApiCounts): ApiCounts {
  const calls: Record<string, number> = {};
  for (const [key, n] of Object.entries(after.calls)) {
    const delta = n - (before.calls[key] ?? 0);
    if (delta !== 0) calls[key] = delta;
  }
  return { calls, dynamoWriteUnits: after.dynamoWriteUnits - before.dynamoWriteUnits };
}

/** Sum of the counts whose key matches. */
export function callsMatching(counts: ApiCounts, pattern: RegExp): number {
  return Object.entries(counts.calls)
    .filter(([key]) => pattern.test(key))
    .reduce((sum, [, n]) => sum + n, 0);
}

const CREDENTIAL_SCOPE = /Credential=[^/]+\/\d{8}\/[^/]+\/([^/]+)\/aws4_request/;
const DYNAMO_WRITES = new Set(['PutItem', 'UpdateItem', 'DeleteItem']);

function operationOf(req: IncomingMessage, body: string): { service: string; operation: string } {
  const service = CREDENTIAL_SCOPE.exec(req.headers.authorization ?? '')?.[1] ?? 'unknown';
  const target = req.headers['x-amz-target'];
  if (typeof target === 'string') {
    return { service, operation: target.split('.').at(-1) ?? target };
  }
  // Query protocols (IAM, EC2, SNS, Auto Scaling, STS) name the call in the form body.
  const action = new URLSearchParams(body).get('Action');
  return { service, operation: action ?? `${req.method ?? 'GET'} ${req.url ?? '/'}` };
}

/**
 * DynamoDB item size by its published rules (attribute names plus values;
 * numbers approximated as 1 byte per 2 digits plus 1), in write units of 1 KB.
 */
const AttributeValue: z.ZodType<Record<string, unknown>> = z.record(z.string(), z.unknown());
function valueBytes(value: unknown): number {
  const av = AttributeValue.safeParse(value);
  if (!av.success) return 0;
  const [type, inner] = Object.entries(av.data)[0] ?? ['NULL', true];
  switch (type) {
    case 'S':
      return Buffer.byteLength(String(inner));
    case 'N':
      return Math.ceil(String(inner).replace(/[-.]/g, '').length / 2) + 1;
    case 'B':
      return Buffer.from(String(inner), 'base64').length;
    case 'BOOL':
    case 'NULL':
      return 1;
    case 'L':
      return (
        3 +
        z
          .array(z.unknown())
          .catch([])
          .parse(inner)
          .reduce((s: number, v) => s + 1 + valueBytes(v), 0)
      );
    case 'M':
      return 3 + mapBytes(inner);
    default:
      return Buffer.byteLength(JSON.stringify(inner ?? null));
  }
}
function mapBytes(map: unknown): number {
  const entries = Object.entries(AttributeValue.catch({}).parse(map));
  return entries.reduce((s, [name, v]) => s + Buffer.byteLength(name) + 1 + valueBytes(v), 0);
}
function writeUnitsOf(operation: string, body: string): number {
  if (!DYNAMO_WRITES.has(operation)) return 0;
  if (operation !== 'PutItem') return 1;
  let json: unknown;
  try {
    json = JSON.parse(body);
  } catch {
    return 1;
  }
  const parsed = z.object({ Item: z.unknown() }).safeParse(json);
  return parsed.success ? Math.max(1, Math.ceil(mapBytes(parsed.data.Item) / 1024)) : 1;
}

/** A loopback HTTP proxy to `target` (moto) that counts each request. */
export async function startCountingProxy(target: string): Promise<CountingProxy> {
  const upstream = new URL(target);
  const agent = new Agent({ keepAlive: true, maxSockets: 64 });
  const calls: Record<string, number> = {};
  const assumed: AssumeRoleRequest[] = [];
  let dynamoWriteUnits = 0;

  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      const text = body.toString('utf8');
      const { service, operation } = operationOf(req, text);
      const key = `${service}:${operation}`;
      calls[key] = (calls[key] ?? 0) + 1;
      if (service === 'dynamodb') dynamoWriteUnits += writeUnitsOf(operation, text);
      if (service === 'sts' && operation === 'AssumeRole') {
        const form = new URLSearchParams(text);
        const sourceIdentity = form.get('SourceIdentity');
        assumed.push({
          roleArn: form.get('RoleArn') ?? '',
          sessionName: form.get('RoleSessionName') ?? '',
          ...(sourceIdentity === null ? {} : { sourceIdentity }),
        });
      }
      const forward = httpRequest(
        {
          agent,
          host: upstream.hostname,
          port: upstream.port,
          method: req.method,
          path: req.url,
          headers: { ...req.headers, host: upstream.host },
        },
        (answer) => {
          res.writeHead(answer.statusCode ?? 502, answer.headers);
          answer.pipe(res);
        },
      );
      forward.on('error', (error) => {
        res.writeHead(502);
        res.end(error.message);
      });
      forward.end(body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (address === null || typeof address === 'string') {
    throw new Error('the counting proxy has no TCP address');
  }
  const { port } = address;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    snapshot: () => ({ calls: { ...calls }, dynamoWriteUnits }),
    assumeRoleRequests: () => [...assumed],
    stop: () =>
      new Promise<void>((resolve) => {
        agent.destroy();
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

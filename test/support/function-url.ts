import { createHash, randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type {
  Context,
  LambdaFunctionURLEventWithIAMAuthorizer,
  LambdaFunctionURLResult,
} from 'aws-lambda';
import { type Principal, SignatureRefused, verifySigV4 } from './sigv4.js';

/**
 * A local stand-in for a Lambda function URL with AuthType AWS_IAM: it checks
 * each request's SigV4 signature the way Lambda does (against the secret of
 * the signing access key, the same X-Amz-Date, the signed headers and the
 * body), answers 403 {"Message":"Forbidden"} when it does not hold, and
 * otherwise calls the handler with a payload-format-2.0 event whose
 * `requestContext.authorizer.iam` names the signed principal.
 */

export type { Principal } from './sigv4.js';

/** A function URL's handler, as Lambda calls it. */
export type FunctionUrlHandler = (
  event: LambdaFunctionURLEventWithIAMAuthorizer,
  context: Context,
) => Promise<LambdaFunctionURLResult>;

/** What `startFunctionUrl` serves, and whom it lets in. */
export interface FunctionUrlOptions {
  readonly handler: FunctionUrlHandler;
  /** Access key id → principal. */
  readonly principals: Readonly<Record<string, Principal>>;
  /**
   * The function's resource policy: false answers 403 Forbidden before the
   * handler runs. @default every known principal may invoke
   */
  readonly authorize?: (arn: string) => boolean;
  /** The region signatures must be scoped to. @default us-east-1 */
  readonly region?: string;
  /** The account owning the function. @default 123456789012 */
  readonly accountId?: string;
}

/** One HTTP request the stand-in received, and the status it answered. */
export interface ReceivedRequest {
  readonly method: string;
  readonly path: string;
  readonly status: number;
}

/** A running stand-in. */
export interface FunctionUrl {
  /** Base URL, ending in "/". */
  readonly url: string;
  /** Every request, signed or not, in arrival order. */
  readonly requests: readonly ReceivedRequest[];
  /** The events the handler was called with. */
  readonly events: readonly LambdaFunctionURLEventWithIAMAuthorizer[];
  /** Whatever the handler threw (the caller saw 502, as with Lambda). */
  readonly errors: readonly unknown[];
  close(): Promise<void>;
}

function header(req: IncomingMessage, name: string): string | undefined {
  const value = req.headers[name];
  return Array.isArray(value) ? value.join(',') : value;
}

/** Checks the request's signature as Lambda does; returns the signing access key and its principal. */
function verify(
  req: IncomingMessage,
  url: URL,
  body: string,
  options: FunctionUrlOptions,
): Promise<{ accessKey: string; principal: Principal }> {
  return verifySigV4({
    method: req.method ?? 'GET',
    url,
    header: (name) => header(req, name),
    body,
    service: 'lambda',
    region: options.region ?? 'us-east-1',
    principals: options.principals,
  });
}

/** `12/Mar/2020:19:03:58 +0000`, as function URL events carry it. */
function clfTime(date: Date): string {
  const month = date.toLocaleString('en-US', { month: 'short', timeZone: 'UTC' });
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${pad(date.getUTCDate())}/${month}/${date.getUTCFullYear()}:${pad(date.getUTCHours())}:${pad(date.getUTCMinutes())}:${pad(date.getUTCSeconds())} +0000`;
}

function callerIds(arn: string): { callerId: string; accountId: string } {
  const [, , , , accountId = '', resource = ''] = arn.split(':');
  const unique = createHash('sha256').update(arn).digest('hex').slice(0, 17).toUpperCase();
  const session = /^assumed-role\/[^/]+\/(.+)$/.exec(resource)?.[1];
  return { accountId, callerId: session ? `AROA${unique}:${session}` : `AIDA${unique}` };
}

function buildEvent(
  req: IncomingMessage,
  url: URL,
  body: string,
  accessKey: string,
  principal: Principal,
  options: FunctionUrlOptions,
): LambdaFunctionURLEventWithIAMAuthorizer {
  const now = new Date();
  const headers: Record<string, string> = {};
  for (const name of Object.keys(req.headers)) headers[name] = header(req, name) ?? '';
  const domainName = headers.host ?? url.host;
  const query = Object.fromEntries(
    [...new Set(url.searchParams.keys())].map((k) => [k, url.searchParams.getAll(k).join(',')]),
  );
  const { callerId, accountId } = callerIds(principal.arn);
  return {
    version: '2.0',
    routeKey: '$default',
    rawPath: url.pathname,
    rawQueryString: url.search.slice(1),
    headers,
    ...(url.search ? { queryStringParameters: query } : {}),
    requestContext: {
      accountId: options.accountId ?? '123456789012',
      apiId: 'standin',
      domainName,
      domainPrefix: domainName.split('.')[0] ?? domainName,
      http: {
        method: req.method ?? 'GET',
        path: url.pathname,
        protocol: `HTTP/${req.httpVersion}`,
        sourceIp: req.socket.remoteAddress ?? '127.0.0.1',
        userAgent: headers['user-agent'] ?? '',
      },
      requestId: randomUUID(),
      routeKey: '$default',
      stage: '$default',
      time: clfTime(now),
      timeEpoch: now.getTime(),
      authorizer: {
        iam: {
          accessKey,
          accountId,
          callerId,
          userArn: principal.arn,
          userId: callerId,
          cognitoIdentity: null,
          // Lambda sends null outside an organization; @types/aws-lambda types it as string.
          principalOrgId: null as unknown as string,
        },
      },
    },
    ...(body === '' ? {} : { body }),
    isBase64Encoded: false,
  };
}

function lambdaContext(requestId: string): Context {
  const unsupported = () => {
    throw new Error('not supported by the function URL stand-in');
  };
  return {
    callbackWaitsForEmptyEventLoop: true,
    functionName: 'standin',
    functionVersion: '$LATEST',
    invokedFunctionArn: 'arn:aws:lambda:us-east-1:123456789012:function:standin',
    memoryLimitInMB: '256',
    awsRequestId: requestId,
    logGroupName: '/aws/lambda/standin',
    logStreamName: 'standin',
    getRemainingTimeInMillis: () => 30_000,
    done: unsupported,
    fail: unsupported,
    succeed: unsupported,
  };
}

function send(
  res: ServerResponse,
  status: number,
  body: string | Buffer,
  headers: Record<string, string | string[]> = {},
): number {
  res.writeHead(status, { 'content-type': 'application/json', ...headers });
  res.end(body);
  return status;
}

/** Writes a handler's result back the way a function URL does. */
function sendResult(res: ServerResponse, result: LambdaFunctionURLResult): number {
  if (typeof result === 'string') return send(res, 200, result);
  if (typeof result !== 'object' || result === null || result.statusCode === undefined) {
    return send(res, 200, JSON.stringify(result));
  }
  const headers: Record<string, string | string[]> = {};
  for (const [name, value] of Object.entries(result.headers ?? {})) {
    headers[name.toLowerCase()] = String(value);
  }
  if (result.cookies?.length) headers['set-cookie'] = result.cookies;
  const body = result.body ?? '';
  return send(
    res,
    result.statusCode,
    result.isBase64Encoded ? Buffer.from(body, 'base64') : body,
    headers,
  );
}

/** Starts the stand-in on 127.0.0.1 on a free port. */
export async function startFunctionUrl(options: FunctionUrlOptions): Promise<FunctionUrl> {
  const requests: ReceivedRequest[] = [];
  const events: LambdaFunctionURLEventWithIAMAuthorizer[] = [];
  const errors: unknown[] = [];

  async function serve(req: IncomingMessage, res: ServerResponse): Promise<number> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const body = Buffer.concat(chunks).toString('utf8');
    const url = new URL(req.url ?? '/', `http://${header(req, 'host') ?? '127.0.0.1'}`);
    const forbidden = () =>
      send(res, 403, JSON.stringify({ Message: 'Forbidden' }), {
        'x-amzn-errortype': 'AccessDeniedException',
      });

    let caller: { accessKey: string; principal: Principal };
    try {
      caller = await verify(req, url, body, options);
    } catch (error) {
      if (error instanceof SignatureRefused) return forbidden();
      throw error;
    }
    if (options.authorize && !options.authorize(caller.principal.arn)) return forbidden();

    const event = buildEvent(req, url, body, caller.accessKey, caller.principal, options);
    events.push(event);
    try {
      return sendResult(
        res,
        await options.handler(event, lambdaContext(event.requestContext.requestId)),
      );
    } catch (error) {
      errors.push(error);
      return send(res, 502, JSON.stringify({ Message: 'Internal Server Error' }));
    }
  }

  const server = createServer((req, res) => {
    serve(req, res).then(
      (status) => requests.push({ method: req.method ?? '', path: req.url ?? '', status }),
      (error: unknown) => {
        errors.push(error);
        requests.push({ method: req.method ?? '', path: req.url ?? '', status: 500 });
        if (!res.headersSent) send(res, 500, JSON.stringify({ Message: 'stand-in failed' }));
      },
    );
  });

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/`,
    requests,
    events,
    errors,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((error) => (error ? reject(error) : resolve()));
        server.closeAllConnections();
      }),
  };
}

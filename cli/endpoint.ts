import { CloudFormationClient, DescribeStacksCommand } from '@aws-sdk/client-cloudformation';
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { fromNodeProviderChain } from '@aws-sdk/credential-providers';
import { SignatureV4 } from '@smithy/signature-v4';
import type {
  AwsCredentialIdentity,
  AwsCredentialIdentityProvider,
  QueryParameterBag,
} from '@smithy/types';
import { CALLER_PROOF_HEADER, signCallerProof } from '../functions/responder-api/caller-proof.js';
import {
  APPROVAL_URL_ENV,
  APPROVAL_URL_OUTPUT,
  type BreakerResetRequest,
  type BreakerStatus,
  BreakerStatusSchema,
  type DecisionRequest,
  type DecisionResponse,
  DecisionResponseSchema,
  type DismissRequest,
  type DismissResponse,
  DismissResponseSchema,
  type ErrorCode,
  ErrorResponseSchema,
  type PendingResponse,
  PendingResponseSchema,
  type RollbackRequestBody,
  type RollbackResponse,
  RollbackResponseSchema,
  type TimelineResponse,
  TimelineResponseSchema,
} from '../functions/responder-api/contract.js';
import { Sha256 } from '../functions/shared/hash.js';
import type { z } from '../functions/shared/z.js';
import { CliError } from './errors.js';

/**
 * The client side of the approval endpoint: where it is, how a request is
 * signed (SigV4 with the caller's own credentials, service `lambda`), and what
 * each answer means. Every response is validated against the contract.
 */

/** Exit statuses of the responder commands (`cordon --help` lists them). */
export const EXIT = {
  /** Network failure, or an answer the contract does not allow. */
  failure: 1,
  /** Usage or input error, or no endpoint to talk to. */
  usage: 2,
  noCredentials: 3,
  notPermitted: 4,
  /** Unknown incident or step. */
  notFound: 5,
  /** The decision was refused: already decided, same approver, ambiguous step, expired. */
  refused: 6,
} as const;

const EXIT_BY_ERROR: Record<ErrorCode, number> = {
  invalid_request: EXIT.usage,
  unauthenticated: EXIT.notPermitted,
  forbidden: EXIT.notPermitted,
  unknown_incident: EXIT.notFound,
  unknown_step: EXIT.notFound,
  not_found: EXIT.notFound,
  method_not_allowed: EXIT.failure,
  already_decided: EXIT.refused,
  same_approver: EXIT.refused,
  ambiguous_step: EXIT.refused,
  expired: EXIT.refused,
  not_tripped: EXIT.refused,
  internal: EXIT.failure,
};

/** A failed call to the endpoint; `code` is the contract's error code when it sent one. */
export class ApprovalError extends CliError {
  constructor(
    message: string,
    exitCode: number,
    readonly code?: ErrorCode,
  ) {
    super(message, exitCode);
  }
}

/** The error when no endpoint is configured anywhere. */
export const NO_ENDPOINT = `no approval endpoint: pass --endpoint, set ${APPROVAL_URL_ENV}, or deploy the Cordon stack (output ${APPROVAL_URL_OUTPUT})`;
/** The error when the credential chain finds nothing. */
export const NO_CREDENTIALS =
  'no AWS credentials: set AWS_PROFILE or AWS_ACCESS_KEY_ID, or run aws sso login';

/** A URL's query as SignatureV4 wants it (repeated keys become arrays). */
export function queryParameters(search: URLSearchParams): QueryParameterBag {
  const query: QueryParameterBag = {};
  for (const key of new Set(search.keys())) {
    const values = search.getAll(key);
    query[key] = values.length === 1 ? (values[0] ?? '') : values;
  }
  return query;
}

/** A request to sign for a function URL. */
export interface SignInput {
  readonly method: string;
  readonly url: URL;
  readonly body?: string;
  readonly region: string;
  readonly credentials: AwsCredentialIdentity;
  /** @default now */
  readonly signingDate?: Date;
}

/**
 * Signs a request for a Lambda function URL and returns the headers to send
 * with it: host, content-type, x-amz-date, x-amz-content-sha256, the session
 * token if any, and authorization.
 */
export async function signRequest(input: SignInput): Promise<Record<string, string>> {
  const { method, url, body, region, credentials } = input;
  const signer = new SignatureV4({ service: 'lambda', region, credentials, sha256: Sha256 });
  const headers: Record<string, string> = { host: url.host };
  if (body !== undefined) headers['content-type'] = 'application/json';
  const signed = await signer.sign(
    {
      method,
      protocol: url.protocol,
      hostname: url.hostname,
      ...(url.port ? { port: Number(url.port) } : {}),
      path: url.pathname,
      query: queryParameters(url.searchParams),
      headers,
      ...(body !== undefined ? { body } : {}),
    },
    input.signingDate ? { signingDate: input.signingDate } : {},
  );
  return { ...signed.headers };
}

const FUNCTION_URL_HOST = /^[a-z0-9]+\.lambda-url\.([a-z0-9-]+)\.on\.aws$/;

/**
 * The region to sign for: a function URL names its region in its host
 * (`<id>.lambda-url.<region>.on.aws`); any other host (a local stand-in) uses
 * `fallback`.
 */
export function signingRegion(url: URL, fallback?: string): string {
  const region = FUNCTION_URL_HOST.exec(url.hostname)?.[1] ?? fallback;
  if (!region) {
    throw new CliError(`cannot tell the region of ${url.origin}: pass --region or set AWS_REGION`);
  }
  return region;
}

const LOOPBACK = new Set(['localhost', '127.0.0.1', '[::1]']);

function parseEndpoint(text: string, from: string): URL {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new CliError(`${from}: not a URL: "${text}"`);
  }
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && LOOPBACK.has(url.hostname))) {
    throw new CliError(`${from}: the approval endpoint must be https, not "${url.origin}"`);
  }
  if (!url.pathname.endsWith('/')) url.pathname = `${url.pathname}/`;
  url.search = '';
  url.hash = '';
  return url;
}

/** True when the SDK found no credentials (or no SSO token). */
export function isCredentialsError(error: unknown): boolean {
  return (
    error instanceof Error &&
    (error.name === 'CredentialsProviderError' || error.name === 'TokenProviderError')
  );
}

/** Where to find the endpoint: the command's flags. */
export interface EndpointOptions {
  /** `--endpoint`: wins over everything else. */
  readonly endpoint?: string;
  /** `--stack`: the stack whose ApprovalUrl output to read. @default Cordon */
  readonly stack?: string;
  /** `--region`: for the stack lookup, and for signing when the host names no region. */
  readonly region?: string;
}

/** What `connect` talks to; tests replace these. */
export interface EndpointDeps {
  /** @default process.env */
  readonly env: NodeJS.ProcessEnv;
  /** @default fromNodeProviderChain(): the caller's own credentials */
  readonly credentials: AwsCredentialIdentityProvider;
  /** The value of a stack output, or undefined. @default CloudFormation DescribeStacks */
  readonly stackOutput: (
    stack: string,
    output: string,
    region?: string,
  ) => Promise<string | undefined>;
  /** Who the credentials belong to, for error messages. @default STS GetCallerIdentity */
  readonly callerArn: (
    credentials: AwsCredentialIdentity,
    region: string,
  ) => Promise<string | undefined>;
  readonly fetch: typeof fetch;
  /** @default 30 000 */
  readonly timeoutMs: number;
}

/** The value of one output of a CloudFormation stack, or undefined. */
export async function describeStackOutput(
  stack: string,
  output: string,
  region?: string,
): Promise<string | undefined> {
  const client = new CloudFormationClient(region ? { region } : {});
  try {
    const { Stacks } = await client.send(new DescribeStacksCommand({ StackName: stack }));
    return Stacks?.[0]?.Outputs?.find((o) => o.OutputKey === output)?.OutputValue;
  } finally {
    client.destroy();
  }
}

async function stsCallerArn(
  credentials: AwsCredentialIdentity,
  region: string,
): Promise<string | undefined> {
  const client = new STSClient({ region, credentials });
  try {
    const identity = await client.send(new GetCallerIdentityCommand({}), {
      abortSignal: AbortSignal.timeout(5_000),
    });
    return identity.Arn;
  } catch {
    return undefined;
  } finally {
    client.destroy();
  }
}

function defaults(deps: Partial<EndpointDeps>): EndpointDeps {
  return {
    env: deps.env ?? process.env,
    credentials: deps.credentials ?? fromNodeProviderChain(),
    stackOutput: deps.stackOutput ?? describeStackOutput,
    callerArn: deps.callerArn ?? stsCallerArn,
    fetch: deps.fetch ?? ((...args: Parameters<typeof fetch>) => fetch(...args)),
    timeoutMs: deps.timeoutMs ?? 30_000,
  };
}

/**
 * Finds the endpoint: `--endpoint`, else CORDON_APPROVAL_URL, else the
 * ApprovalUrl output of the stack. Throws a CliError (exit 2) naming all three
 * when none is there.
 */
export async function discoverEndpoint(
  options: EndpointOptions,
  deps: Pick<EndpointDeps, 'env' | 'stackOutput'>,
): Promise<URL> {
  if (options.endpoint !== undefined) return parseEndpoint(options.endpoint, '--endpoint');
  const fromEnv = deps.env[APPROVAL_URL_ENV];
  if (fromEnv) return parseEndpoint(fromEnv, APPROVAL_URL_ENV);
  const stack = options.stack ?? 'Cordon';
  let value: string | undefined;
  try {
    value = await deps.stackOutput(stack, APPROVAL_URL_OUTPUT, options.region);
  } catch (error) {
    if (isCredentialsError(error)) throw new CliError(NO_CREDENTIALS, EXIT.noCredentials);
    const reason = error instanceof Error ? error.message : String(error);
    throw new CliError(`${NO_ENDPOINT}; stack ${stack}: ${reason}`, EXIT.usage);
  }
  if (!value) throw new CliError(NO_ENDPOINT, EXIT.usage);
  return parseEndpoint(value, `stack ${stack} output ${APPROVAL_URL_OUTPUT}`);
}

/** Finds the endpoint and returns a client for it; nothing is sent yet. */
export async function connect(
  options: EndpointOptions,
  deps: Partial<EndpointDeps> = {},
): Promise<ApprovalClient> {
  const resolved = defaults(deps);
  const url = await discoverEndpoint(options, resolved);
  const { env } = resolved;
  const region = signingRegion(url, options.region ?? env.AWS_REGION ?? env.AWS_DEFAULT_REGION);
  return new ApprovalClient(url, region, resolved);
}

function describeIssues(error: z.ZodError): string {
  return error.issues
    .slice(0, 3)
    .map((issue) => `${issue.path.join('.') || '(body)'}: ${issue.message}`)
    .join('; ');
}

function networkReason(error: unknown): string {
  if (error instanceof Error && error.name === 'TimeoutError') return 'no answer in time';
  const cause = error instanceof Error ? error.cause : undefined;
  if (cause instanceof Error) return 'code' in cause ? String(cause.code) : cause.message;
  return error instanceof Error ? error.message : String(error);
}

/** Signed, validated calls to the approval endpoint. */
export class ApprovalClient {
  private credentials?: Promise<AwsCredentialIdentity>;

  constructor(
    /** The endpoint's base URL, ending in "/". */
    readonly url: URL,
    /** The region requests are signed for. */
    readonly region: string,
    private readonly deps: EndpointDeps = defaults({}),
  ) {}

  /** GET /pending: the steps waiting for a decision. */
  pending(): Promise<PendingResponse> {
    return this.call('GET', 'pending', undefined, PendingResponseSchema);
  }

  /** GET /incidents/{id}: the incident's ledger entries. */
  timeline(incidentId: string): Promise<TimelineResponse> {
    return this.call(
      'GET',
      `incidents/${encodeURIComponent(incidentId)}`,
      undefined,
      TimelineResponseSchema,
    );
  }

  /** GET /breaker: the circuit breaker's state. */
  breaker(): Promise<BreakerStatus> {
    return this.call('GET', 'breaker', undefined, BreakerStatusSchema);
  }

  /** POST /breaker/reset. The responder who resets is whoever signed the request. */
  resetBreaker(request: BreakerResetRequest): Promise<BreakerStatus> {
    return this.call('POST', 'breaker/reset', JSON.stringify(request), BreakerStatusSchema);
  }

  /** POST /rollbacks. The requester is whoever signed the request, never a body field. */
  rollback(request: RollbackRequestBody): Promise<RollbackResponse> {
    return this.call('POST', 'rollbacks', JSON.stringify(request), RollbackResponseSchema);
  }

  /** POST /dismissals. The responder who dismisses is whoever signed the request. */
  dismiss(request: DismissRequest): Promise<DismissResponse> {
    return this.call('POST', 'dismissals', JSON.stringify(request), DismissResponseSchema);
  }

  /** POST /decisions. The approver is whoever signed the request, never a body field. */
  decide(request: DecisionRequest): Promise<DecisionResponse> {
    return this.call('POST', 'decisions', JSON.stringify(request), DecisionResponseSchema);
  }

  private resolveCredentials(): Promise<AwsCredentialIdentity> {
    this.credentials ??= this.deps.credentials().catch((error: unknown) => {
      if (isCredentialsError(error)) throw new CliError(NO_CREDENTIALS, EXIT.noCredentials);
      throw error;
    });
    return this.credentials;
  }

  private async call<T>(
    method: string,
    path: string,
    body: string | undefined,
    schema: z.ZodType<T>,
  ): Promise<T> {
    const credentials = await this.resolveCredentials();
    const url = new URL(path, this.url);
    const { host: _host, ...signed } = await signRequest({
      method,
      url,
      region: this.region,
      credentials,
      ...(body !== undefined ? { body } : {}),
    });
    // Who you are, proved to the function itself (the URL signature above
    // is checked by Lambda, but a direct invocation carries none).
    const proof = await signCallerProof({
      credentials,
      region: this.region,
      audience: url.host,
      method,
      path: url.pathname,
      body: body ?? '',
    });
    const headers = { ...signed, [CALLER_PROOF_HEADER]: proof };
    const where = this.url.origin;
    let status: number;
    let text: string;
    try {
      const response = await this.deps.fetch(url, {
        method,
        headers,
        ...(body !== undefined ? { body } : {}),
        signal: AbortSignal.timeout(this.deps.timeoutMs),
      });
      status = response.status;
      text = await response.text();
    } catch (error) {
      throw new ApprovalError(`cannot reach ${where}: ${networkReason(error)}`, EXIT.failure);
    }

    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      json = undefined;
    }
    if (status === 200) {
      const parsed = schema.safeParse(json);
      if (parsed.success) return parsed.data;
      const why = json === undefined ? 'not JSON' : describeIssues(parsed.error);
      throw new ApprovalError(`unexpected response from ${where}: ${why}`, EXIT.failure);
    }
    const error = ErrorResponseSchema.safeParse(json);
    if (status === 403 && !error.success) {
      const caller = await this.deps.callerArn(credentials, this.region).catch(() => undefined);
      throw new ApprovalError(
        `not permitted: ${caller ?? 'your AWS identity'} is not a Cordon responder (responderPrincipalArns in cdk.json)`,
        EXIT.notPermitted,
        'forbidden',
      );
    }
    if (!error.success) {
      const snippet = text.length > 200 ? `${text.slice(0, 200)}…` : text;
      throw new ApprovalError(
        `unexpected response from ${where}: HTTP ${status} ${snippet}`.trimEnd(),
        EXIT.failure,
      );
    }
    const { error: code, message } = error.data;
    const exitCode = EXIT_BY_ERROR[code];
    throw new ApprovalError(
      exitCode === EXIT.failure ? `${where} failed (${code}): ${message}` : message,
      exitCode,
      code,
    );
  }
}

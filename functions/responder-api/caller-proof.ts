import { randomUUID } from 'node:crypto';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { SignatureV4 } from '@smithy/signature-v4';
import type { AwsCredentialIdentity } from '@smithy/types';
import { Sha256, sha256Hex } from '../shared/hash.js';
import { z } from '../shared/z.js';

/**
 * Who is calling the responder API, proved in a way nobody can forge: the
 * caller signs an STS GetCallerIdentity request with their own credentials,
 * binding it to the request they are making (a digest of its method, path
 * and body, and the endpoint it is for, in signed headers), and sends it
 * along. The function checks the binding and freshness, refuses a proof
 * used before, sends the request to STS itself, and takes the ARN STS
 * answers. Anyone who can invoke the function directly (lambda:InvokeFunction
 * in their own policy) can hand it any event, but not a proof signed by
 * someone else's credentials: the identity is STS's word, never the event's.
 *
 * The same scheme as HashiCorp Vault's AWS IAM auth method, stricter: the
 * body must be exactly GetCallerIdentity, the binding headers must be among
 * the signed ones (STS ignores unsigned headers), and each proof is single
 * use.
 */

/** The request header carrying the proof: base64url of the signed STS request's headers (JSON). */
export const CALLER_PROOF_HEADER = 'x-cordon-caller-proof';
/** Signed header: the digest of the API request this proof is for (`requestDigest`). */
export const REQUEST_DIGEST_HEADER = 'x-cordon-request-sha256';
/** Signed header: the endpoint this proof is for (the function URL's host). */
export const AUDIENCE_HEADER = 'x-cordon-audience';
/** Signed header: a random value, so two identical requests in one second make two proofs. */
export const NONCE_HEADER = 'x-cordon-nonce';
/** The only STS request a proof may be. */
export const STS_BODY = 'Action=GetCallerIdentity&Version=2011-06-15';
const STS_CONTENT_TYPE = 'application/x-www-form-urlencoded; charset=utf-8';
/** How far a proof's signing time may be from the function's clock. */
export const PROOF_MAX_SKEW_MS = 5 * 60_000;

/** The digest a proof binds: method, path and body of the API request. */
export function requestDigest(method: string, path: string, body: string): string {
  return sha256Hex(`${method.toUpperCase()}\n${path}\n${body}`);
}

/** STS's regional endpoint host for `region`. */
export function stsHost(region: string): string {
  return region.startsWith('cn-')
    ? `sts.${region}.amazonaws.com.cn`
    : `sts.${region}.amazonaws.com`;
}

/** What a caller proves, and to whom. */
export interface ProofRequest {
  readonly credentials: AwsCredentialIdentity;
  /** The region of the responder API (STS is called there). */
  readonly region: string;
  /** The host of the endpoint being called. */
  readonly audience: string;
  readonly method: string;
  readonly path: string;
  readonly body: string;
  /** @default now */
  readonly signingDate?: Date;
}

/** The proof header's value for one API request, signed with the caller's own credentials. */
export async function signCallerProof(request: ProofRequest): Promise<string> {
  const host = stsHost(request.region);
  const signer = new SignatureV4({
    service: 'sts',
    region: request.region,
    credentials: request.credentials,
    sha256: Sha256,
  });
  const signed = await signer.sign(
    {
      method: 'POST',
      protocol: 'https:',
      hostname: host,
      path: '/',
      query: {},
      headers: {
        host,
        'content-type': STS_CONTENT_TYPE,
        [REQUEST_DIGEST_HEADER]: requestDigest(request.method, request.path, request.body),
        [AUDIENCE_HEADER]: request.audience,
        [NONCE_HEADER]: randomUUID(),
      },
      body: STS_BODY,
    },
    request.signingDate ? { signingDate: request.signingDate } : {},
  );
  return Buffer.from(JSON.stringify(signed.headers), 'utf8').toString('base64url');
}

/** Why a proof was refused: the endpoint answers 401 with it. */
export class ProofError extends Error {
  override readonly name = 'ProofError';
}

/** The headers a proof may carry: what the signer sets, nothing else. */
const ALLOWED_HEADERS = new Set([
  'host',
  'content-type',
  'authorization',
  'x-amz-date',
  'x-amz-content-sha256',
  'x-amz-security-token',
  REQUEST_DIGEST_HEADER,
  AUDIENCE_HEADER,
  NONCE_HEADER,
]);
/** The headers that must be signed, so STS vouches for them. */
const MUST_SIGN = ['host', 'x-amz-date', REQUEST_DIGEST_HEADER, AUDIENCE_HEADER];
const PROOF_MAX_BYTES = 8 * 1024;

const ProofHeadersSchema = z.record(z.string().regex(/^[a-z0-9-]{1,64}$/), z.string().max(4096));
const AUTHORIZATION =
  /^AWS4-HMAC-SHA256 Credential=([A-Z0-9]{16,128})\/(\d{8})\/([a-z0-9-]+)\/sts\/aws4_request, SignedHeaders=([a-z0-9;-]+), Signature=([0-9a-f]{64})$/;
const AMZ_DATE = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/;

/** A proof whose binding holds, ready to be sent to STS. */
export interface CheckedProof {
  readonly headers: Readonly<Record<string, string>>;
  /** Its SigV4 signature: what makes it single use. */
  readonly signature: string;
  readonly signedAt: Date;
}

/** What the proof must be bound to. */
export interface ProofExpectation {
  readonly method: string;
  readonly path: string;
  readonly body: string;
  /** The host the request was sent to. */
  readonly audience: string;
  /** The function's region: the proof must be for its STS endpoint. */
  readonly region: string;
  readonly now: Date;
}

/**
 * Decodes a proof and checks everything that needs no AWS call: its shape,
 * that it is a GetCallerIdentity request for this region's STS, that the
 * request digest and audience are signed and match this request, and that
 * it was signed within PROOF_MAX_SKEW_MS. Throws ProofError saying why not.
 */
export function checkCallerProof(
  value: string | undefined,
  expect: ProofExpectation,
): CheckedProof {
  if (value === undefined || value === '') {
    throw new ProofError(
      `no caller proof (${CALLER_PROOF_HEADER}): use the cordon CLI, which signs one with your credentials`,
    );
  }
  if (value.length > PROOF_MAX_BYTES || !/^[A-Za-z0-9_-]+$/.test(value)) {
    throw new ProofError('the caller proof is not base64url');
  }
  let decoded: unknown;
  try {
    decoded = JSON.parse(Buffer.from(value, 'base64url').toString('utf8'));
  } catch {
    throw new ProofError('the caller proof is not JSON');
  }
  const parsed = ProofHeadersSchema.safeParse(decoded);
  if (!parsed.success) throw new ProofError('the caller proof is not a set of headers');
  const headers = parsed.data;
  const unexpected = Object.keys(headers).filter((name) => !ALLOWED_HEADERS.has(name));
  if (unexpected.length > 0) {
    throw new ProofError(`the caller proof carries unexpected headers: ${unexpected.join(', ')}`);
  }

  const auth = AUTHORIZATION.exec(headers.authorization ?? '');
  if (!auth) throw new ProofError('the caller proof is not a SigV4-signed STS request');
  const [, , , signedRegion, signedHeaderList = '', signature = ''] = auth;
  if (signedRegion !== expect.region) {
    throw new ProofError(`the caller proof is for STS in ${signedRegion}, not ${expect.region}`);
  }
  const signedHeaders = new Set(signedHeaderList.split(';'));
  const unsigned = MUST_SIGN.filter((name) => !signedHeaders.has(name));
  if (unsigned.length > 0) {
    throw new ProofError(`the caller proof does not sign ${unsigned.join(', ')}`);
  }
  if (headers.host !== stsHost(expect.region)) {
    throw new ProofError(
      `the caller proof is for ${headers.host ?? 'no host'}, not ${stsHost(expect.region)}`,
    );
  }
  if (
    headers['x-amz-content-sha256'] !== undefined &&
    headers['x-amz-content-sha256'] !== sha256Hex(STS_BODY)
  ) {
    throw new ProofError('the caller proof is not a GetCallerIdentity request');
  }
  if (headers[AUDIENCE_HEADER] !== expect.audience) {
    throw new ProofError(
      `the caller proof is for ${JSON.stringify(headers[AUDIENCE_HEADER] ?? null)}, not this endpoint`,
    );
  }
  if (headers[REQUEST_DIGEST_HEADER] !== requestDigest(expect.method, expect.path, expect.body)) {
    throw new ProofError('the caller proof was made for another request');
  }
  const signedAt = amzDate(headers['x-amz-date']);
  if (signedAt === undefined) throw new ProofError('the caller proof has no valid x-amz-date');
  const skew = Math.abs(expect.now.getTime() - signedAt.getTime());
  if (skew > PROOF_MAX_SKEW_MS) {
    throw new ProofError(
      `the caller proof was signed at ${signedAt.toISOString()}, more than ${PROOF_MAX_SKEW_MS / 60_000} minutes from now: check your clock, and run the command again`,
    );
  }
  return { headers, signature, signedAt };
}

function amzDate(value: string | undefined): Date | undefined {
  const m = AMZ_DATE.exec(value ?? '');
  if (!m) return undefined;
  const [, y, mo, d, h, mi, s] = m;
  const date = new Date(`${y}-${mo}-${d}T${h}:${mi}:${s}Z`);
  return Number.isNaN(date.getTime()) ? undefined : date;
}

/** What STS answered about the proof's signer. */
export interface ProvenCaller {
  readonly arn: string;
  readonly userId: string;
  readonly account: string;
}

/** One HTTP exchange with STS; injected in tests. */
export type StsTransport = (request: {
  readonly url: URL;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: string;
}) => Promise<{ readonly status: number; readonly contentType: string; readonly body: string }>;

/**
 * Sends the proof's request to STS, at `endpoint` (never a host the caller
 * chose), and returns who STS says signed it. STS checks the signature, the
 * credentials and the clock; an answer other than one identity is a refusal.
 */
export async function proveCaller(
  proof: CheckedProof,
  endpoint: URL,
  send: StsTransport,
): Promise<ProvenCaller> {
  let answer: Awaited<ReturnType<StsTransport>>;
  try {
    answer = await send({ url: endpoint, headers: proof.headers, body: STS_BODY });
  } catch (error) {
    throw new ProofError(
      `STS could not be asked about the caller proof: ${error instanceof Error ? error.message : String(error)}`,
    );
  }
  if (answer.status !== 200) {
    const code =
      /<Code>([A-Za-z.]{1,64})<\/Code>/.exec(answer.body)?.[1] ?? `HTTP ${answer.status}`;
    throw new ProofError(`STS refused the caller proof (${code})`);
  }
  if (!answer.contentType.startsWith('text/xml')) {
    throw new ProofError('STS answered the caller proof with something other than XML');
  }
  const results = answer.body.match(
    /<GetCallerIdentityResult>[\s\S]*?<\/GetCallerIdentityResult>/g,
  );
  if (results?.length !== 1) throw new ProofError('STS did not name exactly one caller');
  const [result = ''] = results;
  const field = (name: string) => new RegExp(`<${name}>([^<]{1,2048})</${name}>`).exec(result)?.[1];
  const arn = field('Arn');
  const userId = field('UserId');
  const account = field('Account');
  if (arn === undefined || userId === undefined || account === undefined) {
    throw new ProofError('STS named no caller');
  }
  return { arn, userId, account };
}

/** STS's endpoint for the function's region, or the emulator's when one is configured. */
export function stsEndpoint(
  env: Readonly<Record<string, string | undefined>>,
  region: string,
): URL {
  const configured = env.AWS_ENDPOINT_URL_STS ?? env.AWS_ENDPOINT_URL;
  return new URL(configured ?? `https://${stsHost(region)}/`);
}

const STS_TIMEOUT_MS = 5_000;

/** The real transport: node:https (node:http for a local emulator), no redirects. */
export const sendToSts: StsTransport = ({ url, headers, body }) =>
  new Promise((resolve, reject) => {
    const request = (url.protocol === 'http:' ? httpRequest : httpsRequest)(
      url,
      {
        method: 'POST',
        headers: { ...headers, 'content-length': String(Buffer.byteLength(body)) },
      },
      (response) => {
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.on('end', () =>
          resolve({
            status: response.statusCode ?? 0,
            contentType: response.headers['content-type'] ?? '',
            body: Buffer.concat(chunks)
              .toString('utf8')
              .slice(0, 64 * 1024),
          }),
        );
        response.on('error', reject);
      },
    );
    request.setTimeout(STS_TIMEOUT_MS, () => request.destroy(new Error('no answer in time')));
    request.on('error', reject);
    request.end(body);
  });

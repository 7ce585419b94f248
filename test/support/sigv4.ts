import { createHash, timingSafeEqual } from 'node:crypto';
import { SignatureV4 } from '@smithy/signature-v4';
import { queryParameters } from '../../cli/endpoint.js';
import { Sha256 } from '../../functions/shared/hash.js';

/**
 * SigV4 verification as AWS does it, for the test stand-ins of AWS
 * endpoints (a function URL, STS): against the secret of the signing access
 * key, the same x-amz-date, the signed headers and the body.
 */

/** A key pair an endpoint accepts, and whom it belongs to. */
export interface Principal {
  readonly secretAccessKey: string;
  /** When set, requests must carry it as x-amz-security-token. */
  readonly sessionToken?: string;
  /** e.g. arn:aws:sts::123456789012:assumed-role/Responder/alice */
  readonly arn: string;
}

/** The signature does not hold; the message says why. */
export class SignatureRefused extends Error {
  override readonly name = 'SignatureRefused';
  constructor(
    message: string,
    /** AWS's error code for it. */
    readonly code:
      | 'SignatureDoesNotMatch'
      | 'InvalidClientTokenId'
      | 'IncompleteSignature' = 'SignatureDoesNotMatch',
  ) {
    super(message);
  }
}

const AUTHORIZATION =
  /^AWS4-HMAC-SHA256 Credential=([^/\s]+)\/(\d{8})\/([a-z0-9-]+)\/([a-z0-9-]+)\/aws4_request, ?SignedHeaders=([a-z0-9;-]+), ?Signature=([0-9a-f]{64})$/;
const AMZ_DATE = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/;
/** SigV4 signatures are accepted within 15 minutes of the server's clock. */
const MAX_SKEW_MS = 15 * 60_000;

function parseAmzDate(text: string | undefined): Date {
  const m = text === undefined ? null : AMZ_DATE.exec(text);
  if (!m) throw new SignatureRefused('missing or malformed x-amz-date', 'IncompleteSignature');
  const [, y, mo, d, h, mi, s] = m;
  return new Date(`${y}-${mo}-${d}T${h}:${mi}:${s}Z`);
}

function sameSignature(a: string, b: string): boolean {
  const left = Buffer.from(a);
  const right = Buffer.from(b);
  return left.length === right.length && timingSafeEqual(left, right);
}

export interface SignedRequest {
  readonly method: string;
  readonly url: URL;
  readonly header: (name: string) => string | undefined;
  readonly body: string;
  /** The service and region the endpoint is. */
  readonly service: string;
  readonly region: string;
  /** Access key id → principal. */
  readonly principals: Readonly<Record<string, Principal>>;
}

/** Checks a request's signature; returns the signing access key and its principal. */
export async function verifySigV4(
  request: SignedRequest,
): Promise<{ accessKey: string; principal: Principal }> {
  const { header, url, body } = request;
  const auth = AUTHORIZATION.exec(header('authorization') ?? '');
  if (!auth) throw new SignatureRefused('no SigV4 authorization header', 'IncompleteSignature');
  const [, accessKey = '', scopeDate, scopeRegion, service, signedList = '', signature = ''] = auth;
  const principal = request.principals[accessKey];
  if (!principal) throw new SignatureRefused('unknown access key', 'InvalidClientTokenId');
  if (service !== request.service || scopeRegion !== request.region) {
    throw new SignatureRefused(`credential scope is not ${request.service} in ${request.region}`);
  }
  const signingDate = parseAmzDate(header('x-amz-date'));
  if (header('x-amz-date')?.slice(0, 8) !== scopeDate) throw new SignatureRefused('scope date');
  if (Math.abs(Date.now() - signingDate.getTime()) > MAX_SKEW_MS) {
    throw new SignatureRefused('signature expired');
  }
  if (header('x-amz-security-token') !== principal.sessionToken) {
    throw new SignatureRefused('session token does not match', 'InvalidClientTokenId');
  }
  const contentHash = header('x-amz-content-sha256');
  if (
    contentHash !== undefined &&
    contentHash !== createHash('sha256').update(body, 'utf8').digest('hex')
  ) {
    throw new SignatureRefused('body does not match x-amz-content-sha256');
  }

  const signedNames = signedList.split(';');
  if (!signedNames.includes('host')) throw new SignatureRefused('host is not signed');
  const headers: Record<string, string> = {};
  for (const name of signedNames) {
    const value = header(name);
    if (value === undefined) throw new SignatureRefused(`signed header ${name} is missing`);
    headers[name] = value;
  }
  const signer = new SignatureV4({
    service: request.service,
    region: scopeRegion,
    credentials: {
      accessKeyId: accessKey,
      secretAccessKey: principal.secretAccessKey,
      ...(principal.sessionToken ? { sessionToken: principal.sessionToken } : {}),
    },
    sha256: Sha256,
  });
  const expected = await signer.sign(
    {
      method: request.method,
      protocol: url.protocol,
      hostname: headers.host ?? url.hostname,
      path: url.pathname,
      query: queryParameters(url.searchParams),
      headers,
      body,
    },
    { signingDate, signableHeaders: new Set(signedNames) },
  );
  const resigned = AUTHORIZATION.exec(expected.headers.authorization ?? '');
  if (!resigned || resigned[5] !== signedList || !sameSignature(resigned[6] ?? '', signature)) {
    throw new SignatureRefused('signature does not match');
  }
  return { accessKey, principal };
}

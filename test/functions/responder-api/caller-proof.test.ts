import { SignatureV4 } from '@smithy/signature-v4';
import { describe, expect, it } from 'vitest';
import {
  AUDIENCE_HEADER,
  type CheckedProof,
  checkCallerProof,
  type ProofExpectation,
  proveCaller,
  REQUEST_DIGEST_HEADER,
  requestDigest,
  STS_BODY,
  signCallerProof,
  stsHost,
} from '../../../functions/responder-api/caller-proof.js';
import { Sha256 } from '../../../functions/shared/hash.js';
import { fakeSts } from '../../support/sts.js';

/**
 * The caller proof: each test is an attempt to pass someone else's identity,
 * or one's own for another request, through the responder API.
 */

const ALICE_ARN = 'arn:aws:sts::123456789012:assumed-role/SecurityResponder/alice';
const ALICE = {
  accessKeyId: 'ASIAEXAMPLEALICE0001',
  secretAccessKey: 'alice-secret',
  sessionToken: 'alice-token',
};
const STS = fakeSts({
  [ALICE.accessKeyId]: {
    secretAccessKey: ALICE.secretAccessKey,
    sessionToken: ALICE.sessionToken,
    arn: ALICE_ARN,
  },
});
const ENDPOINT = new URL('https://sts.us-east-1.amazonaws.com/');
const HOST = 'abcdefghijklmnop.lambda-url.us-east-1.on.aws';
const BODY = JSON.stringify({
  incidentId: 'inc-0123456789abcdef0123',
  decision: 'approve',
  reason: 'ok',
});

const expectation = (overrides: Partial<ProofExpectation> = {}): ProofExpectation => ({
  method: 'POST',
  path: '/decisions',
  body: BODY,
  audience: HOST,
  region: 'us-east-1',
  now: new Date(),
  ...overrides,
});

const proof = (overrides: Partial<Parameters<typeof signCallerProof>[0]> = {}) =>
  signCallerProof({
    credentials: ALICE,
    region: 'us-east-1',
    audience: HOST,
    method: 'POST',
    path: '/decisions',
    body: BODY,
    ...overrides,
  });

const encode = (headers: Record<string, string>) =>
  Buffer.from(JSON.stringify(headers), 'utf8').toString('base64url');
const decode = (value: string): Record<string, string> =>
  JSON.parse(Buffer.from(value, 'base64url').toString('utf8'));

describe('checkCallerProof', () => {
  it('accepts a proof signed for exactly this request, and proves who signed it', async () => {
    const checked = checkCallerProof(await proof(), expectation());

    expect(checked.headers.host).toBe(stsHost('us-east-1'));
    expect(await proveCaller(checked, ENDPOINT, STS)).toMatchObject({ arn: ALICE_ARN });
  });

  it.each([
    ['another body (approve becomes reject)', { body: BODY.replace('approve', 'reject') }],
    ['another path', { path: '/breaker/reset' }],
    ['another method', { method: 'GET' }],
  ])('refuses a proof carried over to %s', async (_what, overrides) => {
    const value = await proof();

    expect(() => checkCallerProof(value, expectation(overrides))).toThrow(
      'the caller proof was made for another request',
    );
  });

  it('refuses a proof made for another endpoint (a staging deployment replayed to this one)', async () => {
    const value = await proof({ audience: 'stagingxyz.lambda-url.us-east-1.on.aws' });

    expect(() => checkCallerProof(value, expectation())).toThrow('not this endpoint');
  });

  it.each([
    ['signed six minutes ago', -6],
    ['dated six minutes ahead', 6],
  ])('refuses a proof %s', async (_what, minutes) => {
    const value = await proof({ signingDate: new Date(Date.now() + minutes * 60_000) });

    expect(() => checkCallerProof(value, expectation())).toThrow('more than 5 minutes from now');
  });

  it('refuses a proof whose binding headers were added after signing (STS ignores unsigned headers)', async () => {
    const signer = new SignatureV4({
      service: 'sts',
      region: 'us-east-1',
      credentials: ALICE,
      sha256: Sha256,
    });
    const host = stsHost('us-east-1');
    const signed = await signer.sign(
      {
        method: 'POST',
        protocol: 'https:',
        hostname: host,
        path: '/',
        query: {},
        headers: {
          host,
          'content-type': 'application/x-www-form-urlencoded; charset=utf-8',
          [REQUEST_DIGEST_HEADER]: requestDigest('POST', '/decisions', BODY),
          [AUDIENCE_HEADER]: HOST,
        },
        body: STS_BODY,
      },
      { unsignableHeaders: new Set([REQUEST_DIGEST_HEADER]) },
    );

    expect(() => checkCallerProof(encode(signed.headers), expectation())).toThrow(
      `the caller proof does not sign ${REQUEST_DIGEST_HEADER}`,
    );
  });

  it('refuses a proof for STS in another region, or another host', async () => {
    const elsewhere = await proof({ region: 'eu-west-1' });
    const moved = decode(await proof());
    moved.host = 'sts.attacker.example';

    expect(() => checkCallerProof(elsewhere, expectation())).toThrow('for STS in eu-west-1');
    expect(() => checkCallerProof(encode(moved), expectation())).toThrow(
      'for sts.attacker.example',
    );
  });

  it('refuses a proof that is not a GetCallerIdentity request, or carries other headers', async () => {
    const other = decode(await proof());
    other['x-amz-content-sha256'] = 'f'.repeat(64);
    const targeted = decode(await proof());
    targeted['x-amz-target'] = 'AWSSecurityTokenServiceV20110615.AssumeRole';

    expect(() => checkCallerProof(encode(other), expectation())).toThrow(
      'not a GetCallerIdentity request',
    );
    expect(() => checkCallerProof(encode(targeted), expectation())).toThrow(
      'unexpected headers: x-amz-target',
    );
  });

  it.each([
    ['no proof at all', undefined, 'no caller proof'],
    ['a proof that is not base64url', 'not base64!', 'not base64url'],
    ['a proof that is not JSON', Buffer.from('{').toString('base64url'), 'not JSON'],
    [
      'a proof of the wrong shape',
      Buffer.from('[1]').toString('base64url'),
      'not a set of headers',
    ],
    ['unsigned headers', encode({ host: stsHost('us-east-1') }), 'not a SigV4-signed STS request'],
  ])('refuses %s', (_what, value, message) => {
    expect(() => checkCallerProof(value, expectation())).toThrow(message);
  });
});

describe('proveCaller', () => {
  const checked = async (): Promise<CheckedProof> => checkCallerProof(await proof(), expectation());

  it("names no one when the signature is not the key owner's (a responder's key id, a guessed secret)", async () => {
    const forged = await proof({ credentials: { ...ALICE, secretAccessKey: 'guessed' } });
    const check = checkCallerProof(forged, expectation());

    await expect(proveCaller(check, ENDPOINT, STS)).rejects.toThrow(
      'STS refused the caller proof (SignatureDoesNotMatch)',
    );
  });

  it('names no one when STS does not know the key', async () => {
    const unknown = await proof({ credentials: { ...ALICE, accessKeyId: 'ASIAEXAMPLEUNKNOWN01' } });

    await expect(
      proveCaller(checkCallerProof(unknown, expectation()), ENDPOINT, STS),
    ).rejects.toThrow('(InvalidClientTokenId)');
  });

  it('trusts only one identity in an XML answer from STS', async () => {
    const answer = (body: string, contentType = 'text/xml') =>
      proveCaller(checkCallerProof(checkedValue, expectation()), ENDPOINT, async () => ({
        status: 200,
        contentType,
        body,
      }));
    const checkedValue = await proof();
    const result = (arn: string) =>
      `<GetCallerIdentityResult><Arn>${arn}</Arn><UserId>x</UserId><Account>1</Account></GetCallerIdentityResult>`;

    await expect(answer(result(ALICE_ARN).repeat(2))).rejects.toThrow('exactly one caller');
    await expect(answer(result(ALICE_ARN), 'text/html')).rejects.toThrow('other than XML');
    await expect(answer('<GetCallerIdentityResult></GetCallerIdentityResult>')).rejects.toThrow(
      'STS named no caller',
    );
    await expect(answer(result(ALICE_ARN))).resolves.toMatchObject({ arn: ALICE_ARN });
  });

  it('sends the proof to the endpoint it is given, never to the host the proof names', async () => {
    const sent: URL[] = [];
    await proveCaller(await checked(), ENDPOINT, async (request) => {
      sent.push(request.url);
      return STS(request);
    });

    expect(sent.map(String)).toEqual([String(ENDPOINT)]);
  });
});

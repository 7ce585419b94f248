import type { StsTransport } from '../../functions/responder-api/caller-proof.js';
import { proofIdentifier } from '../../functions/responder-api/identify.js';
import { type FunctionUrlRequest, provenFunctionUrlEvent } from '../../rehearsal/approvals.js';
import { type Principal, SignatureRefused, verifySigV4 } from './sigv4.js';

/**
 * A stand-in for STS's GetCallerIdentity, for tests whose callers are not
 * in the emulator: it verifies each request's SigV4 signature as STS does
 * (the signing key's secret, the signed headers, the body) and answers
 * with the signer's ARN, or with STS's own error.
 */
export function fakeSts(
  principals: Readonly<Record<string, Principal>>,
  region = 'us-east-1',
): StsTransport & { readonly calls: number } {
  let calls = 0;
  const transport: StsTransport = async ({ url, headers, body }) => {
    calls += 1;
    try {
      const { principal } = await verifySigV4({
        method: 'POST',
        url,
        header: (name) => headers[name],
        body,
        service: 'sts',
        region,
        principals,
      });
      if (body !== 'Action=GetCallerIdentity&Version=2011-06-15') {
        return error(400, 'InvalidAction');
      }
      const account = principal.arn.split(':')[4] ?? '';
      return {
        status: 200,
        contentType: 'text/xml',
        body: `<GetCallerIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><GetCallerIdentityResult><Arn>${principal.arn}</Arn><UserId>AIDASTANDIN</UserId><Account>${account}</Account></GetCallerIdentityResult><ResponseMetadata><RequestId>standin</RequestId></ResponseMetadata></GetCallerIdentityResponse>`,
      };
    } catch (failure) {
      if (failure instanceof SignatureRefused) return error(403, failure.code);
      throw failure;
    }
  };
  return Object.defineProperty(transport, 'calls', { get: () => calls }) as StsTransport & {
    readonly calls: number;
  };
}

function error(status: number, code: string) {
  return {
    status,
    contentType: 'text/xml',
    body: `<ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><Error><Type>Sender</Type><Code>${code}</Code><Message>refused by the STS stand-in</Message></Error></ErrorResponse>`,
  };
}

/**
 * Callers of the responder API for tests that run it without the emulator:
 * each has fake credentials this module's STS stand-in knows, and signs
 * real caller proofs; `identify` is the real proof check, with an
 * in-memory replay guard.
 */
export function provenCallers(
  principals: Readonly<Record<string, Principal>>,
  now: () => Date = () => new Date(),
) {
  const sts = fakeSts(principals);
  const used = new Set<string>();
  const identify = proofIdentifier({
    replay: {
      firstUse: async (proof) => {
        if (used.has(proof.signature)) return false;
        used.add(proof.signature);
        return true;
      },
    },
    region: 'us-east-1',
    sts: new URL('https://sts.us-east-1.amazonaws.com/'),
    send: sts,
    now,
  });
  /** A function URL request from the principal whose access key is `accessKeyId`, with its proof. */
  const event = (
    accessKeyId: string,
    request: Omit<FunctionUrlRequest, 'callerArn' | 'account'>,
  ) => {
    const principal = principals[accessKeyId];
    if (!principal) throw new Error(`no principal ${accessKeyId}`);
    return provenFunctionUrlEvent({
      ...request,
      callerArn: principal.arn,
      account: principal.arn.split(':')[4] ?? '',
      region: 'us-east-1',
      credentials: {
        accessKeyId,
        secretAccessKey: principal.secretAccessKey,
        ...(principal.sessionToken ? { sessionToken: principal.sessionToken } : {}),
      },
    });
  };
  return { identify, event, sts };
}

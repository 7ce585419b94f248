import { type ApiRequest, EndpointError } from './api.js';
import {
  CALLER_PROOF_HEADER,
  checkCallerProof,
  ProofError,
  proveCaller,
  type StsTransport,
} from './caller-proof.js';
import type { ProofReplayGuard } from './replay.js';

export interface IdentifyDeps {
  readonly replay: Pick<ProofReplayGuard, 'firstUse'>;
  /** The function's region: proofs must be for its STS. */
  readonly region: string;
  /** Where STS is asked: its regional endpoint (an emulator's in tests). */
  readonly sts: URL;
  readonly send: StsTransport;
  readonly now: () => Date;
}

/**
 * Who made a request, from its caller proof: bound to this request and
 * fresh (checked here), used once (the replay guard), and signed by
 * credentials STS accepts (STS answers with their ARN). Anything else is
 * `unauthenticated`, and nothing further runs.
 */
export function proofIdentifier(deps: IdentifyDeps): (request: ApiRequest) => Promise<string> {
  return async (request) => {
    try {
      const proof = checkCallerProof(request.proof, {
        ...request,
        region: deps.region,
        now: deps.now(),
      });
      if (!(await deps.replay.firstUse(proof))) {
        throw new ProofError(
          `this caller proof (${CALLER_PROOF_HEADER}) was used before: each request needs its own`,
        );
      }
      return (await proveCaller(proof, deps.sts, deps.send)).arn;
    } catch (error) {
      if (error instanceof ProofError) throw new EndpointError('unauthenticated', error.message);
      throw error;
    }
  };
}

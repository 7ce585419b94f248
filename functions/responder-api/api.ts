import type { SFNClient } from '@aws-sdk/client-sfn';
import { type ApprovalKey, isResponder } from '../shared/approval-record.js';
import type { CircuitBreaker } from '../shared/breaker.js';
import type { Ledger } from '../shared/ledger.js';
import type { Logger } from '../shared/observability.js';
import type { ErrorCode } from './contract.js';
import type { ApprovalStore } from './store.js';
import type { TokenOpener } from './token-opener.js';

/**
 * The responder API's logic, free of HTTP and split by feature (decisions,
 * queries, the breaker, rollbacks, dismissals); http.ts routes requests to it. The
 * caller is always the principal STS names for the request's caller proof;
 * nothing in a request body or event names a person.
 */

export interface ResponderDeps {
  readonly store: Pick<
    ApprovalStore,
    'get' | 'ofIncident' | 'waiting' | 'addFirstApproval' | 'decide' | 'delivered'
  >;
  readonly ledger: Pick<Ledger, 'append' | 'appendOnce' | 'entries'>;
  readonly sfn: Pick<SFNClient, 'send'>;
  readonly breaker: Pick<CircuitBreaker, 'state' | 'reset'>;
  /** Decrypts a waiting step's stored task token: the only role that can (its key policy). */
  readonly tokens: TokenOpener;
  /** MACs each decision's record: the only key that can (its key policy). */
  readonly approvalKey: Pick<ApprovalKey, 'mac'>;
  /** IAM user and role ARNs allowed to decide. */
  readonly responders: readonly string[];
  readonly logger: Pick<Logger, 'info' | 'warn'>;
  /** The rollback state machine `POST /rollbacks` starts. */
  readonly rollbackStateMachineArn: string;
  readonly now: () => Date;
  /** Who made a request: the principal its caller proof proves, or EndpointError `unauthenticated`. */
  readonly identify: (request: ApiRequest) => Promise<string>;
}

/** An API request as the router sees it, before anyone is trusted. */
export interface ApiRequest {
  readonly method: string;
  readonly path: string;
  /** The body exactly as received ('' when none). */
  readonly body: string;
  /** The host the request was sent to. */
  readonly audience: string;
  /** The caller proof header, if any. */
  readonly proof: string | undefined;
}

/** A refusal the endpoint returns as `{ error, message }` with ERROR_STATUS[code]. */
export class EndpointError extends Error {
  override readonly name = 'EndpointError';
  constructor(
    readonly code: ErrorCode,
    message: string,
  ) {
    super(message);
  }
}

export { isResponder };

/** The proven caller, refused unless a configured responder, whatever the URL's policy allowed. */
export function authorize(deps: Pick<ResponderDeps, 'responders'>, callerArn: string): string {
  if (!isResponder(callerArn, deps.responders)) {
    throw new EndpointError(
      'forbidden',
      `${callerArn} is not a Cordon responder (responderPrincipalArns)`,
    );
  }
  return callerArn;
}

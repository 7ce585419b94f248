import type { Logger } from '@aws-lambda-powertools/logger';
import type { SFNClient } from '@aws-sdk/client-sfn';
import type { CircuitBreaker } from '../shared/breaker.js';
import { principalIdentity, samePrincipal } from '../shared/iam-arn.js';
import type { Ledger } from '../shared/ledger.js';
import type { ErrorCode } from './contract.js';
import type { ApprovalStore } from './store.js';

/**
 * The responder API's logic, free of HTTP and split by feature (decisions,
 * queries, the breaker, rollbacks); http.ts routes requests to it. The
 * caller is always the principal STS names for the request's caller proof;
 * nothing in a request body or event names a person.
 */

export interface ResponderDeps {
  readonly store: Pick<
    ApprovalStore,
    'get' | 'ofIncident' | 'waiting' | 'addFirstApproval' | 'decide' | 'delivered'
  >;
  readonly ledger: Pick<Ledger, 'append' | 'entries'>;
  readonly sfn: Pick<SFNClient, 'send'>;
  readonly breaker: Pick<CircuitBreaker, 'state' | 'reset'>;
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

/**
 * True when the caller is one of the configured responders: an IAM user
 * by its exact ARN, a role by any of its sessions (a session ARN drops the
 * role's path, so account and name identify the role).
 */
export function isResponder(callerArn: string, responders: readonly string[]): boolean {
  const role = principalIdentity(callerArn)?.includes(':role:') === true;
  return responders.some((responder) =>
    role ? samePrincipal(callerArn, responder) : responder === callerArn,
  );
}

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

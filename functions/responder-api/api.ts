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
 * caller is always the principal Lambda authenticated from the request's
 * SigV4 signature; nothing in a request body names a person.
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

/** The caller, refused unless a configured responder, whatever the URL's policy allowed. */
export function authorize(
  deps: Pick<ResponderDeps, 'responders'>,
  callerArn: string | undefined,
): string {
  if (!callerArn || !isResponder(callerArn, deps.responders)) {
    throw new EndpointError(
      'forbidden',
      `${callerArn ?? 'an unsigned caller'} is not a Cordon responder (responderPrincipalArns)`,
    );
  }
  return callerArn;
}

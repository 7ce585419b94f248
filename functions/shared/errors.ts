/**
 * Cordon's error vocabulary. Each class sets a literal `name`: Step Functions
 * `Retry` and `Catch` match on it, and minifiers rename classes. Retryable
 * errors are the only ones the state machines retry.
 */
export abstract class CordonError extends Error {
  abstract override readonly name: string;
  abstract readonly retryable: boolean;
}

/** The event or task input failed validation. Nothing is acted on. */
export class InvalidFindingError extends CordonError {
  override readonly name = 'Cordon.InvalidFinding';
  readonly retryable = false;
}

/** Our own task input did not match its contract (a wiring bug, never data). */
export class InvalidTaskInputError extends CordonError {
  override readonly name = 'Cordon.InvalidTaskInput';
  readonly retryable = false;
}

/** AWS throttled the call. */
export class ThrottledError extends CordonError {
  override readonly name = 'Cordon.Throttled';
  readonly retryable = true;
}

/** AWS answered 5xx, timed out, or reported a concurrent modification. */
export class ServiceUnavailableError extends CordonError {
  override readonly name = 'Cordon.ServiceUnavailable';
  readonly retryable = true;
}

/** The function's role may not make the call. Retrying will not help. */
export class AccessDeniedError extends CordonError {
  override readonly name = 'Cordon.AccessDenied';
  readonly retryable = false;
}

/** Another writer took the ledger sequence number we wanted, too many times. */
export class LedgerConflictError extends CordonError {
  override readonly name = 'Cordon.LedgerConflict';
  readonly retryable = true;
}

/** A step in `approve` mode reached its action without a recorded approval. */
export class ApprovalMissingError extends CordonError {
  override readonly name = 'Cordon.ApprovalMissing';
  readonly retryable = false;
}

/**
 * The target is no longer what triage verified: an IAM principal deleted and
 * re-created under the same name while a step waited, or one that became
 * protected, or exempt-tagged before a step it would take unattended.
 */
export class TargetChangedError extends CordonError {
  override readonly name = 'Cordon.TargetChanged';
  readonly retryable = false;
}

/**
 * An action was handed an incident triage did not validate: no claim, a
 * claim of another execution, another target, or a step less guarded than
 * triage planned it (a direct invocation with a made-up input).
 */
export class NotValidatedError extends CordonError {
  override readonly name = 'Cordon.NotValidated';
  readonly retryable = false;
}

/** The error name a responder's rejection raises in the waiting task (SendTaskFailure's `error`). */
export const APPROVAL_REJECTED = 'Cordon.ApprovalRejected';

/** A responder rejected the step (sent as SendTaskFailure's error name). */
export class ApprovalRejectedError extends CordonError {
  override readonly name = APPROVAL_REJECTED;
  readonly retryable = false;
}

/** Any other AWS error we cannot classify: terminal, so a human looks at it. */
export class UnexpectedAwsError extends CordonError {
  override readonly name = 'Cordon.UnexpectedAwsError';
  readonly retryable = false;
}

/**
 * Error names the state machines retry, with backoff and jitter. A step's
 * "not finished yet" error (Cordon.RotationPending) is retried by a
 * retrier of its own, with the step's checks (catalog `pollsOn`).
 */
export const RETRYABLE_ERROR_NAMES = [
  'Cordon.Throttled',
  'Cordon.ServiceUnavailable',
  'Cordon.LedgerConflict',
] as const;

/**
 * Errors that mean a step must not act at all: no approval, an incident
 * triage did not validate, a target that changed, a malformed input. A
 * step with a fallback never falls back on these: the execution fails.
 */
export const REFUSAL_ERROR_NAMES = [
  'Cordon.ApprovalMissing',
  'Cordon.NotValidated',
  'Cordon.TargetChanged',
  'Cordon.InvalidTaskInput',
] as const;

/** Error name Step Functions uses when a task (or a task token wait) times out. */
export const TIMEOUT_ERROR_NAME = 'States.Timeout';

/** The errors an approval wait ends with when nothing may be done: timed out, or rejected. */
export const APPROVAL_NOT_GRANTED = [TIMEOUT_ERROR_NAME, APPROVAL_REJECTED] as const;

const THROTTLING = new Set([
  'Throttling',
  'ThrottlingException',
  'ThrottledException',
  'TooManyRequestsException',
  'RequestLimitExceeded',
  'ProvisionedThroughputExceededException',
  'RequestThrottled',
  'RequestThrottledException',
  'LimitExceededException',
  'SlowDown',
]);

const UNAVAILABLE = new Set([
  'ServiceUnavailable',
  'ServiceUnavailableException',
  'ServiceFailure',
  'InternalFailure',
  'InternalServerError',
  'InternalError',
  'InternalException',
  'RequestTimeout',
  'RequestTimeoutException',
  'ConcurrentModification',
  'ConcurrentModificationException',
  'TimeoutError',
  'ECONNRESET',
  'ETIMEDOUT',
]);

const DENIED = new Set([
  'AccessDenied',
  'AccessDeniedException',
  'UnauthorizedOperation',
  'UnrecognizedClientException',
  'InvalidClientTokenId',
  'ExpiredToken',
  'ExpiredTokenException',
]);

interface AwsLikeError {
  name?: unknown;
  code?: unknown;
  $metadata?: { httpStatusCode?: number };
  $retryable?: unknown;
}

/**
 * Maps an AWS SDK error to Cordon's vocabulary so Step Functions retries only
 * what can succeed on a later attempt. Cordon errors pass through unchanged.
 */
export function classifyAwsError(error: unknown, context: string): CordonError {
  if (error instanceof CordonError) return error;
  const e = (typeof error === 'object' && error !== null ? error : {}) as AwsLikeError;
  const name = typeof e.name === 'string' ? e.name : typeof e.code === 'string' ? e.code : '';
  const status = e.$metadata?.httpStatusCode ?? 0;
  const message = `${context}: ${name || 'error'}${error instanceof Error ? `: ${error.message}` : ''}`;
  if (THROTTLING.has(name) || status === 429) return new ThrottledError(message, { cause: error });
  if (DENIED.has(name) || status === 403) return new AccessDeniedError(message, { cause: error });
  if (UNAVAILABLE.has(name) || status >= 500 || e.$retryable !== undefined) {
    return new ServiceUnavailableError(message, { cause: error });
  }
  return new UnexpectedAwsError(message, { cause: error });
}

const NOT_FOUND = new Set([
  'NoSuchEntity',
  'NoSuchEntityException',
  'ResourceNotFoundException',
  'InvalidInstanceID.NotFound',
  'InvalidNetworkInterfaceID.NotFound',
  'InvalidVolume.NotFound',
  'InvalidAssociationID.NotFound',
  'NoSuchBucket',
]);

/** True when an AWS error says the named entity does not exist. */
export function isNotFound(error: unknown): boolean {
  if (typeof error !== 'object' || error === null) return false;
  const name = (error as { name?: unknown }).name;
  return typeof name === 'string' && NOT_FOUND.has(name);
}

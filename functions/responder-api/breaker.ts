import { boundedText } from '../shared/text.js';
import { EndpointError, type ResponderDeps } from './api.js';
import { BREAKER_LEDGER_ID, type BreakerStatus } from './contract.js';

/** The circuit breaker, as responders see it: its state, and a reset that is recorded. */

export async function breakerStatus(deps: ResponderDeps): Promise<BreakerStatus> {
  return deps.breaker.state();
}

/**
 * Closes a tripped circuit breaker: automatic steps run again. Recorded in
 * the ledger under BREAKER_LEDGER_ID with the responder and the reason.
 */
export async function resetBreaker(
  deps: ResponderDeps,
  callerArn: string,
  reason: string,
): Promise<BreakerStatus> {
  const before = await deps.breaker.state();
  if (!(await deps.breaker.reset(callerArn, boundedText(reason, 1000)))) {
    throw new EndpointError('not_tripped', 'the circuit breaker is not tripped; nothing to reset');
  }
  const after = await deps.breaker.state();
  await deps.ledger.append(BREAKER_LEDGER_ID, {
    step: 'breaker',
    action: 'responder-api',
    actor: callerArn,
    outcome: 'BREAKER_RESET',
    summary: boundedText(`circuit breaker reset by ${callerArn}: ${reason}`, 1000),
    before,
    after,
  });
  deps.logger.info('circuit breaker reset', { by: callerArn });
  return after;
}

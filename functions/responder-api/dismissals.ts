import { DISMISS_STEP, DISMISSED, signDismissal, subjectsOf } from '../shared/dismissal.js';
import { samePrincipal } from '../shared/iam-arn.js';
import { boundedText } from '../shared/text.js';
import { EndpointError, type ResponderDeps } from './api.js';
import type { DismissRequest, DismissResponse } from './contract.js';

/**
 * Dismissing an incident: a responder's judgement that its finding is a
 * false positive. Later emissions of the finding are recorded and
 * notified, never acted on (triage/reemissions.ts). Like every decision it
 * is the proven caller's, a configured responder's (the router checked
 * both), and never the principal's the incident is about; it is final.
 */
export async function dismiss(
  deps: ResponderDeps,
  callerArn: string,
  request: DismissRequest,
): Promise<DismissResponse> {
  const { incidentId } = request;
  const entries = await deps.ledger.entries(incidentId);
  const [claim] = entries;
  if (claim === undefined) {
    throw new EndpointError('unknown_incident', `no incident ${incidentId} in the ledger`);
  }
  const subject = subjectsOf(entries).find((arn) => samePrincipal(callerArn, arn));
  if (subject !== undefined) {
    throw new EndpointError(
      'forbidden',
      `${callerArn} is ${subject}, which incident ${incidentId} is about: another responder must dismiss it`,
    );
  }
  const at = deps.now().toISOString();
  const reason = boundedText(request.reason, 1000);
  // The record triage verifies: the ledger entry alone could be any Cordon function's.
  const dismissal = await signDismissal(deps.approvalKey, {
    incidentId,
    dismissedBy: callerArn,
    reason,
    decidedAt: at,
  });
  const { entry, appended } = await deps.ledger.appendOnce(
    incidentId,
    {
      step: DISMISS_STEP,
      action: 'responder-api',
      actor: callerArn,
      outcome: DISMISSED,
      ...(claim.targetArn === undefined ? {} : { targetArn: claim.targetArn }),
      ...(claim.findingId === undefined ? {} : { findingId: claim.findingId }),
      summary: boundedText(`dismissed as a false positive by ${callerArn}: ${reason}`, 1000),
      detail: { reason, dismissal },
    },
    (e) => e.outcome === DISMISSED,
  );
  if (!appended) {
    throw new EndpointError(
      'already_decided',
      `${incidentId} was already dismissed by ${entry.actor} at ${entry.at}; a dismissal is final`,
    );
  }
  deps.logger.info('incident dismissed', { incidentId, caller: callerArn });
  const nowSeconds = deps.now().getTime() / 1000;
  const waiting = (await deps.store.ofIncident(incidentId))
    .filter((item) => item.status === 'WAITING' && item.expiresAt > nowSeconds)
    .map((item) => item.step);
  const still =
    waiting.length === 0
      ? ''
      : `; ${waiting.length} step(s) of it still wait for a decision (${waiting.join(', ')}): a dismissal does not decide them, reject them with cordon reject`;
  return {
    incidentId,
    dismissedBy: callerArn,
    dismissedAt: entry.at,
    waiting,
    message: `dismissed ${incidentId}: later emissions of its finding are recorded and notified, never acted on${still}`,
  };
}

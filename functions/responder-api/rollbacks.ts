import { createHash } from 'node:crypto';
import { StartExecutionCommand } from '@aws-sdk/client-sfn';
import { classifyAwsError } from '../shared/errors.js';
import { boundedText } from '../shared/text.js';
import { EndpointError, type ResponderDeps } from './api.js';
import type { RollbackRequestBody, RollbackResponse } from './contract.js';

/**
 * Starts the rollback state machine for a responder. It restores nothing
 * by itself: its first act is to ask for an approval of exactly what it
 * would restore. The requester is the signed caller.
 */
export async function startRollback(
  deps: ResponderDeps,
  callerArn: string,
  request: RollbackRequestBody,
): Promise<RollbackResponse> {
  const { incidentId, step } = request;
  const stateMachineArn = deps.rollbackStateMachineArn;
  const entries = await deps.ledger.entries(incidentId);
  if (entries.length === 0) {
    throw new EndpointError('unknown_incident', `no incident ${incidentId} in the ledger`);
  }
  if (step !== undefined && !entries.some((e) => e.step === step)) {
    throw new EndpointError('unknown_step', `${incidentId} has no step ${JSON.stringify(step)}`);
  }
  const at = deps.now();
  const force = request.force ?? false;
  const input = {
    incidentId,
    ...(step === undefined ? {} : { step }),
    force,
    requestedBy: callerArn,
    reason: boundedText(request.reason, 1000),
  };
  // Unique per request, readable in the console: incident, time, and a digest of the rest.
  const digest = createHash('sha256').update(`${callerArn}\n${step ?? ''}\n${at.getTime()}`);
  const name = `${incidentId}-${at.getTime()}-${digest.digest('hex').slice(0, 8)}`;
  let executionArn: string | undefined;
  try {
    const out = await deps.sfn.send(
      new StartExecutionCommand({ stateMachineArn, name, input: JSON.stringify(input) }),
    );
    executionArn = out.executionArn;
  } catch (error) {
    throw classifyAwsError(error, 'start rollback');
  }
  if (!executionArn) throw new EndpointError('internal', 'Step Functions returned no execution');
  deps.logger.info('rollback started', { incidentId, step, force, caller: callerArn });
  return {
    incidentId,
    ...(step === undefined ? {} : { step }),
    force,
    requestedBy: callerArn,
    executionArn,
    startedAt: at.toISOString(),
    message: `rollback of ${step === undefined ? incidentId : `step ${step} of ${incidentId}`} started: it waits for a responder to approve exactly what it would restore (cordon pending)`,
  };
}

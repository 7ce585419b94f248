import { PublishCommand, type SNSClient } from '@aws-sdk/client-sns';
import { classifyAwsError } from '../../shared/errors.js';
import type { Incident } from '../../shared/incident.js';
import { publishInput } from '../../shared/notice.js';
import { boundedText, quoted } from '../../shared/text.js';

/**
 * Tells responders the circuit breaker tripped: from now on every automatic
 * step waits for them, until one of them resets it.
 */
export async function announceTrip(
  deps: { readonly sns: Pick<SNSClient, 'send'>; readonly topicArn: string },
  incident: Incident,
  reason: string,
): Promise<void> {
  const message = [
    'Cordon circuit breaker TRIPPED',
    '',
    boundedText(reason, 600),
    '',
    'Every automatic containment now waits for a responder. If this is a',
    'flood of false positives, look at the pending approvals; when it is over,',
    'reset the breaker:',
    '  npx cordon breaker reset --reason "..."',
    '',
    `Incident that tripped it: ${incident.incidentId}`,
    `Finding type: ${quoted(incident.findingType, 256)}`,
    `Account / region: ${incident.account} / ${quoted(incident.region, 64)}`,
  ].join('\n');
  try {
    await deps.sns.send(
      new PublishCommand(
        publishInput(deps.topicArn, {
          subject: `Cordon circuit breaker tripped in ${incident.account}`,
          text: message,
          title: `Cordon circuit breaker tripped by ${incident.incidentId}`,
          kind: 'BREAKER_TRIPPED',
          incidentId: incident.incidentId,
          nextSteps: ['npx cordon pending', 'npx cordon breaker reset --reason "..."'],
        }),
      ),
    );
  } catch (error) {
    throw classifyAwsError(error, 'announce breaker trip');
  }
}

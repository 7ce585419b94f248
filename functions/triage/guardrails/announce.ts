import { PublishCommand, type SNSClient } from '@aws-sdk/client-sns';
import { classifyAwsError } from '../../shared/errors.js';
import type { Incident } from '../../shared/incident.js';
import { asciiLine, boundedText, quoted } from '../../shared/text.js';

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
      new PublishCommand({
        TopicArn: deps.topicArn,
        Subject: asciiLine(`Cordon circuit breaker tripped in ${incident.account}`, 100),
        Message: message,
      }),
    );
  } catch (error) {
    throw classifyAwsError(error, 'announce breaker trip');
  }
}

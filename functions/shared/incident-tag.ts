import {
  DescribeInstancesCommand,
  DescribeNetworkInterfacesCommand,
  type DescribeNetworkInterfacesCommandOutput,
  type EC2Client,
} from '@aws-sdk/client-ec2';
import { INCIDENT_TAG, tagValue } from './ec2-tags.js';
import { CordonError } from './errors.js';

/**
 * The isolate step's gate. Its three actions (detach-from-asg,
 * isolate-network, detach-instance-profile) change an instance only while it
 * and every network interface of it carry the `cordon:incident` tag that
 * preserve-evidence wrote: their roles' IAM conditions require it. Whoever
 * may tag the instance (often the instance's own role, the very principal
 * being contained) can remove it while the step waits for its approval.
 * Cordon then refuses before any of the three changes anything, rather than
 * put the tag back: a gate Cordon re-opens on its own gates nothing.
 */

/** The incident tag is gone from the instance or an interface of it: nothing was isolated. */
export class IncidentTagMissingError extends CordonError {
  override readonly name = 'Cordon.IncidentTagMissing';
  readonly retryable = false;
}

/** The ids among the instance and its network interfaces that carry no incident tag. */
async function untagged(ec2: EC2Client, instanceId: string): Promise<string[]> {
  const described = await ec2.send(new DescribeInstancesCommand({ InstanceIds: [instanceId] }));
  const instance = described.Reservations?.flatMap((r) => r.Instances ?? []).find(
    (i) => i.InstanceId === instanceId,
  );
  const missing = tagValue(instance?.Tags, INCIDENT_TAG)?.startsWith('inc-') ? [] : [instanceId];
  let token: string | undefined;
  do {
    const page: DescribeNetworkInterfacesCommandOutput = await ec2.send(
      new DescribeNetworkInterfacesCommand({
        Filters: [{ Name: 'attachment.instance-id', Values: [instanceId] }],
        NextToken: token,
      }),
    );
    for (const n of page.NetworkInterfaces ?? []) {
      if (n.NetworkInterfaceId && !tagValue(n.TagSet, INCIDENT_TAG)?.startsWith('inc-')) {
        missing.push(n.NetworkInterfaceId);
      }
    }
    token = page.NextToken;
  } while (token);
  return missing;
}

/**
 * The refusal of an isolate action when the instance or one of its network
 * interfaces lost its incident tag, or undefined when every one carries it.
 * Its message says what happened, that nothing was isolated, and what to do.
 */
export async function incidentTagRefusal(
  ec2: EC2Client,
  action: string,
  instanceId: string,
): Promise<IncidentTagMissingError | undefined> {
  const missing = await untagged(ec2, instanceId);
  if (missing.length === 0) return undefined;
  const which = missing.join(', ');
  return new IncidentTagMissingError(
    `${action} refused: the ${INCIDENT_TAG} tag that preserve-evidence wrote is gone from ${which}. ` +
      'It was removed after the evidence step, most likely while isolation waited for its approval, ' +
      'by someone allowed to tag the instance (often its own role: the principal being contained). ' +
      "Cordon's isolation roles may change only resources that carry it, and Cordon does not put it back on its own. " +
      `${action} changed nothing and the isolate actions after it do not run: the instance is NOT isolated ` +
      '(cordon show lists what ran before). ' +
      `Isolate it by hand, and find who removed the tag (CloudTrail: DeleteTags on ${which}).`,
  );
}

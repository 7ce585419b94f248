import { DescribeInstancesCommand, type EC2Client, type Instance } from '@aws-sdk/client-ec2';
import { isNotFound } from './errors.js';

/**
 * The instance as EC2 reports it, or undefined when it is gone or terminated:
 * for every EC2 action that is "not found", a result rather than a failure.
 */
export async function describeLiveInstance(
  ec2: EC2Client,
  instanceId: string,
): Promise<Instance | undefined> {
  try {
    const out = await ec2.send(new DescribeInstancesCommand({ InstanceIds: [instanceId] }));
    const found = out.Reservations?.flatMap((r) => r.Instances ?? []).find(
      (i) => i.InstanceId === instanceId,
    );
    return found?.State?.Name === 'terminated' ? undefined : found;
  } catch (error) {
    if (isNotFound(error)) return undefined;
    throw error;
  }
}

/** True when the instance exists and is not terminated. */
export async function instanceExists(ec2: EC2Client, instanceId: string): Promise<boolean> {
  return (await describeLiveInstance(ec2, instanceId)) !== undefined;
}

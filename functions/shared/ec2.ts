import { DescribeInstancesCommand, type EC2Client, type Instance } from '@aws-sdk/client-ec2';
import { InvalidTaskInputError, isNotFound } from './errors.js';
import type { LedgerEntry } from './ledger.js';

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

/** An instance a rollback restores: its recorded id, and the entry's target ARN naming it. */
export interface RecordedInstance {
  readonly instanceId: string;
  readonly arn: string;
}

/**
 * The instance of a CONTAINED entry: the instance id its before-state
 * recorded, which its target ARN must name, or the rollback refuses the
 * entry (acting on another instance than the one contained is never right).
 */
export function recordedInstance(
  entry: Pick<LedgerEntry, 'targetArn'>,
  instanceId: string,
  action: string,
): RecordedInstance {
  if (!entry.targetArn?.endsWith(`:instance/${instanceId}`)) {
    throw new InvalidTaskInputError(
      `${action}: ${JSON.stringify(entry.targetArn ?? null)} is not instance ${instanceId}`,
    );
  }
  return { instanceId, arn: entry.targetArn };
}

/**
 * Partitions and IAM ARNs, parsed with anchored patterns rather than
 * `split`, so a malformed ARN is rejected instead of half-read.
 */

const REGION_PARTITIONS: ReadonlyArray<readonly [string, string]> = [
  ['us-gov-', 'aws-us-gov'],
  ['cn-', 'aws-cn'],
  ['us-isob-', 'aws-iso-b'],
  ['us-isof-', 'aws-iso-f'],
  ['eu-isoe-', 'aws-iso-e'],
  ['us-iso-', 'aws-iso'],
];

export function partitionOfRegion(region: string): string {
  for (const [prefix, partition] of REGION_PARTITIONS) {
    if (region.startsWith(prefix)) return partition;
  }
  return 'aws';
}

const PARTITION_IN_ARN = /^arn:(aws(?:-[a-z]+)*):/;

/** The partition named by an ARN (a Security Hub ProductArn), else the region's. */
export function partitionOf(arn: string | undefined, region: string): string {
  const match = arn === undefined ? null : PARTITION_IN_ARN.exec(arn);
  return match?.[1] ?? partitionOfRegion(region);
}

/** IAM names: letters, digits and `+=,.@_-`. */
export const IAM_NAME = /^[\w+=,.@-]{1,128}$/;

/** Parses IAM user and role ARNs (shared with the actions). */
export {
  type IamArn as IamPrincipalArn,
  parseIamArn as parseIamPrincipalArn,
} from '../shared/iam-arn.js';

export function rootArn(partition: string, account: string): string {
  return `arn:${partition}:iam::${account}:root`;
}

/** Best-effort ARN when IAM could not be asked: no path, so never trusted for guards alone. */
export function unverifiedArn(
  partition: string,
  account: string,
  resourceType: 'user' | 'role',
  name: string,
): string {
  return `arn:${partition}:iam::${account}:${resourceType}/${name}`;
}

/** Access key ids: `AKIA...` (long-term) or `ASIA...` (temporary), at the end of a resource id. */
const ACCESS_KEY_AT_END = /(?:^|[:/])((?:AKIA|ASIA)[A-Z0-9]{12,124})$/;

export function accessKeyIdIn(resourceId: string): string | undefined {
  return ACCESS_KEY_AT_END.exec(resourceId)?.[1];
}

/** EC2 instance ids: `i-` and 8 (older) or 17 hex digits. */
export const INSTANCE_ID = /^i-[0-9a-f]{8,17}$/;

export interface InstanceArn {
  readonly partition: string;
  readonly region: string;
  readonly account: string;
  readonly instanceId: string;
}

const INSTANCE_ARN =
  /^arn:(aws(?:-[a-z]+)*):ec2:([a-z]{2}(?:-[a-z]+)+-\d{1,2}):(\d{12}):instance\/(i-[0-9a-f]{8,17})$/;

/** Parses `arn:<partition>:ec2:<region>:<account>:instance/i-...`; anything else is undefined. */
export function parseInstanceArn(arn: string): InstanceArn | undefined {
  const match = INSTANCE_ARN.exec(arn);
  if (!match) return undefined;
  const [, partition, region, account, instanceId] = match;
  if (
    partition === undefined ||
    region === undefined ||
    account === undefined ||
    instanceId === undefined
  ) {
    return undefined;
  }
  return { partition, region, account, instanceId };
}

export function instanceArn(
  partition: string,
  region: string,
  account: string,
  instanceId: string,
): string {
  return `arn:${partition}:ec2:${region}:${account}:instance/${instanceId}`;
}

const INSTANCE_PROFILE_ARN =
  /^arn:aws(?:-[a-z]+)*:iam::\d{12}:instance-profile(?:\/[\x21-\x2e\x30-\x7e]+)*\/([\w+=,.@-]{1,128})$/;

/** The name of an instance profile (its last path segment), or undefined for a malformed ARN. */
export function instanceProfileName(arn: string): string | undefined {
  return INSTANCE_PROFILE_ARN.exec(arn)?.[1];
}

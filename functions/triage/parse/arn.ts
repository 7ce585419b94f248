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
} from '../../shared/iam-arn.js';

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

const REGION = '[a-z]{2}(?:-[a-z]+)+-\\d{1,2}';

/** Where an ARN says its resource lives. */
export interface ResourceLocation {
  readonly partition: string;
  readonly region: string;
  readonly account: string;
}

export interface SecretArn extends ResourceLocation {
  /** The name as the ARN spells it: everything before the `-` and six random characters. */
  readonly name: string;
}

/** Secrets Manager secret names: letters, digits and `/_+=.@-`, up to 512 characters. */
export const SECRET_NAME = /^[\w/+=.@-]{1,512}$/;

const SECRET_ARN = new RegExp(
  `^arn:(aws(?:-[a-z]+)*):secretsmanager:(${REGION}):(\\d{12}):secret:([\\w/+=.@-]{1,512})-[A-Za-z0-9]{6}$`,
);

/**
 * Parses `arn:<partition>:secretsmanager:<region>:<account>:secret:<name>-<6 chars>`.
 * A partial ARN (no suffix) may parse with a wrong name; triage compares the
 * whole ARN with the one Secrets Manager returns, so it is refused there.
 */
export function parseSecretArn(arn: string): SecretArn | undefined {
  const match = SECRET_ARN.exec(arn);
  if (!match) return undefined;
  const [, partition, region, account, name] = match;
  if (partition === undefined || region === undefined || account === undefined || !name) {
    return undefined;
  }
  return { partition, region, account, name };
}

export interface FunctionArn extends ResourceLocation {
  readonly name: string;
  /** The function ARN without a version or alias: reserved concurrency is per function. */
  readonly unqualified: string;
  /** `$LATEST`, a version number or an alias, when the ARN names one. */
  readonly qualifier?: string;
}

const FUNCTION_ARN = new RegExp(
  `^arn:(aws(?:-[a-z]+)*):lambda:(${REGION}):(\\d{12}):function:([A-Za-z0-9_-]{1,64})(?::(\\$LATEST|[A-Za-z0-9_-]{1,128}))?$`,
);

/** Parses a Lambda function ARN, qualified (`:alias`, `:3`, `:$LATEST`) or not. */
export function parseFunctionArn(arn: string): FunctionArn | undefined {
  const match = FUNCTION_ARN.exec(arn);
  if (!match) return undefined;
  const [, partition, region, account, name, qualifier] = match;
  if (partition === undefined || region === undefined || account === undefined || !name) {
    return undefined;
  }
  return {
    partition,
    region,
    account,
    name,
    unqualified: `arn:${partition}:lambda:${region}:${account}:function:${name}`,
    ...(qualifier === undefined ? {} : { qualifier }),
  };
}

/** S3 general purpose bucket names (3-63 lowercase letters, digits, dots and hyphens). */
export const BUCKET_NAME = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;

const BUCKET_ARN = /^arn:(aws(?:-[a-z]+)*):s3:::([a-z0-9][a-z0-9.-]{1,61}[a-z0-9])$/;

/** Parses `arn:<partition>:s3:::<bucket>`; S3 ARNs carry no account or region. */
export function parseBucketArn(
  arn: string,
): { readonly partition: string; readonly name: string } | undefined {
  const match = BUCKET_ARN.exec(arn);
  if (!match) return undefined;
  const [, partition, name] = match;
  return partition === undefined || name === undefined ? undefined : { partition, name };
}

export function bucketArn(partition: string, name: string): string {
  return `arn:${partition}:s3:::${name}`;
}

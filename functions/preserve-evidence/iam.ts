import { DESCRIBE_REASON, type IamAction } from '../shared/iam-baseline.js';

/**
 * The IAM actions preserve-evidence's code calls, beyond the baseline every function
 * holds (functions/shared/iam-baseline.ts). The infra tests hold its role in
 * the synthesized template to exactly these.
 */
export const IAM_ACTIONS = [
  'ec2:DescribeInstances',
  'ec2:DescribeInstanceAttribute',
  'ec2:DescribeSnapshots',
  'ec2:CreateTags',
  'ec2:ModifyInstanceAttribute',
  'ec2:CreateSnapshot',
] as const satisfies readonly IamAction[];

/** Calls granted on `Resource: "*"`, each with why IAM allows nothing narrower. */
export const UNSCOPED = {
  'ec2:DescribeInstances': DESCRIBE_REASON,
  'ec2:DescribeSnapshots': DESCRIBE_REASON,
} as const satisfies Partial<Record<(typeof IAM_ACTIONS)[number], string>>;

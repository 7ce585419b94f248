import { DESCRIBE_REASON, type IamAction } from '../shared/iam-baseline.js';

/**
 * The IAM actions detach-from-asg's code calls, beyond the baseline every function
 * holds (functions/shared/iam-baseline.ts). The infra tests hold its role in
 * the synthesized template to exactly these.
 */
export const IAM_ACTIONS = [
  'ec2:DescribeInstances',
  'autoscaling:DescribeAutoScalingInstances',
  'autoscaling:DescribeAutoScalingGroups',
  'autoscaling:DetachInstances',
] as const satisfies readonly IamAction[];

/** Calls granted on `Resource: "*"`, each with why IAM allows nothing narrower. */
export const UNSCOPED = {
  'ec2:DescribeInstances': DESCRIBE_REASON,
  'autoscaling:DescribeAutoScalingInstances': DESCRIBE_REASON,
  'autoscaling:DescribeAutoScalingGroups': DESCRIBE_REASON,
} as const satisfies Partial<Record<(typeof IAM_ACTIONS)[number], string>>;

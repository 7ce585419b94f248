import { DESCRIBE_REASON, type IamAction } from '../shared/iam-baseline.js';

/**
 * The IAM actions rollback-instance-profile's code calls, beyond the baseline every function
 * holds (functions/shared/iam-baseline.ts). The infra tests hold its role in
 * the synthesized template to exactly these.
 */
export const IAM_ACTIONS = [
  'ec2:DescribeInstances',
  'ec2:DescribeIamInstanceProfileAssociations',
  'ec2:AssociateIamInstanceProfile',
  'ec2:ReplaceIamInstanceProfileAssociation',
  // Associating a profile passes its role to EC2 (no SDK command of its own).
  'iam:PassRole',
] as const satisfies readonly IamAction[];

/** Calls granted on `Resource: "*"`, each with why IAM allows nothing narrower. */
export const UNSCOPED = {
  'ec2:DescribeInstances': DESCRIBE_REASON,
  'ec2:DescribeIamInstanceProfileAssociations': DESCRIBE_REASON,
} as const satisfies Partial<Record<(typeof IAM_ACTIONS)[number], string>>;

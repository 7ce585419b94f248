import { DESCRIBE_REASON, ENCRYPTED_PUBLISH, type IamAction } from '../shared/iam-baseline.js';

/**
 * The IAM actions triage's code calls, beyond the baseline every function
 * holds (functions/shared/iam-baseline.ts). The infra tests hold its role in
 * the synthesized template to exactly these.
 */
export const IAM_ACTIONS = [
  // Verify the principal the finding names, and read its tags.
  'iam:GetUser',
  'iam:GetRole',
  'iam:GetInstanceProfile',
  // The instance, its tags and its instance profile.
  'ec2:DescribeInstances',
  'ec2:DescribeIamInstanceProfileAssociations',
  // The secret's tags.
  'secretsmanager:DescribeSecret',
  // The function and its execution role; ListTags for its tags (GetFunction omits tags the caller may not list).
  'lambda:GetFunction',
  'lambda:ListTags',
  // The bucket's tags.
  's3:GetBucketTagging',
  // The runtime mode.
  'ssm:GetParameter',
  // Source verification: re-read the finding from where it came.
  'guardduty:GetFindings',
  'securityhub:GetFindings',
  // The circuit breaker: read its state, count containments, trip it.
  'dynamodb:GetItem',
  'dynamodb:UpdateItem',
  // Announce a tripped breaker on the encrypted topic.
  ...ENCRYPTED_PUBLISH,
] as const satisfies readonly IamAction[];

/** Calls granted on `Resource: "*"`, each with why IAM allows nothing narrower. */
export const UNSCOPED = {
  'ec2:DescribeInstances': DESCRIBE_REASON,
  'ec2:DescribeIamInstanceProfileAssociations': DESCRIBE_REASON,
  'guardduty:GetFindings':
    'GuardDuty GetFindings has no resource types: IAM takes only "*" (read only)',
} as const satisfies Partial<Record<(typeof IAM_ACTIONS)[number], string>>;

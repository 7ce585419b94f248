import {
  allow,
  anywhere,
  DESCRIBE_REASON,
  publishNotifications,
  type RoleSpec,
} from '../shared/iam.js';

/**
 * Triage reads, and never changes, what a finding names: the principal (and
 * its tags), the instance and its profile, the secret, the function and its
 * role, the bucket's tags; it re-reads the finding at its source; it reads
 * the runtime mode, counts containments for the circuit breaker (and trips
 * it), and announces a trip on the notification topic.
 */
export const iam: RoleSpec = {
  statements: (ctx) => [
    allow(['iam:GetUser'], [ctx.arn.iam('user')]),
    allow(['iam:GetRole'], [ctx.arn.iam('role')]),
    allow(['iam:GetInstanceProfile'], [ctx.arn.iam('instance-profile')]),
    // EC2 Describe calls support no resource-level permissions.
    anywhere(['ec2:DescribeInstances', 'ec2:DescribeIamInstanceProfileAssociations']),
    allow(['secretsmanager:DescribeSecret'], [ctx.arn.secrets()]),
    // GetFunctionConfiguration, not GetFunction: GetFunction's answer carries
    // a download link to the function's code. Tags from ListTags.
    allow(['lambda:GetFunctionConfiguration', 'lambda:ListTags'], [ctx.arn.lambdaFunctions()]),
    // S3 bucket ARNs carry no account: the condition keeps the call in this one.
    allow(['s3:GetBucketTagging'], [ctx.arn.buckets()], {
      StringEquals: { 's3:ResourceAccount': ctx.account },
    }),
    // GetParameter only: not DescribeParameters or the parameter's history.
    allow(['ssm:GetParameter'], [ctx.cordon.runtimeModeParameter]),
    // Source verification: re-read the finding from where it came.
    allow(['securityhub:GetFindings'], [ctx.arn.securityHubHub()]),
    anywhere(['guardduty:GetFindings']),
    // The circuit breaker: read its state, count containments, trip it.
    allow(['dynamodb:GetItem', 'dynamodb:UpdateItem'], [ctx.cordon.guardrailsTable]),
    // Announce a tripped breaker.
    ...publishNotifications(ctx),
  ],
  unscoped: {
    'ec2:DescribeInstances': DESCRIBE_REASON,
    'ec2:DescribeIamInstanceProfileAssociations': DESCRIBE_REASON,
    'guardduty:GetFindings':
      'GuardDuty GetFindings has no resource types: IAM takes only "*" (read only)',
  },
};

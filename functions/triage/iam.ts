import {
  TRIP_ATTRIBUTES,
  TRIP_KEY_PREFIX,
  WINDOW_ATTRIBUTES,
  WINDOW_KEY_PREFIX,
} from '../shared/breaker.js';
import {
  allow,
  anywhere,
  DESCRIBE_REASON,
  onTarget,
  publishNotifications,
  type RoleSpec,
  verifyApprovals,
} from '../shared/iam.js';

/**
 * IAM condition: an item write whose key starts with `prefix` and that
 * names no attribute but `attributes` (the key included).
 */
const onlyItems = (prefix: string, attributes: readonly string[]) => ({
  'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': [`${prefix}*`] },
  Null: { 'dynamodb:LeadingKeys': 'false' },
  'ForAllValues:StringEquals': { 'dynamodb:Attributes': [...attributes] },
});

/**
 * Triage reads, and never changes, what a finding names: the principal (and
 * its tags), the instance and its profile, the secret, the function and its
 * role, the bucket's tags; it re-reads the finding at its source; it reads
 * the runtime mode, counts containments for the circuit breaker (and trips
 * it, but cannot reset it), announces a trip on the notification topic,
 * and verifies the responder API's records a suppression rests on.
 */
export const iam: RoleSpec = {
  statements: (ctx) => [
    // What the finding names, in its account (organization-wide, the
    // member's read-only spoke role for triage holds these).
    ...onTarget([
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
    ]),
    // Cordon's own, in the hub: the finding at its source (Security Hub's
    // aggregation, GuardDuty's administrator), the guardrails, the topic.
    // GetParameter only: not DescribeParameters or the parameter's history.
    allow(['ssm:GetParameter'], [ctx.cordon.runtimeModeParameter]),
    // Source verification: re-read the finding from where it came (GetFindingsV2,
    // for OCSF findings, is the same IAM action on the V2 hub).
    allow(['securityhub:GetFindings'], [ctx.arn.securityHubHub(), ctx.arn.securityHubHubV2()]),
    // Organization-wide, through the hub's own detector in the finding's region.
    anywhere(['guardduty:GetFindings', 'guardduty:ListDetectors']),
    // The circuit breaker: read its state, count containments, trip it;
    // never reset it: the generation item (`breaker`) is not among the keys
    // it may write, and a trip cannot get an expiry (functions/shared/breaker.ts).
    allow(['dynamodb:GetItem'], [ctx.cordon.guardrailsTable]),
    allow(
      ['dynamodb:UpdateItem'],
      [ctx.cordon.guardrailsTable],
      onlyItems(WINDOW_KEY_PREFIX, WINDOW_ATTRIBUTES),
    ),
    allow(
      ['dynamodb:UpdateItem'],
      [ctx.cordon.guardrailsTable],
      onlyItems(TRIP_KEY_PREFIX, TRIP_ATTRIBUTES),
    ),
    // Announce a tripped breaker.
    ...publishNotifications(ctx),
    // A suppression (a dismissal, a rollback's grant) counts only when the
    // responder API's record of it verifies (triage/reemissions.ts).
    verifyApprovals(ctx),
  ],
  unscoped: {
    'ec2:DescribeInstances': DESCRIBE_REASON,
    'ec2:DescribeIamInstanceProfileAssociations': DESCRIBE_REASON,
    'guardduty:GetFindings':
      'GuardDuty GetFindings has no resource types: IAM takes only "*" (read only)',
    'guardduty:ListDetectors':
      'GuardDuty ListDetectors has no resource types: IAM takes only "*" (read only)',
  },
};

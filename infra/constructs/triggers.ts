import type * as events from 'aws-cdk-lib/aws-events';
import type { RuntimeConfig } from '../../functions/shared/runtime-config.js';
import type { PlaybookTrigger } from './playbook.js';

/** Security Hub resource types the iam-credentials playbook owns. */
export const IAM_SECURITY_HUB_TYPES = ['AwsIamAccessKey', 'AwsIamUser', 'AwsIamRole'];

type Thresholds = Pick<RuntimeConfig, 'severityThreshold' | 'securityHubSeverityLabels'>;

/**
 * Severity is filtered in the patterns, so a finding below the threshold
 * costs nothing; triage checks everything again (EventBridge matches array
 * fields element by element, not per finding).
 */
function guardDutyTrigger(
  config: Thresholds,
  description: string,
  detail: Record<string, unknown>,
): PlaybookTrigger {
  return {
    id: 'GuardDutyRule',
    description,
    eventPattern: {
      source: ['aws.guardduty'],
      detailType: ['GuardDuty Finding'],
      detail: { ...detail, severity: [{ numeric: ['>=', config.severityThreshold] }] },
    },
  };
}

/**
 * New, active findings on `types`, except those GuardDuty imported: they come
 * through the GuardDuty rule, so one finding never runs twice. Cordon's own
 * workflow updates (NOTIFIED, RESOLVED) do not match, so they never loop.
 */
function securityHubTrigger(
  config: Thresholds,
  description: string,
  types: readonly string[],
  finding: Record<string, unknown> = {},
): PlaybookTrigger {
  const eventPattern: events.EventPattern = {
    source: ['aws.securityhub'],
    detailType: ['Security Hub Findings - Imported'],
    detail: {
      findings: {
        Workflow: { Status: ['NEW'] },
        RecordState: ['ACTIVE'],
        Severity: { Label: [...config.securityHubSeverityLabels] },
        Resources: { Type: [...types] },
        ProductName: [{ 'anything-but': ['GuardDuty'] }],
        ...finding,
      },
    },
  };
  return { id: 'SecurityHubRule', description, eventPattern };
}

export function iamCredentialsTriggers(config: Thresholds): PlaybookTrigger[] {
  return [
    guardDutyTrigger(config, 'GuardDuty findings on access keys (IAM users, assumed roles, root)', {
      resource: {
        resourceType: ['AccessKey'],
        // Only principal types the playbook can contain; others (federated
        // users, AWS services) would only fail in triage.
        accessKeyDetails: { userType: ['IAMUser', 'AssumedRole', 'Root'] },
      },
    }),
    securityHubTrigger(
      config,
      'New, active Security Hub findings on IAM resources, except those from GuardDuty',
      IAM_SECURITY_HUB_TYPES,
    ),
  ];
}

/**
 * GuardDuty findings on instances (Backdoor, CryptoCurrency, Trojan,
 * UnauthorizedAccess, Impact, Execution... :EC2/*) and Security Hub findings
 * on AwsEc2Instance.
 */
export function ec2InstanceTriggers(config: Thresholds): PlaybookTrigger[] {
  return [
    guardDutyTrigger(config, 'GuardDuty findings on EC2 instances', {
      resource: { resourceType: ['Instance'] },
    }),
    securityHubTrigger(
      config,
      'New, active Security Hub findings on EC2 instances, except those from GuardDuty',
      ['AwsEc2Instance'],
    ),
  ];
}

/**
 * Security Hub findings on a secret (secret scanners import them), and
 * GuardDuty access-key findings whose API call touched a secret: the key is
 * contained by iam-credentials, the secret by this playbook.
 */
export function secretExposureTriggers(config: Thresholds): PlaybookTrigger[] {
  return [
    guardDutyTrigger(config, 'GuardDuty findings whose API call touched a Secrets Manager secret', {
      resource: { resourceType: ['AccessKey'] },
      service: {
        action: {
          awsApiCallAction: {
            affectedResources: { 'AWS::SecretsManager::Secret': [{ exists: true }] },
          },
        },
      },
    }),
    securityHubTrigger(
      config,
      'New, active Security Hub findings on Secrets Manager secrets, except those from GuardDuty',
      ['AwsSecretsManagerSecret'],
    ),
  ];
}

/** GuardDuty Lambda protection findings and Security Hub findings on functions. */
export function integrationQuarantineTriggers(config: Thresholds): PlaybookTrigger[] {
  return [
    guardDutyTrigger(config, 'GuardDuty findings on Lambda functions', {
      resource: { resourceType: ['Lambda'] },
    }),
    securityHubTrigger(
      config,
      'New, active Security Hub findings on Lambda functions, except those from GuardDuty',
      ['AwsLambdaFunction'],
    ),
  ];
}

/** GuardDuty Policy:S3/* findings and Security Hub data-exposure findings on buckets. */
export function s3ExposureTriggers(config: Thresholds): PlaybookTrigger[] {
  return [
    guardDutyTrigger(config, 'GuardDuty Policy:S3 findings on buckets', {
      type: [{ prefix: 'Policy:S3/' }],
      resource: { resourceType: ['S3Bucket'] },
    }),
    securityHubTrigger(
      config,
      'New, active Security Hub data-exposure findings on S3 buckets, except those from GuardDuty',
      ['AwsS3Bucket'],
      { Types: [{ prefix: 'Effects/Data Exposure' }] },
    ),
  ];
}

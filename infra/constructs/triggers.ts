import type { RuntimeConfig } from '../../functions/shared/runtime-config.js';
import type { PlaybookTrigger } from './playbook.js';

/** Security Hub resource types the iam-credentials playbook owns. */
export const IAM_SECURITY_HUB_TYPES = ['AwsIamAccessKey', 'AwsIamUser', 'AwsIamRole'];

type Thresholds = Pick<RuntimeConfig, 'severityThreshold' | 'securityHubSeverityLabels'>;

/**
 * The rules for iam-credentials. Severity is filtered here, in the pattern,
 * so a finding below the threshold costs nothing; triage checks it again
 * (EventBridge matches array fields element by element, not per finding).
 */
export function iamCredentialsTriggers(config: Thresholds): PlaybookTrigger[] {
  return [
    {
      id: 'GuardDutyRule',
      description: 'GuardDuty findings on access keys (IAM users, assumed roles, root)',
      eventPattern: {
        source: ['aws.guardduty'],
        detailType: ['GuardDuty Finding'],
        detail: {
          // Only principal types the playbook can contain; others (federated
          // users, AWS services) would only fail in triage.
          resource: {
            resourceType: ['AccessKey'],
            accessKeyDetails: { userType: ['IAMUser', 'AssumedRole', 'Root'] },
          },
          severity: [{ numeric: ['>=', config.severityThreshold] }],
        },
      },
    },
    {
      id: 'SecurityHubRule',
      description:
        'New, active Security Hub findings on IAM resources, except those from GuardDuty',
      eventPattern: {
        source: ['aws.securityhub'],
        detailType: ['Security Hub Findings - Imported'],
        detail: {
          findings: {
            Workflow: { Status: ['NEW'] },
            RecordState: ['ACTIVE'],
            Severity: { Label: [...config.securityHubSeverityLabels] },
            Resources: { Type: IAM_SECURITY_HUB_TYPES },
            // GuardDuty findings arrive through the GuardDuty rule; one finding never runs twice.
            ProductName: [{ 'anything-but': ['GuardDuty'] }],
          },
        },
      },
    },
  ];
}

/**
 * The rules for ec2-instance: GuardDuty findings on instances (Backdoor,
 * CryptoCurrency, Trojan, UnauthorizedAccess, Impact, Execution... :EC2/*)
 * and Security Hub findings on AwsEc2Instance, at or above the threshold.
 */
export function ec2InstanceTriggers(config: Thresholds): PlaybookTrigger[] {
  return [
    {
      id: 'GuardDutyRule',
      description: 'GuardDuty findings on EC2 instances',
      eventPattern: {
        source: ['aws.guardduty'],
        detailType: ['GuardDuty Finding'],
        detail: {
          resource: { resourceType: ['Instance'] },
          severity: [{ numeric: ['>=', config.severityThreshold] }],
        },
      },
    },
    {
      id: 'SecurityHubRule',
      description:
        'New, active Security Hub findings on EC2 instances, except those from GuardDuty',
      eventPattern: {
        source: ['aws.securityhub'],
        detailType: ['Security Hub Findings - Imported'],
        detail: {
          findings: {
            Workflow: { Status: ['NEW'] },
            RecordState: ['ACTIVE'],
            Severity: { Label: [...config.securityHubSeverityLabels] },
            Resources: { Type: ['AwsEc2Instance'] },
            ProductName: [{ 'anything-but': ['GuardDuty'] }],
          },
        },
      },
    },
  ];
}

import type * as events from 'aws-cdk-lib/aws-events';
import type { RuntimeConfig } from '../../functions/shared/runtime-config.js';
import {
  PUBLIC_ACCESS_POINT_CONTROL,
  PUBLIC_BUCKET_CONTROLS,
} from '../../functions/triage/parse/exposure.js';
import { severityIdsFor } from '../../functions/triage/parse/ocsf.js';
import {
  S3_ACCESS_POINT_RESOURCE_TYPE,
  S3_BUCKET_RESOURCE_TYPE,
} from '../../functions/triage/parse/schemas/asff.js';
import { ATTACK_SEQUENCE_RESOURCE_TYPE } from '../../functions/triage/parse/schemas/guardduty.js';
import {
  COMPLIANCE_FINDING_CLASS,
  DETECTION_FINDING_CLASS,
  OCSF_COMPLIANCE_FAIL,
  OCSF_EC2_INSTANCE_TYPE,
  OCSF_IAM_TYPES,
  OCSF_LAMBDA_FUNCTION_TYPE,
  OCSF_S3_BUCKET_TYPE,
  OCSF_SECRET_TYPE,
  OCSF_STATUS_NEW,
  SECURITYHUB_V2_DETAIL_TYPE,
} from '../../functions/triage/parse/schemas/ocsf.js';
import type { PlaybookTrigger } from './playbook.js';

const DATA_EXPOSURE = 'Effects/Data Exposure';

/** GuardDuty's bucket posture findings: s3-exposure's, never grounds for containing credentials. */
const POLICY_S3 = 'Policy:S3/';

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

/** ASFF's namespace of configuration checks: a weak setting, not a compromise. */
const CONFIGURATION_CHECKS = 'Software and Configuration Checks';

/**
 * New, active findings on `types`, except those GuardDuty imported: they come
 * through the GuardDuty rule, so one finding never runs twice. Cordon's own
 * workflow updates (NOTIFIED, RESOLVED) do not match, so they never loop.
 * Severity is the provider's (`FindingProviderFields`), which only the
 * product sets: `BatchUpdateFindings` callers edit the top-level one.
 */
function securityHubTrigger(
  config: Thresholds,
  description: string,
  types: readonly string[],
  { FindingProviderFields: provider = {}, ...finding }: Record<string, unknown>,
): PlaybookTrigger {
  const eventPattern: events.EventPattern = {
    source: ['aws.securityhub'],
    detailType: ['Security Hub Findings - Imported'],
    detail: {
      findings: {
        Workflow: { Status: ['NEW'] },
        RecordState: ['ACTIVE'],
        FindingProviderFields: {
          Severity: { Label: [...config.securityHubSeverityLabels] },
          ...(provider as Record<string, unknown>),
        },
        Resources: { Type: [...types] },
        ProductName: [{ 'anything-but': ['GuardDuty'] }],
        ...finding,
      },
    },
  };
  return { id: 'SecurityHubRule', description, eventPattern };
}

/**
 * The same findings from the Security Hub that sends OCSF ("Findings
 * Imported V2", one finding per event), for accounts that run it beside or
 * instead of Security Hub CSPM: new (`status_id` 1), on `types` (their
 * CloudFormation names), at the provider's severity
 * (`vendor_attributes.severity_id`: `BatchUpdateFindingsV2` callers edit the
 * top-level `severity_id`), except GuardDuty's, which come through the
 * GuardDuty rule. Cordon's own updates set `status_id` 2 or 4, so they
 * never match. `finding` adds the class and what else the playbook needs.
 */
function securityHubV2Trigger(
  config: Thresholds,
  description: string,
  types: readonly string[],
  finding: Record<string, unknown>,
): PlaybookTrigger {
  const eventPattern: events.EventPattern = {
    source: ['aws.securityhub'],
    detailType: [SECURITYHUB_V2_DETAIL_TYPE],
    detail: {
      findings: {
        status_id: [OCSF_STATUS_NEW],
        vendor_attributes: {
          severity_id: severityIdsFor(config.securityHubSeverityLabels),
        },
        resources: { type: [...types] },
        metadata: { product: { name: [{ 'anything-but': ['GuardDuty'] }] } },
        ...finding,
      },
    },
  };
  return { id: 'SecurityHubV2Rule', description, eventPattern };
}

/** OCSF detections, and where `threatsOnly`, none that is only a configuration check. */
function ocsfDetections(threatsOnly: boolean): Record<string, unknown> {
  return {
    class_uid: [DETECTION_FINDING_CLASS],
    ...(threatsOnly
      ? { finding_info: { types: [{ 'anything-but': { prefix: CONFIGURATION_CHECKS } }] } }
      : {}),
  };
}

/**
 * Detections only: no Security Hub control's result (those carry
 * `Compliance`), and, where `threatsOnly`, a provider type outside the
 * configuration checks (triage's posture guard, applied before a state
 * machine starts: an EC2.8 IMDSv2 control on an instance costs nothing).
 */
function detections(threatsOnly: boolean): Record<string, unknown> {
  return {
    Compliance: { Status: [{ exists: false }] },
    ...(threatsOnly
      ? {
          FindingProviderFields: {
            Types: [{ 'anything-but': { prefix: CONFIGURATION_CHECKS } }],
          },
        }
      : {}),
  };
}

export function iamCredentialsTriggers(config: Thresholds): PlaybookTrigger[] {
  return [
    guardDutyTrigger(
      config,
      'GuardDuty findings on the credentials that acted (IAM users, assumed roles, root), except Policy:S3 posture changes',
      {
        // S3 data-event findings name the bucket as resource and the caller in accessKeyDetails.
        type: [{ 'anything-but': { prefix: POLICY_S3 } }],
        resource: {
          resourceType: ['AccessKey', 'S3Bucket'],
          // Only principal types the playbook can contain; others (federated
          // users, AWS services) would only fail in triage.
          accessKeyDetails: { userType: ['IAMUser', 'AssumedRole', 'Root'] },
        },
      },
    ),
    securityHubTrigger(
      config,
      'New, active Security Hub detections on IAM resources, except those from GuardDuty',
      IAM_SECURITY_HUB_TYPES,
      detections(true),
    ),
    securityHubV2Trigger(
      config,
      'New Security Hub OCSF detections on IAM resources, except those from GuardDuty',
      OCSF_IAM_TYPES,
      ocsfDetections(true),
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
      'New, active Security Hub detections on EC2 instances, except those from GuardDuty',
      ['AwsEc2Instance'],
      detections(true),
    ),
    securityHubV2Trigger(
      config,
      'New Security Hub OCSF detections on EC2 instances, except those from GuardDuty',
      [OCSF_EC2_INSTANCE_TYPE],
      ocsfDetections(true),
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
      'New, active Security Hub findings on Secrets Manager secrets (no control results), except those from GuardDuty',
      ['AwsSecretsManagerSecret'],
      detections(false),
    ),
    securityHubV2Trigger(
      config,
      'New Security Hub OCSF detections on Secrets Manager secrets, except those from GuardDuty',
      [OCSF_SECRET_TYPE],
      ocsfDetections(false),
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
      'New, active Security Hub findings on Lambda functions (no control results), except those from GuardDuty',
      ['AwsLambdaFunction'],
      detections(false),
    ),
    securityHubV2Trigger(
      config,
      'New Security Hub OCSF detections on Lambda functions, except those from GuardDuty',
      [OCSF_LAMBDA_FUNCTION_TYPE],
      ocsfDetections(false),
    ),
  ];
}

/**
 * GuardDuty Policy:S3/* findings that name a bucket (resource type
 * `AccessKey`: they come from management events), and the Security Hub
 * findings that say a bucket is public (functions/triage/parse/exposure.ts
 * reads them the same way): data-exposure findings, the public-bucket
 * controls failing, IAM Access Analyzer's external access, Macie's public
 * bucket policy findings.
 */
export function s3ExposureTriggers(config: Thresholds): PlaybookTrigger[] {
  return [
    guardDutyTrigger(config, 'GuardDuty Policy:S3 findings that name a bucket', {
      type: [{ prefix: POLICY_S3 }],
      resource: { s3BucketDetails: { name: [{ exists: true }] } },
    }),
    securityHubTrigger(
      config,
      'New, active Security Hub findings that a bucket is public, except those from GuardDuty',
      [S3_BUCKET_RESOURCE_TYPE, S3_ACCESS_POINT_RESOURCE_TYPE],
      {
        $or: [
          // A control files its result under Effects/Data Exposure too (S3.2 does): failed only.
          {
            FindingProviderFields: { Types: [{ prefix: DATA_EXPOSURE }] },
            Compliance: { Status: [{ exists: false }] },
          },
          {
            FindingProviderFields: { Types: [{ prefix: DATA_EXPOSURE }] },
            Compliance: { Status: ['FAILED'] },
          },
          {
            Compliance: { Status: ['FAILED'] },
            GeneratorId: [...PUBLIC_BUCKET_CONTROLS, PUBLIC_ACCESS_POINT_CONTROL].map((id) => ({
              suffix: `/${id}`,
            })),
          },
          {
            ProductArn: [{ suffix: '::product/aws/access-analyzer' }],
            FindingProviderFields: { Types: [{ suffix: '/External Access Granted' }] },
          },
          {
            ProductArn: [{ suffix: '::product/aws/macie' }],
            FindingProviderFields: {
              Types: [{ suffix: 'S3BucketPublic' }, { suffix: 'S3BlockPublicAccessDisabled' }],
            },
          },
        ],
      },
    ),
    // OCSF carries the controls' results in a documented form (class 2003,
    // `compliance`); how it carries S3.19 on an access point, Access
    // Analyzer's and Macie's findings is documented nowhere, so this rule
    // matches none of them rather than a guessed shape (README, routing).
    securityHubV2Trigger(
      config,
      'New Security Hub OCSF findings that a bucket is public (data exposure, a public-bucket control failing), except those from GuardDuty',
      [OCSF_S3_BUCKET_TYPE],
      {
        $or: [
          {
            class_uid: [DETECTION_FINDING_CLASS],
            finding_info: { types: [{ prefix: DATA_EXPOSURE }] },
          },
          {
            class_uid: [COMPLIANCE_FINDING_CLASS],
            compliance: { control: [...PUBLIC_BUCKET_CONTROLS], status_id: [OCSF_COMPLIANCE_FAIL] },
          },
        ],
      },
    ),
  ];
}

/**
 * GuardDuty's attack sequences (Extended Threat Detection): one finding that
 * names many actors and resources, each contained as a child incident after
 * one approval. Only the native finding starts it; Security Hub's copies of
 * GuardDuty findings (ASFF and OCSF) never do, so a sequence is contained
 * once whichever way it also arrives.
 */
export function attackSequenceTriggers(config: Thresholds): PlaybookTrigger[] {
  return [
    guardDutyTrigger(config, 'GuardDuty attack sequences (Extended Threat Detection)', {
      resource: { resourceType: [ATTACK_SEQUENCE_RESOURCE_TYPE] },
      // A copy stored without its sequence (some tools keep them so) names nothing to act on.
      service: { detection: { sequence: { uid: [{ exists: true }] } } },
    }),
  ];
}

import { SEVERITY_LABELS } from '../../../shared/runtime-config.js';
import { z } from '../../../shared/z.js';
import {
  AccountIdSchema,
  bounded,
  envelopeShape,
  MAX_ARN,
  MAX_ID,
  RegionSchema,
  TimestampSchema,
} from './fields.js';

/**
 * The parts of a Security Hub "Findings - Imported" event Cordon uses, in the
 * AWS Security Finding Format (ASFF). Objects are not strict: AWS adds fields
 * and a real finding must never be refused for one. `Details` of the IAM
 * resource types are parsed separately, once the resource type is known; the
 * instance, secret, function and bucket resources need only their `Id`.
 */

export const SECURITYHUB_SOURCE = 'aws.securityhub';
export const SECURITYHUB_DETAIL_TYPE = 'Security Hub Findings - Imported';

export const IAM_RESOURCE_TYPES = ['AwsIamAccessKey', 'AwsIamUser', 'AwsIamRole'] as const;
export type IamResourceType = (typeof IAM_RESOURCE_TYPES)[number];

/** The ec2-instance playbook's resource type; its `Id` is the instance ARN. */
export const EC2_INSTANCE_RESOURCE_TYPE = 'AwsEc2Instance';

/** The secret-exposure playbook's resource type; its `Id` is the secret ARN. */
export const SECRET_RESOURCE_TYPE = 'AwsSecretsManagerSecret';

/** The integration-quarantine playbook's resource type; its `Id` is the function ARN. */
export const LAMBDA_FUNCTION_RESOURCE_TYPE = 'AwsLambdaFunction';

/** The s3-exposure playbook's resource type; its `Id` is `arn:<partition>:s3:::<bucket>`. */
export const S3_BUCKET_RESOURCE_TYPE = 'AwsS3Bucket';

/** An access point: s3-exposure blocks public access on its bucket (`Details.AwsS3AccessPoint.Bucket`). */
export const S3_ACCESS_POINT_RESOURCE_TYPE = 'AwsS3AccessPoint';

/**
 * The ASFF type a bucket finding needs for s3-exposure (the rule filters on
 * it too): a bucket finding of any other kind is not an exposure to block.
 */
export const DATA_EXPOSURE_TYPE = /^Effects\/Data Exposure(\/|$)/;

export const AsffResourceSchema = z.object({
  Type: bounded(256),
  Id: bounded(MAX_ARN),
  Region: z.string().max(32).optional(),
  Details: z.record(z.string(), z.unknown()).optional(),
});
export type AsffResource = z.infer<typeof AsffResourceSchema>;

const TypesSchema = z.array(bounded(MAX_ID)).max(50);

/**
 * The finding's compliance result, present on configuration checks only: a
 * Security Hub control's finding names its control in `SecurityControlId`
 * (consolidated control findings) and says FAILED when the resource fails it.
 */
export const ComplianceSchema = z.object({
  Status: bounded(64).optional(),
  SecurityControlId: bounded(MAX_ID).optional(),
});

export const AsffFindingSchema = z.object({
  Id: bounded(MAX_ID),
  ProductArn: bounded(MAX_ID),
  ProductName: bounded(MAX_ID).optional(),
  GeneratorId: bounded(MAX_ID),
  AwsAccountId: AccountIdSchema,
  /** Absent from older findings and from some of AWS's own examples: the resource's, then the event's. */
  Region: RegionSchema.optional(),
  Types: TypesSchema,
  Title: bounded(MAX_ID).optional(),
  UpdatedAt: TimestampSchema,
  /** `Label` is derived from `Normalized` (ASFF's table) when a finding gives only that. */
  Severity: z.object({
    Label: z.enum(SEVERITY_LABELS).optional(),
    Normalized: z.number().int().min(0).max(100).optional(),
  }),
  /**
   * What the finding provider said: only BatchImportFindings (the product)
   * sets these; BatchUpdateFindings callers edit the top-level `Severity`
   * and `Types` instead. Absent from findings older than the field.
   */
  FindingProviderFields: z
    .object({
      Severity: z.object({ Label: z.enum(SEVERITY_LABELS).optional() }).optional(),
      Types: TypesSchema.optional(),
    })
    .optional(),
  /** ASFF allows up to 32 resources per finding. */
  Resources: z.array(AsffResourceSchema).min(1).max(32),
  /** `WorkflowState` is what findings from before `Workflow` carry instead. */
  Workflow: z.object({ Status: bounded(64) }).optional(),
  WorkflowState: bounded(64).optional(),
  /** Security Hub sets ACTIVE on import; an event without it is an active finding. */
  RecordState: bounded(64).optional(),
  Compliance: ComplianceSchema.optional(),
  ProductFields: z.record(z.string(), z.unknown()).optional(),
  Sample: z.boolean().optional(),
});
export type AsffFinding = z.infer<typeof AsffFindingSchema>;

export const SecurityHubEventSchema = z.object({
  ...envelopeShape,
  region: RegionSchema.optional(),
  source: z.literal(SECURITYHUB_SOURCE),
  'detail-type': z.literal(SECURITYHUB_DETAIL_TYPE),
  /** BatchImportFindings takes at most 100 findings per call. */
  detail: z.object({ findings: z.array(AsffFindingSchema).min(1).max(100) }),
});
export type SecurityHubEvent = z.infer<typeof SecurityHubEventSchema>;

/** `Details.AwsIamAccessKey`; older findings name the user in `UserName`. */
export const AwsIamAccessKeyDetailsSchema = z.object({
  PrincipalName: bounded(MAX_ID).optional(),
  UserName: bounded(MAX_ID).optional(),
  PrincipalType: bounded(64).optional(),
  PrincipalId: bounded(MAX_ID).optional(),
  AccessKeyId: bounded(128).optional(),
});

export const AwsIamUserDetailsSchema = z.object({
  UserName: bounded(128).optional(),
  UserId: bounded(128).optional(),
});

export const AwsIamRoleDetailsSchema = z.object({
  RoleName: bounded(128).optional(),
  RoleId: bounded(128).optional(),
});

export const AwsS3AccessPointDetailsSchema = z.object({
  Bucket: bounded(MAX_ID).optional(),
});

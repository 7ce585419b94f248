import { z } from '../../../shared/z.js';
import { SECURITYHUB_SOURCE } from './asff.js';
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
 * The parts of a Security Hub "Findings Imported V2" event Cordon uses: the
 * Security Hub that formats findings in the Open Cybersecurity Schema
 * Framework (OCSF), one finding per event. Objects are not strict, as for
 * ASFF: AWS adds fields, and a real finding must never be refused for one.
 */

export const SECURITYHUB_V2_DETAIL_TYPE = 'Findings Imported V2';

/** OCSF classes Cordon reads: detections (GuardDuty, Macie, Inspector) and compliance (controls). */
export const DETECTION_FINDING_CLASS = 2004;
export const COMPLIANCE_FINDING_CLASS = 2003;

/** OCSF `status_id` New: what a product's import sets; Cordon's own updates set others. */
export const OCSF_STATUS_NEW = 1;

/** OCSF compliance `status_id` Fail. */
export const OCSF_COMPLIANCE_FAIL = 3;

/** Resource types, by their CloudFormation names, as OCSF findings give them. */
export const OCSF_IAM_TYPES = ['AWS::IAM::AccessKey', 'AWS::IAM::User', 'AWS::IAM::Role'] as const;
export const OCSF_EC2_INSTANCE_TYPE = 'AWS::EC2::Instance';
export const OCSF_SECRET_TYPE = 'AWS::SecretsManager::Secret';
export const OCSF_LAMBDA_FUNCTION_TYPE = 'AWS::Lambda::Function';
export const OCSF_S3_BUCKET_TYPE = 'AWS::S3::Bucket';

const TypesSchema = z.array(bounded(MAX_ID)).max(50);

/** An OCSF `severity_id` (0 Unknown, 1-5 Informational to Critical, 6 Fatal, 99 Other). */
const SeverityIdSchema = z.number().int().min(0).max(99);

export const OcsfResourceSchema = z.object({
  type: bounded(256),
  uid: bounded(MAX_ARN).optional(),
  uid_alt: bounded(MAX_ARN).optional(),
  region: z.string().max(32).optional(),
  data: z.record(z.string(), z.unknown()).optional(),
});
export type OcsfResource = z.infer<typeof OcsfResourceSchema>;

export const OcsfFindingSchema = z.object({
  class_uid: z.number().int(),
  /** Absent in no published finding; an event without it is read as an open one. */
  activity_name: bounded(64).optional(),
  status_id: z.number().int(),
  severity_id: SeverityIdSchema,
  /**
   * What the product said: `BatchUpdateFindingsV2` callers edit the
   * top-level `severity_id`; the provider's stays here.
   */
  vendor_attributes: z.object({ severity_id: SeverityIdSchema.optional() }).optional(),
  cloud: z.object({
    account: z.object({ uid: AccountIdSchema }),
    region: RegionSchema,
  }),
  finding_info: z.object({
    uid: bounded(MAX_ID),
    uid_alt: bounded(MAX_ID).optional(),
    types: TypesSchema.optional(),
    modified_time_dt: TimestampSchema.optional(),
  }),
  metadata: z.object({
    product: z.object({ uid: bounded(MAX_ID), name: bounded(MAX_ID).optional() }),
  }),
  compliance: z
    .object({ control: bounded(MAX_ID).optional(), status_id: z.number().int().optional() })
    .optional(),
  /** The event's time, when the finding gives no `finding_info.modified_time_dt`. */
  time_dt: TimestampSchema.optional(),
  resources: z.array(OcsfResourceSchema).min(1).max(32),
});
export type OcsfFinding = z.infer<typeof OcsfFindingSchema>;

export const SecurityHubV2EventSchema = z.object({
  ...envelopeShape,
  region: RegionSchema.optional(),
  source: z.literal(SECURITYHUB_SOURCE),
  'detail-type': z.literal(SECURITYHUB_V2_DETAIL_TYPE),
  /** Each event sends a single finding. */
  detail: z.object({ findings: z.array(OcsfFindingSchema).min(1).max(1) }),
});
export type SecurityHubV2Event = z.infer<typeof SecurityHubV2EventSchema>;

/** `data` of an `AWS::IAM::AccessKey` resource, as GuardDuty fills it. */
export const OcsfAccessKeyDataSchema = z.object({
  access_key_id: bounded(128).optional(),
  principal_id: bounded(MAX_ID).optional(),
  user_name: bounded(MAX_ID).optional(),
  user_type: bounded(64).optional(),
});

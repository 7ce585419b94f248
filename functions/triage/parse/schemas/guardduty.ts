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
 * The parts of a GuardDuty finding event Cordon uses. Objects are not strict:
 * GuardDuty adds fields over time and a real finding must never be refused
 * for one. Fields that only some resource types carry (`accessKeyDetails`)
 * are optional here and required by the normaliser for the types it handles.
 */

export const GUARDDUTY_SOURCE = 'aws.guardduty';
export const GUARDDUTY_DETAIL_TYPE = 'GuardDuty Finding';

export const AccessKeyDetailsSchema = z.object({
  /** Absent on some findings; GuardDuty samples use a placeholder. */
  accessKeyId: bounded(128).optional(),
  /** `AIDA...` for users, `AROA...:session` for assumed roles, the account id for root. */
  principalId: bounded(MAX_ID).optional(),
  /** User name, role name (assumed roles), or `Root`. */
  userName: bounded(MAX_ID),
  /** `IAMUser`, `AssumedRole`, `Root`, or a type Cordon does not handle (`FederatedUser`, ...). */
  userType: bounded(64),
});
export type AccessKeyDetails = z.infer<typeof AccessKeyDetailsSchema>;

/**
 * `resource.instanceDetails`, parsed only for `Instance` findings: other
 * resource types (an AccessKey finding on instance credentials) may carry it
 * too, and must not be refused for its shape.
 */
export const InstanceDetailsSchema = z.object({
  instanceId: z.string().regex(/^i-[0-9a-f]{8,17}$/, 'expected an EC2 instance id (i-...)'),
});

/** `service.resourceRole` of an Instance finding; an unknown value makes triage fail closed. */
export const ResourceRoleSchema = bounded(64).nullish();

/** `resource.lambdaDetails`, parsed only for `Lambda` findings. */
export const LambdaDetailsSchema = z.object({
  /** May be qualified (`:alias`, `:version`); triage acts on the function. */
  functionArn: bounded(MAX_ARN),
  functionName: bounded(MAX_ID).optional(),
});

/** `resource.s3BucketDetails`, parsed only for `Policy:S3` findings. */
export const S3BucketDetailsSchema = z
  .array(z.object({ name: bounded(MAX_ID), arn: bounded(MAX_ARN).optional() }))
  .min(1)
  .max(100);

export const GuardDutyResourceSchema = z.object({
  resourceType: bounded(64),
  accessKeyDetails: AccessKeyDetailsSchema.optional(),
  instanceDetails: z.unknown().optional(),
  lambdaDetails: z.unknown().optional(),
  s3BucketDetails: z.unknown().optional(),
});

/** The resource type of an attack sequence (Extended Threat Detection): everything is in `service.detection.sequence`. */
export const ATTACK_SEQUENCE_RESOURCE_TYPE = 'AttackSequence';

/** The key GuardDuty uses for a secret in `awsApiCallAction.affectedResources`. */
export const SECRET_AFFECTED_RESOURCE = 'AWS::SecretsManager::Secret';

/**
 * `service.action`, parsed only for the secret an API call touched; a finding
 * whose action names no secret parses to an absent one.
 */
export const AffectedSecretSchema = z
  .object({
    awsApiCallAction: z
      .object({
        affectedResources: z
          .object({ [SECRET_AFFECTED_RESOURCE]: bounded(MAX_ARN).optional() })
          .nullish(),
      })
      .nullish(),
  })
  .nullish();

export const GuardDutyServiceSchema = z.object({
  /** `sample` is a boolean on generated findings, and a string in some exports. */
  additionalInfo: z
    .object({ sample: z.union([z.boolean(), z.string().max(16)]).optional() })
    .optional(),
  archived: z.boolean().optional(),
  /** The detector that produced the finding: triage re-reads the finding from it. */
  detectorId: z
    .string()
    .regex(/^[a-z0-9]{1,300}$/)
    .optional(),
  /** `ACTOR` or `TARGET`; parsed for Instance findings only (ResourceRoleSchema). */
  resourceRole: z.unknown().optional(),
  /** What the actor did; parsed for the secret an API call touched (AffectedSecretSchema). */
  action: z.unknown().optional(),
  count: z.number().int().nonnegative().optional(),
  /** Where an attack sequence is (`detection.sequence`); parsed for AttackSequence findings only. */
  detection: z.unknown().optional(),
});

export const GuardDutyFindingSchema = z.object({
  id: bounded(MAX_ID),
  type: bounded(MAX_ID),
  severity: z.number().min(0).max(10),
  accountId: AccountIdSchema,
  region: RegionSchema,
  createdAt: TimestampSchema.optional(),
  updatedAt: TimestampSchema,
  resource: GuardDutyResourceSchema,
  service: GuardDutyServiceSchema,
});
export type GuardDutyFinding = z.infer<typeof GuardDutyFindingSchema>;

export const GuardDutyEventSchema = z.object({
  ...envelopeShape,
  source: z.literal(GUARDDUTY_SOURCE),
  'detail-type': z.literal(GUARDDUTY_DETAIL_TYPE),
  detail: GuardDutyFindingSchema,
});
export type GuardDutyEvent = z.infer<typeof GuardDutyEventSchema>;

import { z } from '../../../shared/z.js';
import { AccountIdSchema, bounded, MAX_ARN, MAX_ID, RegionSchema } from './fields.js';

/**
 * The parts of a GuardDuty attack sequence (Extended Threat Detection) that
 * Cordon reads, in GuardDuty's own form (`service.detection.sequence`: the
 * API reference's Sequence, Actor, User and ResourceV2) and as Security Hub
 * imports it (`Detection.Sequence`: ASFF's Sequence, Actor and ActorUser;
 * the resources are the finding's own `Resources`). Objects are not strict,
 * and every list is bounded by the API reference's own maximum.
 */

/** The API reference's maximum for a sequence's actors, resources and endpoints. */
export const MAX_SEQUENCE_MEMBERS = 400;
/** The API reference's maximum for a sequence's signals. */
export const MAX_SEQUENCE_SIGNALS = 100;

/** GuardDuty's `User`: name, uid and type are required; `credentialUid` is the access key. */
export const SequenceUserSchema = z.object({
  name: bounded(MAX_ID),
  uid: bounded(MAX_ID),
  /** `IAMUser`, `AssumedRole`, `Root`, or a type Cordon does not contain. */
  type: bounded(64),
  credentialUid: bounded(128).optional(),
  /** GuardDuty's `Account`: the account the user belongs to. */
  account: z.object({ uid: bounded(MAX_ID) }).optional(),
});

export const SequenceActorSchema = z.object({
  id: bounded(MAX_ID),
  user: SequenceUserSchema.optional(),
});

/** GuardDuty's `ResourceV2`: `resourceType` and `uid` are required. */
export const SequenceResourceSchema = z.object({
  resourceType: bounded(64),
  uid: bounded(MAX_ARN),
  accountId: AccountIdSchema.optional(),
  region: RegionSchema.optional(),
  name: bounded(MAX_ID).optional(),
});

/** `service.detection.sequence`, as GuardDuty sends it. */
export const GuardDutySequenceSchema = z.object({
  uid: bounded(MAX_ID),
  description: z.string().max(4096),
  signals: z.array(z.unknown()).min(1).max(MAX_SEQUENCE_SIGNALS),
  actors: z.array(SequenceActorSchema).max(MAX_SEQUENCE_MEMBERS).optional(),
  resources: z.array(SequenceResourceSchema).max(MAX_SEQUENCE_MEMBERS).optional(),
  endpoints: z.array(z.unknown()).max(MAX_SEQUENCE_MEMBERS).optional(),
});
export type GuardDutySequence = z.infer<typeof GuardDutySequenceSchema>;

/** `service.detection`, where GuardDuty puts an attack sequence. */
export const GuardDutyDetectionSchema = z
  .object({ sequence: GuardDutySequenceSchema.nullish() })
  .nullish();

/** ASFF's `ActorUser`: every member optional. */
export const AsffActorSchema = z.object({
  Id: bounded(MAX_ID).optional(),
  User: z
    .object({
      Name: bounded(MAX_ID).optional(),
      Uid: bounded(MAX_ID).optional(),
      Type: bounded(64).optional(),
      CredentialUid: bounded(128).optional(),
      Account: z.object({ Uid: bounded(MAX_ID).optional() }).optional(),
    })
    .optional(),
});

/** `Detection.Sequence` of an ASFF finding: Security Hub keeps at most 10 actors. */
export const AsffSequenceSchema = z.object({
  Uid: bounded(MAX_ID).optional(),
  Actors: z.array(AsffActorSchema).max(10).optional(),
  Signals: z.array(z.unknown()).max(MAX_SEQUENCE_SIGNALS).optional(),
});

export const AsffDetectionSchema = z.object({ Sequence: AsffSequenceSchema }).nullish();

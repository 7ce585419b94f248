import { SignedApprovalSchema } from './approval-schema.js';
import { MODES, PLAYBOOK_NAMES, SEQUENCE } from './catalog.js';
import { INCIDENT_ID } from './incident-id.js';
import { SEVERITY_LABELS } from './runtime-config.js';
import { z } from './z.js';

export { INCIDENT_ID, incidentIdFrom, orphanIncidentId } from './incident-id.js';

/**
 * The Incident is triage's output and every later task's input: a finding
 * that has been validated, normalised and claimed. Our own contract, so the
 * schemas are strict: an unknown field here is a wiring bug.
 */

export const ModeSchema = z.enum(MODES);
export const FindingSourceSchema = z.enum(['guardduty', 'securityhub']);
export type FindingSource = z.infer<typeof FindingSourceSchema>;

export const PrincipalKindSchema = z.enum(['IAMUser', 'AssumedRole', 'Root']);
export type PrincipalKind = z.infer<typeof PrincipalKindSchema>;

export const PrincipalSchema = z.strictObject({
  kind: PrincipalKindSchema,
  /** IAM user ARN, IAM role ARN (for an assumed role), or the account root ARN. */
  arn: z.string().min(1),
  /** User or role name; absent for root. */
  name: z.string().min(1).optional(),
  /** The access key named in the finding (long-term for users, temporary for roles). */
  accessKeyId: z.string().min(1).optional(),
  /**
   * IAM's unique id of the user or role triage verified (UserId, RoleId):
   * actions refuse a principal of the same name with another id, one deleted
   * and re-created while a step waited.
   */
  uniqueId: z.string().min(1).optional(),
});
export type Principal = z.infer<typeof PrincipalSchema>;

export const InstanceSchema = z.strictObject({
  instanceId: z.string().regex(/^i-[0-9a-f]{8,17}$/),
  arn: z.string().min(1),
  vpcId: z.string().optional(),
  /** Instance profile associated when triage looked. */
  instanceProfileArn: z.string().optional(),
  /** Other instances (pending, running, stopping, stopped) using the same profile. */
  profileSharedWith: z.number().int().min(0).optional(),
  /** Auto Scaling group named by the instance's `aws:autoscaling:groupName` tag. */
  autoScalingGroup: z.string().optional(),
});
export type Instance = z.infer<typeof InstanceSchema>;

export const SecretSchema = z.strictObject({
  arn: z.string().min(1),
  name: z.string().min(1),
  /** Rotation is configured (a rotation function and schedule). */
  rotationEnabled: z.boolean(),
  /**
   * The version labelled AWSCURRENT when triage read the secret (null: it
   * had none), so the value the finding may have exposed: rotate-secret
   * rotates until it is neither AWSCURRENT nor AWSPREVIOUS. Absent on an
   * incident triaged before triage recorded it.
   */
  exposedVersionId: z.string().min(1).nullable().optional(),
});
export type Secret = z.infer<typeof SecretSchema>;

export const LambdaFunctionSchema = z.strictObject({
  arn: z.string().min(1),
  name: z.string().min(1),
  /** The execution role; also the incident's principal. */
  roleArn: z.string().optional(),
});
export type LambdaFunction = z.infer<typeof LambdaFunctionSchema>;

export const BucketSchema = z.strictObject({
  name: z.string().min(3).max(63),
  arn: z.string().min(1),
});
export type Bucket = z.infer<typeof BucketSchema>;

/**
 * What an incident is about: its principal and its resource, as triage
 * verified them. Declared apart from the Incident so the action definitions,
 * which describe what a step does to them, do not depend on the catalog.
 */
export interface IncidentSubject {
  readonly principal?: Principal;
  readonly instance?: Instance;
  readonly secret?: Secret;
  readonly lambdaFunction?: LambdaFunction;
  readonly bucket?: Bucket;
}

export const StepPlanSchema = z.strictObject({
  mode: ModeSchema,
  /** Why the mode differs from the configured one, when it does. */
  reason: z.string().optional(),
  /**
   * The step does not apply to what the finding names (a role has no access
   * key to disable; a secret with rotation needs no lock): it is off, and it
   * does not count when the finding's containment is judged complete.
   */
  applies: z.literal(false).optional(),
  /**
   * The step is the fallback of the step its catalog entry names
   * (`fallbackFor`): it runs only when that step failed (a rotation that
   * stalled), and is not needed otherwise.
   */
  fallback: z.literal(true).optional(),
});
export type StepPlan = z.infer<typeof StepPlanSchema>;

/** One member of an attack sequence that Cordon contains: a child incident of its own playbook. */
export const SequenceMemberSchema = z.strictObject({
  incidentId: z.string().regex(INCIDENT_ID),
  playbook: z.enum(SEQUENCE.members),
  /** What it is, in one line ("IAM user alice, access key AKIA..."). */
  what: z.string().min(1).max(500),
  targetArn: z.string().min(1),
  /** The IAM user or role its steps act on (a user, a role, an instance's role), when there is one. */
  principalArn: z.string().min(1).optional(),
  /** Each step that may act on it (approve or dry-run), and what it does. */
  steps: z.array(
    z.strictObject({ step: z.string().min(1), mode: ModeSchema, summary: z.string() }),
  ),
  /** What acting on it reaches beyond it: every session of a role, a fleet sharing a profile. */
  blastRadius: z.array(z.string().max(500)).max(10),
});
export type SequenceMember = z.infer<typeof SequenceMemberSchema>;

/** What a sequence names that Cordon does not act on, with why and the AWS guide to follow. */
export const NotActedOnSchema = z.strictObject({
  what: z.string().min(1).max(200),
  id: z.string().min(1).max(2048),
  reason: z.string().min(1).max(1000),
  guide: z
    .string()
    .regex(/^https:\/\//)
    .max(500)
    .optional(),
});
export type NotActedOn = z.infer<typeof NotActedOnSchema>;

/** Most entries a parent incident lists as not acted on; `notListed` counts the rest. */
export const NOT_ACTED_ON_LISTED = 50;

/** A GuardDuty attack sequence, as its parent incident holds it for the one approval. */
export const SequenceSchema = z.strictObject({
  /** GuardDuty's sequence uid. */
  uid: z.string().min(1),
  signals: z.number().int().min(0),
  members: z.array(SequenceMemberSchema).max(SEQUENCE.limit),
  notActedOn: z.array(NotActedOnSchema).max(NOT_ACTED_ON_LISTED),
  /** How many more were not acted on than `notActedOn` lists. */
  notListed: z.number().int().min(1).optional(),
});
export type Sequence = z.infer<typeof SequenceSchema>;

export const IncidentSchema = z.strictObject({
  incidentId: z.string().regex(INCIDENT_ID),
  playbook: z.enum(PLAYBOOK_NAMES as [string, ...string[]]),
  source: FindingSourceSchema,
  findingId: z.string().min(1),
  /** Security Hub ProductArn; needed to update the finding. */
  productArn: z.string().optional(),
  findingType: z.string().min(1),
  /** GuardDuty's 0-10 scale; Security Hub's Normalized/10. */
  severity: z.number().min(0).max(10),
  severityLabel: z.enum(SEVERITY_LABELS),
  account: z.string().regex(/^\d{12}$/),
  region: z.string().min(1),
  updatedAt: z.string().min(1),
  /**
   * The IAM principal acted on: the user or role of an iam-credentials
   * finding, or an instance's role (as `AssumedRole`) for ec2-instance.
   * Absent when there is none (an instance without a profile).
   */
  principal: PrincipalSchema.optional(),
  /** The instance of an ec2-instance finding. */
  instance: InstanceSchema.optional(),
  /** The secret of a secret-exposure finding. */
  secret: SecretSchema.optional(),
  /** The function of an integration-quarantine finding. */
  lambdaFunction: LambdaFunctionSchema.optional(),
  /** The bucket of an s3-exposure finding. */
  bucket: BucketSchema.optional(),
  /** Each step of the playbook and the mode triage decided for it. */
  plan: z.record(z.string(), StepPlanSchema),
  /**
   * An attack sequence's parent incident: the members it contains (each a
   * child incident) and what it does not act on.
   */
  sequence: SequenceSchema.optional(),
  /**
   * A child incident of an attack sequence: the parent's id. Its steps act
   * on the parent's approval of the whole set, never automatically.
   */
  parent: z.string().regex(INCIDENT_ID).optional(),
});
export type Incident = z.infer<typeof IncidentSchema>;

/** The ARN an incident is about: its resource, else its principal. */
export function incidentTargetArn(incident: Incident): string | undefined {
  return (
    incident.instance?.arn ??
    incident.secret?.arn ??
    incident.lambdaFunction?.arn ??
    incident.bucket?.arn ??
    incident.principal?.arn
  );
}

export { requireInstance, requirePrincipal, requireResource } from './incident-require.js';

/**
 * What the state machine holds at `$.approval` when a step's action runs:
 * either a responder's approval for exactly that step (the SendTaskSuccess
 * output) or a marker that the step's mode needs none. An action in `approve`
 * mode acts only on an APPROVED decision whose `grant` record verifies
 * (functions/shared/approval-record.ts).
 */
export const ApprovalSchema = z.discriminatedUnion('decision', [
  z.strictObject({
    decision: z.literal('APPROVED'),
    step: z.string().min(1),
    /** The responder whose approval settled the step (the second, under the two-person rule). */
    approver: z.string().min(1),
    reason: z.string().optional(),
    decidedAt: z.string().min(1),
    /** Every approver, in order, when the step needed more than one. */
    approvers: z.array(z.string().min(1)).optional(),
    /**
     * The responder API's MAC'd record of this grant: the only part an
     * action trusts (anyone with a task token can send the rest).
     */
    grant: SignedApprovalSchema.optional(),
  }),
  z.strictObject({ decision: z.literal('NOT_REQUIRED'), step: z.string().min(1) }),
]);
export type Approval = z.infer<typeof ApprovalSchema>;

/** Input of every containment action task. */
export const ActionInputSchema = z.strictObject({
  incident: IncidentSchema,
  step: z.string().min(1),
  executionArn: z.string().min(1),
  approval: ApprovalSchema,
});
export type ActionInput = z.infer<typeof ActionInputSchema>;

export const OUTCOMES = [
  'CONTAINED',
  'ALREADY_CONTAINED',
  'DRY_RUN',
  'TARGET_NOT_FOUND',
  'FAILED',
  /** Approval timed out: nothing was done. */
  'NOT_ACTED_ON',
  /** A responder rejected the step: nothing was done. */
  'REJECTED',
  /**
   * The wait ended in a rejection that carries no valid record from the
   * responder API (anyone holding the task token can send one): nothing
   * was done, and nobody verifiably rejected it.
   */
  'REJECTED_UNVERIFIED',
  /**
   * The wait ended in a `States.Timeout` before the approval timeout was
   * up (a caller's SendTaskFailure may name any error): nothing was done.
   */
  'TIMEOUT_UNVERIFIED',
  /** The step's mode was `off` or the step does not apply: nothing was done. */
  'OFF',
] as const;
export type Outcome = (typeof OUTCOMES)[number];

export const ActionResultSchema = z.strictObject({
  step: z.string(),
  action: z.string(),
  outcome: z.enum(OUTCOMES),
  mode: ModeSchema,
  targetArn: z.string().optional(),
  /** One line a responder can read: what was done, or what would be done. */
  summary: z.string(),
});
export type ActionResult = z.infer<typeof ActionResultSchema>;

export const TRIAGE_DECISIONS = [
  'PROCEED',
  'DUPLICATE',
  'REFUSED',
  /** A re-emission of a finding whose incident an earlier execution holds: recorded, not acted on. */
  'JOINED',
  /** A re-emission after a responder dismissed the incident or rolled it back: recorded and notified, not acted on. */
  'SUPPRESSED',
] as const;

/**
 * Triage's output, which replaces the event as the execution's state. An
 * invalid event never gets here: triage throws InvalidFindingError instead.
 */
export const TriageResultSchema = z.strictObject({
  decision: z.enum(TRIAGE_DECISIONS),
  /** Why: the guard that refused, or "claimed", or "already claimed", or what a re-emission joined. */
  reason: z.string(),
  incident: IncidentSchema,
  /** An attack sequence's child incidents, each claimed: what the playbook contains after the approval. */
  children: z.array(IncidentSchema).max(SEQUENCE.limit).optional(),
});
export type TriageResult = z.infer<typeof TriageResultSchema>;

/** Error output Step Functions puts at a Catch's ResultPath. */
export const TaskErrorSchema = z.object({ Error: z.string(), Cause: z.string().optional() });
export type TaskError = z.infer<typeof TaskErrorSchema>;

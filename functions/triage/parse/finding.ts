import type { PlaybookName } from '../../shared/catalog.js';
import type { FindingSource, PrincipalKind } from '../../shared/incident.js';
import type { SEVERITY_LABELS } from '../../shared/runtime-config.js';
import type { FunctionArn, SecretArn } from './arn.js';
import type { ClaimedSequence } from './sequence.js';

/**
 * A finding as the event claims it, validated and normalised but not yet
 * verified: the principal, instance, secret, function or bucket named here
 * has not been checked against AWS.
 */

export type SeverityLabel = (typeof SEVERITY_LABELS)[number];

export interface ClaimedPrincipal {
  readonly kind: PrincipalKind;
  /** User or role name; absent for root. */
  readonly name?: string;
  /** Unique id named by the finding (`AIDA...`, `AROA...:session`), when it names one. */
  readonly principalId?: string;
  readonly accessKeyId?: string;
  /** ARN named by the finding (Security Hub user and role resources). */
  readonly arn?: string;
}

export interface ClaimedInstance {
  /** `i-` and 8 or 17 hex digits. */
  readonly instanceId: string;
  /** Instance ARN named by the finding (Security Hub `AwsEc2Instance` resources). */
  readonly arn?: string;
  /**
   * GuardDuty's `service.resourceRole` as the finding gives it: `ACTOR` (the
   * instance did the activity), `TARGET` (it suffered it), or a value Cordon
   * does not know (triage then fails closed). Absent for Security Hub.
   */
  readonly resourceRole?: string;
}

export interface SecurityHubFacts {
  /** The finding came in OCSF ("Findings Imported V2"); absent for ASFF. */
  readonly format?: 'ocsf';
  readonly productName?: string;
  readonly workflowStatus: string;
  readonly recordState: string;
  /** ASFF `Types` (namespace/category/classifier) as the provider set them; OCSF `finding_info.types`. */
  readonly types: readonly string[];
  /**
   * Set when the top-level severity or types claim more than the provider
   * said (or there are no provider fields to tell): automatic steps then
   * wait for a responder (source.ts).
   */
  readonly edited?: string;
}

/** What every finding says, whatever its resource. */
export interface FindingFacts {
  readonly source: FindingSource;
  readonly findingId: string;
  readonly findingType: string;
  /** Security Hub ProductArn; absent for GuardDuty. */
  readonly productArn?: string;
  readonly updatedAt: string;
  readonly severity: number;
  readonly severityLabel: SeverityLabel;
  /** The account the finding says its resource is in. */
  readonly account: string;
  /** The account of the EventBridge event that carried the finding. */
  readonly envelopeAccount: string;
  readonly region: string;
  /** `aws`, `aws-cn`, `aws-us-gov`, ... */
  readonly partition: string;
  readonly sample: boolean;
  /** GuardDuty: archived (suppressed) by a responder or a suppression rule. */
  readonly archived: boolean;
  /** GuardDuty: the detector that produced the finding (where triage re-reads it). */
  readonly detectorId?: string;
  /** Present for Security Hub findings only. */
  readonly securityHub?: SecurityHubFacts;
}

/** A finding on IAM credentials: a user, an assumed role, or root. */
export interface IamFinding extends FindingFacts {
  readonly playbook: Extract<PlaybookName, 'iam-credentials'>;
  readonly principal: ClaimedPrincipal;
}

/** A finding on an EC2 instance. */
export interface InstanceFinding extends FindingFacts {
  readonly playbook: Extract<PlaybookName, 'ec2-instance'>;
  readonly instance: ClaimedInstance;
}

export interface ClaimedSecret {
  /** The secret as the finding names it: an ARN, or (GuardDuty) possibly a name. */
  readonly secretId: string;
  /** `secretId` parsed, when it is a secret ARN. */
  readonly arn?: SecretArn;
}

/** A finding on a Secrets Manager secret, or a GuardDuty finding whose API call touched one. */
export interface SecretFinding extends FindingFacts {
  readonly playbook: Extract<PlaybookName, 'secret-exposure'>;
  readonly secret: ClaimedSecret;
}

/** A finding on a Lambda function; the ARN is reduced to the unqualified function. */
export interface FunctionFinding extends FindingFacts {
  readonly playbook: Extract<PlaybookName, 'integration-quarantine'>;
  readonly lambdaFunction: FunctionArn;
}

/** A finding on an S3 bucket's exposure (a policy or public-access finding). */
export interface BucketFinding extends FindingFacts {
  readonly playbook: Extract<PlaybookName, 's3-exposure'>;
  readonly bucket: { readonly name: string };
}

/**
 * A GuardDuty attack sequence: not one subject but many, each contained
 * as a child incident of its own playbook (triage/sequence.ts).
 */
export interface SequenceFinding extends FindingFacts {
  readonly playbook: Extract<PlaybookName, 'attack-sequence'>;
  readonly sequence: ClaimedSequence;
}

/** A finding, and the playbook that acts on it; `playbook` discriminates what it claims. */
export type Finding =
  | IamFinding
  | InstanceFinding
  | SecretFinding
  | FunctionFinding
  | BucketFinding;

export type UnhandledReason =
  | 'unhandled-source'
  | 'unhandled-detail-type'
  | 'unhandled-resource'
  /** Parsed for one playbook: the event says nothing that playbook acts on. */
  | 'other-playbook'
  /** GuardDuty's finding as Security Hub imported it, which the GuardDuty rule handles. */
  | 'guardduty-through-security-hub';

/**
 * What `parseFindingEvent` makes of an event. `finding`: one finding, as the
 * playbook it was parsed for sees it (or, parsed for no playbook, as its
 * resource type chooses), ready for triage. `unhandled`: a well-formed event that no Cordon playbook
 * acts on (another source, another detail type, a resource or principal type
 * Cordon does not contain). A malformed event from a handled source is
 * neither: it throws InvalidFindingError.
 */
export type ParsedFindingEvent =
  | { readonly status: 'finding'; readonly finding: Finding }
  /** A GuardDuty attack sequence, for the attack-sequence playbook. */
  | { readonly status: 'sequence'; readonly finding: SequenceFinding }
  | {
      readonly status: 'unhandled';
      readonly reason: UnhandledReason;
      /** The event's `source`. */
      readonly source: string;
      /** One line saying why, for the CLI and logs. */
      readonly message: string;
    };

/** What an incident takes over from its finding as it is: every field but its subject and plan. */
export function incidentFacts(finding: FindingFacts) {
  return {
    source: finding.source,
    findingId: finding.findingId,
    ...(finding.productArn === undefined ? {} : { productArn: finding.productArn }),
    findingType: finding.findingType,
    severity: finding.severity,
    severityLabel: finding.severityLabel,
    account: finding.account,
    region: finding.region,
    updatedAt: finding.updatedAt,
  };
}

import type { FindingSource, PrincipalKind } from '../shared/incident.js';
import type { SEVERITY_LABELS } from '../shared/runtime-config.js';

/**
 * A finding as the event claims it, validated and normalised but not yet
 * verified: the principal named here has not been checked against IAM.
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

export interface SecurityHubFacts {
  readonly productName?: string;
  readonly workflowStatus: string;
  readonly recordState: string;
  /** ASFF `Types` (namespace/category/classifier). */
  readonly types: readonly string[];
}

export interface Finding {
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
  /** Present for Security Hub findings only. */
  readonly securityHub?: SecurityHubFacts;
  readonly principal: ClaimedPrincipal;
}

export type UnhandledReason = 'unhandled-source' | 'unhandled-detail-type' | 'unhandled-resource';

/**
 * What `parseFindingEvent` makes of an event. `finding`: one IAM finding,
 * ready for triage. `unhandled`: a well-formed event that no Cordon playbook
 * acts on (another source, another detail type, a resource or principal type
 * Cordon does not contain). A malformed event from a handled source is
 * neither: it throws InvalidFindingError.
 */
export type ParsedFindingEvent =
  | { readonly status: 'finding'; readonly finding: Finding }
  | {
      readonly status: 'unhandled';
      readonly reason: UnhandledReason;
      /** The event's `source`. */
      readonly source: string;
      /** One line saying why, for the CLI and logs. */
      readonly message: string;
    };

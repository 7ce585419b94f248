import { type OrganizationRuntime, outOfScope } from '../../shared/organization.js';
import type { RuntimeConfig } from '../../shared/runtime-config.js';
import type { BoundDecider } from '../deciders/decision.js';
import type { FindingFacts } from '../parse/finding.js';

/**
 * The finding guards, in order, before AWS is asked anything. Each returns
 * the refusal reason, naming the guard, or undefined when the finding
 * passes. They need the event, the configuration, and what the finding's
 * decider says of its claim (where it is; whether configuration checks act).
 * The guards on the subject as AWS reports it are in protection.ts.
 */

type Claim = Pick<BoundDecider, 'location' | 'configurationChecksAct'>;
type FindingGuard = (
  finding: FindingFacts,
  config: RuntimeConfig,
  claim: Claim,
  organization?: OrganizationRuntime,
) => string | undefined;

const GUARDDUTY_PRODUCT_ARN = /\/aws\/guardduty$/;

export const sampleGuard: FindingGuard = (finding) =>
  finding.sample ? 'sample: the finding is a sample finding' : undefined;

/** A responder or a suppression rule already dismissed the finding. */
export const archivedGuard: FindingGuard = (finding) =>
  finding.archived ? 'archived: the finding is archived (suppressed)' : undefined;

/**
 * Configuration checks (Security Hub controls, CSPM tools) say a setting is
 * weak, not that a principal is compromised; containing on them would lock
 * out healthy users. A finding acts only if one of its types is not a check,
 * unless its playbook takes checks as evidence (its decider says so: for
 * s3-exposure a public bucket is the exposure itself, and secret scanners
 * and Lambda findings may file a real exposure under a check type; those
 * playbooks' steps all wait for approval by default).
 */
const POSTURE_TYPE = /^Software and Configuration Checks(\/|$)/;
export const postureGuard: FindingGuard = (finding, _config, claim) => {
  if (claim.configurationChecksAct) return undefined;
  const types = finding.securityHub?.types;
  if (types === undefined || types.length === 0) return undefined;
  return types.every((t) => POSTURE_TYPE.test(t))
    ? `posture: a configuration check (${types[0]}), not evidence of compromise`
    : undefined;
};

/** GuardDuty findings reach Security Hub too; the GuardDuty rule handles them, once. */
export const guardDutyProductGuard: FindingGuard = (finding) => {
  if (finding.source !== 'securityhub') return undefined;
  const fromGuardDuty =
    (finding.productArn !== undefined && GUARDDUTY_PRODUCT_ARN.test(finding.productArn)) ||
    finding.securityHub?.productName === 'GuardDuty';
  return fromGuardDuty
    ? 'product: Security Hub finding from GuardDuty; the GuardDuty rule handles it'
    : undefined;
};

/** The rule filters these too, but EventBridge matches arrays per field, not per finding. */
export const workflowGuard: FindingGuard = (finding) => {
  const facts = finding.securityHub;
  if (facts === undefined) return undefined;
  if (facts.workflowStatus !== 'NEW') {
    return `workflow: Security Hub workflow status is ${facts.workflowStatus}, not NEW`;
  }
  if (facts.recordState !== 'ACTIVE') {
    return `workflow: Security Hub record state is ${facts.recordState}, not ACTIVE`;
  }
  return undefined;
};

/**
 * The finding's account is one Cordon acts in: the home account, or,
 * organization-wide, an account in scope (for `"*"` Organizations has the
 * last word: triage asks it after these guards). Either way the event came
 * through the home account (the delegated administrator's, or the
 * aggregation's), and an ARN the finding names is in the finding's account.
 */
export const accountGuard: FindingGuard = (finding, config, claim, organization) => {
  const home = config.homeAccount;
  if (organization === undefined && finding.account !== home) {
    return `account: the finding is for account ${finding.account}, not home account ${home}`;
  }
  const scope = organization && outOfScope(organization, finding.account);
  if (scope) return `account: ${scope}`;
  if (finding.envelopeAccount !== home) {
    return `account: the event came from account ${finding.envelopeAccount}, not home account ${home}`;
  }
  const claimed = claim.location();
  return claimed?.account !== undefined && claimed.account !== finding.account
    ? `account: the ${claimed.what} ${claimed.arn} is in account ${claimed.account}, not the finding's account ${finding.account}`
    : undefined;
};

export const regionGuard: FindingGuard = (finding, config, claim, organization) => {
  const allowed = organization?.regions ?? config.allowedRegions;
  if (!allowed.includes(finding.region)) {
    return `region: ${finding.region} is not an allowed region (${allowed.join(', ')})`;
  }
  // An instance, secret or function ARN names its own region, which must agree with the finding's.
  const claimed = claim.location();
  return claimed?.region !== undefined && claimed.region !== finding.region
    ? `region: the ${claimed.what} ${claimed.arn} is in ${claimed.region}, not the finding's region ${finding.region}`
    : undefined;
};

export const severityGuard: FindingGuard = (finding, config) => {
  if (finding.source === 'guardduty') {
    return finding.severity < config.severityThreshold
      ? `severity: ${finding.severity} is below the threshold ${config.severityThreshold}`
      : undefined;
  }
  return config.securityHubSeverityLabels.includes(finding.severityLabel)
    ? undefined
    : `severity: ${finding.severityLabel} is not an acted-on label (${config.securityHubSeverityLabels.join(', ')})`;
};

export const FINDING_GUARDS: ReadonlyArray<FindingGuard> = [
  sampleGuard,
  archivedGuard,
  guardDutyProductGuard,
  postureGuard,
  workflowGuard,
  accountGuard,
  regionGuard,
  severityGuard,
];

export function findingRefusal(
  finding: FindingFacts,
  config: RuntimeConfig,
  claim: Claim,
  organization?: OrganizationRuntime,
): string | undefined {
  for (const guard of FINDING_GUARDS) {
    const reason = guard(finding, config, claim, organization);
    if (reason !== undefined) return reason;
  }
  return undefined;
}

import type { PlaybookName } from '../shared/catalog.js';
import type { RuntimeConfig } from '../shared/runtime-config.js';
import { parseIamPrincipalArn, parseInstanceArn } from './arn.js';
import type { Finding } from './finding.js';
import { protectingPattern } from './patterns.js';

/**
 * Triage's guards, in order. Each returns the refusal reason, naming the
 * guard, or undefined when the finding passes. The finding guards (1-6) need
 * nothing but the event and config; the protected and exempt guards (7-8)
 * need the principal or resource as AWS reports it (IAM, EC2, Secrets
 * Manager, Lambda, S3).
 */

type FindingGuard = (finding: Finding, config: RuntimeConfig) => string | undefined;

const GUARDDUTY_PRODUCT_ARN = /\/aws\/guardduty$/;

export const sampleGuard: FindingGuard = (finding) =>
  finding.sample ? 'sample: the finding is a sample finding' : undefined;

/** A responder or a suppression rule already dismissed the finding. */
export const archivedGuard: FindingGuard = (finding) =>
  finding.archived ? 'archived: the finding is archived (suppressed)' : undefined;

/**
 * Configuration checks (Security Hub controls, CSPM tools) say a setting is
 * weak, not that a principal is compromised; containing on them would lock
 * out healthy users. A finding acts only if one of its types is not a check.
 * Applies to iam-credentials and ec2-instance only: for s3-exposure a
 * configuration finding (a public bucket) is the exposure itself, and secret
 * scanners and Lambda findings may file a real exposure under a check type;
 * those playbooks' steps all wait for approval by default.
 */
const POSTURE_TYPE = /^Software and Configuration Checks(\/|$)/;
const POSTURE_PLAYBOOKS: ReadonlyArray<PlaybookName> = ['iam-credentials', 'ec2-instance'];
export const postureGuard: FindingGuard = (finding) => {
  if (!POSTURE_PLAYBOOKS.includes(finding.playbook)) return undefined;
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

export const accountGuard: FindingGuard = (finding, config) => {
  const home = config.homeAccount;
  if (finding.account !== home) {
    return `account: the finding is for account ${finding.account}, not home account ${home}`;
  }
  if (finding.envelopeAccount !== home) {
    return `account: the event came from account ${finding.envelopeAccount}, not home account ${home}`;
  }
  const claimed = claimedLocation(finding);
  return claimed?.account !== undefined && claimed.account !== home
    ? `account: the ${claimed.what} ${claimed.arn} is in account ${claimed.account}, not home account ${home}`
    : undefined;
};

export const regionGuard: FindingGuard = (finding, config) => {
  const allowed = config.allowedRegions;
  if (!allowed.includes(finding.region)) {
    return `region: ${finding.region} is not an allowed region (${allowed.join(', ')})`;
  }
  // An instance, secret or function ARN names its own region, which must agree with the finding's.
  const claimed = claimedLocation(finding);
  return claimed?.region !== undefined && claimed.region !== finding.region
    ? `region: the ${claimed.what} ${claimed.arn} is in ${claimed.region}, not the finding's region ${finding.region}`
    : undefined;
};

interface ClaimedLocation {
  readonly what: string;
  readonly arn: string;
  readonly account?: string;
  readonly region?: string;
}

/**
 * Where the ARN the finding names says its resource is. S3 ARNs carry no
 * account or region (triage passes ExpectedBucketOwner instead), and
 * GuardDuty principals and secrets named without an ARN carry neither.
 */
function claimedLocation(finding: Finding): ClaimedLocation | undefined {
  switch (finding.playbook) {
    case 'iam-credentials': {
      const { arn } = finding.principal;
      const parsed = arn === undefined ? undefined : parseIamPrincipalArn(arn);
      return arn === undefined || parsed === undefined
        ? undefined
        : { what: 'principal', arn, account: parsed.account };
    }
    case 'ec2-instance': {
      const { arn } = finding.instance;
      const parsed = arn === undefined ? undefined : parseInstanceArn(arn);
      return arn === undefined || parsed === undefined
        ? undefined
        : { what: 'instance', arn, ...parsed };
    }
    case 'secret-exposure': {
      const { arn } = finding.secret;
      return arn === undefined
        ? undefined
        : {
            what: 'secret',
            arn: finding.secret.secretId,
            account: arn.account,
            region: arn.region,
          };
    }
    case 'integration-quarantine': {
      const fn = finding.lambdaFunction;
      return { what: 'function', arn: fn.unqualified, account: fn.account, region: fn.region };
    }
    case 's3-exposure':
      return undefined;
  }
}

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

export function findingRefusal(finding: Finding, config: RuntimeConfig): string | undefined {
  for (const guard of FINDING_GUARDS) {
    const reason = guard(finding, config);
    if (reason !== undefined) return reason;
  }
  return undefined;
}

export function protectedGuard(arn: string, config: RuntimeConfig): string | undefined {
  const pattern = protectingPattern(arn, config.protectedPrincipalPatterns);
  return pattern === undefined ? undefined : `protected: ${arn} matches protected ${pattern}`;
}

/** An IAM or EC2 tag: both SDKs type `Key` and `Value` as optional strings. */
export interface ResourceTag {
  readonly Key?: string | undefined;
  readonly Value?: string | undefined;
}

/**
 * Tag keys compare without case (IAM keeps one key per spelling; on EC2 this
 * errs towards protecting more); values exactly.
 */
export function exemptTagGuard(
  arn: string,
  tags: ReadonlyArray<ResourceTag>,
  config: RuntimeConfig,
): string | undefined {
  const { key, value } = config.exemptTag;
  const exempt = tags.some((t) => t.Key?.toLowerCase() === key.toLowerCase() && t.Value === value);
  return exempt ? `exempt: ${arn} is tagged ${key}=${value}` : undefined;
}

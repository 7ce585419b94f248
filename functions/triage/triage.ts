import { EC2Client } from '@aws-sdk/client-ec2';
import { GuardDutyClient } from '@aws-sdk/client-guardduty';
import { IAMClient } from '@aws-sdk/client-iam';
import { LambdaClient } from '@aws-sdk/client-lambda';
import { S3Client } from '@aws-sdk/client-s3';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SecurityHubClient } from '@aws-sdk/client-securityhub';
import { SNSClient } from '@aws-sdk/client-sns';
import { SSMClient } from '@aws-sdk/client-ssm';
import { z } from 'zod';
import { clientOptions, s3ClientOptions } from '../shared/aws.js';
import { boot } from '../shared/boot.js';
import { type BreakerLimits, CircuitBreaker } from '../shared/breaker.js';
import { PLAYBOOK_NAMES, type PlaybookName } from '../shared/catalog.js';
import { ConfigError } from '../shared/config-error.js';
import { type Environment, requireEnv, requireJsonEnv } from '../shared/env.js';
import { InvalidFindingError } from '../shared/errors.js';
import { taskHandler } from '../shared/handler.js';
import {
  type Incident,
  IncidentSchema,
  incidentIdFrom,
  incidentTargetArn,
  type TriageResult,
} from '../shared/incident.js';
import type { Ledger } from '../shared/ledger.js';
import { ENV, type RuntimeConfig, RuntimeConfigSchema } from '../shared/runtime-config.js';
import { boundedText } from '../shared/text.js';
import { firstIssue } from '../shared/validation.js';
import { announceTrip } from './announce.js';
import { decideBucket } from './bucket.js';
import { type Decision, proceedReason, refuse, type Subject } from './decision.js';
import type { Finding, IamFinding, InstanceFinding } from './finding.js';
import {
  actsUnattended,
  applyRuntimeMode,
  checkBreaker,
  RUNTIME_MODE_TTL_MS,
  type RuntimeModeReading,
  RuntimeModeSwitch,
  requireApproval,
} from './guardrails.js';
import { exemptTagGuard, findingRefusal, protectedGuard } from './guards.js';
import {
  claimedInstance,
  countProfileSharing,
  type InstanceRole,
  resolveInstance,
  resolveInstanceRole,
} from './instance.js';
import { decideFunction } from './lambda-function.js';
import { parseFindingEvent } from './parse.js';
import { planInstanceSteps, planNothing, planSteps } from './plan.js';
import { claimedArn, resolvePrincipal } from './principal.js';
import { decideSecret } from './secret.js';
import { type SourceCheck, verifyAtSource } from './source.js';

export interface TriageDeps {
  readonly iam: IAMClient;
  readonly ec2: EC2Client;
  readonly secretsManager: SecretsManagerClient;
  readonly lambda: LambdaClient;
  readonly s3: S3Client;
  readonly ledger: Ledger;
  readonly config: RuntimeConfig;
  /** ARN of triage's own role: the ledger's actor. */
  readonly actor: string;
  /**
   * The runtime mode switch and the circuit breaker. The handler always
   * wires them; only tests of the guards before them leave them out.
   */
  readonly guardrails?: Guardrails;
}

export interface Guardrails {
  readonly runtimeMode: Pick<RuntimeModeSwitch, 'read' | 'parameterName'>;
  readonly breaker: Pick<CircuitBreaker, 'count'>;
  readonly limits: BreakerLimits;
  /** Tells responders the breaker tripped (once, by the containment that tripped it). */
  readonly announceTrip: (incident: Incident, reason: string) => Promise<void>;
  /** Re-reads the finding from its source (source.ts). */
  readonly verifySource: (finding: Finding) => Promise<SourceCheck>;
}

/**
 * The incident id, which is the ledger claim key: the same delivery twice is
 * one incident; a re-emission with a new updatedAt is another; and the
 * playbook is part of it, because one finding can start two playbooks (an
 * access key that read a secret) whose incidents must not collide.
 */
export function incidentIdOf(
  finding: Pick<Finding, 'source' | 'findingId' | 'updatedAt' | 'playbook'>,
): string {
  return incidentIdFrom(
    `${finding.source}|${finding.findingId}|${finding.updatedAt}|${finding.playbook}`,
  );
}

export interface TriageContext {
  /** The execution that runs this triage; recorded on the claim. */
  readonly executionArn?: string;
  /**
   * The playbook whose state machine runs this triage: the event is read as
   * that playbook sees it. An event holding nothing for it is refused as
   * invalid: its steps would not be this playbook's.
   */
  readonly playbook?: PlaybookName;
}

/**
 * Validates and normalises a finding event, verifies the principal or
 * resource it names, applies the guards, claims the incident in the ledger
 * and plans each step. Throws InvalidFindingError for an event it cannot act
 * on (nothing is claimed), and Cordon's retryable errors when AWS throttles
 * or fails.
 */
export async function triage(
  event: unknown,
  deps: TriageDeps,
  context: TriageContext = {},
): Promise<TriageResult> {
  const parsed = parseFindingEvent(event, context.playbook);
  if (parsed.status === 'unhandled') {
    throw new InvalidFindingError(`triage cannot act on this event: ${parsed.message}`);
  }
  const { finding } = parsed;
  const guarded = await underGuardrails(finding, await decide(finding, deps), deps.guardrails);
  const { decided, runtime, source } = guarded;
  const incident = toIncident(finding, decided);
  const claimed = await deps.ledger.claim(incident.incidentId, {
    step: 'triage',
    action: 'triage',
    actor: deps.actor,
    outcome: decided.decision === 'REFUSED' ? 'REFUSED' : 'CLAIMED',
    targetArn: decided.arn,
    findingId: finding.findingId,
    summary: decided.reason,
    ...(context.executionArn === undefined ? {} : { executionArn: context.executionArn }),
    detail: {
      findingType: finding.findingType,
      source: finding.source,
      severity: finding.severity,
      updatedAt: finding.updatedAt,
      ...(finding.productArn === undefined ? {} : { productArn: finding.productArn }),
      ...(runtime === undefined ? {} : { runtimeMode: runtime.mode }),
      ...(source === undefined ? {} : { sourceCheck: source }),
    },
  });
  if (!claimed && !(await claimedByThisExecution(incident.incidentId, deps, context))) {
    const reason = 'already claimed';
    const plan = planNothing(reason, finding.playbook);
    return { decision: 'DUPLICATE', reason, incident: { ...incident, plan } };
  }
  if (decided.decision === 'PROCEED' && deps.guardrails && actsUnattended(incident.plan)) {
    const held = await throughBreaker(incident, deps.guardrails, deps, context);
    return { decision: 'PROCEED', reason: held.reason ?? decided.reason, incident: held.incident };
  }
  return { decision: decided.decision, reason: decided.reason, incident };
}

/**
 * True when the claim is this execution's own, from an attempt that failed
 * after claiming (Step Functions retries the task): that is a resumption,
 * not a duplicate, or the incident would be dropped.
 */
async function claimedByThisExecution(
  incidentId: string,
  deps: TriageDeps,
  context: TriageContext,
): Promise<boolean> {
  if (context.executionArn === undefined) return false;
  const claim = await deps.ledger.first(incidentId);
  return claim?.executionArn === context.executionArn;
}

/**
 * The decision under the guardrails that come before the claim (nothing
 * changes for a refusal): the runtime mode switch, then, for a plan that
 * would still act unattended, the re-read of the finding from its source.
 */
async function underGuardrails(
  finding: Finding,
  decided: Decision,
  guardrails: Guardrails | undefined,
): Promise<{ decided: Decision; runtime?: RuntimeModeReading; source?: SourceCheck }> {
  if (decided.decision !== 'PROCEED' || guardrails === undefined) return { decided };
  const runtime = await guardrails.runtimeMode.read();
  let current = decided;
  if (runtime.mode !== 'auto') {
    const plan = applyRuntimeMode(decided.plan, runtime, guardrails.runtimeMode.parameterName);
    const note = runtime.failClosedReason ?? `runtime mode is ${runtime.mode}`;
    current = { ...decided, plan, reason: `${decided.reason}; ${note}` };
  }
  if (!actsUnattended(current.plan)) return { decided: current, runtime };
  const source = await guardrails.verifySource(finding);
  if (source.status === 'verified') return { decided: current, runtime, source };
  const why = `source not verified: ${source.reason}`;
  const plan = requireApproval(current.plan, why);
  return {
    decided: { ...current, plan, reason: `claimed; automatic steps need approval: ${why}` },
    runtime,
    source,
  };
}

/**
 * Counts an incident that would act unattended. Past the limit (or when the
 * breaker cannot be read) its auto steps wait for approval instead; that is
 * recorded, and the containment that trips the breaker tells responders.
 */
async function throughBreaker(
  incident: Incident,
  guardrails: Guardrails,
  deps: TriageDeps,
  context: TriageContext,
): Promise<{ incident: Incident; reason?: string }> {
  const verdict = await checkBreaker(guardrails.breaker, incident.incidentId, guardrails.limits);
  if (verdict.status === 'counted') return { incident };
  const held = { ...incident, plan: requireApproval(incident.plan, verdict.reason) };
  await deps.ledger.append(incident.incidentId, {
    step: 'triage',
    action: 'triage',
    actor: deps.actor,
    outcome: verdict.trippedNow ? 'BREAKER_TRIPPED' : 'BREAKER_HOLDING',
    findingId: incident.findingId,
    summary: verdict.reason,
    ...(context.executionArn === undefined ? {} : { executionArn: context.executionArn }),
  });
  if (verdict.trippedNow) {
    // The incident is claimed: a failed announcement must not fail triage
    // (a retry would find the claim and the breaker already tripped).
    try {
      await guardrails.announceTrip(held, verdict.reason);
    } catch (error) {
      await deps.ledger.append(incident.incidentId, {
        step: 'triage',
        action: 'triage',
        actor: deps.actor,
        outcome: 'FAILED',
        findingId: incident.findingId,
        summary: boundedText(
          `announcing the tripped circuit breaker failed: ${error instanceof Error ? error.message : String(error)}`,
          500,
        ),
      });
    }
  }
  return { incident: held, reason: `claimed; automatic steps need approval: ${verdict.reason}` };
}

function decide(finding: Finding, deps: TriageDeps): Promise<Decision> {
  switch (finding.playbook) {
    case 'iam-credentials':
      return decidePrincipal(finding, deps);
    case 'ec2-instance':
      return decideInstance(finding, deps);
    case 'secret-exposure':
      return decideSecret(finding, deps);
    case 'integration-quarantine':
      return decideFunction(finding, deps);
    case 's3-exposure':
      return decideBucket(finding, deps);
  }
}

async function decidePrincipal(finding: IamFinding, deps: TriageDeps): Promise<Decision> {
  const { config } = deps;
  const early = findingRefusal(finding, config);
  if (early !== undefined) return refuse(early, claimedArn(finding), finding.playbook);

  const resolution = await resolvePrincipal(finding, deps.iam);
  if (resolution.status === 'refused') {
    return refuse(resolution.reason, resolution.arn, finding.playbook);
  }

  const { arn } = resolution;
  const refusal =
    protectedGuard(arn, config) ??
    (resolution.status === 'verified' ? exemptTagGuard(arn, resolution.tags, config) : undefined);
  if (refusal !== undefined) return refuse(refusal, arn, finding.playbook);

  // Guards fail closed: an unread exempt tag means no step runs unattended.
  const failClosedReason =
    resolution.status === 'unverified'
      ? `exempt tag could not be read: ${resolution.reason}`
      : undefined;
  const plan = planSteps(
    {
      kind: finding.principal.kind,
      accessKeyId: finding.principal.accessKeyId,
      ...(failClosedReason === undefined ? {} : { failClosedReason }),
    },
    config,
  );
  return { decision: 'PROCEED', reason: proceedReason(failClosedReason), arn, plan };
}

/** GuardDuty says the instance suffered the activity (probed, brute-forced), not that it did it. */
export const TARGET_REASON = 'the instance is the target of the activity, not its actor';

/**
 * The instance guards, after the finding guards: the instance must exist in
 * the home account (EC2 says so), and neither its ARN nor its tags may
 * protect it. Its role's protection only turns off revoking that role.
 */
async function decideInstance(finding: InstanceFinding, deps: TriageDeps): Promise<Decision> {
  const { config } = deps;
  const claimed = claimedInstance(finding);
  const early = findingRefusal(finding, config);
  if (early !== undefined)
    return refuse(early, claimed.arn, finding.playbook, { instance: claimed });

  const resolution = await resolveInstance(finding, deps.ec2, config.homeAccount);
  const { instance } = resolution;
  if (resolution.status === 'refused') {
    return refuse(resolution.reason, instance.arn, finding.playbook, { instance });
  }
  const refusal =
    protectedGuard(instance.arn, config) ??
    (resolution.status === 'verified'
      ? exemptTagGuard(instance.arn, resolution.tags, config)
      : undefined);
  if (refusal !== undefined) return refuse(refusal, instance.arn, finding.playbook, { instance });

  // Guards fail closed: whatever could not be read means no step runs unattended.
  const unread: string[] = [];
  let role: InstanceRole;
  let verified = instance;
  if (resolution.status === 'unverified') {
    unread.push(`exempt tag could not be read: ${resolution.reason}`);
    role = { status: 'unreadable', reason: resolution.reason };
  } else if (instance.instanceProfileArn === undefined) {
    role = { status: 'none', reason: 'the instance has no instance profile' };
  } else {
    const profileArn = instance.instanceProfileArn;
    role = await resolveInstanceRole(profileArn, deps.iam, config);
    const sharing = await countProfileSharing(deps.ec2, profileArn, instance.instanceId);
    if ('count' in sharing) verified = { ...instance, profileSharedWith: sharing.count };
    else
      unread.push(`instances sharing the instance profile could not be counted: ${sharing.error}`);
  }
  if (role.status === 'unreadable' && resolution.status === 'verified') {
    unread.push(`the instance role could not be read: ${role.reason}`);
  } else if (role.status === 'found' && role.failClosedReason !== undefined) {
    unread.push(role.failClosedReason);
  }
  const resourceRole = finding.instance.resourceRole;
  if (resourceRole !== undefined && resourceRole !== 'ACTOR' && resourceRole !== 'TARGET') {
    unread.push(`GuardDuty resource role ${resourceRole} is neither ACTOR nor TARGET`);
  }

  const failClosedReason = unread.length === 0 ? undefined : unread.join('; ');
  const humanReason = resourceRole === 'TARGET' ? TARGET_REASON : undefined;
  const plan = planInstanceSteps(
    {
      ...revokeSkip(role),
      ...(failClosedReason === undefined ? {} : { failClosedReason }),
      ...(humanReason === undefined ? {} : { humanReason }),
    },
    config,
  );
  return {
    decision: 'PROCEED',
    reason: proceedReason(failClosedReason ?? humanReason),
    arn: instance.arn,
    plan,
    instance: verified,
    ...(role.status === 'found' ? { principal: role.principal } : {}),
  };
}

function revokeSkip(role: InstanceRole): { revokeSkipReason?: string } {
  switch (role.status) {
    case 'none':
      return { revokeSkipReason: role.reason };
    case 'unreadable':
      return { revokeSkipReason: `the instance role could not be read: ${role.reason}` };
    case 'found':
      return role.skipReason === undefined ? {} : { revokeSkipReason: role.skipReason };
  }
}

function toIncident(finding: Finding, decided: Decision): Incident {
  const candidate = {
    incidentId: incidentIdOf(finding),
    playbook: finding.playbook,
    source: finding.source,
    findingId: finding.findingId,
    ...(finding.productArn === undefined ? {} : { productArn: finding.productArn }),
    findingType: finding.findingType,
    severity: finding.severity,
    severityLabel: finding.severityLabel,
    account: finding.account,
    region: finding.region,
    updatedAt: finding.updatedAt,
    ...subjectOf(finding, decided),
    plan: decided.plan,
  };
  // Our own contract: if the output does not fit it, act on nothing.
  const checked = IncidentSchema.safeParse(candidate);
  if (!checked.success) {
    const { where, message } = firstIssue(checked.error);
    throw new InvalidFindingError(
      `finding does not normalise to an incident at ${where}: ${message}`,
    );
  }
  return checked.data;
}

/**
 * What the incident is about: the principal (IAM), or the resource as the
 * decision holds it (with its role, for instances and functions).
 */
function subjectOf(finding: Finding, decided: Decision): Subject {
  if (finding.playbook !== 'iam-credentials') {
    const { principal, instance, secret, lambdaFunction, bucket } = decided;
    return {
      ...(principal === undefined ? {} : { principal }),
      ...(instance === undefined ? {} : { instance }),
      ...(secret === undefined ? {} : { secret }),
      ...(lambdaFunction === undefined ? {} : { lambdaFunction }),
      ...(bucket === undefined ? {} : { bucket }),
    };
  }
  const { principal } = finding;
  return {
    principal: {
      kind: principal.kind,
      arn: decided.arn,
      ...(principal.kind === 'Root' || principal.name === undefined
        ? {}
        : { name: principal.name }),
      ...(principal.accessKeyId === undefined ? {} : { accessKeyId: principal.accessKeyId }),
    },
  };
}

/** The runtime mode cache, in seconds: RUNTIME_MODE_TTL_MS unless configured. */
function cacheSeconds(value: string | undefined): number {
  if (value === undefined || value === '') return RUNTIME_MODE_TTL_MS / 1000;
  const seconds = Number(value);
  if (!Number.isInteger(seconds) || seconds < 0 || seconds > 300) {
    throw new ConfigError(
      `${ENV.runtimeModeCacheSeconds} must be a whole number of seconds, 0 to 300`,
    );
  }
  return seconds;
}

/**
 * The state machine passes the raw EventBridge event, not our own contract,
 * so only the envelope is strict: triage validates the event leniently.
 */
const TriageInputSchema = z.strictObject({
  event: z.unknown(),
  executionArn: z.string().min(1),
  playbook: z.enum(PLAYBOOK_NAMES as [PlaybookName, ...PlaybookName[]]),
});

export function makeHandler(
  env: Environment,
  clients = {
    iam: new IAMClient(clientOptions),
    ec2: new EC2Client(clientOptions),
    secretsManager: new SecretsManagerClient(clientOptions),
    lambda: new LambdaClient(clientOptions),
    s3: new S3Client(s3ClientOptions()),
    ssm: new SSMClient(clientOptions),
    sns: new SNSClient(clientOptions),
    guardDuty: new GuardDutyClient(clientOptions),
    securityHub: new SecurityHubClient(clientOptions),
  },
) {
  const { logger, ledger, actor, dynamo } = boot(env, 'triage');
  const config = requireJsonEnv(env, ENV.config, RuntimeConfigSchema);
  const topicArn = requireEnv(env, ENV.topicArn);
  const { sns, guardDuty, securityHub } = clients;
  const deps: TriageDeps = {
    ...clients,
    ledger,
    config,
    actor,
    guardrails: {
      runtimeMode: new RuntimeModeSwitch(
        clients.ssm,
        config.runtimeModeParameter,
        Date.now,
        cacheSeconds(env[ENV.runtimeModeCacheSeconds]) * 1000,
      ),
      breaker: new CircuitBreaker({
        client: dynamo,
        tableName: requireEnv(env, ENV.guardrailsTable),
      }),
      limits: config.circuitBreaker,
      announceTrip: (incident, reason) => announceTrip({ sns, topicArn }, incident, reason),
      verifySource: (finding) =>
        verifyAtSource(finding, { guardDuty, securityHub }, config.securityHubProductAllowList),
    },
  };
  return taskHandler(logger, TriageInputSchema, async (input) => {
    const { event, executionArn, playbook } = input;
    const result = await triage(event, deps, { executionArn, playbook });
    logger.info('triage decided', {
      incidentId: result.incident.incidentId,
      decision: result.decision,
      reason: result.reason,
      // An instance or function incident is about its resource, even when it names its role.
      targetArn: incidentTargetArn(result.incident),
    });
    return result;
  });
}

import { EC2Client } from '@aws-sdk/client-ec2';
import { GuardDutyClient } from '@aws-sdk/client-guardduty';
import { IAMClient } from '@aws-sdk/client-iam';
import { LambdaClient } from '@aws-sdk/client-lambda';
import { OrganizationsClient } from '@aws-sdk/client-organizations';
import { S3Client } from '@aws-sdk/client-s3';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SecurityHubClient } from '@aws-sdk/client-securityhub';
import { SNSClient } from '@aws-sdk/client-sns';
import { SSMClient } from '@aws-sdk/client-ssm';
import {
  type ApprovalVerifier,
  approvalVerifier,
  principalsAmong,
} from '../shared/approval-record.js';
import { clientOptions, s3ClientOptions } from '../shared/aws.js';
import { boot } from '../shared/boot.js';
import { type BreakerLimits, type BreakerState, CircuitBreaker } from '../shared/breaker.js';
import { PLAYBOOK_NAMES, type PlaybookName } from '../shared/catalog.js';
import { ConfigError } from '../shared/config-error.js';
import { type Environment, requireEnv, requireJsonEnv } from '../shared/env.js';
import { InvalidFindingError } from '../shared/errors.js';
import { taskHandler } from '../shared/handler.js';
import { inFlight } from '../shared/in-flight.js';
import {
  type Incident,
  IncidentSchema,
  incidentTargetArn,
  type TriageResult,
} from '../shared/incident.js';
import type { Ledger } from '../shared/ledger.js';
import type { OrganizationRuntime } from '../shared/organization.js';
import { ENV, RuntimeConfigSchema } from '../shared/runtime-config.js';
import {
  organizationOf,
  type PlaceConfig,
  type PlacedClients,
  placedClients,
} from '../shared/spoke.js';
import { boundedText } from '../shared/text.js';
import { firstIssue } from '../shared/validation.js';
import { z } from '../shared/z.js';
import {
  type BoundDecider,
  type DeciderDeps,
  type Decision,
  refuse,
  type Subject,
} from './deciders/decision.js';
import { deciderFor } from './deciders/index.js';
import { decidingAt } from './deciding.js';
import { announceTrip } from './guardrails/announce.js';
import {
  membershipRefusal,
  OrganizationMembers,
  type OrganizationsReader,
} from './guardrails/membership.js';
import {
  actsUnattended,
  applyRuntimeMode,
  checkBreaker,
  RUNTIME_MODE_TTL_MS,
  type RuntimeModeReading,
  RuntimeModeSwitch,
  requireApproval,
} from './guardrails/runtime-mode.js';
import { HubDetectors, type SourceCheck, verifyAtSource } from './guardrails/source.js';
import { findingRefusal } from './guards/finding.js';
import { type Finding, incidentFacts } from './parse/finding.js';
import { incidentIdOf, parseFindingEvent } from './parse/index.js';
import { mayActUnattended } from './plan.js';
import { triageSequence } from './sequence.js';
import { settle } from './settle.js';

/** The clients a decider reads what a finding names with. */
export type TargetClients = Pick<DeciderDeps, 'iam' | 'ec2' | 'secretsManager' | 'lambda' | 's3'>;

/**
 * Triage's dependencies: its decider's clients fixed (tests), or built for
 * each finding's account and region (`targets`: organization-wide, through
 * the account's spoke role for triage).
 */
export type TriageDeps = TriageBase &
  (TargetClients | { readonly targets: PlacedClients<TargetClients> });

interface TriageBase extends Omit<DeciderDeps, keyof TargetClients> {
  readonly ledger: Ledger;
  /**
   * Checks the responder API's records a suppression rests on (a dismissal,
   * a rollback's grant): only a verified one suppresses (reemissions.ts).
   */
  readonly approvals: ApprovalVerifier;
  /** ARN of triage's own role: the ledger's actor. */
  readonly actor: string;
  readonly guardrails: Guardrails;
  /**
   * Organization-wide: which accounts and regions are in scope (and for
   * `"*"`, `members` asks Organizations). Absent: the home account only.
   */
  readonly organization?: OrganizationRuntime;
  readonly members?: Pick<OrganizationMembers, 'refusal'>;
}

export interface Guardrails {
  readonly runtimeMode: Pick<RuntimeModeSwitch, 'read' | 'parameterName'>;
  /** Its state is read beside the claim, and counted once the claim is written. */
  readonly breaker: Pick<CircuitBreaker, 'count' | 'state'>;
  readonly limits: BreakerLimits;
  /** Tells responders the breaker tripped (once, by the containment that tripped it). */
  readonly announceTrip: (incident: Incident, reason: string) => Promise<void>;
  /** Re-reads the finding from its source, which must name `identifier` (source.ts). */
  readonly verifySource: (finding: Finding, identifier: string | undefined) => Promise<SourceCheck>;
}

export interface TriageContext {
  /** The execution that runs this triage; recorded on the claim. */
  readonly executionArn: string;
  /**
   * The playbook whose state machine runs this triage: the event is read as
   * that playbook sees it. An event holding nothing for it is refused as
   * invalid: its steps would not be this playbook's.
   */
  readonly playbook: PlaybookName;
}

/**
 * Validates and normalises a finding event, verifies the principal or
 * resource it names, applies the guards, settles the emission in the
 * incident's ledger (a claim of its own, or a re-emission that joins the
 * incident or is suppressed: reemissions.ts) and plans each step. Throws InvalidFindingError for an event it cannot act
 * on (nothing is claimed), and Cordon's retryable errors when AWS throttles
 * or fails.
 */
export async function triage(
  event: unknown,
  deps: TriageDeps,
  context: TriageContext,
): Promise<TriageResult> {
  const parsed = parseFindingEvent(event, context.playbook);
  if (parsed.status === 'unhandled') {
    throw new InvalidFindingError(`triage cannot act on this event: ${parsed.message}`);
  }
  if (parsed.status === 'sequence') return triageSequence(event, parsed.finding, deps, context);
  const { finding } = parsed;
  const kind = deciderFor(finding);
  const early = await scopeRefusal(finding, kind, deps);
  // Reads that need nothing but the finding start together, beside the
  // decider's: the incident's ledger entries (every path claims or records),
  // and, for a finding the decider looks at, the guardrails' reads. Each is
  // used, with its own failure handling, only where it was used before.
  const recorded = inFlight(deps.ledger.entries(incidentIdOf(finding)));
  const reads = guardrailReads(
    finding,
    kind,
    deps.guardrails,
    early === undefined && mayActUnattended(finding.playbook, deps.config),
  );
  const verdict =
    early === undefined
      ? await kind.decide(await decidingAt(deps, { ...finding, incidentId: incidentIdOf(finding) }))
      : refuse(early, kind.claimed(), finding.playbook);
  const guarded = await underGuardrails(verdict, reads, deps.guardrails);
  const { decided, runtime, source } = guarded;
  const incident = toIncident(finding, decided);
  // The breaker counts an incident that acts unattended once its claim is
  // written (a duplicate counts nothing), but its state is read beside the
  // claim's write.
  const counts = decided.decision === 'PROCEED' && actsUnattended(incident.plan);
  let breakerState: Promise<BreakerState> | undefined;
  const subjects = principalsAmong([
    incident.principal?.arn,
    incidentTargetArn(incident),
    incident.lambdaFunction?.roleArn,
  ]);
  const settled = await settle(
    {
      event,
      finding,
      incident,
      decided,
      subjects,
      detail: {
        ...(runtime === undefined ? {} : { runtimeMode: runtime.mode }),
        ...(source === undefined ? {} : { sourceCheck: source }),
      },
      recorded,
      onClaim: () => {
        if (counts) breakerState ??= inFlight(deps.guardrails.breaker.state());
      },
    },
    deps,
    context,
  );
  if (settled.notActing !== undefined) return settled.notActing;
  if (counts) {
    const held = await throughBreaker(incident, breakerState, deps, context);
    return { decision: 'PROCEED', reason: held.reason ?? decided.reason, incident: held.incident };
  }
  return { decision: decided.decision, reason: decided.reason, incident };
}

/**
 * The finding guards, then, organization-wide with `"accounts": "*"`,
 * whether Organizations has the finding's account as an active member: no
 * call is made in an account before it is known to be in scope.
 */
async function scopeRefusal(
  finding: Finding,
  kind: BoundDecider,
  deps: TriageDeps,
): Promise<string | undefined> {
  return (
    findingRefusal(finding, deps.config, kind, deps.organization) ??
    membershipRefusal(finding.account, deps.organization, deps.members)
  );
}

/** The reads the guardrails before the claim may need, each made at most once. */
interface GuardrailReads {
  runtime(): Promise<RuntimeModeReading>;
  source(): Promise<SourceCheck>;
}

/**
 * The runtime mode and the source's copy of the finding: both started now
 * when `ahead` (the decision, read meanwhile, may well need them: neither
 * read fails, each reads as fail-closed), else each when first needed.
 */
function guardrailReads(
  finding: Finding,
  kind: BoundDecider,
  guardrails: Guardrails,
  ahead: boolean,
): GuardrailReads {
  const once = <T>(read: () => Promise<T>): (() => Promise<T>) => {
    let started: Promise<T> | undefined;
    return () => {
      started ??= inFlight(read());
      return started;
    };
  };
  const reads = {
    runtime: once(() => guardrails.runtimeMode.read()),
    source: once(() => guardrails.verifySource(finding, kind.sourceIdentifier())),
  };
  if (ahead) {
    reads.runtime();
    reads.source();
  }
  return reads;
}

/**
 * The decision under the guardrails that come before the claim (nothing
 * changes for a refusal): the runtime mode switch, then, for a plan that
 * would still act unattended, the re-read of the finding from its source.
 */
async function underGuardrails(
  decided: Decision,
  reads: GuardrailReads,
  guardrails: Guardrails,
): Promise<{ decided: Decision; runtime?: RuntimeModeReading; source?: SourceCheck }> {
  if (decided.decision !== 'PROCEED') return { decided };
  const runtime = await reads.runtime();
  let current = decided;
  if (runtime.mode !== 'auto') {
    const plan = applyRuntimeMode(decided.plan, runtime, guardrails.runtimeMode.parameterName);
    const note = runtime.failClosedReason ?? `runtime mode is ${runtime.mode}`;
    current = { ...decided, plan, reason: `${decided.reason}; ${note}` };
  }
  if (!actsUnattended(current.plan)) return { decided: current, runtime };
  const source = await reads.source();
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
  state: Promise<BreakerState> | undefined,
  deps: TriageDeps,
  context: TriageContext,
): Promise<{ incident: Incident; reason?: string }> {
  const { guardrails } = deps;
  const verdict = await checkBreaker(
    guardrails.breaker,
    incident.incidentId,
    guardrails.limits,
    state,
  );
  if (verdict.status === 'counted') return { incident };
  const held = { ...incident, plan: requireApproval(incident.plan, verdict.reason) };
  await deps.ledger.append(incident.incidentId, {
    step: 'triage',
    action: 'triage',
    actor: deps.actor,
    outcome: verdict.trippedNow ? 'BREAKER_TRIPPED' : 'BREAKER_HOLDING',
    findingId: incident.findingId,
    summary: verdict.reason,
    executionArn: context.executionArn,
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

function toIncident(finding: Finding, decided: Decision): Incident {
  const candidate = {
    incidentId: incidentIdOf(finding),
    playbook: finding.playbook,
    ...incidentFacts(finding),
    ...subjectOf(decided),
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

/** What the incident is about, as the decision holds it (with its role, for instances and functions). */
function subjectOf(decided: Decision): Subject {
  const { principal, instance, secret, lambdaFunction, bucket } = decided;
  return {
    ...(principal === undefined ? {} : { principal }),
    ...(instance === undefined ? {} : { instance }),
    ...(secret === undefined ? {} : { secret }),
    ...(lambdaFunction === undefined ? {} : { lambdaFunction }),
    ...(bucket === undefined ? {} : { bucket }),
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

/** Triage's own clients, and its decider's for each place. */
interface TriageClients {
  readonly ssm: SSMClient;
  readonly sns: SNSClient;
  /** GuardDuty in each region: a finding is re-read where it lives. */
  readonly guardDuty: (region: string) => GuardDutyClient;
  readonly securityHub: SecurityHubClient;
  readonly targets: PlacedClients<TargetClients>;
  /** @default one built when every member is in scope (`"accounts": "*"`) */
  readonly organizations?: OrganizationsReader;
}

/** One client per region, built on first use. */
function oncePerRegion<C>(make: (region: string) => C): (region: string) => C {
  const clients = new Map<string, C>();
  return (region) => {
    const held = clients.get(region);
    if (held !== undefined) return held;
    const built = make(region);
    clients.set(region, built);
    return built;
  };
}

/** Triage's clients for what a finding names, where the finding is. */
const placedTargets = (config: PlaceConfig): TargetClients => ({
  iam: new IAMClient({ ...clientOptions, ...config }),
  ec2: new EC2Client({ ...clientOptions, ...config }),
  secretsManager: new SecretsManagerClient({ ...clientOptions, ...config }),
  lambda: new LambdaClient({ ...clientOptions, ...config }),
  s3: new S3Client({ ...s3ClientOptions(), ...config }),
});

export function makeHandler(
  env: Environment,
  clients: TriageClients = {
    ssm: new SSMClient(clientOptions),
    sns: new SNSClient(clientOptions),
    guardDuty: oncePerRegion((region) => new GuardDutyClient({ ...clientOptions, region })),
    securityHub: new SecurityHubClient(clientOptions),
    targets: placedClients(env, 'triage', placedTargets),
  },
) {
  const { logger, ledger, actor, dynamo, now } = boot(env, 'triage');
  const config = requireJsonEnv(env, ENV.config, RuntimeConfigSchema);
  const organization = organizationOf(env);
  const topicArn = requireEnv(env, ENV.topicArn);
  const { sns, guardDuty, securityHub, targets } = clients;
  // Organization-wide the hub reads members' findings as GuardDuty's administrator.
  const detectors = organization === undefined ? undefined : new HubDetectors(guardDuty);
  const deps: TriageDeps = {
    targets,
    ledger,
    approvals: approvalVerifier(env),
    config,
    actor,
    ...(organization === undefined ? {} : { organization }),
    // Only with every member in scope does triage ask Organizations.
    ...(organization?.accounts === '*'
      ? {
          members: new OrganizationMembers({
            organizations: clients.organizations ?? new OrganizationsClient(clientOptions),
            organizationId: organization.organizationId,
          }),
        }
      : {}),
    guardrails: {
      runtimeMode: new RuntimeModeSwitch(
        clients.ssm,
        config.runtimeModeParameter,
        () => now().getTime(),
        cacheSeconds(env[ENV.runtimeModeCacheSeconds]) * 1000,
      ),
      breaker: new CircuitBreaker({
        client: dynamo,
        tableName: requireEnv(env, ENV.guardrailsTable),
        now,
      }),
      limits: config.circuitBreaker,
      announceTrip: (incident, reason) => announceTrip({ sns, topicArn }, incident, reason),
      verifySource: (finding, identifier) =>
        verifyAtSource(
          finding,
          identifier,
          {
            guardDuty: guardDuty(finding.region),
            securityHub,
            ...(detectors === undefined
              ? {}
              : { administratorDetector: () => detectors.of(finding.region) }),
          },
          config.securityHubProductAllowList,
        ),
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

import { GetParameterCommand, type SSMClient } from '@aws-sdk/client-ssm';
import type {
  BreakerLimits,
  BreakerState,
  CircuitBreaker,
  CountResult,
} from '../../shared/breaker.js';
import type { StepPlan } from '../../shared/incident.js';
import { boundedText } from '../../shared/text.js';

/**
 * The guardrails triage applies after its guards, to every incident it
 * would act on: the runtime mode switch (an SSM parameter, so operators can
 * stop or slow Cordon without a deploy) and the circuit breaker. Both fail
 * closed: what cannot be read turns `auto` into `approve`.
 */

export const RUNTIME_MODES = ['auto', 'approve-all', 'dry-run', 'off'] as const;
export type RuntimeMode = (typeof RUNTIME_MODES)[number];

export interface RuntimeModeReading {
  readonly mode: RuntimeMode;
  /** Set when the mode was forced because the parameter could not be used. */
  readonly failClosedReason?: string;
}

/** How long triage trusts what it read from the parameter. */
export const RUNTIME_MODE_TTL_MS = 30_000;

/**
 * Reads the runtime mode parameter, caching it for a short time: a change
 * applies to every new incident within RUNTIME_MODE_TTL_MS. A parameter that
 * cannot be read, or holds anything else, reads as `approve-all`.
 */
export class RuntimeModeSwitch {
  private cached: { readonly reading: RuntimeModeReading; readonly at: number } | undefined;

  constructor(
    private readonly ssm: Pick<SSMClient, 'send'>,
    readonly parameterName: string,
    private readonly now: () => number,
    private readonly ttlMs: number,
  ) {}

  async read(): Promise<RuntimeModeReading> {
    const now = this.now();
    if (this.cached && now - this.cached.at < this.ttlMs) return this.cached.reading;
    const reading = await this.fetch();
    this.cached = { reading, at: now };
    return reading;
  }

  private async fetch(): Promise<RuntimeModeReading> {
    let value: string | undefined;
    try {
      const out = await this.ssm.send(new GetParameterCommand({ Name: this.parameterName }));
      value = out.Parameter?.Value?.trim();
    } catch (error) {
      const name = error instanceof Error ? error.name : 'error';
      return {
        mode: 'approve-all',
        failClosedReason: `runtime mode ${this.parameterName} could not be read (${name}): every step needs approval`,
      };
    }
    const mode = RUNTIME_MODES.find((m) => m === value);
    if (mode) return { mode };
    return {
      mode: 'approve-all',
      failClosedReason: `runtime mode ${this.parameterName} holds ${boundedText(JSON.stringify(value ?? null), 40)}, not one of ${RUNTIME_MODES.join(', ')}: every step needs approval`,
    };
  }
}

/**
 * The plan under a runtime mode. `off`: every step off (record and notify
 * only). `dry-run`: every step that would run becomes a dry run, which
 * records what it would do and acts on nothing. `approve-all`: every `auto`
 * step waits for a responder.
 */
export function applyRuntimeMode(
  plan: Record<string, StepPlan>,
  reading: RuntimeModeReading,
  parameterName: string,
): Record<string, StepPlan> {
  const { mode } = reading;
  if (mode === 'auto') return plan;
  const why = reading.failClosedReason ?? `runtime mode ${parameterName} is ${mode}`;
  if (mode === 'approve-all') return requireApproval(plan, why);
  return Object.fromEntries(
    Object.entries(plan).map(([step, p]) => [step, p.mode === 'off' ? p : { mode, reason: why }]),
  );
}

/** True when the plan would act on something without a responder. */
export function actsUnattended(plan: Record<string, StepPlan>): boolean {
  return Object.values(plan).some((p) => p.mode === 'auto');
}

/** Every `auto` step of the plan waits for approval, for `reason`. */
export function requireApproval(
  plan: Record<string, StepPlan>,
  reason: string,
): Record<string, StepPlan> {
  return Object.fromEntries(
    Object.entries(plan).map(([step, p]) => [
      step,
      p.mode === 'auto' ? { mode: 'approve' as const, reason } : p,
    ]),
  );
}

export type BreakerVerdict =
  | { readonly status: 'counted'; readonly count: number }
  | {
      readonly status: 'holding';
      /** Why auto steps need approval (tripped, or unreadable: fail closed). */
      readonly reason: string;
      /** This containment tripped the breaker: tell responders. */
      readonly trippedNow: boolean;
    };

/**
 * Counts an automatic containment. A tripped breaker, or one that cannot be
 * read or written, holds: auto steps need approval. `state`: the breaker's
 * state, when its read was started already (a failed read holds too).
 */
export async function checkBreaker(
  breaker: Pick<CircuitBreaker, 'count'>,
  incidentId: string,
  limits: BreakerLimits,
  state?: Promise<BreakerState>,
): Promise<BreakerVerdict> {
  let result: CountResult;
  try {
    result = await (state === undefined
      ? breaker.count(incidentId, limits)
      : breaker.count(incidentId, limits, state));
  } catch (error) {
    const name = error instanceof Error ? error.name : 'error';
    return {
      status: 'holding',
      reason: `circuit breaker could not be read (${name}): auto steps need approval`,
      trippedNow: false,
    };
  }
  if (result.status === 'counted') return result;
  const minutes = Math.round(limits.windowSeconds / 60);
  return {
    status: 'holding',
    reason: `circuit breaker tripped at ${result.state.trippedAt ?? 'an earlier time'}: more than ${limits.maxContainments} automatic containments within ${minutes} min; auto steps need approval until a responder runs cordon breaker reset`,
    trippedNow: result.trippedNow,
  };
}

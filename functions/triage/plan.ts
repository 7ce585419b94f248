import { type Mode, type PlaybookName, type StepId, stepsOf } from '../shared/catalog.js';
import type { StepPlan } from '../shared/incident.js';
import type { RuntimeConfig } from '../shared/runtime-config.js';

export interface PlanInput<P extends PlaybookName> {
  /**
   * Steps that do not apply to what the finding names (a role has no access
   * key to disable), each with why: off, and marked so, since a finding is
   * resolved once every step that applies contained its target.
   */
  readonly inapplicable?: Partial<Record<StepId<P>, string>> | undefined;
  /** Steps that apply but must not run (a protected role), each with why: off. */
  readonly skip?: Partial<Record<StepId<P>, string>> | undefined;
  /**
   * Steps that run only if the step they stand in for fails (catalog
   * `fallbackFor`), each with why: never unattended (`auto` becomes
   * `approve`: a responder decides), and marked `fallback`.
   */
  readonly fallback?: Partial<Record<StepId<P>, string>> | undefined;
  /** Steps that must not run unattended (an exempt-tagged role), each with why: `auto` becomes `approve`. */
  readonly approve?: Partial<Record<StepId<P>, string>> | undefined;
  /** Set when a guard could not decide: `auto` and `dry-run` become `approve`. */
  readonly failClosedReason?: string | undefined;
  /**
   * Set when a responder must look before anything runs: the finding may
   * not show a compromise (the instance was the target of the activity), or
   * the subject carries the exempt tag. `auto` becomes `approve`; a dry
   * run, which acts on nothing, stays a dry run.
   */
  readonly humanReason?: string | undefined;
}

/**
 * Decides each step of `playbook`, which is all the routing a playbook has:
 * the configured mode (else the catalog default); `off` where the step does
 * not apply or must not run; then the fail-closed and needs-a-human
 * downgrades.
 */
export function planPlaybook<P extends PlaybookName>(
  playbook: P,
  input: PlanInput<P>,
  config: RuntimeConfig,
): Record<string, StepPlan> {
  const configured = config.modes[playbook] ?? {};
  const inapplicable: Partial<Record<string, string>> = input.inapplicable ?? {};
  const skips: Partial<Record<string, string>> = input.skip ?? {};
  const approvals: Partial<Record<string, string>> = input.approve ?? {};
  const fallbacks: Partial<Record<string, string>> = input.fallback ?? {};
  const plan: Record<string, StepPlan> = {};
  for (const [step, spec] of Object.entries(stepsOf(playbook))) {
    const mode: Mode = configured[step] ?? spec.defaultMode;
    const notHere = inapplicable[step];
    const skip = skips[step];
    const human = joinReasons(input.humanReason, approvals[step]);
    const fallback = fallbacks[step];
    if (notHere !== undefined) {
      plan[step] = { mode: 'off', reason: notHere, applies: false };
    } else if (skip !== undefined) {
      plan[step] = { mode: 'off', reason: skip };
    } else if (fallback !== undefined && mode !== 'off') {
      // A dry run stays one; anything else waits for a responder.
      plan[step] = {
        mode: mode === 'dry-run' ? 'dry-run' : 'approve',
        reason: joinReasons(fallback, input.failClosedReason, human) ?? fallback,
        fallback: true,
      };
    } else if (input.failClosedReason !== undefined && (mode === 'auto' || mode === 'dry-run')) {
      plan[step] = { mode: 'approve', reason: input.failClosedReason };
    } else if (human !== undefined && mode === 'auto') {
      plan[step] = { mode: 'approve', reason: human };
    } else {
      plan[step] = { mode };
    }
  }
  return plan;
}

/**
 * Whether any step of `playbook` is configured (or by default) `auto`: only
 * then can a plan act unattended, since planning and the guardrails only
 * ever turn `auto` into something else.
 */
export function mayActUnattended(playbook: PlaybookName, config: RuntimeConfig): boolean {
  const configured = config.modes[playbook] ?? {};
  return Object.entries(stepsOf(playbook)).some(
    ([step, spec]) => (configured[step] ?? spec.defaultMode) === 'auto',
  );
}

/** `reason` for `step` alone, or nothing: one step's entry of `skip`, `approve`, `inapplicable`. */
export function onlyStep<S extends string>(
  step: S,
  reason: string | undefined,
): Partial<Record<S, string>> | undefined {
  return reason === undefined ? undefined : ({ [step]: reason } as Partial<Record<S, string>>);
}

/** The reasons given, in one line; undefined when there are none. */
export function joinReasons(...reasons: ReadonlyArray<string | undefined>): string | undefined {
  const given = reasons.filter((r): r is string => r !== undefined);
  return given.length === 0 ? undefined : given.join('; ');
}

/** Every step off: the plan of a refused or duplicate incident, so nothing can act on it. */
export function planNothing(reason: string, playbook: PlaybookName): Record<string, StepPlan> {
  const plan: Record<string, StepPlan> = {};
  for (const step of Object.keys(stepsOf(playbook))) plan[step] = { mode: 'off', reason };
  return plan;
}

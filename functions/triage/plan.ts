import { type Mode, type PlaybookName, type StepId, stepsOf } from '../shared/catalog.js';
import type { StepPlan } from '../shared/incident.js';
import type { RuntimeConfig } from '../shared/runtime-config.js';

export interface PlanInput<P extends PlaybookName> {
  /**
   * Steps that do not apply to what the finding names (a role has no access
   * key to disable), each with why: off, and marked so, since a finding is
   * resolved once every step that applies contained its target.
   */
  readonly inapplicable?: Partial<Record<StepId<P>, string>>;
  /** Steps that apply but must not run (a protected role), each with why: off. */
  readonly skip?: Partial<Record<StepId<P>, string>>;
  /** Set when a guard could not decide: `auto` and `dry-run` become `approve`. */
  readonly failClosedReason?: string;
  /**
   * Set when the finding is real but may not show a compromise (the instance
   * was the target of the activity): `auto` becomes `approve`; a dry run,
   * which acts on nothing, stays a dry run.
   */
  readonly humanReason?: string;
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
  const plan: Record<string, StepPlan> = {};
  for (const [step, spec] of Object.entries(stepsOf(playbook))) {
    const mode: Mode = configured[step] ?? spec.defaultMode;
    const notHere = inapplicable[step];
    const skip = skips[step];
    if (notHere !== undefined) {
      plan[step] = { mode: 'off', reason: notHere, applies: false };
    } else if (skip !== undefined) {
      plan[step] = { mode: 'off', reason: skip };
    } else if (input.failClosedReason !== undefined && (mode === 'auto' || mode === 'dry-run')) {
      plan[step] = { mode: 'approve', reason: input.failClosedReason };
    } else if (input.humanReason !== undefined && mode === 'auto') {
      plan[step] = { mode: 'approve', reason: input.humanReason };
    } else {
      plan[step] = { mode };
    }
  }
  return plan;
}

/** Every step off: the plan of a refused or duplicate incident, so nothing can act on it. */
export function planNothing(reason: string, playbook: PlaybookName): Record<string, StepPlan> {
  const plan: Record<string, StepPlan> = {};
  for (const step of Object.keys(stepsOf(playbook))) plan[step] = { mode: 'off', reason };
  return plan;
}

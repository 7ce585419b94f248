import { type Mode, PLAYBOOKS } from '../shared/catalog.js';
import type { PrincipalKind, StepPlan } from '../shared/incident.js';
import type { RuntimeConfig } from '../shared/runtime-config.js';

export const PLAYBOOK = 'iam-credentials';
type StepId = keyof (typeof PLAYBOOKS)[typeof PLAYBOOK]['steps'];

const ROOT_ONLY_NOTIFY = 'IAM cannot restrict root credentials: notify only';

/** Why a step does not apply to this principal, or undefined when it does. */
function inapplicable(
  step: StepId,
  kind: PrincipalKind,
  accessKeyId: string | undefined,
): string | undefined {
  if (kind === 'Root') return ROOT_ONLY_NOTIFY;
  switch (step) {
    case 'disableAccessKey':
      if (kind !== 'IAMUser') return 'applies to IAM users only';
      return accessKeyId?.startsWith('AKIA')
        ? undefined
        : 'the finding names no long-term access key (AKIA...)';
    case 'revokeUserSessions':
    case 'quarantineUser':
      return kind === 'IAMUser' ? undefined : 'applies to IAM users only';
    case 'revokeRoleSessions':
      return kind === 'AssumedRole' ? undefined : 'applies to assumed roles only';
  }
}

export interface PlanInput {
  readonly kind: PrincipalKind;
  readonly accessKeyId: string | undefined;
  /** Set when a guard could not decide: nothing may then run unattended. */
  readonly failClosedReason?: string;
}

/**
 * Decides each step's mode: the configured mode (else the catalog default),
 * `off` where the step does not apply to the principal, and `approve` instead
 * of `auto` or `dry-run` when a guard could not decide.
 */
export function planSteps(input: PlanInput, config: RuntimeConfig): Record<string, StepPlan> {
  const steps = PLAYBOOKS[PLAYBOOK].steps;
  const configured = config.modes[PLAYBOOK] ?? {};
  const plan: Record<string, StepPlan> = {};
  for (const step of Object.keys(steps) as StepId[]) {
    const mode: Mode = configured[step] ?? steps[step].defaultMode;
    const skip = inapplicable(step, input.kind, input.accessKeyId);
    if (skip !== undefined) {
      plan[step] = { mode: 'off', reason: skip };
    } else if (input.failClosedReason !== undefined && (mode === 'auto' || mode === 'dry-run')) {
      plan[step] = { mode: 'approve', reason: input.failClosedReason };
    } else {
      plan[step] = { mode };
    }
  }
  return plan;
}

/** Every step off: the plan of a refused or duplicate incident, so nothing can act on it. */
export function planNothing(reason: string): Record<string, StepPlan> {
  const plan: Record<string, StepPlan> = {};
  for (const step of Object.keys(PLAYBOOKS[PLAYBOOK].steps)) plan[step] = { mode: 'off', reason };
  return plan;
}

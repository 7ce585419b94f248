import {
  type Mode,
  PLAYBOOKS,
  type PlaybookName,
  type StepId as PlaybookStepId,
  stepsOf,
} from '../shared/catalog.js';
import { isLongTermAccessKeyId } from '../shared/iam-arn.js';
import type { PrincipalKind, StepPlan } from '../shared/incident.js';
import type { RuntimeConfig } from '../shared/runtime-config.js';

/** The playbook of IAM findings. */
export const PLAYBOOK = 'iam-credentials';
type StepId = keyof (typeof PLAYBOOKS)[typeof PLAYBOOK]['steps'];

/** The playbook of EC2 instance findings. */
export const INSTANCE_PLAYBOOK = 'ec2-instance';

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
      return isLongTermAccessKeyId(accessKeyId)
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

export interface InstancePlanInput {
  /**
   * Why the instance's role sessions cannot or must not be revoked (no
   * profile, no role, a protected or exempt role, a role that could not be
   * read), or undefined when that step applies.
   */
  readonly revokeSkipReason?: string;
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
 * Decides each ec2-instance step's mode, by the same rules as `planSteps`:
 * the configured mode (else the catalog default), `off` where the step does
 * not apply, then the fail-closed and needs-a-human downgrades.
 */
export function planInstanceSteps(
  input: InstancePlanInput,
  config: RuntimeConfig,
): Record<string, StepPlan> {
  return planPlaybook(
    INSTANCE_PLAYBOOK,
    {
      ...(input.revokeSkipReason === undefined
        ? {}
        : { skip: { revokeInstanceRoleSessions: input.revokeSkipReason } }),
      ...(input.failClosedReason === undefined ? {} : { failClosedReason: input.failClosedReason }),
      ...(input.humanReason === undefined ? {} : { humanReason: input.humanReason }),
    },
    config,
  );
}

export interface PlaybookPlanInput<P extends PlaybookName> {
  /** Steps that do not apply (or must not run), each with its reason: they are `off`. */
  readonly skip?: Partial<Record<PlaybookStepId<P>, string>>;
  /** Set when a guard could not decide: `auto` and `dry-run` become `approve`. */
  readonly failClosedReason?: string;
  /** Set when the finding may not show a compromise: `auto` becomes `approve`. */
  readonly humanReason?: string;
}

/**
 * Decides each step of `playbook`: the configured mode (else the catalog
 * default), `off` where the step is skipped, then the fail-closed and
 * needs-a-human downgrades.
 */
export function planPlaybook<P extends PlaybookName>(
  playbook: P,
  input: PlaybookPlanInput<P>,
  config: RuntimeConfig,
): Record<string, StepPlan> {
  const steps = stepsOf(playbook);
  const configured = config.modes[playbook] ?? {};
  const skips: Partial<Record<string, string>> = input.skip ?? {};
  const plan: Record<string, StepPlan> = {};
  for (const [step, spec] of Object.entries(steps)) {
    const mode: Mode = configured[step] ?? spec.defaultMode;
    const skip = skips[step];
    if (skip !== undefined) {
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

export const ROTATION_CONFIGURED = 'rotation is configured: rotating replaces the exposed value';
export const ROTATION_NOT_CONFIGURED = 'rotation is not configured';
export const ROTATION_UNKNOWN =
  'rotation could not be read: only locking is offered; rotate the secret by hand';

/**
 * secret-exposure does one of its two steps: rotate when rotation is
 * configured (the exposed value stops working), else lock the secret (and
 * someone rotates it by hand). Locking a secret that rotation could fix
 * would break its readers for nothing.
 */
export function planSecretSteps(
  input: {
    /** Undefined when the secret could not be read. */
    readonly rotationEnabled: boolean | undefined;
    readonly failClosedReason?: string;
  },
  config: RuntimeConfig,
): Record<string, StepPlan> {
  const skip =
    input.rotationEnabled === undefined
      ? { rotateSecret: ROTATION_UNKNOWN }
      : input.rotationEnabled
        ? { lockSecret: ROTATION_CONFIGURED }
        : { rotateSecret: ROTATION_NOT_CONFIGURED };
  return planPlaybook(
    'secret-exposure',
    {
      skip,
      ...(input.failClosedReason === undefined ? {} : { failClosedReason: input.failClosedReason }),
    },
    config,
  );
}

/** Every step off: the plan of a refused or duplicate incident, so nothing can act on it. */
export function planNothing(
  reason: string,
  playbook: PlaybookName = PLAYBOOK,
): Record<string, StepPlan> {
  const plan: Record<string, StepPlan> = {};
  for (const step of Object.keys(stepsOf(playbook))) plan[step] = { mode: 'off', reason };
  return plan;
}

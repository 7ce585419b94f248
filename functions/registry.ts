import type { ActionDefinition } from './actions/definition.js';
import { ACTIONS, ROLLBACK_FUNCTIONS, undoOf } from './actions/registry.js';
import { ACTION_ROLES } from './actions/roles.js';
import { iam as anchor } from './anchor/iam.js';
import { iam as metrics } from './metrics/iam.js';
import { iam as notify } from './notify/iam.js';
import { iam as recordFailure } from './record-failure/iam.js';
import { iam as requestApproval } from './request-approval/iam.js';
import { iam as responderApi } from './responder-api/iam.js';
import { iam as rollbackPlan } from './rollback-plan/iam.js';
import { FRAME_FUNCTIONS, type FrameFunctionName, type FunctionName } from './shared/catalog.js';
import {
  type ActionIam,
  actingOnTarget,
  checkingApprovals,
  EXAMPLE_CONTEXT,
  type RoleSpec,
  targetSide,
} from './shared/iam.js';
import { iam as triage } from './triage/iam.js';
import { iam as updateFinding } from './update-finding/iam.js';
import { iam as watch } from './watch/iam.js';

/**
 * Every function Cordon deploys, for infra, the rehearsal and the tests (no
 * function imports this: it would reach every other function's code). Each
 * has a folder, a Lambda entry that exports `handler`, a factory the
 * rehearsal and tests call with an environment of their own, and its role.
 */
export interface FunctionSpec {
  readonly name: FunctionName;
  /** Its folder, relative to `functions/`. */
  readonly dir: string;
  /** The Lambda entry in that folder: `handler = <factory>(process.env)`. */
  readonly entry: 'handler.ts' | 'rollback-handler.ts';
  /** The module in that folder exporting the factory, and the factory's name. */
  readonly factory: {
    readonly module: string;
    readonly name: 'makeHandler' | 'makeRollbackHandler';
  };
  readonly iam: RoleSpec;
  /** @default 30 */
  readonly timeoutSeconds?: number;
  /** It receives the configured break-glass principals. */
  readonly breakGlass?: boolean;
  /**
   * It acts on IAM principals and receives the protection settings
   * (`CORDON_GUARDS`), to check its principal again before it acts.
   */
  readonly guards?: boolean;
  /**
   * It checks approval records (an action, a rollback, record-failure) and
   * receives the approval policy (`CORDON_APPROVAL_POLICY`).
   */
  readonly checksApprovals?: boolean;
  /**
   * Invoked asynchronously, by EventBridge rules rather than a state machine:
   * what becomes of an event it fails on, since it has no dead-letter queue.
   * @default invoked synchronously (by a state machine, or through its URL)
   */
  readonly invokedByRules?: string;
}

const FRAME_ROLES: Readonly<Record<FrameFunctionName, RoleSpec>> = {
  triage,
  'update-finding': updateFinding,
  notify,
  'record-failure': recordFailure,
  'request-approval': requestApproval,
  'responder-api': responderApi,
  'rollback-plan': rollbackPlan,
  watch,
  anchor,
  metrics,
};

/** The module of each frame function that holds its logic and its factory. */
const FRAME_MODULES: Readonly<Record<FrameFunctionName, string>> = {
  triage: 'triage.ts',
  'update-finding': 'core.ts',
  notify: 'core.ts',
  'record-failure': 'core.ts',
  'request-approval': 'core.ts',
  'responder-api': 'http.ts',
  'rollback-plan': 'core.ts',
  watch: 'core.ts',
  anchor: 'core.ts',
  metrics: 'core.ts',
};

/** What a frame function invoked by EventBridge rules does with an event it fails on. */
const INVOKED_BY_RULES: Partial<Record<FrameFunctionName, string>> = {
  watch:
    "A delivery EventBridge cannot make goes to the watch rules' dead-letter queue (alarmed); an invocation that still fails after Lambda's two retries raises the watch's error alarm; the ExecutionsAborted alarms do not depend on this function",
  anchor:
    "Invoked by the ledger stream's event source mapping, not asynchronously: a batch it fails on is retried, in order, until it succeeds or its records expire (24 hours); a gap left that way shows in cordon ledger verify as entries not anchored",
  metrics:
    "Invoked by the ledger stream's event source mapping (a batch it fails on is split and retried twice, then its metrics are lost; the entries stay in the ledger, which cordon report reads) and by a five-minute schedule (an invocation that fails is retried twice, and the next one counts again); its errors show on the dashboard",
};

const frame: FunctionSpec[] = FRAME_FUNCTIONS.map((name) => {
  const invokedByRules = INVOKED_BY_RULES[name];
  return {
    name,
    dir: name,
    entry: 'handler.ts',
    factory: { module: FRAME_MODULES[name], name: 'makeHandler' },
    iam: FRAME_ROLES[name],
    // record-failure checks rejections; triage, the records a suppression rests on.
    ...(name === 'record-failure' || name === 'triage' ? { checksApprovals: true } : {}),
    ...(invokedByRules === undefined ? {} : { invokedByRules }),
  };
});

const actions: FunctionSpec[] = ACTIONS.flatMap((definition): FunctionSpec[] => {
  const { name } = definition;
  const action: ActionDefinition = definition;
  const roles: ActionIam = ACTION_ROLES[name];
  const dir = `actions/${name}`;
  const containment: FunctionSpec = {
    name,
    dir,
    entry: 'handler.ts',
    factory: { module: 'containment.ts', name: 'makeHandler' },
    iam: checkingApprovals(actingOnTarget(roles.containment)),
    checksApprovals: true,
    ...(action.timeoutSeconds === undefined ? {} : { timeoutSeconds: action.timeoutSeconds }),
    ...(action.breakGlass ? { breakGlass: true } : {}),
    ...(action.target === 'principal' ? { guards: true } : {}),
  };
  const undo = undoOf(name);
  if (undo === undefined) return [containment];
  if (roles.rollback === undefined) {
    throw new Error(
      `${name}: a rollback undoes it, but functions/${dir}/iam.ts declares no rollback role`,
    );
  }
  const rollback: FunctionSpec = {
    name: undo.name,
    dir,
    entry: 'rollback-handler.ts',
    factory: { module: 'rollback.ts', name: 'makeRollbackHandler' },
    iam: checkingApprovals(actingOnTarget(roles.rollback)),
    checksApprovals: true,
  };
  return [containment, rollback];
});

/** Every function, the frame's first, then each action and its rollback. */
export const FUNCTIONS: readonly FunctionSpec[] = [...frame, ...actions];

export const FUNCTION_NAMES: readonly FunctionName[] = FUNCTIONS.map((f) => f.name);

/**
 * Organization-wide, the functions with a spoke role in every member
 * account: each whose declaration acts on what a finding names (every
 * action and rollback, and triage, which only reads).
 */
export const SPOKES: readonly FunctionSpec[] = FUNCTIONS.filter(
  (spec) => targetSide(spec.iam).statements(EXAMPLE_CONTEXT).length > 0,
);

/** A function by name, or an error naming the ones there are. */
export function functionNamed(name: string): FunctionSpec {
  const found = FUNCTIONS.find((f) => f.name === name);
  if (!found) {
    throw new Error(
      `no Cordon function ${JSON.stringify(name)}; there are ${FUNCTION_NAMES.join(', ')}`,
    );
  }
  return found;
}

/** The functions the rollback state machine invokes. */
export const ROLLBACK_MACHINE_FUNCTIONS: readonly FunctionName[] = [
  'rollback-plan',
  'request-approval',
  'notify',
  'record-failure',
  ...ROLLBACK_FUNCTIONS,
];

/** One value per function, by name. */
export function byFunction<T>(make: (spec: FunctionSpec) => T): Record<FunctionName, T> {
  const entries = FUNCTIONS.map((spec) => [spec.name, make(spec)] as const);
  return Object.fromEntries(entries) as Record<FunctionName, T>;
}

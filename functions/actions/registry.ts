import { type Incident, incidentTargetArn } from '../shared/incident.js';
import { action as blockPublicAccess } from './block-public-access/action.js';
import type { ActionDefinition, Undo } from './definition.js';
import { rollbackNameOf } from './definition.js';
import { action as detachFromAsg } from './detach-from-asg/action.js';
import { action as detachInstanceProfile } from './detach-instance-profile/action.js';
import { action as disableAccessKey } from './disable-access-key/action.js';
import { action as isolateNetwork } from './isolate-network/action.js';
import { action as lockSecret } from './lock-secret/action.js';
import { action as preserveEvidence } from './preserve-evidence/action.js';
import { action as quarantineFunction } from './quarantine-function/action.js';
import { action as quarantineUser } from './quarantine-user/action.js';
import { action as revokeSessions } from './revoke-sessions/action.js';
import { action as rotateSecret } from './rotate-secret/action.js';

/**
 * Every containment action Cordon has: the only list. An action is a folder
 * `functions/actions/<name>/`, one line here and one in `roles.ts` (which
 * the type there requires); everything else (its functions, the rollback
 * state machine's routes, what approval requests and rollback plans say
 * about it) is read from its definition.
 */
export const ACTIONS = [
  disableAccessKey,
  revokeSessions,
  quarantineUser,
  preserveEvidence,
  detachFromAsg,
  isolateNetwork,
  detachInstanceProfile,
  rotateSecret,
  lockSecret,
  quarantineFunction,
  blockPublicAccess,
] as const;

export type ContainmentActionName = (typeof ACTIONS)[number]['name'];
/** The actions a rollback undoes. */
export type UndoableActionName = Extract<(typeof ACTIONS)[number], { rollback: Undo }>['name'];
/** The function that undoes an action: `rollback-<action>`. */
export type RollbackFunctionName = `rollback-${UndoableActionName}`;

export const ACTION_NAMES: readonly ContainmentActionName[] = ACTIONS.map((a) => a.name);

/** An action by name; undefined for a name that is none (a frame function's, say). */
export function actionNamed(name: string): ActionDefinition | undefined {
  return ACTIONS.find((a) => a.name === name);
}

/** How `name` is undone, or undefined when it is not an action or no rollback undoes it. */
export function undoOf(name: string): (Undo & { readonly name: RollbackFunctionName }) | undefined {
  const found = ACTIONS.find((a) => a.name === name);
  if (found === undefined || !isUndoable(found)) return undefined;
  return { ...found.rollback, name: rollbackNameOf(found.name) };
}

/** The actions a rollback undoes, as their rollback functions' names. */
export const ROLLBACK_FUNCTIONS: readonly RollbackFunctionName[] = ACTIONS.flatMap(
  (a): RollbackFunctionName[] => (isUndoable(a) ? [rollbackNameOf(a.name)] : []),
);

function isUndoable(
  action: (typeof ACTIONS)[number],
): action is Extract<(typeof ACTIONS)[number], { rollback: Undo }> {
  return 'restores' in action.rollback;
}

/**
 * The ARN a step's action works on, for ledger entries written around it:
 * an action on the principal names the principal (revoking an instance
 * role's sessions names the role, not the instance); anything else, and
 * anything that is not an action, names the incident's resource.
 */
export function targetArnOf(incident: Incident, name: string): string | undefined {
  const { principal } = incident;
  return actionNamed(name)?.target === 'principal' && principal
    ? principal.arn
    : incidentTargetArn(incident);
}

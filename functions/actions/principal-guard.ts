import { GetRoleCommand, GetUserCommand, type IAMClient, type Tag } from '@aws-sdk/client-iam';
import type { Mode } from '../shared/catalog.js';
import { type Environment, requireJsonEnv } from '../shared/env.js';
import { isNotFound } from '../shared/errors.js';
import type { Incident } from '../shared/incident.js';
import {
  exemptReason,
  type ProtectionConfig,
  ProtectionConfigSchema,
  protectedGuard,
} from '../shared/protection.js';
import { ENV } from '../shared/runtime-config.js';
import type { Containment } from './containment.js';

/**
 * The last look before an action changes an IAM user or role: a step can
 * wait an hour for its approval, and a name is not an identity. The
 * principal IAM has under the name must be the one triage verified (its
 * unique id), must not have become protected, and must not carry the
 * exempt tag unless a responder approved the step.
 */

export interface PrincipalGuardDeps {
  readonly iam: Pick<IAMClient, 'send'>;
  readonly guards: ProtectionConfig;
}

/** The user or role as IAM has it now; undefined when there is none by that name. */
async function current(
  iam: PrincipalGuardDeps['iam'],
  kind: 'user' | 'role',
  name: string,
): Promise<{ arn: string; uniqueId?: string; tags: readonly Tag[] } | undefined> {
  try {
    if (kind === 'user') {
      const { User } = await iam.send(new GetUserCommand({ UserName: name }));
      return User?.Arn === undefined
        ? undefined
        : { arn: User.Arn, uniqueId: User.UserId, tags: User.Tags ?? [] };
    }
    const { Role } = await iam.send(new GetRoleCommand({ RoleName: name }));
    return Role?.Arn === undefined
      ? undefined
      : { arn: Role.Arn, uniqueId: Role.RoleId, tags: Role.Tags ?? [] };
  } catch (error) {
    if (isNotFound(error)) return undefined;
    throw error;
  }
}

/**
 * Why the action must not touch the principal `kind` `name` of `incident`
 * in a step of `mode`, or undefined. A principal that no longer exists is
 * no reason: the action's own read reports it as not found.
 */
export async function principalChanged(
  deps: PrincipalGuardDeps,
  incident: Incident,
  mode: Mode,
  kind: 'user' | 'role',
  name: string,
): Promise<string | undefined> {
  const now = await current(deps.iam, kind, name);
  if (now === undefined) return undefined;
  const verified = incident.principal?.uniqueId;
  if (verified !== undefined && now.uniqueId !== verified) {
    return `${kind} ${name} is not the one triage verified: IAM now has id ${now.uniqueId ?? 'none'}, triage saw ${verified} (deleted and re-created under the same name?); nothing was changed`;
  }
  const refusal = protectedGuard(now.arn, deps.guards);
  if (refusal !== undefined) return `${refusal}; nothing was changed`;
  const exempt = mode === 'approve' ? undefined : exemptReason(now.arn, now.tags, deps.guards);
  return exempt === undefined
    ? undefined
    : `${exempt} since triage, and this step was to run without a responder; nothing was changed`;
}

/** `containment`, confirming its IAM principal (named by `principalOf`) before it acts. */
export function confirmingPrincipal<TTarget, TState>(
  containment: Containment<TTarget, TState>,
  deps: PrincipalGuardDeps,
  principalOf: (target: TTarget) => { readonly kind: 'user' | 'role'; readonly name: string },
): Containment<TTarget, TState> {
  return {
    ...containment,
    confirm: (target, incident, mode) => {
      const { kind, name } = principalOf(target);
      return principalChanged(deps, incident, mode, kind, name);
    },
  };
}

/** The guard settings of an action on IAM principals, from its environment. */
export function guardsOf(env: Environment): ProtectionConfig {
  return requireJsonEnv(env, ENV.guards, ProtectionConfigSchema);
}

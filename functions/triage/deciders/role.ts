import type { IAMClient } from '@aws-sdk/client-iam';
import { classifyAwsError, isNotFound } from '../../shared/errors.js';
import type { Principal } from '../../shared/incident.js';
import type { RuntimeConfig } from '../../shared/runtime-config.js';
import { protectingPattern } from '../guards/patterns.js';
import { exemptTagGuard } from '../guards/protection.js';
import { getRole } from './principal.js';

/** A workload's role (an instance's or a function's), and whether its sessions may be revoked. */
export type WorkloadRole =
  /** No role to act on: the revoke step does not apply. */
  | { readonly status: 'none'; readonly reason: string }
  /** The profile could not be read: the role is unknown, so guards cannot decide. */
  | { readonly status: 'unreadable'; readonly reason: string }
  | {
      readonly status: 'found';
      readonly principal: Principal;
      /** Protected or exempt: its sessions are never revoked. */
      readonly skipReason?: string;
      /** The role's tags could not be read: the exempt guard cannot decide. */
      readonly failClosedReason?: string;
    };

/**
 * Whether a workload's role (an instance's or a function's) may have its
 * sessions revoked: not when a pattern protects it or its tags exempt it,
 * and only with approval when its tags cannot be read.
 */
export async function assessRole(
  principal: Principal & { readonly name: string },
  iam: IAMClient,
  config: RuntimeConfig,
  label = 'the instance role',
): Promise<WorkloadRole> {
  const role = principal;
  const pattern = protectingPattern(role.arn, config.protectedPrincipalPatterns);
  if (pattern !== undefined) {
    return {
      status: 'found',
      principal,
      skipReason: `${label} is protected: ${role.arn} matches protected ${pattern}`,
    };
  }
  try {
    const entity = await getRole(iam, role.name);
    if (entity === undefined) {
      return {
        status: 'found',
        principal,
        failClosedReason: `exempt tag of role ${role.name} could not be read: IAM returned no role`,
      };
    }
    const exempt = exemptTagGuard(role.arn, entity.tags, config);
    return exempt === undefined
      ? { status: 'found', principal }
      : { status: 'found', principal, skipReason: `${label} is ${exempt}` };
  } catch (error) {
    if (isNotFound(error)) return { status: 'none', reason: `role ${role.name} no longer exists` };
    const failure = classifyAwsError(error, `read role ${role.name}`);
    if (failure.retryable) throw failure;
    return {
      status: 'found',
      principal,
      failClosedReason: `exempt tag of role ${role.name} could not be read: ${failure.message}`,
    };
  }
}

/**
 * What the plan makes of a workload's role for the step that revokes its
 * sessions: no role means the step does not apply; a protected, exempt or
 * unread one means it must not run.
 */
export function revokeStepOf(
  role: WorkloadRole,
  unreadLabel: string,
): { readonly inapplicable?: string; readonly skip?: string } {
  switch (role.status) {
    case 'none':
      return { inapplicable: role.reason };
    case 'unreadable':
      return { skip: `${unreadLabel} could not be read: ${role.reason}` };
    case 'found':
      return role.skipReason === undefined ? {} : { skip: role.skipReason };
  }
}

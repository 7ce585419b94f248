import type { IAMClient } from '@aws-sdk/client-iam';
import { classifyAwsError, isNotFound } from '../../shared/errors.js';
import type { Principal } from '../../shared/incident.js';
import { exemptReason, protectedGuard } from '../../shared/protection.js';
import type { RuntimeConfig } from '../../shared/runtime-config.js';
import { onlyStep } from '../plan.js';
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
      /** Protected: its sessions are never revoked. */
      readonly skipReason?: string;
      /** Exempt-tagged: its sessions are revoked only with a responder's approval. */
      readonly approvalReason?: string;
      /** The role's tags could not be read: the exempt guard cannot decide. */
      readonly failClosedReason?: string;
    };

/**
 * Whether a workload's role (an instance's or a function's) may have its
 * sessions revoked: never when protected, and only with approval when its
 * tags exempt it or cannot be read.
 */
export async function assessRole(
  principal: Principal & { readonly name: string },
  iam: IAMClient,
  config: RuntimeConfig,
  label = 'the instance role',
): Promise<WorkloadRole> {
  const role = principal;
  const refusal = protectedGuard(role.arn, config);
  if (refusal !== undefined) {
    return { status: 'found', principal, skipReason: `${label} is ${refusal}` };
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
    const withId = {
      ...principal,
      ...(entity.uniqueId === undefined ? {} : { uniqueId: entity.uniqueId }),
    };
    const exempt = exemptReason(role.arn, entity.tags, config);
    return exempt === undefined
      ? { status: 'found', principal: withId }
      : { status: 'found', principal: withId, approvalReason: `${label} is ${exempt}` };
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
 * What the plan makes of a workload's role for `step`, the step that
 * revokes its sessions: no role means the step does not apply; a protected
 * or unread one means it must not run; an exempt one, that it waits for a
 * responder.
 */
export function revokeStepOf<S extends string>(
  role: WorkloadRole,
  step: S,
  unreadLabel: string,
): {
  readonly inapplicable?: Partial<Record<S, string>> | undefined;
  readonly skip?: Partial<Record<S, string>> | undefined;
  readonly approve?: Partial<Record<S, string>> | undefined;
} {
  switch (role.status) {
    case 'none':
      return { inapplicable: onlyStep(step, role.reason) };
    case 'unreadable':
      return { skip: onlyStep(step, `${unreadLabel} could not be read: ${role.reason}`) };
    case 'found':
      return {
        skip: onlyStep(step, role.skipReason),
        approve: onlyStep(step, role.approvalReason),
      };
  }
}

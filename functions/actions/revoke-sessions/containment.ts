import { IAMClient, PutRolePolicyCommand, PutUserPolicyCommand } from '@aws-sdk/client-iam';
import { clientOptions } from '../../shared/aws.js';
import type { Environment } from '../../shared/env.js';
import { InvalidTaskInputError } from '../../shared/errors.js';
import { principalArn } from '../../shared/iam-arn.js';
import {
  type ActionInput,
  type ActionResult,
  type Incident,
  requirePrincipal,
} from '../../shared/incident.js';
import { type Clients, type PlaceConfig, placedClients } from '../../shared/spoke.js';
import { type Containment, type ContainmentDeps, runContainment } from '../containment.js';
import { containmentHandler } from '../handlers.js';
import { confirmingPrincipal, guardsOf, type PrincipalGuardDeps } from '../principal-guard.js';
import { action } from './action.js';
import {
  isRevoked,
  REVOKE_POLICY_NAME,
  type RevokeState,
  type RevokeTarget,
  readRevokeState,
  revokePolicyDocument,
} from './state.js';

export interface RevokeSessionsDeps extends ContainmentDeps, PrincipalGuardDeps {
  readonly iam: IAMClient;
  readonly now: () => Date;
}

export function revokeTarget(incident: Incident): RevokeTarget {
  const principal = requirePrincipal(incident, action.name);
  if (principal.kind === 'Root') {
    throw new InvalidTaskInputError(`${action.name} cannot act on the root user`);
  }
  const kind = principal.kind === 'IAMUser' ? 'user' : 'role';
  // For an assumed role, triage sets `arn` to the role's ARN (not the session's)
  // and `name` to the role name; both must agree, or we would act on the wrong role.
  const arn = principalArn(incident, kind, action.name);
  return { kind, name: arn.name, arn: principal.arn };
}

export function revokeContainment(
  iam: IAMClient,
  now: () => Date,
): Containment<RevokeTarget, RevokeState> {
  return {
    action: action.name,
    target: revokeTarget,
    targetArn: (target) => target.arn,
    read: (target) => readRevokeState(iam, target),
    isContained: isRevoked,
    describe: (target) =>
      target.kind === 'user'
        ? `deny the temporary credentials of user ${target.name} issued before now (inline policy ${REVOKE_POLICY_NAME})`
        : `deny every session of role ${target.name} issued before now, including those of legitimate users of the role (inline policy ${REVOKE_POLICY_NAME})`,
    async apply(target) {
      const cutoff = now();
      const PolicyDocument = revokePolicyDocument(cutoff);
      if (target.kind === 'user') {
        await iam.send(
          new PutUserPolicyCommand({
            UserName: target.name,
            PolicyName: REVOKE_POLICY_NAME,
            PolicyDocument,
          }),
        );
      } else {
        await iam.send(
          new PutRolePolicyCommand({
            RoleName: target.name,
            PolicyName: REVOKE_POLICY_NAME,
            PolicyDocument,
          }),
        );
      }
      return { policyName: REVOKE_POLICY_NAME, revokedBefore: cutoff.toISOString() };
    },
  };
}

/** Used by the steps revokeUserSessions and revokeRoleSessions. */
export function revokeSessions(
  input: ActionInput,
  deps: RevokeSessionsDeps,
): Promise<ActionResult> {
  const containment = confirmingPrincipal(revokeContainment(deps.iam, deps.now), deps, (t) => t);
  return runContainment(input, containment, deps);
}

/** The function's AWS clients where the incident's calls are made. */
const placed = (config: PlaceConfig) => ({ iam: new IAMClient({ ...clientOptions, ...config }) });

export function makeHandler(
  env: Environment,
  clients: Clients<ReturnType<typeof placed>> = placedClients(env, action.name, placed),
) {
  const guards = guardsOf(env);
  return containmentHandler(env, action.name, clients, (input, deps) =>
    revokeSessions(input, { ...deps, guards }),
  );
}

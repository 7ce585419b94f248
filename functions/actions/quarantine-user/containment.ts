import { AttachUserPolicyCommand, DeleteLoginProfileCommand, IAMClient } from '@aws-sdk/client-iam';
import { clientOptions } from '../../shared/aws.js';
import type { Environment } from '../../shared/env.js';
import { CordonError, InvalidTaskInputError } from '../../shared/errors.js';
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
  DENY_ALL_POLICY,
  denyAllPolicyArn,
  isQuarantined,
  orUndefined,
  QUARANTINE_POLICY_NAME,
  type QuarantineState,
  type QuarantineTarget,
  readQuarantine,
} from './state.js';

export interface QuarantineUserDeps extends ContainmentDeps, PrincipalGuardDeps {
  readonly iam: IAMClient;
}

/**
 * The user already has as many managed policies attached as IAM allows
 * (PoliciesPerUser, 10 by default), so AWSDenyAll cannot be attached.
 * Terminal: which policy to detach, or whether to raise the quota, is a
 * person's call. Nothing was changed.
 */
export class ManagedPolicyQuotaError extends CordonError {
  override readonly name = 'Cordon.ManagedPolicyQuota';
  readonly retryable = false;
}

export function quarantineTarget(incident: Incident): QuarantineTarget {
  const principal = requirePrincipal(incident, action.name);
  if (principal.kind !== 'IAMUser') {
    throw new InvalidTaskInputError(
      `${action.name} needs an IAMUser principal, got ${principal.kind}`,
    );
  }
  const { name: userName, partition } = principalArn(incident, 'user', action.name);
  return { userName, userArn: principal.arn, partition };
}

/** The deny-all policy first (it stops every call at once), then no console login. */
export function quarantineContainment(
  iam: IAMClient,
): Containment<QuarantineTarget, QuarantineState> {
  return {
    action: action.name,
    target: quarantineTarget,
    targetArn: (target) => target.userArn,
    read: (target) => readQuarantine(iam, target),
    isContained: isQuarantined,
    describe({ userName }, state) {
      const denied = state.denyAllAttached || state.quarantinePolicy;
      const policy =
        state.quarantinePolicy && !state.denyAllAttached
          ? `deny-all policy ${QUARANTINE_POLICY_NAME}`
          : `deny-all policy ${DENY_ALL_POLICY}`;
      const parts = [
        ...(denied ? [] : [`attach AWS managed policy ${DENY_ALL_POLICY}`]),
        ...(state.loginProfile === null ? [] : ['delete its console login profile']),
      ];
      return parts.length === 0
        ? `quarantine user ${userName} (${policy}, no console login)`
        : `quarantine user ${userName}: ${parts.join(', ')}`;
    },
    async apply({ userName, partition }, state) {
      // A user an earlier Cordon quarantined holds CordonQuarantine: denied already.
      const denied = state.denyAllAttached || state.quarantinePolicy;
      if (!denied) {
        try {
          await iam.send(
            new AttachUserPolicyCommand({
              UserName: userName,
              PolicyArn: denyAllPolicyArn(partition),
            }),
          );
        } catch (error) {
          if (!(error instanceof Error) || error.name !== 'LimitExceededException') throw error;
          throw new ManagedPolicyQuotaError(
            `cannot quarantine user ${userName}: it already has as many managed policies attached as IAM allows (PoliciesPerUser, 10 unless raised), so ${DENY_ALL_POLICY} cannot be attached. Nothing was changed: the user can still call AWS and sign in. Detach one of its managed policies (aws iam list-attached-user-policies --user-name ${userName}) or raise the quota, then retry this step, or contain the user by hand`,
            { cause: error },
          );
        }
      }
      if (state.loginProfile !== null) {
        // Already gone (a retry, or someone else) is the state we want.
        await orUndefined(iam.send(new DeleteLoginProfileCommand({ UserName: userName })));
      }
      return {
        denyAllAttached: state.denyAllAttached || !denied,
        quarantinePolicy: state.quarantinePolicy,
        loginProfile: null,
      };
    },
  };
}

export function quarantineUser(
  input: ActionInput,
  deps: QuarantineUserDeps,
): Promise<ActionResult> {
  const containment = confirmingPrincipal(quarantineContainment(deps.iam), deps, (target) => ({
    kind: 'user',
    name: target.userName,
  }));
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
    quarantineUser(input, { ...deps, guards }),
  );
}

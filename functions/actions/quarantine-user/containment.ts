import { DeleteLoginProfileCommand, IAMClient, PutUserPolicyCommand } from '@aws-sdk/client-iam';
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
import { type Containment, type ContainmentDeps, runContainment } from '../containment.js';
import { containmentHandler } from '../handlers.js';
import { confirmingPrincipal, guardsOf, type PrincipalGuardDeps } from '../principal-guard.js';
import { action } from './action.js';
import {
  isQuarantined,
  orUndefined,
  QUARANTINE_POLICY_DOCUMENT,
  QUARANTINE_POLICY_NAME,
  type QuarantineState,
  type QuarantineTarget,
  readQuarantine,
} from './state.js';

export interface QuarantineUserDeps extends ContainmentDeps, PrincipalGuardDeps {
  readonly iam: IAMClient;
}

export function quarantineTarget(incident: Incident): QuarantineTarget {
  const principal = requirePrincipal(incident, action.name);
  if (principal.kind !== 'IAMUser') {
    throw new InvalidTaskInputError(
      `${action.name} needs an IAMUser principal, got ${principal.kind}`,
    );
  }
  const userName = principalArn(incident, 'user', action.name).name;
  return { userName, userArn: principal.arn };
}

/** Deny-all inline policy first (it stops every call at once), then no console login. */
export function quarantineContainment(
  iam: IAMClient,
): Containment<QuarantineTarget, QuarantineState> {
  return {
    action: action.name,
    target: quarantineTarget,
    targetArn: (target) => target.userArn,
    read: ({ userName }) => readQuarantine(iam, userName),
    isContained: isQuarantined,
    describe({ userName }, state) {
      const parts = [
        ...(state.quarantinePolicy ? [] : [`attach deny-all policy ${QUARANTINE_POLICY_NAME}`]),
        ...(state.loginProfile === null ? [] : ['delete its console login profile']),
      ];
      return parts.length === 0
        ? `quarantine user ${userName} (deny-all policy ${QUARANTINE_POLICY_NAME}, no console login)`
        : `quarantine user ${userName}: ${parts.join(', ')}`;
    },
    async apply({ userName }, state) {
      if (!state.quarantinePolicy) {
        await iam.send(
          new PutUserPolicyCommand({
            UserName: userName,
            PolicyName: QUARANTINE_POLICY_NAME,
            PolicyDocument: QUARANTINE_POLICY_DOCUMENT,
          }),
        );
      }
      if (state.loginProfile !== null) {
        // Already gone (a retry, or someone else) is the state we want.
        await orUndefined(iam.send(new DeleteLoginProfileCommand({ UserName: userName })));
      }
      return { quarantinePolicy: true, loginProfile: null };
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

export function makeHandler(env: Environment, clients = { iam: new IAMClient(clientOptions) }) {
  const guards = guardsOf(env);
  return containmentHandler(env, action.name, (input, deps) =>
    quarantineUser(input, { ...deps, ...clients, guards }),
  );
}

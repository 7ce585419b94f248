import {
  DeleteLoginProfileCommand,
  type IAMClient,
  PutUserPolicyCommand,
} from '@aws-sdk/client-iam';
import { type Containment, type ContainmentDeps, runContainment } from '../shared/action.js';
import { InvalidTaskInputError } from '../shared/errors.js';
import { principalArn } from '../shared/iam-arn.js';
import type { ActionInput, ActionResult, Incident } from '../shared/incident.js';
import { requirePrincipal } from '../shared/incident.js';
import {
  orUndefined,
  QUARANTINE_POLICY_DOCUMENT,
  QUARANTINE_POLICY_NAME,
  type QuarantineState,
  readQuarantine,
} from './read.js';

export {
  isDenyAll,
  type LoginProfileState,
  PASSWORD_NOT_RESTORABLE,
  QUARANTINE_POLICY_DOCUMENT,
  QUARANTINE_POLICY_NAME,
  type QuarantineState,
} from './read.js';

export interface QuarantineTarget {
  readonly userName: string;
  readonly userArn: string;
}

export interface QuarantineUserDeps extends ContainmentDeps {
  readonly iam: IAMClient;
}

export function quarantineTarget(incident: Incident): QuarantineTarget {
  const principal = requirePrincipal(incident, 'quarantine-user');
  if (principal.kind !== 'IAMUser') {
    throw new InvalidTaskInputError(
      `quarantine-user needs an IAMUser principal, got ${principal.kind}`,
    );
  }
  const userName = principalArn(incident, 'user', 'quarantine-user').name;
  return { userName, userArn: principal.arn };
}

/** Deny-all inline policy first (it stops every call at once), then no console login. */
export function quarantineContainment(
  iam: IAMClient,
): Containment<QuarantineTarget, QuarantineState> {
  return {
    action: 'quarantine-user',
    target: quarantineTarget,
    targetArn: (target) => target.userArn,
    read: ({ userName }) => readQuarantine(iam, userName),
    isContained: (state) => state.quarantinePolicy && state.loginProfile === null,
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
  return runContainment(input, quarantineContainment(deps.iam), deps);
}

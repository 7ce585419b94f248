import { IAMClient, UpdateAccessKeyCommand } from '@aws-sdk/client-iam';
import { clientOptions } from '../../shared/aws.js';
import type { Environment } from '../../shared/env.js';
import { InvalidTaskInputError } from '../../shared/errors.js';
import { isLongTermAccessKeyId, principalArn } from '../../shared/iam-arn.js';
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
import { type AccessKeyState, type AccessKeyTarget, isDisabled, readAccessKey } from './state.js';

export interface DisableAccessKeyDeps extends ContainmentDeps, PrincipalGuardDeps {
  readonly iam: IAMClient;
}

export function accessKeyTarget(incident: Incident): AccessKeyTarget {
  const principal = requirePrincipal(incident, action.name);
  if (principal.kind !== 'IAMUser') {
    throw new InvalidTaskInputError(
      `${action.name} needs an IAMUser principal, got ${principal.kind}`,
    );
  }
  const userName = principalArn(incident, 'user', action.name).name;
  const { accessKeyId } = principal;
  if (!isLongTermAccessKeyId(accessKeyId)) {
    throw new InvalidTaskInputError(
      `${action.name} needs a long-term access key id (AKIA...), got ${JSON.stringify(accessKeyId ?? null)}`,
    );
  }
  return { userName, userArn: principal.arn, accessKeyId };
}

/** Disables the one access key named in the finding; the user's other keys are left alone. */
export function accessKeyContainment(iam: IAMClient): Containment<AccessKeyTarget, AccessKeyState> {
  return {
    action: action.name,
    target: accessKeyTarget,
    targetArn: (target) => target.userArn,
    read: (target) => readAccessKey(iam, target),
    isContained: isDisabled,
    describe: (target) => `disable access key ${target.accessKeyId} of user ${target.userName}`,
    async apply(target, state) {
      await iam.send(
        new UpdateAccessKeyCommand({
          UserName: target.userName,
          AccessKeyId: target.accessKeyId,
          Status: 'Inactive',
        }),
      );
      return { ...state, status: 'Inactive' };
    },
  };
}

export function disableAccessKey(
  input: ActionInput,
  deps: DisableAccessKeyDeps,
): Promise<ActionResult> {
  const containment = confirmingPrincipal(accessKeyContainment(deps.iam), deps, (target) => ({
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
    disableAccessKey(input, { ...deps, guards }),
  );
}

import { IAMClient, UpdateAccessKeyCommand } from '@aws-sdk/client-iam';
import { clientOptions } from '../../shared/aws.js';
import type { Environment } from '../../shared/env.js';
import { recordedPrincipal } from '../../shared/iam-arn.js';
import type { RollbackInput, RollbackResult } from '../../shared/rollback.js';
import { type Clients, type PlaceConfig, placedClients } from '../../shared/spoke.js';
import { rollbackNameOf } from '../definition.js';
import { rollbackHandler } from '../handlers.js';
import { differs, type Rollback, type RollbackDeps, runRollback } from '../rollback.js';
import { action } from './action.js';
import {
  type AccessKeyState,
  AccessKeyStateSchema,
  type AccessKeyTarget,
  readAccessKey,
} from './state.js';

export interface RollbackAccessKeyDeps extends RollbackDeps {
  readonly iam: IAMClient;
}

const NAME = rollbackNameOf(action.name);

/** Sets the access key the containment turned off back to its recorded status (Active). */
export function accessKeyRollback(iam: IAMClient): Rollback<AccessKeyTarget, AccessKeyState> {
  return {
    action: NAME,
    undoes: action.name,
    state: AccessKeyStateSchema,
    target(entry, before) {
      const user = recordedPrincipal(entry, ['user'], NAME);
      return { userName: user.name, userArn: user.arn, accessKeyId: before.accessKeyId };
    },
    read: (target) => readAccessKey(iam, target),
    drift: (current, after) =>
      differs(`access key ${after.accessKeyId}`, current.status, after.status),
    isRestored: (current, before) => current.status === before.status,
    describe: (target, before) =>
      `set access key ${target.accessKeyId} of user ${target.userName} back to ${before.status}: it works again`,
    async restore(target, before, current) {
      await iam.send(
        new UpdateAccessKeyCommand({
          UserName: target.userName,
          AccessKeyId: target.accessKeyId,
          Status: before.status === 'Active' ? 'Active' : 'Inactive',
        }),
      );
      return { ...current, status: before.status };
    },
  };
}

export function rollbackAccessKey(
  input: RollbackInput,
  deps: RollbackAccessKeyDeps,
): Promise<RollbackResult> {
  return runRollback(input, accessKeyRollback(deps.iam), deps);
}

/** The function's AWS clients where the incident's calls are made. */
const placed = (config: PlaceConfig) => ({ iam: new IAMClient({ ...clientOptions, ...config }) });

export function makeRollbackHandler(
  env: Environment,
  clients: Clients<ReturnType<typeof placed>> = placedClients(env, NAME, placed),
) {
  return rollbackHandler(env, NAME, clients, rollbackAccessKey);
}

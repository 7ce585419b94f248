import { EC2Client, ModifyNetworkInterfaceAttributeCommand } from '@aws-sdk/client-ec2';
import { clientOptions } from '../../shared/aws.js';
import { type RecordedInstance, recordedInstance } from '../../shared/ec2.js';
import type { Environment } from '../../shared/env.js';
import {
  NotRestorableError,
  type RollbackInput,
  type RollbackResult,
} from '../../shared/rollback.js';
import { type Clients, type PlaceConfig, placedClients } from '../../shared/spoke.js';
import { rollbackNameOf } from '../definition.js';
import { rollbackHandler } from '../handlers.js';
import { type Rollback, type RollbackDeps, runRollback } from '../rollback.js';
import { action } from './action.js';
import { type NetworkState, NetworkStateSchema, readIsolation } from './state.js';

export interface RollbackNetworkIsolationDeps extends RollbackDeps {
  readonly ec2: EC2Client;
}

const NAME = rollbackNameOf(action.name);

const sorted = (groups: readonly string[]) => [...groups].sort().join(',');
const groupsOf = (state: NetworkState) =>
  new Map(state.interfaces.map((i) => [i.networkInterfaceId, sorted(i.groups)]));

/**
 * Puts every network interface of the instance back in the security groups
 * it had before isolation, as the ledger recorded them per interface.
 * Cordon's isolation groups stay (other instances may sit in them).
 */
export function networkIsolationRollback(ec2: EC2Client): Rollback<RecordedInstance, NetworkState> {
  const original = (i: NetworkState['interfaces'][number]) => {
    if (i.originalGroups === null || i.originalGroups.length === 0) {
      throw new NotRestorableError(
        `interface ${i.networkInterfaceId} has no recorded original groups; set its groups by hand`,
      );
    }
    return i.originalGroups;
  };
  return {
    action: NAME,
    undoes: action.name,
    state: NetworkStateSchema,
    target: (entry, before) => recordedInstance(entry, before.instanceId, NAME),
    async read({ instanceId }) {
      const state = await readIsolation(ec2, instanceId);
      return state && { instanceId, interfaces: state.interfaces };
    },
    drift(current, after) {
      const now = groupsOf(current);
      const left = groupsOf(after);
      // An interface already back in its original groups is an earlier attempt
      // of this rollback that got part of the way (throttled on the next
      // interface, say), not a change since containment: its retry goes on.
      const originals = new Map(
        after.interfaces.map((i) => [
          i.networkInterfaceId,
          i.originalGroups === null ? undefined : sorted(i.originalGroups),
        ]),
      );
      const lines: string[] = [];
      for (const [id, groups] of left) {
        const found = now.get(id);
        if (found === undefined) lines.push(`interface ${id} is no longer attached`);
        else if (found !== groups && found !== originals.get(id)) {
          lines.push(`interface ${id} is in ${found || 'no group'} now, Cordon left ${groups}`);
        }
      }
      for (const id of now.keys()) {
        if (!left.has(id)) lines.push(`interface ${id} was attached since`);
      }
      return lines;
    },
    isRestored(current, before) {
      const now = groupsOf(current);
      return (
        now.size === before.interfaces.length &&
        before.interfaces.every(
          (i) =>
            i.originalGroups !== null && now.get(i.networkInterfaceId) === sorted(i.originalGroups),
        )
      );
    },
    describe: ({ instanceId }, before) =>
      `put the ${before.interfaces.length} network interface(s) of instance ${instanceId} back in their groups (${before.interfaces
        .map((i) => `${i.networkInterfaceId}: ${(i.originalGroups ?? ['unknown']).join(', ')}`)
        .join('; ')}): its network access re-opens`,
    async restore({ instanceId }, before, current) {
      const now = groupsOf(current);
      for (const i of before.interfaces) {
        const groups = original(i);
        const found = now.get(i.networkInterfaceId);
        if (found === undefined) {
          throw new NotRestorableError(
            `interface ${i.networkInterfaceId} is no longer attached to ${instanceId}; nothing restored for it`,
          );
        }
        if (found === sorted(groups)) continue;
        await ec2.send(
          new ModifyNetworkInterfaceAttributeCommand({
            NetworkInterfaceId: i.networkInterfaceId,
            Groups: [...groups],
          }),
        );
      }
      return {
        instanceId,
        interfaces: before.interfaces.map((i) => ({ ...i, groups: original(i) })),
      };
    },
  };
}

export function rollbackNetworkIsolation(
  input: RollbackInput,
  deps: RollbackNetworkIsolationDeps,
): Promise<RollbackResult> {
  return runRollback(input, networkIsolationRollback(deps.ec2), deps);
}

/** The function's AWS clients where the incident's calls are made. */
const placed = (config: PlaceConfig) => ({ ec2: new EC2Client({ ...clientOptions, ...config }) });

export function makeRollbackHandler(
  env: Environment,
  clients: Clients<ReturnType<typeof placed>> = placedClients(env, NAME, placed),
) {
  return rollbackHandler(env, NAME, clients, rollbackNetworkIsolation);
}

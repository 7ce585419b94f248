/**
 * The role declarations (`iam.ts` next to each function's code, see
 * functions/shared/iam.ts), read through the function registry, so a test
 * reads every function's declaration the same way: the actions it allows,
 * the calls it grants on `Resource: "*"`, and the imported commands it
 * never sends.
 */
import { FUNCTIONS, type FunctionSpec } from '../../functions/registry.js';
import type { FunctionName } from '../../functions/shared/catalog.js';
import { allowedActions } from '../../functions/shared/iam.js';

/** One function's declaration, as the tests compare it. */
export interface Manifest {
  readonly name: FunctionName;
  /** Its `iam.ts`, relative to the repository. */
  readonly file: string;
  readonly actions: readonly string[];
  readonly unscoped: Readonly<Record<string, string>>;
  readonly notCalled: Readonly<Record<string, string>>;
  /** Calls AWS makes with the role for the function (a stream's poller), not its code. */
  readonly onItsBehalf: Readonly<Record<string, string>>;
}

export function manifestOf(spec: FunctionSpec): Manifest {
  return {
    name: spec.name,
    file: `functions/${spec.dir}/iam.ts`,
    actions: allowedActions(spec.iam),
    unscoped: spec.iam.unscoped ?? {},
    notCalled: spec.iam.notCalled ?? {},
    onItsBehalf: spec.iam.onItsBehalf ?? {},
  };
}

/** Every function's declaration, by name. */
export function loadManifests(): Map<FunctionName, Manifest> {
  return new Map(FUNCTIONS.map((spec) => [spec.name, manifestOf(spec)]));
}

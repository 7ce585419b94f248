/**
 * Layer 2 (infra): assertions on the synthesized default Cordon stack.
 *
 * Proves, on the template CloudFormation would deploy (bundling skipped,
 * synthesized once for this file by test/support/template.ts):
 * - one role per function, under /cordon/, and no wildcard actions;
 * - every `Resource: "*"` is on an explicit allow-list with its reason;
 * - least privilege: each function's role allows exactly the calls its code
 *   makes (checked against a hand-kept list AND against the SDK commands the
 *   function's source imports), and nothing can update or delete the ledger;
 * - the ledger, topic, functions, state machine, rules and alarms have the
 *   safety properties DESIGN.md promises.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { Capture, Match, type Template } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { REPO_ROOT } from '../../cli/rehearsal/synth.js';
import { ACTIONS, type ActionName } from '../../functions/shared/catalog.js';
import { CORDON_ROLE_PATH, ENV } from '../../functions/shared/runtime-config.js';
import {
  actionMatches,
  actionsOf,
  type CfnTemplate,
  defaultTemplate,
  type PolicyDocumentSite,
  type PolicyStatement,
  policyDocuments,
  renderDefinition,
  resourcesOfType,
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

interface FunctionInfo {
  readonly id: string;
  readonly action: string;
  readonly roleId: string;
  readonly properties: Record<string, unknown>;
  readonly env: Record<string, unknown>;
}

function functions(): FunctionInfo[] {
  return resourcesOfType(json, 'AWS::Lambda::Function').map(([id, resource]) => {
    const properties = resource.Properties ?? {};
    const env = z
      .object({ Variables: z.record(z.string(), z.unknown()) })
      .parse(properties.Environment).Variables;
    return {
      id,
      action: z.string().parse(env[ENV.action]),
      roleId: GetAttArn.parse(properties.Role)['Fn::GetAtt'][0],
      properties,
      env,
    };
  });
}

function functionFor(action: ActionName): FunctionInfo {
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
    expect(fns.map((f) => f.action).sort()).toEqual([...ACTIONS].sort());

    const roleIds = fns.map((f) => f.roleId);
    expect(new Set(roleIds).size).toBe(fns.length);
    for (const roleId of roleIds) {
      expect(json.Resources[roleId]?.Type).toBe('AWS::IAM::Role');
    }
  });

  it('puts every role under the /cordon/ path, so triage always protects it', () => {
    const roles = resourcesOfType(json, 'AWS::IAM::Role');
    expect(roles.length).toBeGreaterThan(ACTIONS.length);
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

/** Actions allowed on `Resource: "*"` in identity policies, each with why. */
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

  it('uses Resource "*" in identity policies only for calls on the allow-list', () => {
    const identity = policyDocuments(json).filter((s) => s.resourceType === 'AWS::IAM::Policy');
    const star = allowStatements(identity).filter(
      ({ statement }) =>
        statement.Resource === '*' ||
        (Array.isArray(statement.Resource) && statement.Resource.includes('*')),
    );
    // Non-vacuous: X-Ray on every function role, logging + X-Ray on the state machine role.
    expect(star.length).toBeGreaterThanOrEqual(ACTIONS.length);
    const unexplained = star
      .flatMap(({ statement }) => actionsOf(statement))
      .filter((a) => !(a in RESOURCE_STAR_ALLOWED));
    expect(unexplained).toEqual([]);
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

/** Every function: ledger append, its own log group, active tracing. */
const BASELINE = [
  'dynamodb:PutItem',
  'dynamodb:Query',
  'logs:CreateLogStream',
  'logs:PutLogEvents',
  'xray:PutTelemetryRecords',
  'xray:PutTraceSegments',
];

/** Publishing to the KMS-encrypted topic needs the two key calls SNS makes. */
const PUBLISH = ['sns:Publish', 'kms:Decrypt', 'kms:GenerateDataKey'];

/**
 * What each function's code sends (read from functions/<action>/), beyond
 * the baseline. Kept by hand on purpose: a grant change must change this.
 */
const EXPECTED_ACTIONS: Record<ActionName, readonly string[]> = {
  triage: ['iam:GetUser', 'iam:GetRole'],
  'disable-access-key': ['iam:ListAccessKeys', 'iam:UpdateAccessKey'],
  'revoke-sessions': [
    'iam:GetUser',
    'iam:GetUserPolicy',
    'iam:PutUserPolicy',
    'iam:GetRole',
    'iam:GetRolePolicy',
    'iam:PutRolePolicy',
  ],
  'quarantine-user': [
    'iam:GetUser',
    'iam:GetUserPolicy',
    'iam:PutUserPolicy',
    'iam:GetLoginProfile',
    'iam:DeleteLoginProfile',
  ],
  'update-finding': ['securityhub:BatchUpdateFindings'],
  notify: PUBLISH,
  'request-approval': PUBLISH,
  'record-failure': [],
};

/** Permissions a call needs besides its own name. */
const IMPLIED: Record<string, readonly string[]> = {
  'sns:Publish': ['kms:Decrypt', 'kms:GenerateDataKey'],
};

const SDK_SERVICE: Record<string, string> = {
  '@aws-sdk/client-iam': 'iam',
  '@aws-sdk/client-sns': 'sns',
  '@aws-sdk/client-securityhub': 'securityhub',
  '@aws-sdk/client-sfn': 'states',
  '@aws-sdk/client-sts': 'sts',
};

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return sourceFiles(path);
    return name.endsWith('.ts') ? [path] : [];
  });
}

/** The IAM actions for the SDK commands a function's own folder imports. */
function commandsInSource(action: ActionName): string[] {
  const calls = new Set<string>();
  const importRe = /import\s*(?:type\s*)?\{([^}]*)\}\s*from\s*'(@aws-sdk\/client-[a-z-]+)'/g;
  for (const file of sourceFiles(join(REPO_ROOT, 'functions', action))) {
    const source = readFileSync(file, 'utf8');
    for (const match of source.matchAll(importRe)) {
      const [, names = '', pkg = ''] = match;
      const service = SDK_SERVICE[pkg];
      for (const raw of names.split(',')) {
        const name = raw.trim();
        if (name.startsWith('type ') || !name.endsWith('Command')) continue;
        expect(service, `IAM prefix for ${pkg}`).toBeDefined();
        calls.add(`${service}:${name.slice(0, -'Command'.length)}`);
      }
    }
  }
  return [...calls].flatMap((c) => [c, ...(IMPLIED[c] ?? [])]);
}

describe('least privilege', () => {
  it.each([...ACTIONS])("allows %s's role exactly the calls its code makes", (action) => {
    const fn = functionFor(action);
    const expected = [...new Set([...BASELINE, ...EXPECTED_ACTIONS[action]])].sort();
    expect(allowedActionsOfRole(fn.roleId)).toEqual(expected);
  });

  it.each([...ACTIONS])(
    'keeps the expected list of %s in step with the SDK commands in its code',
    (action) => {
      const fromCode = [...new Set(commandsInSource(action))].sort();
      expect(fromCode).toEqual([...new Set(EXPECTED_ACTIONS[action])].sort());
    },
  );

  it('scopes IAM calls to this account’s users and roles', () => {
    for (const fn of functions()) {
      for (const statement of statementsOfRole(fn.roleId)) {
        if (!actionsOf(statement).some((a) => a.startsWith('iam:'))) continue;
        const text = JSON.stringify(statement.Resource);
        expect(text).toMatch(/:iam::123456789012:(user|role)\//);
      }
    }
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

  it('lets the state machine invoke only Cordon functions and the events role start only it', () => {
    const fnIds = new Set(functions().map((f) => f.id));
    const invokes = allowStatements(policyDocuments(json)).filter(({ statement }) =>
      actionsOf(statement).includes('lambda:InvokeFunction'),
    );
    expect(invokes.length).toBeGreaterThan(0);
    for (const { statement } of invokes) {
      expect(actionsOf(statement)).toEqual(['lambda:InvokeFunction']);
      for (const resource of z.array(z.unknown()).parse(statement.Resource)) {
        const id = JSON.stringify(resource).match(/"Fn::GetAtt":\["([^"]+)","Arn"\]/)?.[1];
        expect(id && fnIds.has(id), JSON.stringify(resource)).toBe(true);
      }
    }
    template.hasResourceProperties('AWS::IAM::Policy', {
      PolicyDocument: {
        Statement: [
          {
            Action: 'states:StartExecution',
            Effect: 'Allow',
            Resource: { Ref: logicalIdOfType('AWS::StepFunctions::StateMachine') },
          },
        ],
      },
    });
  });
});

/* ------------------------------------------------------------------ */
/* Ledger                                                              */
/* ------------------------------------------------------------------ */

describe('ledger table', () => {
  it('has PITR and deletion protection on, is retained, and has no TTL', () => {
    const ledgerId = logicalIdOfType('AWS::DynamoDB::GlobalTable');
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

  it('is writable by PutItem only: no role can update, delete or batch-write', () => {
    const forbidden = [
      'dynamodb:UpdateItem',
      'dynamodb:DeleteItem',
      'dynamodb:BatchWriteItem',
      'dynamodb:DeleteTable',
    ];
    const granted = allowStatements(policyDocuments(json)).flatMap(({ statement }) =>
      actionsOf(statement),
    );
    expect(granted).toContain('dynamodb:PutItem');
    const hits = granted.filter((pattern) => forbidden.some((f) => actionMatches(pattern, f)));
    expect(hits).toEqual([]);
  });

  it('grants ledger access on the base table only, to function roles', () => {
    const ledgerId = logicalIdOfType('AWS::DynamoDB::GlobalTable');
    const roleIds = new Set(functions().map((f) => f.roleId));
    const onLedger = policyDocuments(json).filter((site) =>
      site.statements.some((s) => JSON.stringify(s.Resource ?? null).includes(ledgerId)),
    );
    expect(onLedger).toHaveLength(ACTIONS.length);
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
    template.resourceCountIs('AWS::Lambda::Function', ACTIONS.length);
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
    expect(new Set(groups).size).toBe(ACTIONS.length);
    for (const id of groups) expect(json.Resources[id]?.Type).toBe('AWS::Logs::LogGroup');
  });

  it('name their action and carry their own role as actor', () => {
    for (const fn of functions()) {
      expect(ACTIONS).toContain(fn.action);
      expect(fn.env[ENV.actor]).toEqual({ 'Fn::GetAtt': [fn.roleId, 'Arn'] });
    }
  });
});

/* ------------------------------------------------------------------ */
/* State machine                                                       */
/* ------------------------------------------------------------------ */

const RetrierSchema = z.looseObject({ ErrorEquals: z.array(z.string()) });
interface State {
  readonly Type: string;
  readonly Resource?: string | undefined;
  readonly TimeoutSeconds?: number | undefined;
  readonly TimeoutSecondsPath?: string | undefined;
  readonly Retry?: z.infer<typeof RetrierSchema>[] | undefined;
  readonly Catch?: z.infer<typeof RetrierSchema>[] | undefined;
  readonly Branches?: Definition[] | undefined;
  readonly ItemProcessor?: Definition | undefined;
  readonly Iterator?: Definition | undefined;
}
interface Definition {
  readonly StartAt: string;
  readonly States: Record<string, State>;
}
const DefinitionSchema: z.ZodType<Definition> = z.lazy(() =>
  z.looseObject({
    StartAt: z.string(),
    States: z.record(
      z.string(),
      z.looseObject({
        Type: z.string(),
        Resource: z.string().optional(),
        TimeoutSeconds: z.number().optional(),
        TimeoutSecondsPath: z.string().optional(),
        Retry: z.array(RetrierSchema).optional(),
        Catch: z.array(RetrierSchema).optional(),
        Branches: z.array(DefinitionSchema).optional(),
        ItemProcessor: DefinitionSchema.optional(),
        Iterator: DefinitionSchema.optional(),
      }),
    ),
  }),
);

function allStates(definition: Definition): [string, State][] {
  return Object.entries(definition.States).flatMap(([name, state]) => [
    [name, state] as [string, State],
    ...[
      ...(state.Branches ?? []),
      ...(state.ItemProcessor ? [state.ItemProcessor] : []),
      ...(state.Iterator ? [state.Iterator] : []),
    ].flatMap(allStates),
  ]);
}

describe('state machine', () => {
  let states: [string, State][];
  let tasks: [string, State][];

  beforeAll(() => {
    const [[, sm] = ['', undefined]] = resourcesOfType(json, 'AWS::StepFunctions::StateMachine');
    states = allStates(DefinitionSchema.parse(renderDefinition(sm?.Properties?.DefinitionString)));
    tasks = states.filter(([, s]) => s.Type === 'Task');
  });

  const isLambdaTask = (state: State): boolean => {
    const resource = state.Resource ?? '';
    const id = resource.match(/^\$\{GetAtt:([^.]+)\.Arn\}$/)?.[1];
    return (
      resource.includes(':lambda:invoke') ||
      (id !== undefined && json.Resources[id]?.Type === 'AWS::Lambda::Function')
    );
  };
  const isCallback = (state: State): boolean =>
    (state.Resource ?? '').endsWith('.waitForTaskToken');

  it('is STANDARD, traced, and logs ALL', () => {
    template.resourceCountIs('AWS::StepFunctions::StateMachine', 1);
    template.hasResourceProperties('AWS::StepFunctions::StateMachine', {
      StateMachineType: 'STANDARD',
      TracingConfiguration: { Enabled: true },
      LoggingConfiguration: Match.objectLike({ Level: 'ALL' }),
    });
  });

  it('gives every Task state a timeout', () => {
    expect(tasks.length).toBeGreaterThan(5);
    const missing = tasks
      .filter(([, s]) => s.TimeoutSeconds === undefined && s.TimeoutSecondsPath === undefined)
      .map(([name]) => name);
    expect(missing).toEqual([]);
  });

  it('gives every callback (waitForTaskToken) task a timeout', () => {
    const callbacks = tasks.filter(([, s]) => isCallback(s));
    expect(callbacks.length).toBeGreaterThan(0);
    for (const [name, s] of callbacks) expect(s.TimeoutSeconds, name).toBeGreaterThan(0);
  });

  it('never retries States.ALL or States.TaskFailed', () => {
    const retriers = states.flatMap(([name, s]) => (s.Retry ?? []).map((r) => ({ name, r })));
    expect(retriers.length).toBeGreaterThan(0);
    const bad = retriers
      .filter(({ r }) => r.ErrorEquals.some((e) => e === 'States.ALL' || e === 'States.TaskFailed'))
      .map(({ name }) => name);
    expect(bad).toEqual([]);
  });

  it('catches errors of every Lambda task', () => {
    const lambdaTasks = tasks.filter(([, s]) => isLambdaTask(s));
    expect(lambdaTasks).toHaveLength(tasks.length);
    const uncaught = lambdaTasks.filter(([, s]) => (s.Catch ?? []).length === 0).map(([n]) => n);
    expect(uncaught).toEqual([]);
  });
});

/* ------------------------------------------------------------------ */
/* Rules and alarms                                                    */
/* ------------------------------------------------------------------ */

describe('rules', () => {
  const guardDuty = {
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
  };
  const securityHub = {
    source: ['aws.securityhub'],
    'detail-type': ['Security Hub Findings - Imported'],
    detail: {
      findings: {
        Workflow: { Status: ['NEW'] },
        RecordState: ['ACTIVE'],
        Severity: { Label: ['HIGH', 'CRITICAL'] },
        Resources: { Type: ['AwsIamAccessKey', 'AwsIamUser', 'AwsIamRole'] },
        ProductName: [{ 'anything-but': ['GuardDuty'] }],
      },
    },
  };

  it('match exactly the GuardDuty and Security Hub patterns', () => {
    const patterns = resourcesOfType(json, 'AWS::Events::Rule').map(
      ([, r]) => r.Properties?.EventPattern,
    );
    expect(patterns).toHaveLength(2);
    expect(patterns).toEqual(expect.arrayContaining([guardDuty, securityHub]));
  });

  it('deliver with a retry policy and a dead-letter queue', () => {
    const queueId = logicalIdOfType('AWS::SQS::Queue');
    const machineId = logicalIdOfType('AWS::StepFunctions::StateMachine');
    template.allResourcesProperties('AWS::Events::Rule', {
      Targets: [
        Match.objectLike({
          Arn: { Ref: machineId },
          RetryPolicy: Match.objectLike({ MaximumRetryAttempts: Match.anyValue() }),
          DeadLetterConfig: { Arn: { 'Fn::GetAtt': [queueId, 'Arn'] } },
        }),
      ],
    });
  });

  it.each([
    ['AWS/States', 'ExecutionsFailed'],
    ['AWS/States', 'ExecutionsTimedOut'],
    ['AWS/SQS', 'ApproximateNumberOfMessagesVisible'],
  ])('alarm on %s %s to the notification topic', (namespace, metric) => {
    const topicId = logicalIdOfType('AWS::SNS::Topic');
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Namespace: namespace,
      MetricName: metric,
      AlarmActions: [{ Ref: topicId }],
    });
  });
});

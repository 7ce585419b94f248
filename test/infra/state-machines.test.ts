/**
 * Layer 2 (infra): the state machines of the synthesized default Cordon stack.
 *
 * Proves, on the template CloudFormation would deploy (bundling skipped,
 * synthesized once for this file by test/support/template.ts):
 * - per playbook: the state machine, what its role may invoke, its
 *   definition's safety properties, its rules, dead-letter queue and alarms;
 * - the ec2-instance playbook's approvals and the order of its actions;
 * - the rollback state machine: its flow, who may start it, and what its
 *   functions' roles are denied.
 */
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
  SEQUENCE,
  stepsOf,
} from '../../functions/shared/catalog.js';
import { ENV } from '../../functions/shared/runtime-config.js';
import {
  actionsOf,
  allStates,
  buildTestApp,
  type CfnResource,
  type CfnTemplate,
  type Definition,
  defaultTemplate,
  parseDefinition,
  policyDocuments,
  renderArn,
  resourcesOf,
  resourcesOfType,
  type State,
  TEST_ACCOUNT,
} from '../support/template.js';
import {
  allowedActionsOfRole,
  functionFor,
  functions,
  logicalIdOfType,
  statementsOfRole,
} from './stack-helpers.js';

let template: Template;
let json: CfnTemplate;

beforeAll(() => {
  ({ template, json } = defaultTemplate());
});

const GetAttArn = z.object({ 'Fn::GetAtt': z.tuple([z.string(), z.literal('Arn')]) });

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

/** The key a state machine's definition and execution data are encrypted with. */
function executionKeyOf(machineId: string): string {
  const encryption = z
    .object({ Type: z.literal('CUSTOMER_MANAGED_KMS_KEY'), KmsKeyId: GetAttArn })
    .parse(json.Resources[machineId]?.Properties?.EncryptionConfiguration);
  return encryption.KmsKeyId['Fn::GetAtt'][0];
}

/** A state machine's ARN as its name builds it (what its data's encryption context names). */
const machineArn = (machineId: string) =>
  `arn:<AWS::Partition>:states:us-east-1:123456789012:stateMachine:${z.string().parse(json.Resources[machineId]?.Properties?.StateMachineName)}`;

/**
 * A statement using the execution key for one state machine's data only:
 * the encryption context Step Functions sets names that state machine.
 */
function usesExecutionDataOf(
  statement: { Action?: unknown; Resource?: unknown; Condition?: unknown },
  machineId: string,
): boolean {
  const condition = z
    .object({
      StringEquals: z.object({ 'kms:EncryptionContext:aws:states:stateMachineArn': z.unknown() }),
    })
    .safeParse(statement.Condition);
  return (
    condition.success &&
    renderArn(statement.Resource) === `<${executionKeyOf(machineId)}.Arn>` &&
    renderArn(condition.data.StringEquals['kms:EncryptionContext:aws:states:stateMachineArn']) ===
      machineArn(machineId) &&
    JSON.stringify(statement.Action) === JSON.stringify(['kms:Decrypt', 'kms:GenerateDataKey'])
  );
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
  // An attack sequence runs its members' playbooks' steps.
  const playbooks = name === SEQUENCE.playbook ? SEQUENCE.members : [name];
  const steps = playbooks.flatMap((p) => Object.values(stepsOf(p)).flatMap(actionsOfStep));
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

  it('use every function between them and the rollback machine but the approval endpoint, which responders call, the watch, which rules invoke, and the anchor and metrics functions, which the ledger stream invokes', () => {
    const used = new Set([
      ...PLAYBOOK_NAMES.flatMap(actionsOfPlaybook),
      ...ROLLBACK_MACHINE_FUNCTIONS,
    ]);
    expect([...used].sort()).toEqual(
      FUNCTION_NAMES.filter(
        (a) => !['responder-api', 'watch', 'anchor', 'metrics'].includes(a),
      ).sort(),
    );
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
      // Otherwise its own execution data, its logs' encryption, and logging
      // and tracing (on the Resource "*" allow-list).
      const rest = statements.filter((s) => !invokes.includes(s));
      const { machineId } = playbookFor(name);
      expect(rest.filter((s) => usesExecutionDataOf(s, machineId))).toHaveLength(1);
      for (const s of rest.filter((s) => s.Resource !== '*')) {
        if (usesExecutionDataOf(s, machineId)) continue;
        expect(s).toMatchObject({
          Action: 'kms:GenerateDataKey',
          Resource: { 'Fn::GetAtt': [executionKeyOf(machineId), 'Arn'] },
          Condition: { StringEquals: { 'kms:EncryptionContext:SourceArn': expect.anything() } },
        });
      }
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
    const statements = statementsOfRole(eventsRoleId);
    const starts = statements.filter((s) => s.Action === 'states:StartExecution');
    const rest = statements.filter((s) => !starts.includes(s));
    expect(starts).toEqual([
      {
        Action: 'states:StartExecution',
        Effect: 'Allow',
        Resource: { Ref: machineId },
      },
    ]);
    // StartExecution encrypts the input as the caller: the key, for this machine's data only.
    expect(rest).toHaveLength(1);
    expect(rest.every((s) => usesExecutionDataOf(s, machineId))).toBe(true);
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
    // In auto mode the gate goes straight to the same chain, without waiting.
    const gate = states['Isolate instance?']?.Choices ?? [];
    const auto = gate.find((c) => JSON.stringify(c).includes('"auto"'));
    expect(auto?.Next).toBe('Leave Auto Scaling group');
  });

  it('runs none of the isolation actions when the approval is rejected or times out', () => {
    const notGranted = states['Isolate instance: request approval']?.Catch?.find((c) =>
      c.ErrorEquals.includes('Cordon.ApprovalRejected'),
    );
    expect(notGranted?.ErrorEquals).toContain('States.Timeout');
    expect(notGranted?.Next).toBe('Isolate instance: not acted on');
    expect(next('Isolate instance: not acted on')).toBe('Isolate instance: timed out?');
    const timedOut = states['Isolate instance: timed out?'];
    // A timeout is notified, then the playbook goes on; so is a rejection or
    // timeout that cannot be shown to be a responder's or Step Functions';
    // a responder's rejection goes straight on.
    expect(timedOut?.Choices).toEqual([
      {
        Variable: '$.results.isolate.outcome',
        StringEquals: 'NOT_ACTED_ON',
        Next: 'Isolate instance: notify timeout',
      },
      {
        Or: [
          { Variable: '$.results.isolate.outcome', StringEquals: 'REJECTED_UNVERIFIED' },
          { Variable: '$.results.isolate.outcome', StringEquals: 'TIMEOUT_UNVERIFIED' },
        ],
        Next: 'Isolate instance: notify unverified',
      },
    ]);
    expect(invokedAction(states['Isolate instance: notify unverified'])).toBe('notify');
    expect(next('Isolate instance: notify unverified')).toBe('Revoke instance role sessions?');
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
  RoleArn: z.unknown().optional(),
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

const securityHub = (
  types: string[],
  extra: Record<string, unknown> = {},
  providerTypes?: unknown[],
) => ({
  source: ['aws.securityhub'],
  'detail-type': ['Security Hub Findings - Imported'],
  detail: {
    findings: {
      Workflow: { Status: ['NEW'] },
      RecordState: ['ACTIVE'],
      // The provider's severity: BatchUpdateFindings callers edit only the top level.
      FindingProviderFields: {
        Severity: { Label: ['HIGH', 'CRITICAL'] },
        ...(providerTypes === undefined ? {} : { Types: providerTypes }),
      },
      Resources: { Type: types },
      // GuardDuty findings arrive through the GuardDuty rule, once.
      ProductName: [{ 'anything-but': ['GuardDuty'] }],
      ...extra,
    },
  },
});

/** The same findings in Security Hub's OCSF form ("Findings Imported V2"). */
const securityHubV2 = (types: string[], extra: Record<string, unknown>) => ({
  source: ['aws.securityhub'],
  'detail-type': ['Findings Imported V2'],
  detail: {
    findings: {
      // New only: Cordon's own BatchUpdateFindingsV2 sets 2 (In Progress) or 4 (Resolved).
      status_id: [1],
      // The provider's severity (High 4, Critical 5, Fatal 6): editors change only the top level.
      vendor_attributes: { severity_id: [4, 5, 6] },
      resources: { type: types },
      // GuardDuty findings arrive through the GuardDuty rule, once.
      metadata: { product: { name: [{ 'anything-but': ['GuardDuty'] }] } },
      ...extra,
    },
  },
});

/** OCSF detections (class 2004), never compliance results (2003) or vulnerabilities (2002). */
const DETECTIONS = { class_uid: [2004] };

/** No control results; for threat playbooks, no finding that is only a configuration check. */
const NO_CONTROLS = { Compliance: { Status: [{ exists: false }] } };
const THREATS = [{ 'anything-but': { prefix: 'Software and Configuration Checks' } }];

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

describe('secret-exposure definition', () => {
  let states: Record<string, State>;
  const next = (name: string) => states[name]?.Next;

  beforeAll(() => {
    states = Object.fromEntries(allStates(playbookFor('secret-exposure').definition));
  });

  it('checks a rotation again on Cordon.RotationPending: its own retrier first, bounded, no jitter, then the usual one', () => {
    const retry = states['Rotate secret']?.Retry ?? [];
    expect(retry[0]).toEqual({
      ErrorEquals: ['Cordon.RotationPending'],
      IntervalSeconds: 10,
      MaxAttempts: 12,
      BackoffRate: 1.5,
      MaxDelaySeconds: 60,
      JitterStrategy: 'NONE',
    });
    // Nowhere else is a pending rotation retried, so its checks are the bound.
    const elsewhere = Object.entries(states).filter(([n, st]) =>
      (st.Retry ?? []).some((r, i) =>
        r.ErrorEquals.includes('Cordon.RotationPending') ? n !== 'Rotate secret' || i > 0 : false,
      ),
    );
    expect(elsewhere).toEqual([]);
  });

  it('fails the execution on a refusal, and falls back to the lock on any other error of the rotation', () => {
    const catches = states['Rotate secret']?.Catch ?? [];
    expect(catches.map((c) => [c.ErrorEquals, c.Next])).toEqual([
      [
        [
          'Cordon.ApprovalMissing',
          'Cordon.NotValidated',
          'Cordon.TargetChanged',
          'Cordon.InvalidTaskInput',
        ],
        'Rotate secret: failed',
      ],
      [['States.ALL'], 'Rotate secret: did not finish'],
    ]);
    expect(invokedAction(states['Rotate secret: did not finish'])).toBe('record-failure');
    expect(next('Rotate secret: did not finish')).toBe('Rotate secret: notify fallback');
    expect(states['Rotate secret: notify fallback']?.Parameters).toMatchObject({
      kind: 'FALLBACK',
    });
    expect(next('Rotate secret: notify fallback')).toBe('Lock secret?');
    expect(next('Rotate secret')).toBe('Lock secret?');
  });

  it('locks a secret planned with the lock as fallback only when the rotation FAILED', () => {
    const gate = states['Lock secret?'];
    expect(gate?.Choices?.[0]).toEqual({
      And: [
        { Variable: '$.incident.plan.lockSecret.fallback', IsPresent: true },
        {
          Not: {
            And: [
              { Variable: '$.results.rotateSecret.outcome', IsPresent: true },
              { Variable: '$.results.rotateSecret.outcome', StringEquals: 'FAILED' },
            ],
          },
        },
      ],
      Next: 'Lock secret: not needed',
    });
    expect(next('Lock secret: not needed')).toBe('Finished: from Security Hub?');
  });
});

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

  it.each(['ExecutionsFailed', 'ExecutionsTimedOut', 'ExecutionsAborted'])(
    'alarms on %s to the notification topic',
    (metric) => {
      template.hasResourceProperties('AWS::CloudWatch::Alarm', {
        Namespace: 'AWS/States',
        MetricName: metric,
        Dimensions: [{ Name: 'StateMachineArn', Value: { Ref: machine.machineId } }],
        Threshold: 1,
        AlarmActions: [{ Ref: logicalIdOfType('AWS::SNS::Topic') }],
      });
    },
  );

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
});

const EXPECTED_PATTERNS: Record<PlaybookName, readonly unknown[]> = {
  'iam-credentials': [
    {
      source: ['aws.guardduty'],
      'detail-type': ['GuardDuty Finding'],
      detail: {
        // Never a Policy:S3 posture change: that is the bucket's, for s3-exposure.
        type: [{ 'anything-but': { prefix: 'Policy:S3/' } }],
        resource: {
          resourceType: ['AccessKey', 'S3Bucket'],
          // Only principal kinds the playbook can contain.
          accessKeyDetails: { userType: ['IAMUser', 'AssumedRole', 'Root'] },
        },
        severity: [{ numeric: ['>=', 7] }],
      },
    },
    securityHub(['AwsIamAccessKey', 'AwsIamUser', 'AwsIamRole'], NO_CONTROLS, THREATS),
    securityHubV2(['AWS::IAM::AccessKey', 'AWS::IAM::User', 'AWS::IAM::Role'], {
      ...DETECTIONS,
      finding_info: { types: THREATS },
    }),
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
    securityHub(['AwsEc2Instance'], NO_CONTROLS, THREATS),
    securityHubV2(['AWS::EC2::Instance'], { ...DETECTIONS, finding_info: { types: THREATS } }),
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
    securityHub(['AwsSecretsManagerSecret'], NO_CONTROLS),
    securityHubV2(['AWS::SecretsManager::Secret'], DETECTIONS),
  ],
  'integration-quarantine': [
    guardDuty({ resource: { resourceType: ['Lambda'] } }),
    securityHub(['AwsLambdaFunction'], NO_CONTROLS),
    securityHubV2(['AWS::Lambda::Function'], DETECTIONS),
  ],
  's3-exposure': [
    // Whatever the resource type: GuardDuty files these as AccessKey findings.
    guardDuty({
      type: [{ prefix: 'Policy:S3/' }],
      resource: { s3BucketDetails: { name: [{ exists: true }] } },
    }),
    securityHub(['AwsS3Bucket', 'AwsS3AccessPoint'], {
      $or: [
        {
          FindingProviderFields: { Types: [{ prefix: 'Effects/Data Exposure' }] },
          Compliance: { Status: [{ exists: false }] },
        },
        {
          FindingProviderFields: { Types: [{ prefix: 'Effects/Data Exposure' }] },
          Compliance: { Status: ['FAILED'] },
        },
        {
          Compliance: { Status: ['FAILED'] },
          GeneratorId: [
            { suffix: '/S3.2' },
            { suffix: '/S3.3' },
            { suffix: '/S3.8' },
            { suffix: '/S3.19' },
          ],
        },
        {
          ProductArn: [{ suffix: '::product/aws/access-analyzer' }],
          FindingProviderFields: { Types: [{ suffix: '/External Access Granted' }] },
        },
        {
          ProductArn: [{ suffix: '::product/aws/macie' }],
          FindingProviderFields: {
            Types: [{ suffix: 'S3BucketPublic' }, { suffix: 'S3BlockPublicAccessDisabled' }],
          },
        },
      ],
    }),
    securityHubV2(['AWS::S3::Bucket'], {
      $or: [
        { class_uid: [2004], finding_info: { types: [{ prefix: 'Effects/Data Exposure' }] } },
        // A public-bucket control that failed (compliance status_id 3, Fail).
        { class_uid: [2003], compliance: { control: ['S3.2', 'S3.3', 'S3.8'], status_id: [3] } },
      ],
    }),
  ],
  'attack-sequence': [
    {
      source: ['aws.guardduty'],
      'detail-type': ['GuardDuty Finding'],
      // Only the native finding: Security Hub's copies never start it.
      detail: {
        resource: { resourceType: ['AttackSequence'] },
        // A stored copy without its sequence names nothing to act on.
        service: { detection: { sequence: { uid: [{ exists: true }] } } },
        severity: [{ numeric: ['>=', 7] }],
      },
    },
  ],
};

describe('rules', () => {
  it('that start a state machine are exactly the three of each playbook (GuardDuty, Security Hub ASFF and OCSF), and the one of attack sequences (GuardDuty)', () => {
    const perPlaybook = PLAYBOOK_NAMES.map((name) => rulesOf(playbookFor(name).machineId).length);
    const expected = PLAYBOOK_NAMES.map((name) => (name === SEQUENCE.playbook ? 1 : 3));
    expect(perPlaybook).toEqual(expected);
    const machineIds = new Set(machines().map((m) => m.machineId));
    const starting = resourcesOfType(json, 'AWS::Events::Rule').filter(([, rule]) =>
      targetsOf(rule).some((t) =>
        machineIds.has(z.object({ Ref: z.string() }).catch({ Ref: '' }).parse(t.Arn).Ref),
      ),
    );
    expect(starting).toHaveLength(expected.reduce((a, b) => a + b, 0));
  });

  it.each([...PLAYBOOK_NAMES])(
    '%s: match exactly its GuardDuty and Security Hub patterns, in events of its own account only',
    (name) => {
      const patterns = rulesOf(playbookFor(name).machineId).map(([, r]) => {
        const { account, ...pattern } = z
          .looseObject({ account: z.unknown() })
          .parse(r.Properties?.EventPattern);
        expect(account).toEqual([TEST_ACCOUNT]);
        return pattern;
      });
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
      [name, 'AWS/States', 'ExecutionsAborted'],
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

describe('execution timeouts', () => {
  /** The callback (approval) states of a definition: each may wait the whole approval timeout. */
  const approvalWaits = (definition: Definition) =>
    allStates(definition).filter(([, s]) => s.Resource?.endsWith('.waitForTaskToken')).length;

  it.each([60, 7 * 24 * 60])(
    'outlast every approval wait in a row, with approvalTimeoutMinutes %d',
    (minutes) => {
      const { app, stackName } = buildTestApp({ overrides: { approvalTimeoutMinutes: minutes } });
      const synthesized = app.synth().getStackByName(stackName).template as CfnTemplate;
      const all = resourcesOfType(synthesized, 'AWS::StepFunctions::StateMachine');
      expect(all).toHaveLength(PLAYBOOK_NAMES.length + 1);
      for (const [id, machine] of all) {
        const definition = parseDefinition(machine.Properties?.DefinitionString);
        const timeout = z.object({ TimeoutSeconds: z.number() }).parse(definition).TimeoutSeconds;
        const waits = approvalWaits(definition);
        expect(waits, id).toBeGreaterThanOrEqual(1);
        expect(timeout, id).toBeGreaterThan(waits * minutes * 60);
        expect(timeout, id).toBeGreaterThanOrEqual(24 * 3600);
      }
    },
  );
});

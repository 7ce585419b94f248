/**
 * Layer 2 (infra): the watch rules, on the synthesized default stack.
 *
 * Each rule's event pattern is read from the template, its references
 * resolved to the names and ARNs the stack's resources would have, and run
 * through the same EventBridge matcher `cordon rehearse` uses
 * (rehearsal/event-pattern.ts) against the events AWS publishes for each
 * call (test/fixtures/events, with Cordon's names put in): the attack each
 * rule exists for matches, and the same call on someone else's resource, or
 * a read-only call, does not.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { PLAYBOOK_NAMES, ROLLBACK_MACHINE } from '../../functions/shared/catalog.js';
import { ENV } from '../../functions/shared/runtime-config.js';
import { WatchConfigSchema } from '../../functions/watch/core.js';
import type { EventEnvelope } from '../../functions/watch/events.js';
import { compileEventPattern } from '../../rehearsal/event-pattern.js';
import { resolver } from '../../rehearsal/template.js';
import { abortedEvent, apiCallEvent, fixture } from '../functions/watch/fixtures.js';
import {
  actionsOf,
  type CfnTemplate,
  defaultTemplate,
  renderArn,
  resourcesOf,
  resourcesOfType,
  TEST_ACCOUNT,
  TEST_REGION,
} from '../support/template.js';
import { functionFor, statementsOfRole } from './stack-helpers.js';

let json: CfnTemplate;
let resolve: (value: unknown) => unknown;

const STATES = `arn:aws:states:${TEST_REGION}:${TEST_ACCOUNT}`;

beforeAll(() => {
  ({ json } = defaultTemplate());
  const nameOf = (id: string, key: 'Name' | 'StateMachineName') => {
    const name = json.Resources[id]?.Properties?.[key];
    return typeof name === 'string' ? name : id;
  };
  resolve = resolver(json.Resources, {
    account: TEST_ACCOUNT,
    region: TEST_REGION,
    partition: 'aws',
    // What CloudFormation gives: a rule's name (on the default bus), a state machine's ARN.
    ref: (id, type) =>
      type === 'AWS::Events::Rule'
        ? nameOf(id, 'Name')
        : type === 'AWS::StepFunctions::StateMachine'
          ? `${STATES}:stateMachine:${nameOf(id, 'StateMachineName')}`
          : undefined,
    getAtt: (id, type, attr) =>
      type === 'AWS::StepFunctions::StateMachine' && attr === 'Name'
        ? nameOf(id, 'StateMachineName')
        : undefined,
  });
});

const TargetsSchema = z.array(
  z.looseObject({
    Arn: z.unknown(),
    RetryPolicy: z.unknown().optional(),
    DeadLetterConfig: z.unknown().optional(),
  }),
);
const GetAttArn = z.object({ 'Fn::GetAtt': z.tuple([z.string(), z.literal('Arn')]) });

interface RuleInfo {
  readonly id: string;
  /** Its name once deployed. */
  readonly name: string;
  readonly matches: (event: EventEnvelope) => boolean;
}

/** Every rule of the stack that matches events (not a schedule), with its resolved name and a matcher. */
function rules(): RuleInfo[] {
  const matchingEvents = resourcesOfType(json, 'AWS::Events::Rule').filter(
    ([, rule]) => rule.Properties?.EventPattern !== undefined,
  );
  return matchingEvents.map(([id, rule]) => ({
    id,
    name: z.string().parse(resolve({ Ref: id })),
    matches: compileEventPattern(resolve(rule.Properties?.EventPattern)),
  }));
}

/** The rules whose target is the watch function. */
function watchRules(): RuleInfo[] {
  const watchId = functionFor('watch').id;
  return rules().filter((r) =>
    TargetsSchema.parse(json.Resources[r.id]?.Properties?.Targets ?? []).some(
      (t) => GetAttArn.safeParse(t.Arn).data?.['Fn::GetAtt'][0] === watchId,
    ),
  );
}

/** The ids of the watch rules that match `event`. */
const matching = (event: EventEnvelope) =>
  watchRules()
    .filter((r) => r.matches(event))
    .map((r) => r.id);

/** Each state machine, by what it runs, with its deployed ARN and an execution of it. */
function machines(): { name: string; arn: string; execution: string }[] {
  return resourcesOfType(json, 'AWS::StepFunctions::StateMachine').map(([id, machine]) => {
    const tags = z
      .array(z.object({ Key: z.string(), Value: z.string() }))
      .parse(machine.Properties?.Tags ?? []);
    const arn = z.string().parse(resolve({ Ref: id }));
    return {
      name: tags.find((t) => t.Key === 'cordon:playbook')?.Value ?? id,
      arn,
      execution: `${arn.replace(':stateMachine:', ':execution:')}:a1b2c3`,
    };
  });
}

const ruleNamed = (pattern: RegExp): RuleInfo => {
  const found = rules().filter((r) => pattern.test(r.id));
  expect(found, String(pattern)).toHaveLength(1);
  const [rule] = found;
  if (!rule) throw new Error(`no rule ${pattern}`);
  return rule;
};

describe('watch rules', () => {
  it('are five, each delivering to the watch function with retries and a dead-letter queue', () => {
    const watched = watchRules();
    expect(watched).toHaveLength(5);
    const queues = new Set<string>();
    for (const rule of watched) {
      const [target, ...others] = TargetsSchema.parse(json.Resources[rule.id]?.Properties?.Targets);
      expect(others, rule.id).toEqual([]);
      expect(target?.RetryPolicy, rule.id).toEqual({
        MaximumRetryAttempts: 8,
        MaximumEventAgeInSeconds: 6 * 3600,
      });
      const dlq = z.object({ Arn: GetAttArn }).parse(target?.DeadLetterConfig).Arn['Fn::GetAtt'][0];
      expect(json.Resources[dlq]?.Type).toBe('AWS::SQS::Queue');
      queues.add(dlq);
    }
    expect(queues.size).toBe(1);
  });

  it('give the two rules that watch rules fixed names, so each can name the other', () => {
    expect(ruleNamed(/RuleChangesRule/).name).toBe('Cordon-rule-changes');
    expect(ruleNamed(/RuleChangesWatchRule/).name).toBe('Cordon-rule-changes-watch');
  });

  it('tell the watch every state machine Cordon runs, by what it runs', () => {
    const env = functionFor('watch').env;
    const config = WatchConfigSchema.parse(JSON.parse(String(resolve(env[ENV.watch]))));
    expect(config.machines.map((m) => m.name).sort()).toEqual(
      [...PLAYBOOK_NAMES, ROLLBACK_MACHINE].sort(),
    );
    expect(config.machines.map((m) => m.arn).sort()).toEqual(
      machines()
        .map((m) => m.arn)
        .sort(),
    );
    expect(config.runtimeModeParameter).toBe('/cordon/mode');
  });
});

describe('an insider stops an execution', () => {
  it.each([...PLAYBOOK_NAMES, ROLLBACK_MACHINE])(
    '%s: its ABORTED status change and the StopExecution call each match one watch rule',
    (name) => {
      const machine = machines().find((m) => m.name === name);
      if (!machine) throw new Error(`no state machine for ${name}`);

      const aborted = matching(abortedEvent(machine.execution, machine.arn));
      const stopped = matching(
        apiCallEvent('cloudtrail-stop-execution.json', { executionArn: machine.execution }),
      );

      expect(aborted).toEqual([ruleNamed(/UnfinishedRule/).id]);
      expect(stopped).toEqual([ruleNamed(/StopExecutionRule/).id]);
    },
  );

  it("does not match an ABORTED execution of a state machine that is not Cordon's (the documented event)", () => {
    expect(matching(fixture('states-execution-aborted.json'))).toEqual([]);
  });

  it.each([
    ['TIMED_OUT', null],
    ['FAILED', 'States.DataLimitExceeded'],
    ['FAILED', 'States.Runtime'],
    ['FAILED', null],
    ['FAILED', undefined],
  ])('matches an execution that ended %s (%s), outside every failure path', (status, error) => {
    const [machine] = machines();
    if (!machine) throw new Error('no state machine');
    const detail = error === undefined ? { status } : { status, error };
    expect(matching(abortedEvent(machine.execution, machine.arn, detail))).toEqual([
      ruleNamed(/UnfinishedRule/).id,
    ]);
  });

  it('leaves telling a failure path from the rest to the function, which reads the execution back; it does not match one that succeeded or runs', () => {
    for (const machine of machines()) {
      expect(
        matching(
          abortedEvent(machine.execution, machine.arn, {
            status: 'FAILED',
            error: 'Cordon.PlaybookFailed',
          }),
        ),
      ).toEqual([ruleNamed(/UnfinishedRule/).id]);
      for (const status of ['SUCCEEDED', 'RUNNING']) {
        expect(matching(abortedEvent(machine.execution, machine.arn, { status }))).toEqual([]);
      }
    }
  });

  it('does not match StopExecution on another state machine, even one whose name starts like a Cordon one', () => {
    const [machine] = machines();
    if (!machine) throw new Error('no state machine');
    const lookalike = machine.execution.replace(/:([^:]+):a1b2c3$/, ':$1-copy:a1b2c3');

    expect(matching(fixture('cloudtrail-stop-execution.json'))).toEqual([]);
    expect(
      matching(apiCallEvent('cloudtrail-stop-execution.json', { executionArn: lookalike })),
    ).toEqual([]);
  });
});

describe('someone changes the runtime mode', () => {
  it.each([
    ['PutParameter', { name: '/cordon/mode' }],
    ['DeleteParameter', { name: '/cordon/mode' }],
    ['LabelParameterVersion', { name: '/cordon/mode', labels: ['x'] }],
  ])('%s on /cordon/mode matches the mode rule', (eventName, request) => {
    const event = apiCallEvent('cloudtrail-ssm-put-parameter.json', request, { eventName });

    expect(matching(event)).toEqual([ruleNamed(/RuntimeModeRule/).id]);
  });

  it('DeleteParameters naming /cordon/mode among others matches the mode rule', () => {
    const event = apiCallEvent('cloudtrail-ssm-delete-parameters.json');

    expect(matching(event)).toEqual([ruleNamed(/RuntimeModeRule/).id]);
  });

  it('does not match a write to another parameter, or a read of the mode', () => {
    const other = apiCallEvent('cloudtrail-ssm-put-parameter.json', {
      name: '/cordon/mode-backup',
    });
    const others = apiCallEvent('cloudtrail-ssm-delete-parameters.json', {
      names: ['/app/feature-flag'],
    });

    expect(matching(other)).toEqual([]);
    expect(matching(others)).toEqual([]);
    expect(matching(apiCallEvent('cloudtrail-ssm-get-parameter.json'))).toEqual([]);
  });
});

describe("someone disables Cordon's rules or removes their targets", () => {
  /** Each rule call on `name`, as CloudTrail delivers it. */
  const callsOn = (name: string): [string, EventEnvelope][] => [
    ['DisableRule', apiCallEvent('cloudtrail-disable-rule.json', { name })],
    [
      'DeleteRule',
      apiCallEvent('cloudtrail-disable-rule.json', { name }, { eventName: 'DeleteRule' }),
    ],
    ['PutRule (DISABLED)', apiCallEvent('cloudtrail-put-rule.json', { name, state: 'DISABLED' })],
    ['PutRule (new pattern)', apiCallEvent('cloudtrail-put-rule.json', { name })],
    ['RemoveTargets', apiCallEvent('cloudtrail-remove-targets.json', { rule: name })],
    ['PutTargets', apiCallEvent('cloudtrail-put-targets.json', { rule: name })],
  ];

  it("matches every call that changes any of Cordon's rules, by a rule other than the one changed", () => {
    const all = rules();
    // Each playbook: GuardDuty, Security Hub ASFF and Security Hub OCSF; attack sequences: GuardDuty.
    expect(all.length).toBe(3 * (PLAYBOOK_NAMES.length - 1) + 1 + 5);
    for (const rule of all) {
      for (const [call, event] of callsOn(rule.name)) {
        const by = matching(event);
        expect(by, `${call} on ${rule.id}`).toHaveLength(1);
        expect(by, `${call} on ${rule.id}`).not.toContain(rule.id);
      }
    }
  });

  it("does not match those calls on someone else's rule (the documented PutRule of cttest2)", () => {
    expect(matching(fixture('cloudtrail-put-rule.json'))).toEqual([]);
    for (const [call, event] of callsOn('not-cordons-rule')) {
      expect(matching(event), call).toEqual([]);
    }
  });

  it('does not match a read-only call on a Cordon rule', () => {
    const [rule] = rules();
    if (!rule) throw new Error('no rule');
    const describeRule = apiCallEvent(
      'cloudtrail-disable-rule.json',
      { name: rule.name },
      { eventName: 'DescribeRule', readOnly: true },
    );

    expect(matching(describeRule)).toEqual([]);
  });
});

describe('the watch function', () => {
  it("may describe only the executions of Cordon's own state machines", () => {
    const role = functionFor('watch').roleId;
    const describe = statementsOfRole(role).filter((s) =>
      actionsOf(s).includes('states:DescribeExecution'),
    );
    expect(describe).toHaveLength(1);
    const resources = describe.flatMap((s) => resourcesOf(s).map((r) => String(resolve(r))));
    expect(resources.sort()).toEqual(
      machines()
        .map((m) => `${m.arn.replace(':stateMachine:', ':execution:')}:*`)
        .sort(),
    );
    // Never a wildcard over the account's other state machines.
    for (const r of describe.flatMap(resourcesOf)) {
      expect(renderArn(r)).toMatch(/:execution:(<[^>]+\.Name>|Cordon-rollback):\*$/);
    }
  });

  it.each([
    ['AWS/Lambda', 'Errors'],
    ['AWS/Lambda', 'Throttles'],
    ['AWS/SQS', 'ApproximateNumberOfMessagesVisible'],
  ])('alarms on %s %s to the notification topic', (namespace, metric) => {
    const topic = resourcesOfType(json, 'AWS::SNS::Topic').map(([id]) => id);
    const alarms = resourcesOfType(json, 'AWS::CloudWatch::Alarm').filter(
      ([id, a]) =>
        id.includes('WatchRules') &&
        a.Properties?.Namespace === namespace &&
        a.Properties?.MetricName === metric,
    );
    expect(alarms).toHaveLength(1);
    expect(alarms[0]?.[1].Properties?.AlarmActions).toEqual([{ Ref: topic[0] }]);
  });
});

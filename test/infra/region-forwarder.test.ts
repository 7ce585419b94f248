/**
 * Layer 2 (infra): organization-wide, the forwarder a hub account runs in
 * each region other than the hub's (infra/constructs/region-forwarder.ts).
 *
 * Proves: its rule forwards GuardDuty findings (and Security Hub's only when
 * asked) to the hub region's default bus, with a role that may put events on
 * that one bus and nothing else, into an encrypted, TLS-only dead-letter
 * queue; it refuses to be built in the hub's own region; a forwarded
 * finding, which keeps its original region and account, still matches the
 * hub's playbook rules (no rule of the hub's restricts `region` or
 * `account`); the Cordon app adds one forwarder stack per configured region
 * other than the hub's; cdk-nag passes it. The role is attacked on its
 * resolved statements (test/support/iam-eval.ts).
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { App, Stack } from 'aws-cdk-lib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { CordonRegionForwarder } from '../../infra/constructs/region-forwarder.js';
import { CordonRegionForwarderStack } from '../../infra/forwarder-stack.js';
import { matchesEventPattern } from '../../rehearsal/event-pattern.js';
import { type EvaluatedStatement, evaluate } from '../support/iam-eval.js';
import { synthWithPacks, violationsOf } from '../support/nag.js';
import { resolveIntrinsics } from '../support/resolve.js';
import {
  buildTestApp,
  type CfnTemplate,
  defaultTemplate,
  policyDocuments,
  resourcesOfType,
  TEST_ACCOUNT,
  TEST_REGION,
} from '../support/template.js';

const FROM = 'eu-west-1';
const HUB_BUS = `arn:aws:events:${TEST_REGION}:${TEST_ACCOUNT}:event-bus/default`;

const TemplateSchema = z.looseObject({
  Resources: z.record(z.string(), z.looseObject({ Type: z.string() })),
});

function forwarderTemplate(forwardSecurityHub?: boolean): CfnTemplate {
  const app = new App();
  const stack = new CordonRegionForwarderStack(app, 'Forwarder', {
    env: { account: TEST_ACCOUNT, region: FROM },
    hubRegion: TEST_REGION,
    ...(forwardSecurityHub === undefined ? {} : { forwardSecurityHub }),
  });
  return TemplateSchema.parse(app.synth().getStackByName(stack.stackName).template) as CfnTemplate;
}

const readJson = (path: string): unknown => JSON.parse(readFileSync(path, 'utf8'));

let guardDutyOnly: CfnTemplate;
let both: CfnTemplate;

beforeAll(() => {
  guardDutyOnly = forwarderTemplate();
  both = forwarderTemplate(true);
});

const RuleSchema = z.object({
  EventPattern: z.record(z.string(), z.unknown()),
  Targets: z.array(
    z.looseObject({
      Arn: z.unknown(),
      RoleArn: z.unknown(),
      DeadLetterConfig: z.object({ Arn: z.unknown() }),
    }),
  ),
});

function rulesOf(json: CfnTemplate) {
  return resourcesOfType(json, 'AWS::Events::Rule').map(([, r]) => RuleSchema.parse(r.Properties));
}

/** The forwarder role's identity statements, resolved. */
function roleStatements(json: CfnTemplate): EvaluatedStatement[] {
  const roles = resourcesOfType(json, 'AWS::IAM::Role').map(([id]) => id);
  expect(roles).toHaveLength(1);
  return resolveIntrinsics(
    policyDocuments(json)
      .filter((site) => site.roles.includes(roles[0] ?? ''))
      .flatMap((site) => site.statements),
    json,
  ) as EvaluatedStatement[];
}

describe('the forwarder', () => {
  it("forwards GuardDuty findings, and only them by default, to the hub region's default bus", () => {
    const rules = rulesOf(guardDutyOnly);

    expect(rules.map((r) => r.EventPattern)).toEqual([
      { source: ['aws.guardduty'], 'detail-type': ['GuardDuty Finding'] },
    ]);
    for (const rule of rules) {
      expect(rule.Targets).toHaveLength(1);
      expect(resolveIntrinsics(rule.Targets[0]?.Arn, guardDutyOnly)).toBe(HUB_BUS);
      // Event bus targets take no RetryPolicy: EventBridge's own retries, then the queue.
      expect(rule.Targets[0]).not.toHaveProperty('RetryPolicy');
    }
  });

  it('forwards Security Hub findings, in both forms, only when asked', () => {
    const patterns = rulesOf(both).map((r) => r.EventPattern);

    expect(patterns).toContainEqual({
      source: ['aws.securityhub'],
      'detail-type': ['Security Hub Findings - Imported', 'Findings Imported V2'],
    });
    expect(JSON.stringify(rulesOf(guardDutyOnly))).not.toContain('aws.securityhub');
  });

  it("may put events on the hub's bus and nowhere else (a compromised rule target steering findings elsewhere)", () => {
    const statements = roleStatements(both);
    const put = (resource: string) =>
      evaluate(statements, { action: 'events:PutEvents', resource });

    expect(put(HUB_BUS)).toBe('allowed');
    for (const other of [
      `arn:aws:events:${FROM}:${TEST_ACCOUNT}:event-bus/default`,
      `arn:aws:events:ap-southeast-2:${TEST_ACCOUNT}:event-bus/default`,
      `arn:aws:events:${TEST_REGION}:${TEST_ACCOUNT}:event-bus/attacker`,
      `arn:aws:events:${TEST_REGION}:999999999999:event-bus/default`,
    ]) {
      expect(put(other), other).toBe('implicitDeny');
    }
    for (const action of [
      'events:PutRule',
      'events:PutTargets',
      'sqs:SendMessage',
      'iam:PassRole',
    ]) {
      expect(evaluate(statements, { action, resource: '*' }), action).toBe('implicitDeny');
    }
    expect(
      statements.filter((s) => s.Effect === 'Allow').flatMap((s) => [s.Action].flat()),
    ).toEqual(['events:PutEvents']);
  });

  it('is assumed by EventBridge only', () => {
    const [, role] = resourcesOfType(both, 'AWS::IAM::Role')[0] ?? [];

    expect(role?.Properties?.AssumeRolePolicyDocument).toEqual({
      Version: '2012-10-17',
      Statement: [
        {
          Action: 'sts:AssumeRole',
          Effect: 'Allow',
          Principal: { Service: 'events.amazonaws.com' },
        },
      ],
    });
  });

  it('sends what it cannot deliver to an encrypted, TLS-only queue, with an alarm', () => {
    const queues = resourcesOfType(both, 'AWS::SQS::Queue');
    expect(queues).toHaveLength(1);
    const [queueId, queue] = queues[0] ?? [];
    expect(queue?.Properties?.SqsManagedSseEnabled).toBe(true);
    for (const rule of rulesOf(both)) {
      expect(rule.Targets[0]?.DeadLetterConfig.Arn).toEqual({ 'Fn::GetAtt': [queueId, 'Arn'] });
    }
    const queuePolicy = JSON.stringify(resourcesOfType(both, 'AWS::SQS::QueuePolicy'));
    expect(queuePolicy).toContain('"aws:SecureTransport":"false"');
    const alarms = resourcesOfType(both, 'AWS::CloudWatch::Alarm');
    expect(alarms).toHaveLength(1);
    expect(JSON.stringify(alarms[0]?.[1].Properties)).toContain(
      'ApproximateNumberOfMessagesVisible',
    );
  });

  it("fails in the hub's own region, where it would send findings back to the bus they came from", () => {
    const app = new App();
    const stack = new Stack(app, 'Hub', { env: { region: TEST_REGION } });

    expect(() => new CordonRegionForwarder(stack, 'F', { hubRegion: TEST_REGION })).toThrow(
      /the hub's own region/,
    );
  });

  it('fails when its region is not known at synthesis, or the hub region is not a region name', () => {
    const app = new App();

    expect(
      () => new CordonRegionForwarder(new Stack(app, 'Agnostic'), 'F', { hubRegion: TEST_REGION }),
    ).toThrow(/needs its stack's region at synthesis/);
    const stack = new Stack(app, 'Somewhere', { env: { region: FROM } });
    for (const hubRegion of ['*', 'us-east-*', '']) {
      expect(
        () => new CordonRegionForwarder(stack, `F${hubRegion}`, { hubRegion }),
        hubRegion,
      ).toThrow(/hubRegion: .* is not a region name/);
    }
  });
});

describe("the hub's rules and a forwarded finding", () => {
  it("match a GuardDuty finding that keeps its original region (none restricts the region; each takes only the hub's own account, which a forwarded event keeps)", () => {
    const rules = resourcesOfType(defaultTemplate().json, 'AWS::Events::Rule')
      .map(([, r]) => r.Properties?.EventPattern)
      .filter((p) => p !== undefined && JSON.stringify(p).includes('aws.guardduty'));
    const finding = z
      .looseObject({ region: z.string(), detail: z.looseObject({}) })
      .parse(readJson('test/fixtures/events/guardduty-iam-user.json'));
    const forwarded = {
      ...finding,
      region: FROM,
      detail: { ...finding.detail, region: FROM, accountId: '222222222222' },
    };

    expect(rules.length).toBeGreaterThan(0);
    for (const pattern of rules) {
      expect(JSON.stringify(pattern)).not.toMatch(/"region"/);
      expect(z.looseObject({ account: z.unknown() }).parse(pattern).account).toEqual([
        TEST_ACCOUNT,
      ]);
    }
    const hubs = { ...finding, account: TEST_ACCOUNT };
    expect(rules.some((pattern) => matchesEventPattern(pattern, hubs))).toBe(true);
    expect(
      rules.some((pattern) =>
        matchesEventPattern(pattern, { ...forwarded, account: TEST_ACCOUNT }),
      ),
    ).toBe(true);
    // A member's own copy, put on the hub's bus by the member, starts nothing.
    expect(
      rules.some((pattern) =>
        matchesEventPattern(pattern, { ...forwarded, account: '222222222222' }),
      ),
    ).toBe(false);
  });
});

describe('the Cordon app', () => {
  const organization = {
    organizationId: 'o-abcdefghij',
    accounts: '*',
    organizationalUnits: ['r-ab12'],
    regions: [TEST_REGION, 'eu-west-1', 'ap-southeast-2'],
  };

  it("adds a forwarder stack in each configured region but the hub's, forwarding to the hub's region", () => {
    const { app } = buildTestApp({ overrides: { organization } });
    const stacks = app.node.children.filter((c): c is Stack => c instanceof Stack);
    const forwarders = stacks.filter((s) => s instanceof CordonRegionForwarderStack);

    expect(forwarders.map((s) => s.region).sort()).toEqual(['ap-southeast-2', 'eu-west-1']);
    for (const stack of forwarders) {
      const json = TemplateSchema.parse(app.synth().getStackByName(stack.stackName).template);
      const [rule] = rulesOf(json as CfnTemplate);
      expect(resolveIntrinsics(rule?.Targets[0]?.Arn, json as CfnTemplate)).toBe(HUB_BUS);
    }
  });

  it('adds none in single-account mode', () => {
    const { app } = buildTestApp();

    expect(app.node.children.filter((c) => c instanceof CordonRegionForwarderStack)).toEqual([]);
  });
});

describe('cdk-nag', () => {
  const outdirs: string[] = [];
  afterAll(() => {
    for (const dir of outdirs) rmSync(dir, { recursive: true, force: true });
  });

  it('passes the forwarder stack, with Security Hub too, nothing unacknowledged', () => {
    const outdir = mkdtempSync(join(tmpdir(), 'cordon-forwarder-nag-'));
    outdirs.push(outdir);
    const app = new App({ outdir });
    new CordonRegionForwarderStack(app, 'Forwarder', {
      env: { account: TEST_ACCOUNT, region: FROM },
      hubRegion: TEST_REGION,
      forwardSecurityHub: true,
    });
    const { report, error } = synthWithPacks(app, outdir);

    expect(error === undefined ? '' : String(error)).toBe('');
    expect(violationsOf(report)).toEqual([]);
  });
});

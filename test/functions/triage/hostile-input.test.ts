import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { documentClient } from '../../../functions/shared/aws.js';
import { CircuitBreaker } from '../../../functions/shared/breaker.js';
import { InvalidFindingError } from '../../../functions/shared/errors.js';
import { IncidentSchema, incidentTargetArn } from '../../../functions/shared/incident.js';
import type { TriageDeps } from '../../../functions/triage/triage.js';
import { expectConstantExpressions } from '../../support/dynamodb-expressions.js';
import { hostileString, stringPaths } from '../../support/hostile.js';
import {
  ACCOUNT,
  BUCKET_ARN,
  bucketTagged,
  ddbMock,
  ec2Mock,
  type Fixture,
  FUNCTION_ARN,
  fixture,
  functionExists,
  functionRoleExists,
  INSTANCE_ARN,
  iamMock,
  instanceExists,
  instanceRoleExists,
  lambdaMock,
  profileSharedBy,
  ROLE_ARN,
  roleExists,
  SECRET_ARN,
  s3Mock,
  secretExists,
  secretsMock,
  setup,
  USER_ARN,
  userExists,
  valueAt,
  withValue,
} from './helpers.js';
import { runTriage } from './run.js';

/**
 * Triage on hostile input: malformed, oversize and deeply nested events, and
 * real findings whose strings carry injection payloads. Every run ends as a
 * valid incident or as a Cordon.InvalidFinding error; triage itself never
 * changes anything in AWS (only Get/List/Describe calls), an invalid event
 * leaves no trace in DynamoDB, a refusal claims nothing for action, and
 * every DynamoDB expression is one of the constant expressions the stores
 * declare, with the data in ExpressionAttributeValues.
 */

const FINDINGS: Fixture[] = [
  'guardduty-iam-user',
  'guardduty-assumed-role',
  'guardduty-root',
  'securityhub-iam-access-key',
  'guardduty-ec2-instance',
  'guardduty-ec2-target',
  'securityhub-ec2-instance',
  'guardduty-secret-access',
  'securityhub-secret',
  'guardduty-lambda',
  'securityhub-lambda',
  'guardduty-s3-public',
  'securityhub-s3-public',
];

/** The resources triage may name as a target: only what the (mocked) AWS APIs reported. */
const VERIFIED_TARGETS = new Set([
  USER_ARN,
  ROLE_ARN,
  INSTANCE_ARN,
  SECRET_ARN,
  FUNCTION_ARN,
  BUCKET_ARN,
  // Root: the ARN is made from the (validated) account id.
  `arn:aws:iam::${ACCOUNT}:root`,
]);

const READ_ONLY = /^(Get|List|Describe)\w*Command$/;

function commandNames(): string[] {
  return [iamMock, ec2Mock, secretsMock, lambdaMock, s3Mock].flatMap((mock) =>
    mock.calls().map((call) => call.args[0].constructor.name),
  );
}

/** setup() plus everything the fixtures name, and the guardrails as the handler wires them. */
function hostileSetup(): TriageDeps {
  const deps = setup();
  userExists();
  roleExists();
  instanceExists();
  instanceRoleExists();
  profileSharedBy([['i-0aaaaaaaaaaaaaaa1']]);
  secretExists();
  functionExists();
  functionRoleExists();
  bucketTagged([]);
  return {
    ...deps,
    guardrails: {
      runtimeMode: { parameterName: '/cordon/mode', read: async () => ({ mode: 'auto' }) },
      breaker: new CircuitBreaker({
        client: documentClient(new DynamoDBClient({ region: 'us-east-1' })),
        tableName: 'cordon-guardrails',
        now: () => new Date('2024-05-14T09:32:00.000Z'),
      }),
      limits: { maxContainments: 20, windowSeconds: 3600 },
      announceTrip: async () => undefined,
      verifySource: async () => ({ status: 'verified' }),
    },
  };
}

type Outcome = 'PROCEED' | 'REFUSED' | 'DUPLICATE' | 'JOINED' | 'SUPPRESSED' | 'INVALID';

/** Runs triage and checks everything the file promises; returns how it ended. */
async function triageEnds(event: unknown): Promise<Outcome> {
  const deps = hostileSetup();
  let result: Awaited<ReturnType<typeof runTriage>> | undefined;
  let error: unknown;
  try {
    result = await runTriage(event, deps);
  } catch (thrown) {
    error = thrown;
  }
  let outcome: Outcome;
  if (result === undefined) {
    expect(error).toBeInstanceOf(InvalidFindingError);
    const invalid = error as InvalidFindingError;
    expect(invalid.name).toBe('Cordon.InvalidFinding');
    expect(invalid.message.length).toBeLessThanOrEqual(1024);
    expect(ddbMock.calls()).toHaveLength(0);
    outcome = 'INVALID';
  } else {
    expect(IncidentSchema.parse(result.incident)).toEqual(result.incident);
    // The incident stays small whatever the event's size: it is the state that flows on.
    expect(JSON.stringify(result).length).toBeLessThan(32 * 1024);
    const puts = ddbMock.calls().filter((c) => c.args[0].constructor.name === 'PutCommand');
    const outcomes = puts.map(
      (c) => (c.args[0].input as { Item: { outcome: string } }).Item.outcome,
    );
    if (result.decision === 'PROCEED') {
      expect(outcomes[0]).toBe('CLAIMED');
      // Whatever the strings said, the target is one AWS reported, not one the event named.
      const target = incidentTargetArn(result.incident);
      expect(target === undefined || VERIFIED_TARGETS.has(target), `target ${target}`).toBe(true);
    } else {
      // A refusal is recorded, never claimed for action: no CLAIMED entry, no breaker count.
      expect(outcomes).not.toContain('CLAIMED');
      expect(
        ddbMock.calls().filter((c) => c.args[0].constructor.name === 'UpdateCommand'),
      ).toHaveLength(0);
      for (const plan of Object.values(result.incident.plan)) expect(plan.mode).toBe('off');
    }
    outcome = result.decision;
  }
  expect(commandNames().filter((name) => !READ_ONLY.test(name))).toEqual([]);
  const expressions = expectConstantExpressions(ddbMock);
  if (outcome !== 'INVALID') expect(expressions).toBeGreaterThan(0);
  return outcome;
}

const FIXTURES = new Map(FINDINGS.map((name) => [name, fixture(name)]));
const SECRET_NAME_PATH = [
  'detail',
  'service',
  'action',
  'awsApiCallAction',
  'affectedResources',
  'AWS::SecretsManager::Secret',
];

const eventOf = (name: Fixture): unknown => structuredClone(FIXTURES.get(name));

describe('triage on hostile strings in real findings', () => {
  it('ends as a valid incident or InvalidFinding when any string fields carry payloads', async () => {
    const seen = new Set<Outcome>();
    const mutation = fc.constantFrom(...FINDINGS).chain((name) => {
      const paths = stringPaths(FIXTURES.get(name));
      return fc.record({
        name: fc.constant(name),
        edits: fc.array(
          fc.record({
            path: fc.constantFrom(...paths),
            payload: hostileString,
            how: fc.constantFrom('replace', 'append', 'prepend'),
          }),
          { minLength: 1, maxLength: 4 },
        ),
      });
    });
    await fc.assert(
      fc.asyncProperty(mutation, async ({ name, edits }) => {
        let event = eventOf(name);
        for (const { path, payload, how } of edits) {
          const original = String(valueAt(event, path));
          const value =
            how === 'replace'
              ? payload
              : how === 'append'
                ? `${original}${payload}`
                : `${payload}${original}`;
          event = withValue(event, path, value);
        }
        seen.add(await triageEnds(event));
      }),
      {
        numRuns: 120,
        examples: [
          // Found by a random run: a principal type Cordon does not contain,
          // and a secret Secrets Manager does not know. Refused, not a crash.
          [
            {
              name: 'guardduty-secret-access',
              edits: [
                { path: SECRET_NAME_PATH, payload: 'x'.repeat(300), how: 'replace' },
                {
                  path: ['detail', 'resource', 'accessKeyDetails', 'userType'],
                  payload: '\u0000',
                  how: 'replace',
                },
              ],
            },
          ],
        ],
      },
    );
    // The property is not vacuous: payloads in harmless fields still reach a decision.
    expect(seen).toContain('PROCEED');
    expect(seen).toContain('INVALID');
  });

  it('each fixture, with every string field of it carrying the same payload, still ends cleanly', async () => {
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...FINDINGS), hostileString, async (name, payload) => {
        let event = eventOf(name);
        for (const path of stringPaths(event)) {
          event = withValue(event, path, `${String(valueAt(event, path))}${payload}`);
        }
        await triageEnds(event);
      }),
      { numRuns: 25 },
    );
  });
});

describe('triage on malformed events', () => {
  it('ends as InvalidFinding or a decision for JSON of any shape, keys like __proto__ included', async () => {
    const key = fc.oneof(
      fc.constantFrom('__proto__', 'constructor', 'prototype', 'toString', 'source', 'detail'),
      fc.string({ maxLength: 8 }),
    );
    const anyJson = fc.letrec((tie) => ({
      value: fc.oneof(
        { depthSize: 'small' },
        fc.constant(null),
        fc.boolean(),
        fc.double(),
        fc.integer(),
        hostileString,
        fc.array(tie('value'), { maxLength: 4 }),
        fc.dictionary(key, tie('value'), { maxKeys: 4 }),
      ),
    })).value;
    const envelope = fc.record({
      source: fc.oneof(fc.constantFrom('aws.guardduty', 'aws.securityhub'), hostileString),
      'detail-type': fc.oneof(
        fc.constantFrom('GuardDuty Finding', 'Security Hub Findings - Imported'),
        anyJson,
      ),
      account: fc.oneof(fc.constant('123456789012'), anyJson),
      detail: anyJson,
    });
    await fc.assert(
      fc.asyncProperty(fc.oneof(anyJson, envelope), async (event) => {
        // Parsed from text, as Lambda delivers it: `__proto__` is then an own key.
        const delivered: unknown = JSON.parse(JSON.stringify(event) ?? 'null');
        await triageEnds(delivered);
      }),
      { numRuns: 100 },
    );
  });

  it('refuses values of the wrong type in each field of a real finding', async () => {
    const wrong = fc.oneof(
      fc.constant(null),
      fc.constant([]),
      fc.constant({}),
      fc.integer(),
      fc.boolean(),
      fc.constant([{ nested: 'x' }]),
    );
    const mutation = fc.constantFrom(...FINDINGS).chain((name) =>
      fc.record({
        name: fc.constant(name),
        path: fc.constantFrom(...stringPaths(FIXTURES.get(name))),
        value: wrong,
      }),
    );
    await fc.assert(
      fc.asyncProperty(mutation, async ({ name, path, value }) => {
        await triageEnds(withValue(eventOf(name), path, value));
      }),
      { numRuns: 60 },
    );
  });
});

describe('triage on oversize events (over the 256 KB EventBridge limit)', () => {
  const big = (n: number) => 'A'.repeat(n);

  it('a 300 KB string in any string field of any finding is refused or never copied', async () => {
    const oversize = fc.constantFrom(...FINDINGS).chain((name) =>
      fc.record({
        name: fc.constant(name),
        path: fc.constantFrom(...stringPaths(FIXTURES.get(name))),
      }),
    );
    await fc.assert(
      fc.asyncProperty(oversize, async ({ name, path }) => {
        // Only fields Cordon ignores may hold it; the incident stays small (checked in triageEnds).
        await triageEnds(withValue(eventOf(name), path, big(300 * 1024)));
      }),
      { numRuns: 40 },
    );
  });

  it('a 1 MB blob in an ignored field does not reach the incident', async () => {
    const event = withValue(
      eventOf('guardduty-iam-user'),
      ['detail', 'description'],
      big(1024 * 1024),
    );
    expect(await triageEnds(event)).toBe('PROCEED');
  });

  it('too many findings or resources are refused', async () => {
    const hub = eventOf('securityhub-iam-access-key');
    const finding = valueAt(hub, ['detail', 'findings', 0]);
    expect(
      await triageEnds(withValue(hub, ['detail', 'findings'], Array(2000).fill(finding))),
    ).toBe('INVALID');
    const resource = valueAt(hub, ['detail', 'findings', 0, 'Resources', 0]);
    expect(
      await triageEnds(
        withValue(hub, ['detail', 'findings', 0, 'Resources'], Array(5000).fill(resource)),
      ),
    ).toBe('INVALID');
  });
});

describe('triage on deeply nested JSON', () => {
  /** Nested `depth` levels, built without recursion (objects and arrays in turn). */
  function nested(depth: number): unknown {
    let value: unknown = 'bottom';
    for (let i = 0; i < depth; i++) value = i % 2 === 0 ? { a: value } : [value];
    return value;
  }

  const PLACES: Array<[Fixture | 'event', Array<string | number>]> = [
    ['event', []],
    ['guardduty-iam-user', ['detail']],
    ['guardduty-iam-user', ['detail', 'resource']],
    ['guardduty-iam-user', ['detail', 'resource', 'accessKeyDetails']],
    ['guardduty-iam-user', ['detail', 'service', 'additionalInfo']],
    ['guardduty-secret-access', ['detail', 'service', 'action']],
    ['guardduty-secret-access', ['detail', 'service', 'action', 'awsApiCallAction']],
    ['guardduty-ec2-instance', ['detail', 'resource', 'instanceDetails']],
    ['guardduty-ec2-instance', ['detail', 'service', 'resourceRole']],
    ['guardduty-lambda', ['detail', 'resource', 'lambdaDetails']],
    ['guardduty-s3-public', ['detail', 'resource', 's3BucketDetails']],
    ['securityhub-iam-access-key', ['detail', 'findings']],
    ['securityhub-iam-access-key', ['detail', 'findings', 0, 'Resources', 0, 'Details']],
    [
      'securityhub-iam-access-key',
      ['detail', 'findings', 0, 'Resources', 0, 'Details', 'AwsIamAccessKey'],
    ],
    ['securityhub-ec2-instance', ['detail', 'findings', 0, 'Resources', 0, 'Details']],
    ['securityhub-iam-access-key', ['detail', 'findings', 0, 'Workflow']],
  ];

  it.each(PLACES)('%s with 20,000 levels at %j: no stack overflow, no hang', async (name, path) => {
    const deep = nested(20_000);
    const event = name === 'event' ? deep : withValue(eventOf(name), path, deep);
    const started = performance.now();
    await triageEnds(event);
    expect(performance.now() - started).toBeLessThan(5_000);
  });
});

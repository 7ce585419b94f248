/**
 * Layer 2 (infra): the ledger, topic and functions of the synthesized default Cordon stack.
 *
 * Proves, on the template CloudFormation would deploy (bundling skipped,
 * synthesized once for this file by test/support/template.ts), that they have
 * the safety properties the README promises:
 * - the ledger is retained, has PITR and deletion protection, and nothing can
 *   update, delete or reconfigure it; only function roles reach it, on the base table;
 * - the notification topic is encrypted with a rotating customer-managed key
 *   and refuses publishing without TLS;
 * - the functions run Node.js 24 on arm64, traced, each logging to its own
 *   log group and naming its action and role.
 */
import { Capture, Match, type Template } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { FUNCTION_NAMES } from '../../functions/registry.js';
import { ENV } from '../../functions/shared/runtime-config.js';
import { ANCHOR_LAG_ALARM } from '../../infra/constructs/ledger-anchors.js';
import {
  actionMatches,
  actionsOf,
  type CfnTemplate,
  defaultTemplate,
  policyDocuments,
  resourcesOfType,
} from '../support/template.js';
import { allowStatements, functions, logicalIdOfType } from './stack-helpers.js';

let template: Template;
let json: CfnTemplate;

beforeAll(() => {
  ({ template, json } = defaultTemplate());
});

const Ref = z.object({ Ref: z.string() });

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
    // Its resource policy grants nothing: it only denies (test/infra/ledger-policy.test.ts).
    const replicas = z
      .array(
        z.looseObject({
          ResourcePolicy: z.object({
            PolicyDocument: z.object({ Statement: z.array(z.looseObject({ Effect: z.string() })) }),
          }),
        }),
      )
      .parse(json.Resources[ledgerId]?.Properties?.Replicas);
    for (const replica of replicas) {
      const effects = replica.ResourcePolicy.PolicyDocument.Statement.map((st) => st.Effect);
      expect(new Set(effects)).toEqual(new Set(['Deny']));
    }
  });

  it('names itself in the LedgerTableName output, for cordon ledger verify', () => {
    template.hasOutput('LedgerTableName', { Value: { Ref: ledgerLogicalId() } });
  });

  it('grants ledger access on the base table only, to function roles (its stream to the anchor and metrics functions alone)', () => {
    const ledgerId = ledgerLogicalId();
    const roleIds = new Set(functions().map((f) => f.roleId));
    const stream = JSON.stringify({ 'Fn::GetAtt': [ledgerId, 'StreamArn'] });
    const onTable = (s: { Resource?: unknown }) => {
      const text = JSON.stringify(s.Resource ?? null);
      return text.includes(ledgerId) && text !== stream;
    };
    const onLedger = policyDocuments(json).filter((site) => site.statements.some(onTable));
    expect(onLedger).toHaveLength(FUNCTION_NAMES.length);
    const onStream = policyDocuments(json).filter((site) =>
      site.statements.some((s) => JSON.stringify(s.Resource ?? null) === stream),
    );
    const streamReaders = functions()
      .filter((f) => f.action === 'anchor' || f.action === 'metrics')
      .map((f) => f.roleId);
    expect(onStream.flatMap((site) => site.roles).sort()).toEqual(streamReaders.sort());
    for (const site of onLedger) {
      expect(site.roles.every((r) => roleIds.has(r))).toBe(true);
      for (const s of site.statements.filter(onTable)) {
        expect(actionsOf(s).sort()).toEqual(['dynamodb:PutItem', 'dynamodb:Query']);
        expect(s.Resource).toEqual({ 'Fn::GetAtt': [ledgerId, 'Arn'] });
      }
    }
  });
});

describe('ledger anchors', () => {
  it("alarm on the notification topic when the anchor function fails, is throttled, or falls behind the ledger's stream", () => {
    // Arrange
    const anchor = functions().find((f) => f.action === 'anchor');
    const topicId = logicalIdOfType('AWS::SNS::Topic');
    // Act
    const alarms = resourcesOfType(json, 'AWS::CloudWatch::Alarm').filter(([, r]) =>
      JSON.stringify(r.Properties?.Dimensions ?? []).includes(anchor?.id ?? '-'),
    );
    const watched = alarms.map(([, r]) => [r.Properties?.MetricName, r.Properties?.Threshold]);
    // Assert
    expect(watched.sort()).toEqual([
      ['Errors', 1],
      ['IteratorAge', ANCHOR_LAG_ALARM.toMilliseconds()],
      ['Throttles', 1],
    ]);
    for (const [, alarm] of alarms) {
      expect(alarm.Properties?.AlarmActions).toEqual([{ Ref: topicId }]);
    }
  });
});

/* ------------------------------------------------------------------ */
/* Notifications                                                       */
/* ------------------------------------------------------------------ */

describe('notification topic', () => {
  it('is encrypted with a customer-managed key that rotates', () => {
    const topicId = logicalIdOfType('AWS::SNS::Topic');
    const key = z
      .object({ 'Fn::GetAtt': z.tuple([z.string(), z.literal('Arn')]) })
      .parse(json.Resources[topicId]?.Properties?.KmsMasterKeyId)['Fn::GetAtt'][0];
    expect(json.Resources[key]?.Type).toBe('AWS::KMS::Key');
    expect(json.Resources[key]?.Properties?.EnableKeyRotation).toBe(true);
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

  it('names itself in the NotificationTopicArn output, for a chat channel to subscribe', () => {
    template.hasOutput('NotificationTopicArn', {
      Value: { Ref: logicalIdOfType('AWS::SNS::Topic') },
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

describe('containment dashboard', () => {
  it('is named after the stack and shows time to contain, outcomes, refusals, approvals and unfinished executions', () => {
    const dashboards = resourcesOfType(json, 'AWS::CloudWatch::Dashboard');
    expect(dashboards).toHaveLength(1);
    const body = JSON.stringify(dashboards[0]?.[1].Properties?.DashboardBody);
    for (const metric of [
      'TimeToContain',
      'StepOutcome',
      'Refused',
      'ApprovalDecided',
      'ApprovalWait',
      'ApprovalsWaiting',
      'BreakerTripped',
      'Rollback',
    ]) {
      expect(body, metric).toContain(metric);
    }
    for (const p of ['p50', 'p90', 'p99']) expect(body).toContain(p);
    expect(body).toContain('ExecutionsFailed');
    expect(body).toContain('ExecutionsTimedOut');
    expect(body).toContain('ExecutionsAborted');
  });
});

/**
 * Layer 2 (infra): the ledger's resource policies, attacked. The table's
 * policy, the ledger key's policy and the anchors bucket's policy are read
 * from the synthesized template with their intrinsics resolved, then
 * evaluated (test/support/iam-eval.ts) together with the identity policy of
 * whoever makes the call: an administrator (`Allow *:*`, so only a Deny
 * stops it, as for PowerUserAccess), the contained principal or an insider
 * with ReadOnlyAccess (less than that), and Cordon's own roles, which must
 * still append, MAC and anchor. moto evaluates none of these policies, so
 * this is where they are tested.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { FUNCTION_NAMES } from '../../functions/registry.js';
import { type Decision, type EvaluatedStatement, evaluate } from '../support/iam-eval.js';
import { arnOf, resolveIntrinsics } from '../support/resolve.js';
import {
  type CfnTemplate,
  defaultTemplate,
  resourcesOfType,
  TEST_ACCOUNT,
} from '../support/template.js';
import { functionFor, resolvedStatementsOf } from './stack-helpers.js';

let json: CfnTemplate;
let tableArn: string;
let keyArn: string;
let bucketArn: string;
let tablePolicy: EvaluatedStatement[];
let keyPolicy: EvaluatedStatement[];
let bucketPolicy: EvaluatedStatement[];

const ADMIN = `arn:aws:iam::${TEST_ACCOUNT}:role/Admin`;
/** What AdministratorAccess (and, for these services, PowerUserAccess) allows. */
const ADMIN_POLICY: EvaluatedStatement[] = [{ Effect: 'Allow', Action: '*', Resource: '*' }];
/** A role the insider creates with Cordon's path and a Cordon-like name. */
const LOOKALIKE = `arn:aws:iam::${TEST_ACCOUNT}:role/cordon/CordonTriageRole`;
const DEPLOY_ROLE = `arn:aws:iam::${TEST_ACCOUNT}:role/cdk-hnb659fds-cfn-exec-role-${TEST_ACCOUNT}-us-east-1`;

const Statements = z.array(z.looseObject({ Effect: z.enum(['Allow', 'Deny']) }));

beforeAll(() => {
  ({ json } = defaultTemplate());
  const [tableId, table] =
    resourcesOfType(json, 'AWS::DynamoDB::GlobalTable').find(([, r]) =>
      JSON.stringify(r.Properties?.KeySchema).includes('"seq"'),
    ) ?? [];
  const [keyId, key] =
    resourcesOfType(json, 'AWS::KMS::Key').find(
      ([, r]) =>
        r.Properties?.KeyUsage === 'GENERATE_VERIFY_MAC' && JSON.stringify(r).includes('ledger'),
    ) ?? [];
  const [, policy] =
    resourcesOfType(json, 'AWS::S3::BucketPolicy').find(([, r]) =>
      JSON.stringify(r).includes('AnchorsAreNeverRemoved'),
    ) ?? [];
  if (!tableId || !table || !keyId || !key || !policy) throw new Error('no ledger resources');
  const bucketId = z.object({ Ref: z.string() }).parse(policy.Properties?.Bucket).Ref;
  tableArn = arnOf(json, tableId);
  keyArn = arnOf(json, keyId);
  bucketArn = arnOf(json, bucketId);
  const resolved = (value: unknown) =>
    Statements.parse(resolveIntrinsics(value, json)) as EvaluatedStatement[];
  const replicas = z
    .array(
      z.object({
        ResourcePolicy: z.object({ PolicyDocument: z.object({ Statement: z.unknown() }) }),
      }),
    )
    .parse(table.Properties?.Replicas);
  tablePolicy = replicas.flatMap((r) => resolved(r.ResourcePolicy.PolicyDocument.Statement));
  keyPolicy = resolved(
    z.object({ Statement: z.unknown() }).parse(key.Properties?.KeyPolicy).Statement,
  );
  bucketPolicy = resolved(
    z.object({ Statement: z.unknown() }).parse(policy.Properties?.PolicyDocument).Statement,
  );
});

/** The decision for `principal` (with `identity` as its policies) calling `action` on `resource`. */
function decide(
  identity: readonly EvaluatedStatement[],
  resourcePolicy: readonly EvaluatedStatement[],
  principal: string,
  action: string,
  resource: string,
): Decision {
  return evaluate([...identity, ...resourcePolicy], {
    action,
    resource,
    context: { 'aws:PrincipalArn': principal },
  });
}

const roleOf = (name: (typeof FUNCTION_NAMES)[number]) => arnOf(json, functionFor(name).roleId);

describe('the ledger table resource policy', () => {
  const DENIED = [
    'dynamodb:UpdateItem',
    'dynamodb:DeleteItem',
    'dynamodb:BatchWriteItem',
    'dynamodb:PartiQLInsert',
    'dynamodb:PartiQLUpdate',
    'dynamodb:PartiQLDelete',
    'dynamodb:DeleteTable',
    'dynamodb:UpdateTimeToLive',
    'dynamodb:PutResourcePolicy',
    'dynamodb:DeleteResourcePolicy',
    'dynamodb:UpdateTable',
  ];

  it.each(DENIED)('denies %s to an administrator and to every Cordon role', (action) => {
    expect(decide(ADMIN_POLICY, tablePolicy, ADMIN, action, tableArn)).toBe('explicitDeny');
    for (const name of FUNCTION_NAMES) {
      expect(decide(ADMIN_POLICY, tablePolicy, roleOf(name), action, tableArn), name).toBe(
        'explicitDeny',
      );
    }
  });

  it('denies PutItem to an administrator, and to a look-alike role under /cordon/, so no insider adds a forged entry', () => {
    expect(decide(ADMIN_POLICY, tablePolicy, ADMIN, 'dynamodb:PutItem', tableArn)).toBe(
      'explicitDeny',
    );
    expect(decide(ADMIN_POLICY, tablePolicy, LOOKALIKE, 'dynamodb:PutItem', tableArn)).toBe(
      'explicitDeny',
    );
  });

  it('denies a PowerUserAccess insider a suppression written straight into the ledger (a dismissal, a rollback grant)', () => {
    // PowerUserAccess allows every DynamoDB call; only the table's Deny stops the put.
    const powerUser: EvaluatedStatement[] = [
      { Effect: 'Allow', Action: 'dynamodb:*', Resource: '*' },
    ];
    const insider = `arn:aws:iam::${TEST_ACCOUNT}:user/power`;
    expect(decide(powerUser, tablePolicy, insider, 'dynamodb:PutItem', tableArn)).toBe(
      'explicitDeny',
    );
    // What a Cordon function may still append, triage ignores unless the responder
    // API's record verifies (test/functions/triage/reemissions.test.ts).
  });

  it.each([...FUNCTION_NAMES])('%s: still appends (PutItem) and reads (Query)', (name) => {
    const identity = resolvedStatementsOf(name);
    for (const action of ['dynamodb:PutItem', 'dynamodb:Query']) {
      expect(decide(identity, tablePolicy, roleOf(name), action, tableArn), action).toBe('allowed');
    }
  });

  it('lets only the CloudFormation execution role change the policy or the table, so a deploy is not locked out', () => {
    for (const action of ['dynamodb:PutResourcePolicy', 'dynamodb:UpdateTable']) {
      expect(decide(ADMIN_POLICY, tablePolicy, DEPLOY_ROLE, action, tableArn)).toBe('allowed');
    }
    // The execution role is no exception to the rest: it cannot drop or edit entries either.
    expect(decide(ADMIN_POLICY, tablePolicy, DEPLOY_ROLE, 'dynamodb:DeleteItem', tableArn)).toBe(
      'explicitDeny',
    );
  });

  it('leaves reading to IAM: an auditor may Scan and Query', () => {
    for (const action of ['dynamodb:Scan', 'dynamodb:Query', 'dynamodb:GetItem']) {
      expect(decide(ADMIN_POLICY, tablePolicy, ADMIN, action, tableArn)).toBe('allowed');
    }
  });
});

describe('the ledger key policy', () => {
  it('denies GenerateMac to an administrator and to a look-alike role: no insider can MAC a forged entry', () => {
    expect(decide(ADMIN_POLICY, keyPolicy, ADMIN, 'kms:GenerateMac', keyArn)).toBe('explicitDeny');
    expect(decide(ADMIN_POLICY, keyPolicy, LOOKALIKE, 'kms:GenerateMac', keyArn)).toBe(
      'explicitDeny',
    );
  });

  it.each([...FUNCTION_NAMES])('%s: generates and verifies MACs', (name) => {
    const identity = resolvedStatementsOf(name);
    for (const action of ['kms:GenerateMac', 'kms:VerifyMac']) {
      expect(decide(identity, keyPolicy, roleOf(name), action, keyArn), action).toBe('allowed');
    }
  });

  it('leaves VerifyMac to IAM, so auditors running cordon ledger verify can be granted it', () => {
    expect(decide(ADMIN_POLICY, keyPolicy, ADMIN, 'kms:VerifyMac', keyArn)).toBe('allowed');
  });

  it("names exactly the function roles, not every role of the stack (a state machine's role cannot MAC)", () => {
    const functionRoles = new Set(FUNCTION_NAMES.map((n) => functionFor(n).roleId));
    const others = resourcesOfType(json, 'AWS::IAM::Role').filter(([id]) => !functionRoles.has(id));
    expect(others.length).toBeGreaterThan(0);
    for (const [id] of others) {
      expect(decide(ADMIN_POLICY, keyPolicy, arnOf(json, id), 'kms:GenerateMac', keyArn), id).toBe(
        'explicitDeny',
      );
    }
  });
});

describe('the anchors bucket policy', () => {
  const anchor = () =>
    `${bucketArn}/anchors/inc-aaaaaaaaaaaaaaaaaaaa/0000000003.${'a'.repeat(64)}.json`;

  it('denies deleting, unlocking or re-locking an anchor to an administrator and to the anchor role', () => {
    const calls = [
      's3:DeleteObject',
      's3:DeleteObjectVersion',
      's3:PutObjectRetention',
      's3:PutObjectLegalHold',
      's3:BypassGovernanceRetention',
    ];
    for (const principal of [ADMIN, roleOf('anchor')]) {
      for (const call of calls) {
        expect(decide(ADMIN_POLICY, bucketPolicy, principal, call, anchor()), call).toBe(
          'explicitDeny',
        );
      }
      for (const call of ['s3:PutBucketObjectLockConfiguration', 's3:DeleteBucket']) {
        expect(decide(ADMIN_POLICY, bucketPolicy, principal, call, bucketArn), call).toBe(
          'explicitDeny',
        );
      }
    }
  });

  it('denies writing an anchor to anyone but the anchor role: an administrator, another Cordon role', () => {
    for (const principal of [ADMIN, roleOf('triage'), roleOf('rollback-plan')]) {
      expect(
        decide(ADMIN_POLICY, bucketPolicy, principal, 's3:PutObject', anchor()),
        principal,
      ).toBe('explicitDeny');
    }
    const identity = resolvedStatementsOf('anchor');
    expect(decide(identity, bucketPolicy, roleOf('anchor'), 's3:PutObject', anchor())).toBe(
      'allowed',
    );
  });

  it('lets the anchor role write only under its two prefixes', () => {
    const identity = resolvedStatementsOf('anchor');
    const elsewhere = `${bucketArn}/other/x.json`;
    expect(decide(identity, [], roleOf('anchor'), 's3:PutObject', elsewhere)).toBe('implicitDeny');
  });

  it('refuses requests without TLS', () => {
    const insecure = evaluate(bucketPolicy, {
      action: 's3:GetObject',
      resource: anchor(),
      context: { 'aws:PrincipalArn': ADMIN, 'aws:SecureTransport': 'false' },
    });
    expect(insecure).toBe('explicitDeny');
  });

  it('locks every object in compliance mode by default', () => {
    const [, bucket] =
      resourcesOfType(json, 'AWS::S3::Bucket').find(([id]) => bucketArn.endsWith(id)) ?? [];
    expect(bucket?.Properties).toMatchObject({
      ObjectLockEnabled: true,
      ObjectLockConfiguration: {
        ObjectLockEnabled: 'Enabled',
        Rule: { DefaultRetention: { Mode: 'COMPLIANCE', Days: 400 } },
      },
      VersioningConfiguration: { Status: 'Enabled' },
    });
  });
});

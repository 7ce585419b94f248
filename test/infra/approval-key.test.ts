/**
 * Layer 2 (infra): the approval records' HMAC key, as synthesized. An
 * approval record acts only if it verifies, so the guarantee is who may
 * make a MAC: the key policy's Deny of `kms:GenerateMac` to every principal
 * but the responder API's role. moto does not evaluate key policies, so the
 * attacks are evaluated here, on the key policy and each attacker's identity
 * policy together (test/support/iam-eval.ts): an explicit Deny anywhere wins.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import type { FunctionName } from '../../functions/shared/catalog.js';
import { type EvaluatedStatement, evaluate } from '../support/iam-eval.js';
import { arnOf, resolveIntrinsics } from '../support/resolve.js';
import {
  actionFunctions,
  type CfnTemplate,
  defaultTemplate,
  policyDocuments,
  resourcesOfType,
  TEST_ACCOUNT,
} from '../support/template.js';

let json: CfnTemplate;
let keyId: string;
let keyArn: string;

beforeAll(() => {
  ({ json } = defaultTemplate());
  // The stack's other HMAC key is the ledger's.
  const keys = resourcesOfType(json, 'AWS::KMS::Key').filter(
    ([, key]) =>
      key.Properties?.KeySpec === 'HMAC_256' &&
      String(key.Properties?.Description).includes('approval records'),
  );
  expect(keys).toHaveLength(1);
  keyId = keys[0]?.[0] ?? '';
  keyArn = arnOf(json, keyId);
});

const roleArnOf = (name: FunctionName) => {
  const fn = actionFunctions(json).find((f) => f.action === name);
  if (!fn) throw new Error(`no function ${name}`);
  return { roleId: fn.roleId, arn: arnOf(json, fn.roleId) };
};

/**
 * The key policy's Denies, resolved. Its one Allow is the account delegation
 * (kms:* to the account root: IAM policies decide), so what an identity may
 * do is its identity policy, less these Denies, which bind every principal.
 */
const keyPolicy = () => {
  const statements = policyDocuments(json)
    .filter((site) => site.resourceId === keyId)
    .flatMap((site) => site.statements);
  expect(statements.filter((s) => s.Effect === 'Allow')).toHaveLength(1);
  return resolveIntrinsics(
    statements.filter((s) => s.Effect === 'Deny'),
    json,
  ) as EvaluatedStatement[];
};

/** A function role's identity statements, resolved. */
const identityOf = (roleId: string) =>
  resolveIntrinsics(
    policyDocuments(json)
      .filter((site) => site.roles.includes(roleId))
      .flatMap((site) => site.statements),
    json,
  ) as EvaluatedStatement[];

/** What an administrator's, PowerUserAccess's or ReadOnlyAccess's identity policy allows on KMS. */
const ADMIN: EvaluatedStatement[] = [{ Effect: 'Allow', Action: '*', Resource: '*' }];
const POWER_USER: EvaluatedStatement[] = [{ Effect: 'Allow', Action: 'kms:*', Resource: '*' }];
const READ_ONLY: EvaluatedStatement[] = [
  { Effect: 'Allow', Action: ['kms:Describe*', 'kms:Get*', 'kms:List*'], Resource: '*' },
];

const mac = (identity: EvaluatedStatement[], principalArn: string, call = 'kms:GenerateMac') =>
  evaluate([...keyPolicy(), ...identity], {
    action: call,
    resource: keyArn,
    context: { 'aws:PrincipalArn': principalArn },
  });

describe('the approval key', () => {
  it('is an HMAC_256 key for GENERATE_VERIFY_MAC', () => {
    expect(json.Resources[keyId]?.Properties).toMatchObject({
      KeySpec: 'HMAC_256',
      KeyUsage: 'GENERATE_VERIFY_MAC',
    });
  });

  it("lets the responder API's role make a MAC", () => {
    const api = roleArnOf('responder-api');
    expect(mac(identityOf(api.roleId), api.arn)).toBe('allowed');
  });

  it.each([
    ['an administrator', ADMIN, `arn:aws:iam::${TEST_ACCOUNT}:role/Admin`],
    ['a PowerUserAccess insider', POWER_USER, `arn:aws:iam::${TEST_ACCOUNT}:user/power`],
    [
      'the contained principal, even with kms:* in its policies',
      ADMIN,
      `arn:aws:iam::${TEST_ACCOUNT}:user/ci-deployer`,
    ],
  ])('denies %s GenerateMac, whatever its identity policy allows', (_who, identity, principal) => {
    expect(mac(identity, principal)).toBe('explicitDeny');
  });

  it('denies GenerateMac to every other Cordon function, request-approval and the actions included', () => {
    const others: FunctionName[] = [
      'request-approval',
      'record-failure',
      'quarantine-user',
      'triage',
    ];
    for (const name of others) {
      const role = roleArnOf(name);
      // Even were its identity policy widened to kms:* (a compromised deployment).
      expect(mac([...identityOf(role.roleId), ...POWER_USER], role.arn), name).toBe('explicitDeny');
    }
  });

  it('lets the actions, record-failure and triage (a suppression) verify, and ReadOnlyAccess neither make nor verify a MAC', () => {
    for (const name of [
      'quarantine-user',
      'rollback-quarantine-user',
      'record-failure',
      'triage',
    ] as const) {
      const role = roleArnOf(name);
      expect(mac(identityOf(role.roleId), role.arn, 'kms:VerifyMac'), name).toBe('allowed');
      expect(mac(identityOf(role.roleId), role.arn), name).toBe('explicitDeny');
    }
    const viewer = `arn:aws:iam::${TEST_ACCOUNT}:role/Auditor`;
    expect(mac(READ_ONLY, viewer)).toBe('explicitDeny');
    expect(mac(READ_ONLY, viewer, 'kms:VerifyMac')).toBe('implicitDeny');
  });

  it('still lets an administrator rewrite the key policy (the residual the README states)', () => {
    expect(mac(ADMIN, `arn:aws:iam::${TEST_ACCOUNT}:role/Admin`, 'kms:PutKeyPolicy')).toBe(
      'allowed',
    );
  });
});

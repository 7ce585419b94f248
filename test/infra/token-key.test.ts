/**
 * Layer 2 (infra): the key task tokens are sealed with in the approvals
 * table. moto does not evaluate key policies, so who may decrypt is
 * evaluated on the synthesized key policy's Denies together with each
 * caller's identity policy (test/support/iam-eval.ts).
 */
import { beforeAll, describe, expect, it } from 'vitest';
import type { FunctionName } from '../../functions/shared/catalog.js';
import { ENV } from '../../functions/shared/runtime-config.js';
import { type EvaluatedStatement, evaluate } from '../support/iam-eval.js';
import { arnOf, resolveIntrinsics } from '../support/resolve.js';
import {
  actionFunctions,
  type CfnTemplate,
  defaultTemplate,
  policyDocuments,
  TEST_ACCOUNT,
} from '../support/template.js';

let json: CfnTemplate;
let keyId: string;
let keyArn: string;

beforeAll(() => {
  ({ json } = defaultTemplate());
  const api = actionFunctions(json).find((f) => f.action === 'responder-api');
  const ref = JSON.stringify(api?.env[ENV.tokenKey]);
  const match = /"Fn::GetAtt":\["([A-Za-z0-9]+)","Arn"\]/.exec(ref);
  keyId = match?.[1] ?? '';
  keyArn = arnOf(json, keyId);
});

const roleOf = (name: FunctionName) => {
  const fn = actionFunctions(json).find((f) => f.action === name);
  if (!fn) throw new Error(`no function ${name}`);
  return {
    arn: arnOf(json, fn.roleId),
    identity: resolveIntrinsics(
      policyDocuments(json)
        .filter((site) => site.roles.includes(fn.roleId))
        .flatMap((site) => site.statements),
      json,
    ) as EvaluatedStatement[],
  };
};

/** The key policy's Denies (its one Allow delegates to IAM), resolved. */
const keyDenies = () => {
  const statements = policyDocuments(json)
    .filter((site) => site.resourceId === keyId)
    .flatMap((site) => site.statements);
  expect(statements.filter((s) => s.Effect === 'Allow')).toHaveLength(1);
  return resolveIntrinsics(
    statements.filter((s) => s.Effect === 'Deny'),
    json,
  ) as EvaluatedStatement[];
};

const ADMIN: EvaluatedStatement[] = [{ Effect: 'Allow', Action: '*', Resource: '*' }];

const call = (identity: EvaluatedStatement[], principal: string, action: string) =>
  evaluate([...keyDenies(), ...identity], {
    action,
    resource: keyArn,
    context: { 'aws:PrincipalArn': principal },
  });

describe('the token key', () => {
  it('is a symmetric key that rotates, named in both approval functions', () => {
    expect(json.Resources[keyId]).toMatchObject({
      Type: 'AWS::KMS::Key',
      Properties: { EnableKeyRotation: true },
    });
    const request = actionFunctions(json).find((f) => f.action === 'request-approval');
    expect(JSON.stringify(request?.env[ENV.tokenKey])).toContain(keyId);
  });

  it('lets the responder API decrypt, and request-approval only encrypt', () => {
    const api = roleOf('responder-api');
    expect(call(api.identity, api.arn, 'kms:Decrypt')).toBe('allowed');
    const request = roleOf('request-approval');
    expect(call(request.identity, request.arn, 'kms:Encrypt')).toBe('allowed');
    expect(call(request.identity, request.arn, 'kms:Decrypt')).toBe('explicitDeny');
  });

  it.each([
    ['an administrator', `arn:aws:iam::${TEST_ACCOUNT}:role/Admin`],
    ['a ReadOnlyAccess insider given kms:Decrypt', `arn:aws:iam::${TEST_ACCOUNT}:role/Auditor`],
    ['the contained principal', `arn:aws:iam::${TEST_ACCOUNT}:user/ci-deployer`],
  ])('denies %s Decrypt and ReEncrypt of a sealed token', (_who, principal) => {
    expect(call(ADMIN, principal, 'kms:Decrypt')).toBe('explicitDeny');
    expect(call(ADMIN, principal, 'kms:ReEncryptFrom')).toBe('explicitDeny');
  });

  it('denies every other Cordon role Decrypt, even were its policy widened to kms:*', () => {
    for (const name of ['triage', 'record-failure', 'quarantine-user', 'notify'] as const) {
      const role = roleOf(name);
      expect(call([...role.identity, ...ADMIN], role.arn, 'kms:Decrypt'), name).toBe(
        'explicitDeny',
      );
    }
  });
});

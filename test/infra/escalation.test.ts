/**
 * Layer 2 (infra): the escalation paths a compromised Cordon function would
 * have, performed against its synthesized role (the default stack, resolved
 * and evaluated by test/support/iam-eval.ts): what its role allows is what
 * an attacker gets. parliament (linters.test.ts) reads these statements
 * without their conditions; these tests are what shows the conditions hold.
 */
import { describe, expect, it } from 'vitest';
import type { FunctionName } from '../../functions/shared/catalog.js';
import { evaluate } from '../support/iam-eval.js';
import { resolvedStatementsOf } from './stack-helpers.js';

const ACCOUNT = '123456789012';
const USER = `arn:aws:iam::${ACCOUNT}:user/alice`;
const DENY_ALL = 'arn:aws:iam::aws:policy/AWSDenyAll';

const can = (
  action: FunctionName,
  call: string,
  resource: string,
  context: Record<string, string> = {},
) => evaluate(resolvedStatementsOf(action), { action: call, resource, context });

describe('quarantine-user: a managed deny-all, not an inline policy', () => {
  it('attaches AWSDenyAll to a user, and its rollback detaches it', () => {
    expect(
      can('quarantine-user', 'iam:AttachUserPolicy', USER, { 'iam:PolicyARN': DENY_ALL }),
    ).toBe('allowed');
    expect(
      can('rollback-quarantine-user', 'iam:DetachUserPolicy', USER, { 'iam:PolicyARN': DENY_ALL }),
    ).toBe('allowed');
  });

  it('cannot attach any other policy: AdministratorAccess, or one of the account', () => {
    for (const policy of [
      'arn:aws:iam::aws:policy/AdministratorAccess',
      `arn:aws:iam::${ACCOUNT}:policy/AWSDenyAll`,
    ]) {
      expect(
        can('quarantine-user', 'iam:AttachUserPolicy', USER, { 'iam:PolicyARN': policy }),
      ).toBe('implicitDeny');
    }
    expect(can('quarantine-user', 'iam:AttachUserPolicy', USER)).toBe('implicitDeny');
  });

  it('writes no inline policy, and its rollback detaches nothing but AWSDenyAll', () => {
    expect(can('quarantine-user', 'iam:PutUserPolicy', USER)).toBe('implicitDeny');
    expect(can('rollback-quarantine-user', 'iam:PutUserPolicy', USER)).toBe('implicitDeny');
    expect(
      can('rollback-quarantine-user', 'iam:DetachUserPolicy', USER, {
        'iam:PolicyARN': `arn:aws:iam::${ACCOUNT}:policy/deny-s3-deletes`,
      }),
    ).toBe('implicitDeny');
  });
});

describe('lock-secret: it can never make a secret public', () => {
  const secret = `arn:aws:secretsmanager:us-east-1:${ACCOUNT}:secret:prod/db-AbCdEf`;
  const put = (action: FunctionName, context: Record<string, string>) =>
    can(action, 'secretsmanager:PutResourcePolicy', secret, context);

  it('puts a resource policy only when asking Secrets Manager to refuse a public one', () => {
    for (const action of ['lock-secret', 'rollback-lock-secret'] as const) {
      expect(put(action, { 'secretsmanager:BlockPublicPolicy': 'true' }), action).toBe('allowed');
      expect(put(action, { 'secretsmanager:BlockPublicPolicy': 'false' }), action).toBe(
        'implicitDeny',
      );
      expect(put(action, {}), action).toBe('implicitDeny');
    }
  });

  it('still deletes a policy on rollback, and reads', () => {
    expect(can('rollback-lock-secret', 'secretsmanager:DeleteResourcePolicy', secret)).toBe(
      'allowed',
    );
    expect(can('lock-secret', 'secretsmanager:GetResourcePolicy', secret)).toBe('allowed');
  });
});

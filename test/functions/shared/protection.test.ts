import { describe, expect, it } from 'vitest';
import {
  cordonRole,
  exemptReason,
  globToRegExp,
  protectedGuard,
  protectingPattern,
} from '../../../functions/shared/protection.js';

describe('protected principal patterns', () => {
  it.each([
    ['arn:aws:iam::*:role/break-glass-*', 'arn:aws:iam::123456789012:role/break-glass-admin', true],
    ['arn:aws:iam::*:role/*', 'arn:aws:iam::123456789012:role/path/deep/name', true],
    ['arn:aws:iam::123456789012:user/ops-?', 'arn:aws:iam::123456789012:user/ops-1', true],
    ['arn:aws:iam::123456789012:user/ops-?', 'arn:aws:iam::123456789012:user/ops-12', false],
    ['arn:aws:iam::*:role/admin', 'arn:aws:iam::123456789012:role/admin-2', false],
    ['arn:aws:iam::*:role/admin', 'xarn:aws:iam::123456789012:role/admin', false],
    ['arn:aws:iam::*:role/a.b', 'arn:aws:iam::123456789012:role/aXb', false],
    ['arn:aws:iam::*:role/a+b', 'arn:aws:iam::123456789012:role/a+b', true],
    ['arn:aws:iam::*:role/Break-Glass', 'arn:aws:iam::123456789012:role/break-glass', true],
  ])('%s matches %s: %s', (pattern, arn, matches) => {
    expect(globToRegExp(pattern, { ignoreCase: true }).test(arn)).toBe(matches);
  });

  it('protects nothing for being under the /cordon/ path: anyone with iam:CreateUser picks a path', () => {
    expect(protectingPattern('arn:aws:iam::123456789012:user/cordon/x', [])).toBeUndefined();
  });

  it('names the pattern that protected the principal', () => {
    const patterns = ['arn:aws:iam::*:role/a', 'arn:aws:iam::*:role/b*'];

    expect(protectingPattern('arn:aws:iam::123456789012:role/bee', patterns)).toBe(patterns[1]);
    expect(protectingPattern('arn:aws:iam::123456789012:role/c', patterns)).toBeUndefined();
  });
});

describe("Cordon's own roles", () => {
  const own = 'arn:aws:iam::123456789012:role/cordon/Cordon-Triage-ABC123';
  const config = {
    protectedPrincipalPatterns: [],
    cordonRoleArns: [own],
    exemptTag: { key: 'cordon:exempt', value: 'true' },
  };

  it.each([
    ['the role itself', own],
    ['a session of it', 'arn:aws:sts::123456789012:assumed-role/Cordon-Triage-ABC123/i-1'],
    ['its name in another case', 'arn:aws:iam::123456789012:role/cordon/cordon-triage-abc123'],
  ])('protects %s', (_what, arn) => {
    expect(protectedGuard(arn, config)).toBe(`protected: ${arn} is Cordon's own role ${own}`);
  });

  it.each([
    ['another role under /cordon/', 'arn:aws:iam::123456789012:role/cordon/x'],
    ['a user of the same name', 'arn:aws:iam::123456789012:user/cordon/Cordon-Triage-ABC123'],
    [
      'the same name in another account',
      'arn:aws:iam::210987654321:role/cordon/Cordon-Triage-ABC123',
    ],
  ])('does not protect %s', (_what, arn) => {
    expect(cordonRole(arn, config.cordonRoleArns)).toBeUndefined();
    expect(protectedGuard(arn, config)).toBeUndefined();
  });

  it('reads the exempt tag as a reason to ask, key without case, value exactly', () => {
    const arn = 'arn:aws:iam::123456789012:user/u';

    expect(exemptReason(arn, [{ Key: 'Cordon:Exempt', Value: 'true' }], config)).toBe(
      `exempt: ${arn} is tagged cordon:exempt=true`,
    );
    expect(exemptReason(arn, [{ Key: 'cordon:exempt', Value: 'TRUE' }], config)).toBeUndefined();
  });
});

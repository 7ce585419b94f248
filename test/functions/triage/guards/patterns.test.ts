import { describe, expect, it } from 'vitest';
import { globToRegExp, protectingPattern } from '../../../../functions/triage/guards/patterns.js';

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

import type { Stack } from 'aws-cdk-lib';
import type * as iam from 'aws-cdk-lib/aws-iam';

/** IAM's limit on a role's inline policies, all together: 10,240 characters, whitespace not counted. */
export const ROLE_INLINE_POLICIES_MAX_CHARS = 10_240;

/**
 * How many characters IAM will count in `documents` once deployed, at most:
 * each resolved, with every reference replaced by the longest value it can
 * take where it deploys (the partition aws-us-gov, a 12-digit account, 128
 * characters for a parameter), and no whitespace, as IAM counts.
 */
export function inlinePoliciesChars(
  stack: Stack,
  documents: readonly iam.PolicyDocument[],
): number {
  return documents
    .map((d) => JSON.stringify(longest(stack.resolve(d.toJSON()))).length)
    .reduce((a, b) => a + b, 0);
}

const LONGEST_REF: Readonly<Record<string, string>> = {
  'AWS::Partition': 'aws-us-gov',
  'AWS::AccountId': '000000000000',
};

/** A resolved policy with every reference replaced by the longest value it can take. */
function longest(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(longest);
  if (value === null || typeof value !== 'object') return value;
  const entries = Object.entries(value);
  const [first] = entries;
  if (entries.length === 1 && first) {
    const [key, arg] = first;
    if (key === 'Ref' && typeof arg === 'string') return LONGEST_REF[arg] ?? 'x'.repeat(128);
    if (key === 'Fn::Join' && Array.isArray(arg) && Array.isArray(arg[1])) {
      return arg[1].map((part: unknown) => String(longest(part))).join(String(arg[0]));
    }
    if (key.startsWith('Fn::')) {
      throw new Error(`cannot measure a policy holding ${key}: only Ref and Fn::Join are resolved`);
    }
  }
  return Object.fromEntries(entries.map(([k, v]) => [k, longest(v)]));
}

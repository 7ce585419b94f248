/**
 * Layer 2 (infra): how the member construct measures a spoke role's inline
 * policies against IAM's 10,240 characters (infra/policy-size.ts) before a
 * StackSet deploys them everywhere. The spoke roles themselves are held to
 * it in organization.test.ts.
 */
import { App, Aws, Fn, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import { describe, expect, it } from 'vitest';
import { inlinePoliciesChars } from '../../infra/policy-size.js';

function documentNaming(resource: string): iam.PolicyDocument {
  return new iam.PolicyDocument({
    statements: [new iam.PolicyStatement({ actions: ['iam:GetUser'], resources: [resource] })],
  });
}

describe('inlinePoliciesChars', () => {
  it('counts a reference at the longest value it can take, never shorter', () => {
    const stack = new Stack(new App(), 'S');
    const written = documentNaming('arn:aws-us-gov:iam::000000000000:user/*');
    const referenced = documentNaming(`arn:${Aws.PARTITION}:iam::${Aws.ACCOUNT_ID}:user/*`);

    expect(inlinePoliciesChars(stack, [referenced])).toBe(inlinePoliciesChars(stack, [written]));
    expect(inlinePoliciesChars(stack, [referenced, written])).toBe(
      2 * inlinePoliciesChars(stack, [written]),
    );
  });

  it('fails on an intrinsic it cannot measure, rather than count it short', () => {
    const stack = new Stack(new App(), 'S');
    const document = documentNaming(Fn.importValue('SomewhereElse'));

    expect(() => inlinePoliciesChars(stack, [document])).toThrow(/Fn::ImportValue/);
  });
});

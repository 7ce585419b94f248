/**
 * Layer 2 (infra): a role declaration read once per region and joined
 * (infra/regional.ts), as a member account's spoke roles are. The synthesized
 * spoke roles are held to it in organization.test.ts; these tests pin the
 * joining itself, and show it refusing what it cannot join without widening.
 */
import { describe, expect, it } from 'vitest';
import {
  type Arns,
  allow,
  deny,
  EXAMPLE_CONTEXT,
  type Statement,
} from '../../functions/shared/iam.js';
import { acrossRegions } from '../../infra/regional.js';
import { evaluate } from '../support/iam-eval.js';

/** EXAMPLE_CONTEXT's ARNs, in `region`. */
function arnsIn(region: string): Arns {
  const inRegion = (arn: string) => arn.replace(':us-east-1:', `:${region}:`);
  const example = EXAMPLE_CONTEXT.arn;
  return {
    ...example,
    ec2: (resource, options) => inRegion(example.ec2(resource, options)),
    lambdaFunctions: () => inRegion(example.lambdaFunctions()),
  };
}

/** What a statement list decides, as IAM does. */
function decides(statements: readonly Statement[], action: string, resource: string, context = {}) {
  const rendered = statements.map((s) => ({
    Effect: s.effect,
    Action: [...s.actions],
    Resource: [...s.resources],
    ...(s.conditions ? { Condition: s.conditions } : {}),
  }));
  return evaluate(rendered, { action, resource, context });
}

describe('acrossRegions', () => {
  it("lists each region's ARN, in order, and leaves a statement naming no region as it is", () => {
    const joined = acrossRegions(['us-east-1', 'eu-west-1'], arnsIn, (arn) => [
      allow(['lambda:PutFunctionConcurrency'], [arn.lambdaFunctions()]),
      allow(['iam:GetUser'], [arn.iam('user')]),
    ]);

    expect(joined).toEqual([
      allow(
        ['lambda:PutFunctionConcurrency'],
        [
          'arn:aws:lambda:us-east-1:111111111111:function:*',
          'arn:aws:lambda:eu-west-1:111111111111:function:*',
        ],
      ),
      allow(['iam:GetUser'], ['arn:aws:iam::111111111111:user/*']),
    ]);
  });

  it('joins an ArnLike value into alternatives: each region passes, no other does', () => {
    const joined = acrossRegions(['us-east-1', 'eu-west-1'], arnsIn, (arn) => [
      allow(['iam:PassRole'], [arn.iam('role')], {
        ArnLike: { 'iam:AssociatedResourceArn': arn.ec2('instance') },
      }),
    ]);
    const pass = (region: string) =>
      decides(joined, 'iam:PassRole', 'arn:aws:iam::111111111111:role/app', {
        'iam:AssociatedResourceArn': `arn:aws:ec2:${region}:111111111111:instance/i-1`,
      });

    expect(pass('us-east-1')).toBe('allowed');
    expect(pass('eu-west-1')).toBe('allowed');
    expect(pass('ap-southeast-2')).toBe('implicitDeny');
  });

  it('fails on a negated condition that names a region, which joining would widen', () => {
    // Joined, "not this region's instances" in two regions would deny neither
    // region's instances to a request naming the other.
    expect(() =>
      acrossRegions(['us-east-1', 'eu-west-1'], arnsIn, (arn) => [
        deny(['ec2:TerminateInstances'], ['*'], {
          ArnNotLike: { 'ec2:InstanceArn': arn.ec2('instance') },
        }),
      ]),
    ).toThrow(/ArnNotLike condition names a region: joining regions would widen it/);
  });

  it('fails when a declaration gives other statements in another region', () => {
    expect(() =>
      acrossRegions(['us-east-1', 'eu-west-1'], arnsIn, (arn) =>
        arn.lambdaFunctions().includes('eu-west-1')
          ? []
          : [allow(['lambda:ListTags'], [arn.lambdaFunctions()])],
      ),
    ).toThrow(/gives 1 statements in one region and 0 in another/);
    expect(() =>
      acrossRegions(['us-east-1', 'eu-west-1'], arnsIn, (arn) => [
        allow(
          arn.lambdaFunctions().includes('eu-west-1')
            ? ['lambda:DeleteFunction']
            : ['lambda:ListTags'],
          [arn.lambdaFunctions()],
        ),
      ]),
    ).toThrow(/changes its effect or actions by region/);
  });

  it('fails with no region, rather than give a role nothing to name', () => {
    expect(() => acrossRegions([], arnsIn, () => [])).toThrow(/at least one region/);
  });
});

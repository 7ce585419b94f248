import * as iam from 'aws-cdk-lib/aws-iam';

/**
 * A statement of a table's own resource policy that denies `actions` to every
 * principal but `allowed` (exact ARNs; none: to everyone), whatever their IAM
 * policies say. A table's policy cannot name the table's ARN (a circular
 * reference), so `*` here means this table and its indexes.
 */
export function tableDeny(
  sid: string,
  actions: readonly string[],
  allowed: string | readonly string[] = [],
): iam.PolicyStatement {
  const exempt = typeof allowed === 'string' ? [allowed] : [...allowed];
  return new iam.PolicyStatement({
    sid,
    effect: iam.Effect.DENY,
    principals: [new iam.AnyPrincipal()],
    actions: [...actions],
    resources: ['*'],
    ...(exempt.length === 0
      ? {}
      : { conditions: { ArnNotEquals: { 'aws:PrincipalArn': exempt } } }),
  });
}

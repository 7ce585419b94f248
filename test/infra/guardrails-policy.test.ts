/**
 * The guardrails table's resource policy, attacked. The table holds the
 * circuit breaker (its trips and resets) and the responder API's used caller
 * proofs; an insider who may write DynamoDB (PowerUserAccess, an
 * administrator) would reset a tripped breaker by deleting its trip, or
 * replay a caller proof by deleting its record. The policy is read from the
 * synthesized template and evaluated (test/support/iam-eval.ts) with the
 * caller's identity policy; moto evaluates no resource policy.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { FUNCTION_NAMES } from '../../functions/registry.js';
import { BREAKER_KEY } from '../../functions/shared/breaker.js';
import { type Decision, type EvaluatedStatement, evaluate } from '../support/iam-eval.js';
import { arnOf, resolveIntrinsics } from '../support/resolve.js';
import { defaultTemplate, resourcesOfType, TEST_ACCOUNT } from '../support/template.js';
import { functionFor, resolvedStatementsOf } from './stack-helpers.js';

const ADMIN = `arn:aws:iam::${TEST_ACCOUNT}:role/Admin`;
/** What AdministratorAccess (and, for DynamoDB, PowerUserAccess) allows. */
const ADMIN_POLICY: EvaluatedStatement[] = [{ Effect: 'Allow', Action: '*', Resource: '*' }];
const DEPLOY_ROLE = `arn:aws:iam::${TEST_ACCOUNT}:role/cdk-hnb659fds-cfn-exec-role-${TEST_ACCOUNT}-us-east-1`;

let tableArn: string;
let tablePolicy: EvaluatedStatement[];

beforeAll(() => {
  const { json } = defaultTemplate();
  const [tableId, table] =
    resourcesOfType(json, 'AWS::DynamoDB::GlobalTable').find(([id]) =>
      id.startsWith('CordonGuardrailsTable'),
    ) ?? [];
  if (!tableId || !table) throw new Error('no guardrails table');
  tableArn = arnOf(json, tableId);
  const replicas = z
    .array(
      z.object({
        ResourcePolicy: z.object({ PolicyDocument: z.object({ Statement: z.unknown() }) }),
      }),
    )
    .parse(table.Properties?.Replicas);
  tablePolicy = replicas.flatMap(
    (r) =>
      resolveIntrinsics(r.ResourcePolicy.PolicyDocument.Statement, json) as EvaluatedStatement[],
  );
});

const roleOf = (name: (typeof FUNCTION_NAMES)[number]) => {
  const { json } = defaultTemplate();
  return arnOf(json, functionFor(name).roleId);
};

/** The decision for `principal`, holding `identity`, calling `action` on the table with `keys`. */
function decide(
  identity: readonly EvaluatedStatement[],
  principal: string,
  action: string,
  keys: string[] = [BREAKER_KEY],
): Decision {
  return evaluate([...identity, ...tablePolicy], {
    action,
    resource: tableArn,
    context: { 'aws:PrincipalArn': principal, 'dynamodb:LeadingKeys': keys },
  });
}

describe('the guardrails table resource policy', () => {
  it.each([
    'dynamodb:DeleteItem',
    'dynamodb:PutItem',
    'dynamodb:UpdateItem',
    'dynamodb:BatchWriteItem',
    'dynamodb:PartiQLDelete',
  ])('denies an administrator %s: no reset of the breaker, no erased caller proof', (action) => {
    // Act
    const decision = decide(ADMIN_POLICY, ADMIN, action, ['trip#1']);
    // Assert
    expect(decision).toBe('explicitDeny');
  });

  it('denies every other Cordon function a write, even were its policy widened to dynamodb:*', () => {
    // Arrange
    const others = FUNCTION_NAMES.filter((n) => n !== 'triage' && n !== 'responder-api');
    // Act
    const decisions = others.map((name) =>
      decide(ADMIN_POLICY, roleOf(name), 'dynamodb:DeleteItem'),
    );
    // Assert
    expect(decisions).toEqual(others.map(() => 'explicitDeny'));
  });

  it('still lets triage count and trip, and the responder API reset and record proofs', () => {
    // Act
    const count = decide(resolvedStatementsOf('triage'), roleOf('triage'), 'dynamodb:UpdateItem', [
      'window#2026-12-05T03:00',
    ]);
    const reset = decide(
      resolvedStatementsOf('responder-api'),
      roleOf('responder-api'),
      'dynamodb:UpdateItem',
      [BREAKER_KEY],
    );
    const proof = decide(
      resolvedStatementsOf('responder-api'),
      roleOf('responder-api'),
      'dynamodb:PutItem',
      ['proof#0123abcd'],
    );
    // Assert
    expect([count, reset, proof]).toEqual(['allowed', 'allowed', 'allowed']);
  });

  it('lets only the CloudFormation execution role change or drop the table, or its policy', () => {
    // Arrange
    const calls = [
      'dynamodb:DeleteTable',
      'dynamodb:UpdateTimeToLive',
      'dynamodb:UpdateTable',
      'dynamodb:PutResourcePolicy',
      'dynamodb:DeleteResourcePolicy',
    ];
    // Act
    const byAdmin = calls.map((action) => decide(ADMIN_POLICY, ADMIN, action));
    const byDeploy = calls.map((action) => decide(ADMIN_POLICY, DEPLOY_ROLE, action));
    // Assert
    expect(byAdmin).toEqual(calls.map(() => 'explicitDeny'));
    expect(byDeploy).toEqual(calls.map(() => 'allowed'));
  });
});

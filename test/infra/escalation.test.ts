/**
 * Layer 2 (infra): the escalation paths a compromised Cordon function would
 * have, performed against its synthesized role (the default stack, resolved
 * and evaluated by test/support/iam-eval.ts): what its role allows is what
 * an attacker gets. parliament (linters.test.ts) reads these statements
 * without their conditions; these tests are what shows the conditions hold.
 */
import { type DynamoDBDocumentClient, GetCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { describe, expect, it } from 'vitest';
import { CircuitBreaker } from '../../functions/shared/breaker.js';
import type { FunctionName } from '../../functions/shared/catalog.js';
import { writeContext } from '../support/dynamodb-expressions.js';
import { evaluate } from '../support/iam-eval.js';
import { resolvedStatementsOf } from './stack-helpers.js';

const ACCOUNT = '123456789012';
const USER = `arn:aws:iam::${ACCOUNT}:user/alice`;
const DENY_ALL = 'arn:aws:iam::aws:policy/AWSDenyAll';

const can = (
  action: FunctionName,
  call: string,
  resource: string,
  context: Record<string, string | readonly string[]> = {},
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

describe('the circuit breaker: triage counts and trips, only a responder resets', () => {
  /** The item writes the breaker sends, from its own code, against a fake table. */
  async function writesOf(run: (breaker: CircuitBreaker) => Promise<unknown>, tripped: boolean) {
    const sent: UpdateCommand['input'][] = [];
    const client = {
      send: async (command: unknown) => {
        if (command instanceof GetCommand) {
          const key = String(command.input.Key?.id);
          return { Item: tripped && key === 'trip#0' ? { id: key } : undefined };
        }
        if (command instanceof UpdateCommand) {
          sent.push(command.input);
          return { Attributes: { count: 99 } };
        }
        throw new Error('unexpected command');
      },
    } as unknown as DynamoDBDocumentClient;
    await run(new CircuitBreaker({ client, tableName: 'guardrails', now: () => new Date(0) }));
    return sent;
  }

  const table = `arn:aws:dynamodb:us-east-1:${ACCOUNT}:table/`;
  /** The guardrails table's ARN, as the template resolves it. */
  const guardrails = () => {
    const statement = resolvedStatementsOf('triage').find((s) =>
      JSON.stringify(s.Action).includes('dynamodb:UpdateItem'),
    );
    const [arn] = [statement?.Resource].flat();
    if (typeof arn !== 'string' || !arn.startsWith(table)) throw new Error('no guardrails table');
    return arn;
  };
  const write = (action: FunctionName, input: Parameters<typeof writeContext>[0]) =>
    can(action, 'dynamodb:UpdateItem', guardrails(), writeContext(input));

  it("lets triage's role send the count and the trip its code sends", async () => {
    const writes = await writesOf(
      (b) => b.count('inc-1', { maxContainments: 1, windowSeconds: 60 }),
      false,
    );
    expect(writes.map((w) => w.Key?.id)).toEqual(['window#0#0', 'trip#0']);
    for (const input of writes)
      expect(write('triage', input), String(input.Key?.id)).toBe('allowed');
  });

  it("refuses triage's role the reset the responder API sends, and allows it to the responder API", async () => {
    const [reset] = await writesOf((b) => b.reset('arn:aws:iam::1:user/alice', 'why'), true);
    if (!reset) throw new Error('the reset wrote nothing');
    expect(reset.Key).toEqual({ id: 'breaker' });
    expect(write('triage', reset)).toBe('implicitDeny');
    expect(write('responder-api', reset)).toBe('allowed');
  });

  it('refuses triage any write to the generation item, and an expiry on a trip', () => {
    const bump = {
      Key: { id: 'breaker' },
      UpdateExpression: 'SET generation = :next',
    };
    expect(write('triage', bump)).toBe('implicitDeny');
    const expire = {
      Key: { id: 'trip#0' },
      UpdateExpression: 'SET #expires = :past',
      ExpressionAttributeNames: { '#expires': 'expiresAt' },
    };
    expect(write('triage', expire)).toBe('implicitDeny');
    // A window counter may expire: that is how old windows go.
    expect(write('triage', { ...expire, Key: { id: 'window#0#0' } })).toBe('allowed');
  });

  it('lets the responder API write only the generation item', () => {
    const trip = { Key: { id: 'trip#0' }, UpdateExpression: 'REMOVE trippedAt' };
    expect(write('responder-api', trip)).toBe('implicitDeny');
  });
});

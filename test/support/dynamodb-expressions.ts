/**
 * The DynamoDB expressions Cordon's stores send (ledger.ts, approval-store.ts,
 * breaker.ts), as the constants they are. Data only ever travels in
 * ExpressionAttributeValues (and attribute names in ExpressionAttributeNames),
 * so an expression that is not on this list, or a name that is not one of
 * these attributes, means text from somewhere else got into one.
 */
import { expect } from 'vitest';

export const CONSTANT_EXPRESSIONS: ReadonlySet<string> = new Set([
  // ledger.ts
  'attribute_not_exists(#pk)',
  '#pk = :pk',
  // approval-store.ts
  'attribute_not_exists(#pk) OR #status = :waiting',
  'waiting = :waiting',
  'SET approvals = :approvals',
  '#status = :waiting AND size(approvals) = :zero',
  'SET #status = :decision, decidedBy = :by, decidedAt = :at, reason = :reason, approvals = :approvals, expiresAt = :expires REMOVE waiting',
  '#status = :waiting AND size(approvals) = :seen',
  'SET delivered = :true REMOVE taskToken',
  // breaker.ts
  'ADD #count :one SET #expires = :expires',
  'SET generation = :generation, trippedAt = :at, trippedBy = :by, #count = :count',
  'attribute_not_exists(#id)',
  'SET generation = :next, resetAt = :at, resetBy = :by, resetReason = :reason REMOVE #state, trippedAt, trippedBy, #count',
  'attribute_not_exists(generation) OR generation = :generation',
]);

/** Attribute names the stores put in ExpressionAttributeNames. */
export const ATTRIBUTE_NAMES: ReadonlySet<string> = new Set([
  'id',
  'incidentId',
  'status',
  'count',
  'expiresAt',
  'state',
]);

const EXPRESSION_KEYS = [
  'ConditionExpression',
  'UpdateExpression',
  'KeyConditionExpression',
  'FilterExpression',
  'ProjectionExpression',
] as const;

/**
 * Fails unless every command sent through `mock` (a mocked document client)
 * uses only constant expressions, placeholders of plain letters, and the
 * known attribute names. Returns how many expressions it checked.
 */
/** What a client mock records: each call's command. */
export interface SentCommands {
  calls(): ReadonlyArray<{ readonly args: readonly unknown[] }>;
}

export function expectConstantExpressions(mock: SentCommands): number {
  let checked = 0;
  for (const call of mock.calls()) {
    const input = ((call.args[0] as { input?: unknown }).input ?? {}) as Record<string, unknown>;
    for (const key of EXPRESSION_KEYS) {
      const expression = input[key];
      if (expression === undefined) continue;
      checked++;
      expect(CONSTANT_EXPRESSIONS, `${key} ${JSON.stringify(expression)}`).toContain(expression);
    }
    const names = (input.ExpressionAttributeNames ?? {}) as Record<string, unknown>;
    for (const [placeholder, name] of Object.entries(names)) {
      expect(placeholder).toMatch(/^#[a-z]+$/);
      expect(ATTRIBUTE_NAMES, `attribute name ${JSON.stringify(name)}`).toContain(name);
    }
    const values = (input.ExpressionAttributeValues ?? {}) as Record<string, unknown>;
    for (const placeholder of Object.keys(values)) expect(placeholder).toMatch(/^:[a-z]+$/);
  }
  return checked;
}

const EXPRESSION_WORDS = new Set([
  'SET',
  'REMOVE',
  'ADD',
  'DELETE',
  'AND',
  'OR',
  'NOT',
  'IN',
  'BETWEEN',
  'attribute_exists',
  'attribute_not_exists',
  'attribute_type',
  'begins_with',
  'contains',
  'size',
  'if_not_exists',
  'list_append',
]);

/**
 * The key and every attribute name an item write names (its key's, and those
 * in its update and condition expressions), as IAM's `dynamodb:LeadingKeys`
 * and `dynamodb:Attributes` would hold them.
 */
export function writeContext(input: {
  readonly Key?: Record<string, unknown>;
  readonly UpdateExpression?: string;
  readonly ConditionExpression?: string;
  readonly ExpressionAttributeNames?: Record<string, string>;
}): { 'dynamodb:LeadingKeys': string[]; 'dynamodb:Attributes': string[] } {
  const names = input.ExpressionAttributeNames ?? {};
  const text = `${input.UpdateExpression ?? ''} ${input.ConditionExpression ?? ''}`;
  const used = [...text.matchAll(/[#:]?[A-Za-z_][A-Za-z0-9_]*/g)]
    .map(([token]) => token)
    .filter((token) => !token.startsWith(':') && !EXPRESSION_WORDS.has(token))
    .map((token) => (token.startsWith('#') ? (names[token] ?? token) : token));
  const key = Object.keys(input.Key ?? {});
  return {
    'dynamodb:LeadingKeys': Object.values(input.Key ?? {})
      .map(String)
      .slice(0, 1),
    'dynamodb:Attributes': [...new Set([...key, ...used])].sort(),
  };
}

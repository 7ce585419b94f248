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
  'SET #state = :tripped, generation = :generation, trippedAt = :at, trippedBy = :by, #count = :count',
  '(attribute_not_exists(#state) OR #state = :closed) AND (attribute_not_exists(generation) OR generation = :generation)',
  'SET #state = :closed, generation = generation + :one, resetAt = :at, resetBy = :by, resetReason = :reason',
  '#state = :tripped',
]);

/** Attribute names the stores put in ExpressionAttributeNames. */
export const ATTRIBUTE_NAMES: ReadonlySet<string> = new Set([
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

import { type DynamoDBDocumentClient, GetCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { z } from 'zod';
import { conditionalUpdate, dynamoCall } from './dynamo-calls.js';

/**
 * The circuit breaker: when more than `limit` incidents are contained
 * automatically within a window (across every playbook), it trips, and every
 * later `auto` step needs approval until a responder resets it. A flood of
 * false positives then cannot lock out a fleet.
 *
 * Counting is atomic in DynamoDB: each automatic containment adds one to its
 * window's counter (an update, so concurrent executions never lose a count),
 * and tripping is a conditional write that succeeds for exactly one of them,
 * which is the one that notifies. Windows are fixed (aligned to the epoch);
 * a reset starts a new generation, whose counters start at zero.
 */

export const GUARDRAILS_PARTITION_KEY = 'id';
export const GUARDRAILS_TTL_ATTRIBUTE = 'expiresAt';
const STATE_ID = 'breaker';

export const BreakerStateSchema = z.object({
  state: z.enum(['CLOSED', 'TRIPPED']),
  generation: z.number().int().min(0),
  trippedAt: z.string().optional(),
  /** The incident whose containment was one too many. */
  trippedBy: z.string().optional(),
  count: z.number().int().optional(),
  resetAt: z.string().optional(),
  resetBy: z.string().optional(),
  resetReason: z.string().optional(),
});
export type BreakerState = z.infer<typeof BreakerStateSchema>;

const CLOSED: BreakerState = { state: 'CLOSED', generation: 0 };

export interface BreakerLimits {
  /** Automatic containments allowed per window; one more trips the breaker. */
  readonly maxContainments: number;
  readonly windowSeconds: number;
}

export type CountResult =
  | { readonly status: 'counted'; readonly count: number }
  /** The breaker is tripped; `trippedNow` for the one containment that tripped it. */
  | { readonly status: 'tripped'; readonly trippedNow: boolean; readonly state: BreakerState };

export interface BreakerDeps {
  readonly client: DynamoDBDocumentClient;
  readonly tableName: string;
  readonly now: () => Date;
}

export class CircuitBreaker {
  private readonly now: () => Date;

  constructor(private readonly deps: BreakerDeps) {
    this.now = deps.now;
  }

  async state(): Promise<BreakerState> {
    const out = await dynamoCall('breaker read', () =>
      this.deps.client.send(
        new GetCommand({
          TableName: this.deps.tableName,
          Key: { [GUARDRAILS_PARTITION_KEY]: STATE_ID },
          ConsistentRead: true,
        }),
      ),
    );
    return out.Item ? BreakerStateSchema.parse(out.Item) : CLOSED;
  }

  /** Counts one automatic containment of `incidentId`, tripping the breaker past the limit. */
  async count(incidentId: string, limits: BreakerLimits): Promise<CountResult> {
    const current = await this.state();
    if (current.state === 'TRIPPED')
      return { status: 'tripped', trippedNow: false, state: current };
    const now = this.now();
    const seconds = Math.floor(now.getTime() / 1000);
    const windowStart = seconds - (seconds % limits.windowSeconds);
    const out = await dynamoCall('breaker count', () =>
      this.deps.client.send(
        new UpdateCommand({
          TableName: this.deps.tableName,
          Key: { [GUARDRAILS_PARTITION_KEY]: `window#${current.generation}#${windowStart}` },
          UpdateExpression: 'ADD #count :one SET #expires = :expires',
          ExpressionAttributeNames: { '#count': 'count', '#expires': GUARDRAILS_TTL_ATTRIBUTE },
          ExpressionAttributeValues: {
            ':one': 1,
            ':expires': windowStart + 2 * limits.windowSeconds,
          },
          ReturnValues: 'UPDATED_NEW',
        }),
      ),
    );
    const count = z.object({ count: z.number() }).parse(out.Attributes).count;
    if (count <= limits.maxContainments) return { status: 'counted', count };

    const tripped: BreakerState = {
      state: 'TRIPPED',
      generation: current.generation,
      trippedAt: now.toISOString(),
      trippedBy: incidentId,
      count,
    };
    const trippedNow = await conditionalUpdate(
      this.deps.client,
      this.deps.tableName,
      'breaker trip',
      {
        Key: { [GUARDRAILS_PARTITION_KEY]: STATE_ID },
        UpdateExpression:
          'SET #state = :tripped, generation = :generation, trippedAt = :at, trippedBy = :by, #count = :count',
        // Only the first past the limit, in this generation, trips it.
        ConditionExpression:
          '(attribute_not_exists(#state) OR #state = :closed) AND (attribute_not_exists(generation) OR generation = :generation)',
        ExpressionAttributeNames: { '#state': 'state', '#count': 'count' },
        ExpressionAttributeValues: {
          ':tripped': 'TRIPPED',
          ':closed': 'CLOSED',
          ':generation': current.generation,
          ':at': tripped.trippedAt,
          ':by': incidentId,
          ':count': count,
        },
      },
    );
    return { status: 'tripped', trippedNow, state: trippedNow ? tripped : await this.state() };
  }

  /**
   * Closes a tripped breaker and starts a new generation, so the counts that
   * tripped it do not trip it again. False when it was not tripped.
   */
  async reset(by: string, reason: string): Promise<boolean> {
    return conditionalUpdate(this.deps.client, this.deps.tableName, 'breaker reset', {
      Key: { [GUARDRAILS_PARTITION_KEY]: STATE_ID },
      UpdateExpression:
        'SET #state = :closed, generation = generation + :one, resetAt = :at, resetBy = :by, resetReason = :reason',
      ConditionExpression: '#state = :tripped',
      ExpressionAttributeNames: { '#state': 'state' },
      ExpressionAttributeValues: {
        ':closed': 'CLOSED',
        ':tripped': 'TRIPPED',
        ':one': 1,
        ':at': this.now().toISOString(),
        ':by': by,
        ':reason': reason,
      },
    });
  }
}

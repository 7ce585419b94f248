import { type DynamoDBDocumentClient, GetCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { conditionalUpdate, dynamoCall } from './dynamo-calls.js';
import { z } from './z.js';

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
 *
 * Who may write what is the data model. Three kinds of item, by key:
 * - `breaker`: the generation and the last reset. Only a reset writes it
 *   (the responder API); triage's role may not (`dynamodb:LeadingKeys`).
 * - `window#<generation>#<start>`: a window's counter, which triage adds to.
 * - `trip#<generation>`: the breaker tripped in that generation. Triage
 *   creates it, once; nothing deletes it.
 * The breaker is tripped while the item `trip#<current generation>` exists,
 * whatever it holds, so what triage may write (counters, a trip) can trip
 * the breaker but never close it: closing takes a new generation, which
 * only the `breaker` item holds. Triage's role may not put the TTL
 * attribute on a trip either (`dynamodb:Attributes`), so no trip expires.
 */

export const GUARDRAILS_PARTITION_KEY = 'id';
export const GUARDRAILS_TTL_ATTRIBUTE = 'expiresAt';
/** The generation item's key: written by resets only. */
export const BREAKER_KEY = 'breaker';
/** Key prefixes of the items triage writes: window counters and trips. */
export const WINDOW_KEY_PREFIX = 'window#';
export const TRIP_KEY_PREFIX = 'trip#';
/** Every attribute triage writes on a window counter, the key included. */
export const WINDOW_ATTRIBUTES = [GUARDRAILS_PARTITION_KEY, 'count', GUARDRAILS_TTL_ATTRIBUTE];
/** Every attribute triage writes on a trip, the key included: no TTL. */
export const TRIP_ATTRIBUTES = [
  GUARDRAILS_PARTITION_KEY,
  'generation',
  'trippedAt',
  'trippedBy',
  'count',
];

const tripKey = (generation: number) => `${TRIP_KEY_PREFIX}${generation}`;

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

/** What a trip item holds. */
const TripSchema = z.object({
  trippedAt: z.string().optional(),
  trippedBy: z.string().optional(),
  count: z.number().int().optional(),
});

/** The last reset, as the generation item holds it. */
const LastResetSchema = z.object({
  resetAt: z.string().optional(),
  resetBy: z.string().optional(),
  resetReason: z.string().optional(),
});

/** The generation item of a breaker an earlier version tripped: the trip was in it. */
const LegacyTripSchema = TripSchema.extend({ state: z.literal('TRIPPED') });

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
    const record = await this.item(BREAKER_KEY);
    const generation = z.number().int().min(0).catch(0).parse(record?.generation);
    const reset = LastResetSchema.parse(record ?? {});
    const trip = await this.item(tripKey(generation));
    if (trip !== undefined) {
      return { state: 'TRIPPED', generation, ...reset, ...TripSchema.parse(trip) };
    }
    // A breaker an earlier version tripped, before trips were items of their own.
    const legacy = LegacyTripSchema.safeParse(record);
    if (legacy.success) return { ...legacy.data, generation, ...reset };
    return { state: 'CLOSED', generation, ...reset };
  }

  /** One item of the table, read consistently; undefined when there is none. */
  private async item(key: string): Promise<Record<string, unknown> | undefined> {
    const out = await dynamoCall('breaker read', () =>
      this.deps.client.send(
        new GetCommand({
          TableName: this.deps.tableName,
          Key: { [GUARDRAILS_PARTITION_KEY]: key },
          ConsistentRead: true,
        }),
      ),
    );
    return out.Item;
  }

  /**
   * Counts one automatic containment of `incidentId`, tripping the breaker
   * past the limit. `state` is the breaker's state when the caller started
   * reading it already (triage reads it beside its claim); else it is read
   * here.
   */
  async count(
    incidentId: string,
    limits: BreakerLimits,
    state: Promise<BreakerState> = this.state(),
  ): Promise<CountResult> {
    const current = await state;
    if (current.state === 'TRIPPED')
      return { status: 'tripped', trippedNow: false, state: current };
    const now = this.now();
    const seconds = Math.floor(now.getTime() / 1000);
    const windowStart = seconds - (seconds % limits.windowSeconds);
    const out = await dynamoCall('breaker count', () =>
      this.deps.client.send(
        new UpdateCommand({
          TableName: this.deps.tableName,
          Key: {
            [GUARDRAILS_PARTITION_KEY]: `${WINDOW_KEY_PREFIX}${current.generation}#${windowStart}`,
          },
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
      ...current,
      state: 'TRIPPED',
      trippedAt: now.toISOString(),
      trippedBy: incidentId,
      count,
    };
    // Only the first past the limit, in this generation, creates the trip.
    const trippedNow = await conditionalUpdate(
      this.deps.client,
      this.deps.tableName,
      'breaker trip',
      {
        Key: { [GUARDRAILS_PARTITION_KEY]: tripKey(current.generation) },
        UpdateExpression:
          'SET generation = :generation, trippedAt = :at, trippedBy = :by, #count = :count',
        ConditionExpression: 'attribute_not_exists(#id)',
        ExpressionAttributeNames: { '#id': GUARDRAILS_PARTITION_KEY, '#count': 'count' },
        ExpressionAttributeValues: {
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
   * Closes a tripped breaker by starting a new generation, so neither its
   * trip nor the counts that tripped it count any more. Only the generation
   * item changes (the trip stays, as a record). False when it was not
   * tripped, or another reset came first.
   */
  async reset(by: string, reason: string): Promise<boolean> {
    const current = await this.state();
    if (current.state !== 'TRIPPED') return false;
    return conditionalUpdate(this.deps.client, this.deps.tableName, 'breaker reset', {
      Key: { [GUARDRAILS_PARTITION_KEY]: BREAKER_KEY },
      // The trip fields an earlier version kept here go too.
      UpdateExpression:
        'SET generation = :next, resetAt = :at, resetBy = :by, resetReason = :reason REMOVE #state, trippedAt, trippedBy, #count',
      ConditionExpression: 'attribute_not_exists(generation) OR generation = :generation',
      ExpressionAttributeNames: { '#state': 'state', '#count': 'count' },
      ExpressionAttributeValues: {
        ':generation': current.generation,
        ':next': current.generation + 1,
        ':at': this.now().toISOString(),
        ':by': by,
        ':reason': reason,
      },
    });
  }
}

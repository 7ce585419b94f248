import {
  type DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  QueryCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import { conditionalUpdate, dynamoCall } from '../shared/dynamo-calls.js';
import { classifyAwsError } from '../shared/errors.js';
import { z } from '../shared/z.js';

/**
 * The approvals table: one item per step waiting for a responder, keyed by
 * (incidentId, step). It is the only place a task token is kept. The
 * request-approval function may only put items; the responder API function is
 * the only principal that may read them (its IAM policy, and a deny for
 * everyone else in the table's resource policy). An item expires (DynamoDB
 * TTL on `expiresAt`) at the approval timeout, or as soon as it is decided.
 */

export const APPROVALS_PARTITION_KEY = 'incidentId';
export const APPROVALS_SORT_KEY = 'step';
export const APPROVALS_TTL_ATTRIBUTE = 'expiresAt';
/** Sparse index of waiting steps: only items with `waiting` set appear. */
export const APPROVALS_WAITING_INDEX = 'byWaiting';
export const WAITING = 'WAITING';

export const APPROVAL_STATUSES = ['WAITING', 'APPROVED', 'REJECTED'] as const;
export type ApprovalStatus = (typeof APPROVAL_STATUSES)[number];

export const RecordedApprovalSchema = z.strictObject({
  approver: z.string(),
  at: z.string(),
  reason: z.string(),
});
export type RecordedApproval = z.infer<typeof RecordedApprovalSchema>;

/** What the waiting index projects: everything a responder sees, never the token. */
export const WAITING_INDEX_ATTRIBUTES = [
  'playbook',
  'action',
  'proposal',
  'findingType',
  'severityLabel',
  'account',
  'targetArn',
  'requestedAt',
  'expiresAt',
  'approvalsRequired',
  'approvals',
  'status',
] as const;

export const PendingItemSchema = z.strictObject({
  incidentId: z.string(),
  step: z.string(),
  waiting: z.literal(WAITING).optional(),
  playbook: z.string(),
  action: z.string(),
  proposal: z.string(),
  findingType: z.string(),
  severityLabel: z.string(),
  account: z.string(),
  targetArn: z.string().optional(),
  requestedAt: z.string(),
  /** Epoch seconds (the TTL attribute). */
  expiresAt: z.number().int(),
  approvalsRequired: z.union([z.literal(1), z.literal(2)]),
  approvals: z.array(RecordedApprovalSchema),
  status: z.enum(APPROVAL_STATUSES),
});
export type PendingItem = z.infer<typeof PendingItemSchema>;

export const ApprovalItemSchema = PendingItemSchema.extend({
  /**
   * The task token, sealed (shared/token-seal.ts: KMS, bound to incident and
   * step; only the responder API may decrypt it). Present until the decision
   * is delivered to Step Functions.
   */
  taskToken: z.string().min(1).optional(),
  /**
   * The IAM users and roles the incident is about: none of them may decide
   * (a responder's own role may be the contained one). Items stored before
   * this field existed have none.
   */
  subjects: z.array(z.string()).default([]),
  /** A rollback's requester, who may not approve it. */
  requestedBy: z.string().optional(),
  executionArn: z.string(),
  findingId: z.string(),
  decidedBy: z.string().optional(),
  decidedAt: z.string().optional(),
  reason: z.string().optional(),
  /** The decision reached Step Functions (SendTaskSuccess/Failure returned). */
  delivered: z.boolean().optional(),
});
export type ApprovalItem = z.infer<typeof ApprovalItemSchema>;

export type NewApproval = Omit<
  ApprovalItem,
  'waiting' | 'status' | 'approvals' | 'decidedBy' | 'decidedAt' | 'reason' | 'delivered'
>;

export interface ApprovalStoreDeps {
  readonly client: DynamoDBDocumentClient;
  readonly tableName: string;
}

export class ApprovalStore {
  private readonly client: DynamoDBDocumentClient;
  private readonly tableName: string;

  constructor(deps: ApprovalStoreDeps) {
    this.client = deps.client;
    this.tableName = deps.tableName;
  }

  /**
   * Stores a step's token. A retried request for the same step replaces the
   * token only while the step is still waiting: a decided step is never
   * reopened.
   */
  async put(approval: NewApproval): Promise<void> {
    const item: ApprovalItem = { ...approval, waiting: WAITING, status: 'WAITING', approvals: [] };
    try {
      await this.client.send(
        new PutCommand({
          TableName: this.tableName,
          Item: ApprovalItemSchema.parse(item),
          ConditionExpression: 'attribute_not_exists(#pk) OR #status = :waiting',
          ExpressionAttributeNames: { '#pk': APPROVALS_PARTITION_KEY, '#status': 'status' },
          ExpressionAttributeValues: { ':waiting': WAITING },
        }),
      );
    } catch (error) {
      throw classifyAwsError(error, 'approvals put');
    }
  }

  async get(incidentId: string, step: string): Promise<ApprovalItem | undefined> {
    const out = await dynamoCall('approvals get', () =>
      this.client.send(
        new GetCommand({
          TableName: this.tableName,
          Key: { [APPROVALS_PARTITION_KEY]: incidentId, [APPROVALS_SORT_KEY]: step },
          ConsistentRead: true,
        }),
      ),
    );
    return out.Item ? ApprovalItemSchema.parse(out.Item) : undefined;
  }

  /** Every approval item of one incident (decided ones too, until they expire). */
  async ofIncident(incidentId: string): Promise<ApprovalItem[]> {
    const out = await dynamoCall('approvals query', () =>
      this.client.send(
        new QueryCommand({
          TableName: this.tableName,
          KeyConditionExpression: '#pk = :pk',
          ExpressionAttributeNames: { '#pk': APPROVALS_PARTITION_KEY },
          ExpressionAttributeValues: { ':pk': incidentId },
          ConsistentRead: true,
        }),
      ),
    );
    return (out.Items ?? []).map((item) => ApprovalItemSchema.parse(item));
  }

  /** Steps still waiting, oldest first, read from the index that never holds tokens. */
  async waiting(): Promise<PendingItem[]> {
    const items: PendingItem[] = [];
    for await (const page of this.waitingPages('approvals waiting')) {
      items.push(...(page.Items ?? []).map((item) => PendingItemSchema.parse(item)));
    }
    return items;
  }

  /**
   * How many steps wait for a decision, counted on the waiting index without
   * reading an item (`Select: COUNT`: all the metrics function may do here).
   */
  async countWaiting(): Promise<number> {
    let count = 0;
    for await (const page of this.waitingPages('approvals count waiting', 'COUNT')) {
      count += page.Count ?? 0;
    }
    return count;
  }

  /** Every page of the waiting index, items or (with `COUNT`) counts only. */
  private async *waitingPages(what: string, select?: 'COUNT') {
    let startKey: Record<string, unknown> | undefined;
    do {
      const page = await dynamoCall(what, () =>
        this.client.send(
          new QueryCommand({
            TableName: this.tableName,
            IndexName: APPROVALS_WAITING_INDEX,
            KeyConditionExpression: 'waiting = :waiting',
            ExpressionAttributeValues: { ':waiting': WAITING },
            ...(select === undefined ? {} : { Select: select }),
            ExclusiveStartKey: startKey,
          }),
        ),
      );
      yield page;
      startKey = page.LastEvaluatedKey;
    } while (startKey);
  }

  /**
   * Adds the first of two approvals, only if the step is still waiting with
   * none. False when another decision got there first.
   */
  async addFirstApproval(item: ApprovalItem, approval: RecordedApproval): Promise<boolean> {
    return conditionalUpdate(this.client, this.tableName, 'approvals first approval', {
      Key: keyOf(item),
      UpdateExpression: 'SET approvals = :approvals',
      ConditionExpression: '#status = :waiting AND size(approvals) = :zero',
      ExpressionAttributeNames: { '#status': 'status' },
      ExpressionAttributeValues: { ':approvals': [approval], ':waiting': WAITING, ':zero': 0 },
    });
  }

  /**
   * Settles the step, exactly once: only if it is still waiting with the
   * approvals the caller saw. It leaves the waiting index at once and the
   * table at its expiry (now). The token stays until `delivered`.
   */
  async decide(
    item: ApprovalItem,
    decision: Exclude<ApprovalStatus, 'WAITING'>,
    by: RecordedApproval,
    approvals: readonly RecordedApproval[],
    now: Date,
  ): Promise<boolean> {
    return conditionalUpdate(this.client, this.tableName, 'approvals decide', {
      Key: keyOf(item),
      UpdateExpression:
        'SET #status = :decision, decidedBy = :by, decidedAt = :at, reason = :reason, approvals = :approvals, expiresAt = :expires REMOVE waiting',
      ConditionExpression: '#status = :waiting AND size(approvals) = :seen',
      ExpressionAttributeNames: { '#status': 'status' },
      ExpressionAttributeValues: {
        ':decision': decision,
        ':by': by.approver,
        ':at': by.at,
        ':reason': by.reason,
        ':approvals': approvals,
        ':expires': Math.floor(now.getTime() / 1000),
        ':waiting': WAITING,
        ':seen': item.approvals.length,
      },
    });
  }

  /** The decision reached Step Functions: the token is no longer needed, so it goes. */
  async delivered(item: ApprovalItem): Promise<void> {
    await dynamoCall('approvals delivered', () =>
      this.client.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: keyOf(item),
          UpdateExpression: 'SET delivered = :true REMOVE taskToken',
          ExpressionAttributeValues: { ':true': true },
        }),
      ),
    );
  }
}

function keyOf(item: Pick<ApprovalItem, 'incidentId' | 'step'>) {
  return { [APPROVALS_PARTITION_KEY]: item.incidentId, [APPROVALS_SORT_KEY]: item.step };
}

import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  QueryCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type ApprovalItem, ApprovalStore } from '../../../functions/responder-api/store.js';
import { CircuitBreaker } from '../../../functions/shared/breaker.js';
import { Ledger } from '../../../functions/shared/ledger.js';
import { expectConstantExpressions } from '../../support/dynamodb-expressions.js';
import { hostileString } from '../../support/hostile.js';
import { fakeLedgerMac } from '../../support/ledger-mac.js';

/**
 * The ledger, the approvals table and the circuit breaker, called with
 * hostile text in every argument a finding, a responder or an error could
 * fill: each command they send uses a constant expression, and the text
 * travels as an attribute value, unchanged.
 */

const client = DynamoDBDocumentClient.from(new DynamoDBClient({ region: 'us-east-1' }));
const ddb = mockClient(client);

function answers(): void {
  ddb.reset();
  ddb.on(PutCommand).resolves({});
  ddb.on(QueryCommand).resolves({ Items: [] });
  ddb.on(GetCommand).resolves({});
  ddb.on(UpdateCommand).resolves({ Attributes: { count: 99 } });
}

/** Every attribute value sent, as one searchable text. */
const valuesSent = (): string =>
  JSON.stringify(
    ddb.calls().map((c) => {
      const input = (c.args[0] as { input: Record<string, unknown> }).input;
      return [input.Item, input.Key, input.ExpressionAttributeValues];
    }),
  );

describe('DynamoDB expressions under hostile values', () => {
  it('the ledger claims and appends with constant expressions', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(hostileString, { minLength: 6, maxLength: 6 }),
        async ([incidentId, step, outcome, summary, targetArn, findingId]) => {
          answers();
          const ledger = new Ledger({
            client,
            tableName: 'cordon-ledger',
            now: () => new Date(),
            mac: fakeLedgerMac(),
          });
          const entry = {
            step: step as string,
            action: 'triage',
            actor: 'arn:aws:iam::123456789012:role/cordon/x',
            outcome: outcome as string,
            summary,
            targetArn,
            findingId,
            detail: { note: summary },
          };
          await ledger.claim(incidentId as string, entry);
          await ledger.append(incidentId as string, entry);
          expect(expectConstantExpressions(ddb)).toBeGreaterThan(0);
        },
      ),
      { numRuns: 60 },
    );
  });

  it('the approvals table stores, reads and decides with constant expressions', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(hostileString, { minLength: 6, maxLength: 6 }),
        async ([incidentId, step, proposal, approver, reason, findingType]) => {
          answers();
          const store = new ApprovalStore({ client, tableName: 'cordon-approvals' });
          const base = {
            incidentId: incidentId as string,
            step: step as string,
            subjects: [approver as string],
            taskToken: 'token',
            executionArn: 'arn:aws:states:us-east-1:123456789012:execution:x:y',
            findingId: 'f',
            playbook: 'iam-credentials',
            action: 'quarantine-user',
            proposal: proposal as string,
            findingType: findingType as string,
            severityLabel: 'HIGH',
            account: '123456789012',
            requestedAt: '2026-03-01T10:00:00.000Z',
            expiresAt: 1,
            approvalsRequired: 2 as const,
          };
          await store.put(base);
          await store.get(base.incidentId, base.step);
          await store.ofIncident(base.incidentId);
          await store.waiting();
          const item: ApprovalItem = { ...base, status: 'WAITING', approvals: [] };
          const by = { approver: approver as string, at: 'now', reason: reason as string };
          await store.addFirstApproval(item, by);
          await store.decide(item, 'APPROVED', by, [by], new Date(0));
          await store.delivered(item);
          expect(expectConstantExpressions(ddb)).toBeGreaterThanOrEqual(8);
          expect(valuesSent()).toContain(JSON.stringify(reason).slice(1, -1));
        },
      ),
      { numRuns: 60 },
    );
  });

  it('the circuit breaker counts, trips and resets with constant expressions', async () => {
    await fc.assert(
      fc.asyncProperty(hostileString, hostileString, hostileString, async (incidentId, by, why) => {
        answers();
        const breaker = new CircuitBreaker({
          client,
          tableName: 'cordon-guardrails',
          now: () => new Date(),
        });
        await breaker.count(incidentId, { maxContainments: 1, windowSeconds: 60 });
        // Tripped now: the reset reads the trip, then writes.
        ddb.on(GetCommand).resolves({ Item: { id: 'trip#0', trippedBy: 'x' } });
        expect(await breaker.reset(by, why)).toBe(true);
        expect(expectConstantExpressions(ddb)).toBeGreaterThanOrEqual(4);
        expect(valuesSent()).toContain(JSON.stringify(why).slice(1, -1));
      }),
      { numRuns: 60 },
    );
  });
});

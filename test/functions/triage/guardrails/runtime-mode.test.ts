import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { GetParameterCommand, ParameterNotFound, SSMClient } from '@aws-sdk/client-ssm';
import { type DynamoDBDocumentClient, GetCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { CircuitBreaker } from '../../../../functions/shared/breaker.js';
import { inFlight } from '../../../../functions/shared/in-flight.js';
import type { StepPlan } from '../../../../functions/shared/incident.js';
import {
  applyRuntimeMode,
  checkBreaker,
  RUNTIME_MODE_TTL_MS,
  RuntimeModeSwitch,
  requireApproval,
} from '../../../../functions/triage/guardrails/runtime-mode.js';

const PARAM = '/cordon/mode';
const ssmMock = mockClient(SSMClient);
const ssm = new SSMClient({ region: 'us-east-1' });

const PLAN: Record<string, StepPlan> = {
  disableAccessKey: { mode: 'auto' },
  revokeUserSessions: { mode: 'dry-run' },
  quarantineUser: { mode: 'approve' },
  revokeRoleSessions: { mode: 'off', reason: 'applies to assumed roles only' },
};

describe('RuntimeModeSwitch', () => {
  beforeEach(() => ssmMock.reset());

  it('reads the mode, and trusts it for 30 s before reading again', async () => {
    ssmMock
      .on(GetParameterCommand)
      .resolvesOnce({ Parameter: { Value: 'dry-run' } })
      .resolves({ Parameter: { Value: 'off' } });
    let now = 1_000_000;
    const modes = new RuntimeModeSwitch(ssm, PARAM, () => now, RUNTIME_MODE_TTL_MS);

    const first = await modes.read();
    now += 29_999;
    const cached = await modes.read();
    now += 1;
    const fresh = await modes.read();

    expect([first.mode, cached.mode, fresh.mode]).toEqual(['dry-run', 'dry-run', 'off']);
    expect(ssmMock.commandCalls(GetParameterCommand)).toHaveLength(2);
  });

  it('fails closed to approve-all when the parameter cannot be read', async () => {
    ssmMock
      .on(GetParameterCommand)
      .rejects(new ParameterNotFound({ message: 'no', $metadata: {} }));

    expect(await new RuntimeModeSwitch(ssm, PARAM, Date.now, RUNTIME_MODE_TTL_MS).read()).toEqual({
      mode: 'approve-all',
      failClosedReason:
        'runtime mode /cordon/mode could not be read (ParameterNotFound): every step needs approval',
    });
  });

  it('fails closed to approve-all when the parameter holds anything else', async () => {
    ssmMock.on(GetParameterCommand).resolves({ Parameter: { Value: 'AUTO ' } });

    const reading = await new RuntimeModeSwitch(ssm, PARAM, Date.now, RUNTIME_MODE_TTL_MS).read();

    expect(reading.mode).toBe('approve-all');
    expect(reading.failClosedReason).toContain('holds "AUTO", not one of auto, approve-all');
  });
});

describe('applyRuntimeMode', () => {
  it('auto leaves the plan alone', () => {
    expect(applyRuntimeMode(PLAN, { mode: 'auto' }, PARAM)).toEqual(PLAN);
  });

  it('approve-all makes every auto step wait; dry runs, approvals and off steps stay', () => {
    expect(applyRuntimeMode(PLAN, { mode: 'approve-all' }, PARAM)).toEqual({
      ...PLAN,
      disableAccessKey: { mode: 'approve', reason: 'runtime mode /cordon/mode is approve-all' },
    });
  });

  it('dry-run turns every step that would run into a dry run, approvals too', () => {
    const reason = 'runtime mode /cordon/mode is dry-run';
    expect(applyRuntimeMode(PLAN, { mode: 'dry-run' }, PARAM)).toEqual({
      disableAccessKey: { mode: 'dry-run', reason },
      revokeUserSessions: { mode: 'dry-run', reason },
      quarantineUser: { mode: 'dry-run', reason },
      revokeRoleSessions: PLAN.revokeRoleSessions,
    });
  });

  it('off turns every step off', () => {
    const plan = applyRuntimeMode(PLAN, { mode: 'off' }, PARAM);
    expect(Object.values(plan).map((p) => p.mode)).toEqual(['off', 'off', 'off', 'off']);
    expect(plan.disableAccessKey?.reason).toBe('runtime mode /cordon/mode is off');
  });

  it('names the fail-closed reason when the mode was forced', () => {
    const plan = applyRuntimeMode(
      PLAN,
      { mode: 'approve-all', failClosedReason: 'could not be read' },
      PARAM,
    );
    expect(plan.disableAccessKey).toEqual({ mode: 'approve', reason: 'could not be read' });
  });
});

describe('requireApproval', () => {
  it('turns only auto steps into approvals', () => {
    expect(requireApproval(PLAN, 'breaker')).toEqual({
      ...PLAN,
      disableAccessKey: { mode: 'approve', reason: 'breaker' },
    });
  });
});

/**
 * The guardrails table as DynamoDB behaves for the breaker's three writes:
 * each update is atomic (read, check, write with no await between), while
 * calls interleave at their awaits like concurrent Lambda invocations.
 */
function atomicTable() {
  const items = new Map<string, Record<string, unknown>>();
  const client = {
    send: async (command: unknown) => {
      await new Promise((resolve) => setImmediate(resolve));
      if (command instanceof GetCommand) {
        const item = items.get(String(command.input.Key?.id));
        return { Item: item ? { ...item } : undefined };
      }
      if (!(command instanceof UpdateCommand)) throw new Error('unexpected command');
      const input = command.input;
      const id = String(input.Key?.id);
      const values = input.ExpressionAttributeValues ?? {};
      const item = items.get(id);
      const refuse = () => {
        throw new ConditionalCheckFailedException({ message: 'no', $metadata: {} });
      };
      if (id.startsWith('window#')) {
        const count = Number(item?.count ?? 0) + 1;
        items.set(id, { ...item, id, count });
        return { Attributes: { count } };
      }
      if (id.startsWith('trip#')) {
        // attribute_not_exists(#id): the first trip of a generation only.
        if (item !== undefined) refuse();
        items.set(id, {
          id,
          generation: values[':generation'],
          trippedAt: values[':at'],
          trippedBy: values[':by'],
          count: values[':count'],
        });
        return {};
      }
      // The reset: attribute_not_exists(generation) OR generation = :generation.
      if (item?.generation !== undefined && item.generation !== values[':generation']) refuse();
      items.set(id, { id, generation: values[':next'], resetBy: values[':by'] });
      return {};
    },
  };
  return { client: client as unknown as DynamoDBDocumentClient, items };
}

describe('circuit breaker', () => {
  const limits = { maxContainments: 10, windowSeconds: 3600 };
  const now = () => new Date('2026-11-27T10:00:00.000Z');

  it('trips exactly once when 200 containments count at the same time', async () => {
    const { client } = atomicTable();
    const breaker = new CircuitBreaker({ client, tableName: 'guardrails', now });

    const verdicts = await Promise.all(
      Array.from({ length: 200 }, (_, i) => checkBreaker(breaker, `inc-${i}`, limits)),
    );

    const counted = verdicts.filter((v) => v.status === 'counted');
    const trips = verdicts.filter((v) => v.status === 'holding' && v.trippedNow);
    expect(counted).toHaveLength(10);
    expect(trips).toHaveLength(1);
    expect(verdicts.filter((v) => v.status === 'holding')).toHaveLength(190);
    expect((await breaker.state()).state).toBe('TRIPPED');
  });

  it('counts afresh after a reset, and a reset of a closed breaker is refused', async () => {
    const { client } = atomicTable();
    const breaker = new CircuitBreaker({ client, tableName: 'guardrails', now });
    for (let i = 0; i < 11; i++) await checkBreaker(breaker, `inc-${i}`, limits);

    expect(await breaker.reset('arn:aws:sts::1:assumed-role/R/alice', 'false positives')).toBe(
      true,
    );
    expect(await breaker.reset('arn:aws:sts::1:assumed-role/R/alice', 'again')).toBe(false);
    const next = await checkBreaker(breaker, 'inc-after', limits);

    expect(next).toEqual({ status: 'counted', count: 1 });
    expect(await breaker.state()).toMatchObject({ state: 'CLOSED', generation: 1 });
  });

  it('reads a breaker an earlier version tripped (the trip in its generation item) as tripped, and resets it', async () => {
    const { client, items } = atomicTable();
    items.set('breaker', { id: 'breaker', state: 'TRIPPED', generation: 2, trippedBy: 'inc-9' });
    const breaker = new CircuitBreaker({ client, tableName: 'guardrails', now });

    expect(await breaker.state()).toMatchObject({
      state: 'TRIPPED',
      generation: 2,
      trippedBy: 'inc-9',
    });
    expect(await checkBreaker(breaker, 'inc-10', limits)).toMatchObject({ status: 'holding' });
    expect(await breaker.reset('arn:aws:sts::1:assumed-role/R/alice', 'upgrade')).toBe(true);

    expect(await breaker.state()).toMatchObject({ state: 'CLOSED', generation: 3 });
  });

  it('counts on a state read started ahead, and holds when that read failed', async () => {
    const { client } = atomicTable();
    const breaker = new CircuitBreaker({ client, tableName: 'guardrails', now });
    const throttled = Object.assign(new Error('busy'), { name: 'ThrottlingException' });

    const counted = await checkBreaker(breaker, 'inc-1', limits, breaker.state());
    const held = await checkBreaker(breaker, 'inc-2', limits, inFlight(Promise.reject(throttled)));

    expect(counted).toEqual({ status: 'counted', count: 1 });
    expect(held).toEqual({
      status: 'holding',
      reason: 'circuit breaker could not be read (ThrottlingException): auto steps need approval',
      trippedNow: false,
    });
  });

  it('holds, failing closed, when the breaker cannot be read', async () => {
    const failing = {
      send: async () => {
        throw Object.assign(new Error('busy'), { name: 'ThrottlingException' });
      },
    } as unknown as DynamoDBDocumentClient;
    const breaker = new CircuitBreaker({
      client: failing,
      tableName: 'guardrails',
      now: () => new Date(),
    });

    expect(await checkBreaker(breaker, 'inc-1', limits)).toEqual({
      status: 'holding',
      reason: 'circuit breaker could not be read (Cordon.Throttled): auto steps need approval',
      trippedNow: false,
    });
  });
});

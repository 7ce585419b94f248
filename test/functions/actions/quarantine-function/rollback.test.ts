import 'aws-sdk-client-mock-vitest/extend';
import {
  DeleteFunctionConcurrencyCommand,
  GetFunctionConcurrencyCommand,
  LambdaClient,
  PutFunctionConcurrencyCommand,
} from '@aws-sdk/client-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { rollbackFunctionQuarantine } from '../../../../functions/actions/quarantine-function/rollback.js';
import { APPROVALS, FUNCTION_ARN, fakeLedger } from '../../shared/containment-fixtures.js';
import { containedThenApproved, ROLLBACK_ACTOR } from '../../shared/rollback-fixtures.js';

const lambdaMock = mockClient(LambdaClient);
const lambda = new LambdaClient({ region: 'us-east-1' });

const stopped = (before: number | 'unreserved') => ({
  step: 'stopInvocations',
  action: 'quarantine-function',
  targetArn: FUNCTION_ARN,
  before: { reservedConcurrency: before },
  after: { reservedConcurrency: 0 },
});

function concurrencyIs(value: number | undefined) {
  lambdaMock.on(GetFunctionConcurrencyCommand).resolves({ ReservedConcurrentExecutions: value });
  lambdaMock
    .on(PutFunctionConcurrencyCommand)
    .callsFake((input: { ReservedConcurrentExecutions: number }) => ({
      ReservedConcurrentExecutions: input.ReservedConcurrentExecutions,
    }));
  lambdaMock.on(DeleteFunctionConcurrencyCommand).resolves({});
}

describe('rollback-quarantine-function', () => {
  let fake: ReturnType<typeof fakeLedger>;
  beforeEach(() => {
    lambdaMock.reset();
    fake = fakeLedger();
  });
  const deps = () => ({ lambda, ledger: fake.ledger, actor: ROLLBACK_ACTOR, approvals: APPROVALS });

  it('removes the reservation when the function was unreserved', async () => {
    concurrencyIs(0);
    const input = await containedThenApproved(
      fake,
      'rollback-quarantine-function',
      stopped('unreserved'),
    );

    const result = await rollbackFunctionQuarantine(input, deps());

    expect(result.summary).toBe(
      'set the concurrency of function orders-webhook back to unreserved: invocations run again',
    );
    expect(lambdaMock).toHaveReceivedCommandWith(DeleteFunctionConcurrencyCommand, {
      FunctionName: FUNCTION_ARN,
    });
    expect(lambdaMock).not.toHaveReceivedCommand(PutFunctionConcurrencyCommand);
  });

  it('puts back a recorded reservation', async () => {
    concurrencyIs(0);
    const input = await containedThenApproved(fake, 'rollback-quarantine-function', stopped(25));

    expect((await rollbackFunctionQuarantine(input, deps())).outcome).toBe('ROLLED_BACK');
    expect(lambdaMock).toHaveReceivedCommandWith(PutFunctionConcurrencyCommand, {
      FunctionName: FUNCTION_ARN,
      ReservedConcurrentExecutions: 25,
    });
    expect(fake.entries().at(-1)?.after).toEqual({ reservedConcurrency: 25 });
  });

  it('refuses when the concurrency changed since, and changes nothing', async () => {
    concurrencyIs(5);
    const input = await containedThenApproved(fake, 'rollback-quarantine-function', stopped(25));

    const result = await rollbackFunctionQuarantine(input, deps());

    expect(result.outcome).toBe('ROLLBACK_REFUSED');
    expect(result.summary).toContain('its reserved concurrency is 5 now, Cordon left 0');
    expect(lambdaMock).not.toHaveReceivedCommand(PutFunctionConcurrencyCommand);
  });
});

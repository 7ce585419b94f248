/**
 * Triage's reads that depend on nothing but the finding run together: the
 * incident's ledger entries, the runtime mode and the source's copy of the
 * finding start while IAM is still being asked about the principal. Each
 * keeps the failure handling it had when it ran alone.
 */
import 'aws-sdk-client-mock-vitest/extend';
import { GetUserCommand } from '@aws-sdk/client-iam';
import { GetCommand, PutCommand, QueryCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { describe, expect, it } from 'vitest';
import { documentClient } from '../../../functions/shared/aws.js';
import { CircuitBreaker } from '../../../functions/shared/breaker.js';
import type { TriageDeps } from '../../../functions/triage/triage.js';
import { ddbMock, fixture, iamMock, setup, USER_ARN, userExists } from './helpers.js';
import { runTriage } from './run.js';

/** A promise the test settles, and whether anything is waiting on it yet. */
function gate() {
  let open: () => void = () => undefined;
  const opened = new Promise<void>((resolve) => {
    open = resolve;
  });
  return { open, opened };
}

function withGuardrailCalls(deps: TriageDeps, calls: string[]): TriageDeps {
  const { guardrails } = deps;
  return {
    ...deps,
    guardrails: {
      ...guardrails,
      runtimeMode: {
        parameterName: guardrails.runtimeMode.parameterName,
        read: async () => {
          calls.push('runtime mode');
          return { mode: 'auto' };
        },
      },
      verifySource: async () => {
        calls.push('source');
        return { status: 'verified' };
      },
    },
  };
}

describe('triage reads side by side', () => {
  it('starts the ledger read, the runtime mode and the source re-read before IAM answers', async () => {
    // Arrange: IAM answers only when the test says so.
    const deps = setup();
    const iam = gate();
    const seenBeforeIam: string[] = [];
    const calls: string[] = [];
    iamMock.on(GetUserCommand).callsFake(async () => {
      await iam.opened;
      return {
        User: {
          Path: '/staff/',
          UserName: 'compromised-user',
          UserId: 'AIDAEXAMPLEUSERID0001',
          Arn: USER_ARN,
          CreateDate: new Date('2023-11-02T08:14:55.000Z'),
        },
      };
    });

    // Act
    const triaged = runTriage(fixture('guardduty-iam-user'), withGuardrailCalls(deps, calls));
    await new Promise((resolve) => setTimeout(resolve, 20));
    seenBeforeIam.push(...calls);
    const queriedBeforeIam = ddbMock.commandCalls(QueryCommand).length;
    iam.open();
    const result = await triaged;

    // Assert
    expect(seenBeforeIam.sort()).toEqual(['runtime mode', 'source']);
    expect(queriedBeforeIam).toBe(1);
    expect(result.decision).toBe('PROCEED');
    expect(result.incident.plan.disableAccessKey?.mode).toBe('auto');
    // Nothing was read twice.
    expect(calls.sort()).toEqual(['runtime mode', 'source']);
    expect(ddbMock).toHaveReceivedCommandTimes(QueryCommand, 1);
  });

  it('fails as a ledger read did when the ledger read it started ahead fails', async () => {
    const deps = setup();
    userExists();
    ddbMock
      .on(QueryCommand)
      .rejects(Object.assign(new Error('slow down'), { name: 'ThrottlingException' }));

    const triaged = runTriage(fixture('guardduty-iam-user'), deps);

    await expect(triaged).rejects.toMatchObject({ name: 'Cordon.Throttled' });
    expect(ddbMock).not.toHaveReceivedCommand(UpdateCommand);
  });

  it('holds the automatic steps when the breaker state it read beside the claim cannot be read', async () => {
    // Arrange: the real breaker, over a table that cannot be read.
    const deps = setup();
    userExists();
    ddbMock
      .on(GetCommand)
      .rejects(Object.assign(new Error('slow down'), { name: 'ThrottlingException' }));
    const breaker = new CircuitBreaker({
      client: documentClient(),
      tableName: 'cordon-guardrails',
      now: () => new Date('2024-05-14T09:32:00.000Z'),
    });

    // Act
    const result = await runTriage(fixture('guardduty-iam-user'), {
      ...deps,
      guardrails: { ...deps.guardrails, breaker },
    });

    // Assert
    expect(result.decision).toBe('PROCEED');
    expect(result.reason).toContain('circuit breaker could not be read');
    for (const plan of Object.values(result.incident.plan)) expect(plan.mode).not.toBe('auto');
    expect(ddbMock).not.toHaveReceivedCommand(UpdateCommand);
  });

  it('reads no breaker state for a delivery of an emission already settled', async () => {
    // Arrange: the first delivery claims; the second finds that claim.
    const deps = setup();
    userExists();
    const event = fixture('guardduty-iam-user');
    await runTriage(event, deps);
    const claim = ddbMock.commandCalls(PutCommand)[0]?.args[0].input.Item;
    if (claim === undefined) throw new Error('the first delivery wrote no claim');
    ddbMock.on(QueryCommand).resolves({ Items: [claim] });
    ddbMock.resetHistory();
    const breakerReads: string[] = [];
    const counting: TriageDeps = {
      ...deps,
      guardrails: {
        ...deps.guardrails,
        breaker: {
          state: async () => {
            breakerReads.push('state');
            return { state: 'CLOSED', generation: 0 };
          },
          count: async () => {
            breakerReads.push('count');
            return { status: 'counted', count: 1 };
          },
        },
      },
    };

    // Act
    const result = await runTriage(event, counting);

    // Assert
    expect(result.decision).toBe('DUPLICATE');
    expect(breakerReads).toEqual([]);
  });
});

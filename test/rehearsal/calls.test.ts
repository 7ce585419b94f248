import { Readable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { DynamoDBClient, GetItemCommand } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, PutCommand } from '@aws-sdk/lib-dynamodb';
import { afterEach, describe, expect, it } from 'vitest';
import { sequentialRoundTrips } from '../../bench/latency.js';
import { inTask, outsideTasks, takeTimeline, trace } from '../../rehearsal/calls.js';

/** A DynamoDB client whose every request takes `ms` and answers `{}`, over no network. */
function slowDynamo(ms: number): DynamoDBClient {
  return new DynamoDBClient({
    region: 'us-east-1',
    credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' },
    maxAttempts: 1,
    requestHandler: {
      handle: async () => {
        await sleep(ms);
        return {
          response: {
            statusCode: 200,
            headers: { 'content-type': 'application/x-amz-json-1.0' },
            body: Readable.from([Buffer.from('{}')]),
          },
        };
      },
    },
  });
}

const get = (key: string) => new GetItemCommand({ TableName: 't', Key: { id: { S: key } } });
const EXECUTION = 'arn:aws:states:us-east-1:111122223333:execution:m:e';

let stop: (() => void) | undefined;
afterEach(() => {
  stop?.();
  stop = undefined;
});

describe('rehearsal call tracing', () => {
  it('records concurrent calls as one round trip and sequential ones as one each', async () => {
    // Arrange
    stop = trace();
    const client = slowDynamo(20);

    // Act: three reads at once, then one more after they returned.
    await inTask(EXECUTION, 'triage', async () => {
      await Promise.all([client.send(get('a')), client.send(get('b')), client.send(get('c'))]);
      await client.send(get('d'));
    });
    const timeline = takeTimeline(EXECUTION);

    // Assert
    expect(timeline.starts.map((s) => s.fn)).toEqual(['triage']);
    expect(timeline.calls.map((c) => c.api)).toEqual(Array(4).fill('DynamoDB:GetItem'));
    expect(timeline.calls.every((c) => c.fn === 'triage')).toBe(true);
    expect(sequentialRoundTrips(timeline.calls)).toBe(2);
  });

  it('names a document client call by the low-level operation it sends', async () => {
    stop = trace();
    const documents = DynamoDBDocumentClient.from(slowDynamo(1));

    await inTask(EXECUTION, 'disable-access-key', () =>
      documents.send(new PutCommand({ TableName: 't', Item: { id: 'x' } })),
    );

    expect(takeTimeline(EXECUTION).calls.map((c) => c.api)).toEqual(['DynamoDB:PutItem']);
  });

  it('records no call made outside a Task, or by a responder during one', async () => {
    stop = trace();
    const client = slowDynamo(1);

    await client.send(get('seeding'));
    await inTask(EXECUTION, 'request-approval', () =>
      outsideTasks(() => client.send(get('responder'))),
    );

    const timeline = takeTimeline(EXECUTION);
    expect(timeline.starts).toHaveLength(1);
    expect(timeline.calls).toEqual([]);
  });

  it('records nothing once tracing is stopped', async () => {
    trace()();
    const client = slowDynamo(1);

    await inTask(EXECUTION, 'triage', () => client.send(get('a')));

    expect(takeTimeline(EXECUTION)).toEqual({ starts: [], calls: [] });
  });

  it('records a call that fails, and passes its error on', async () => {
    stop = trace();
    const failing = new DynamoDBClient({
      region: 'us-east-1',
      credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' },
      maxAttempts: 1,
      requestHandler: {
        handle: async () => {
          throw Object.assign(new Error('socket closed'), { name: 'TimeoutError' });
        },
      },
    });

    await expect(inTask(EXECUTION, 'triage', () => failing.send(get('a')))).rejects.toThrow(
      'socket closed',
    );

    expect(takeTimeline(EXECUTION).calls.map((c) => c.api)).toEqual(['DynamoDB:GetItem']);
  });
});

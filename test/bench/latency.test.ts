import { describe, expect, it } from 'vitest';
import { pathLatency, sequentialRoundTrips } from '../../bench/latency.js';
import type { CallRecord, Timeline } from '../../rehearsal/calls.js';

const call = (api: string, start: number, end: number, fn = 'triage'): CallRecord => ({
  api,
  fn,
  start,
  end,
});

describe('sequentialRoundTrips', () => {
  it('counts calls in flight at the same time once', () => {
    // Arrange: four reads started together, returning at different times.
    const calls = [call('a', 0, 5), call('b', 0, 9), call('c', 1, 3), call('d', 2, 8)];

    // Act
    const trips = sequentialRoundTrips(calls);

    // Assert
    expect(trips).toBe(1);
  });

  it('counts each call made after the one before it returned', () => {
    const calls = [call('a', 0, 1), call('b', 1, 2), call('c', 2.5, 4)];

    expect(sequentialRoundTrips(calls)).toBe(3);
  });

  it('counts a chain inside a longer call as the chain', () => {
    // Arrange: a slow read in flight while two calls run one after the other.
    const calls = [call('slow', 0, 10), call('first', 1, 3), call('second', 4, 6)];

    expect(sequentialRoundTrips(calls)).toBe(2);
  });

  it('counts concurrent rounds between sequential ones once each', () => {
    // Arrange: reads together, then a MAC, then a put with a count alongside.
    const calls = [
      call('GetUser', 0, 4),
      call('GetParameter', 0, 2),
      call('GetFindings', 0, 3),
      call('GenerateMac', 4, 5),
      call('PutItem', 5, 6),
      call('UpdateItem', 5.5, 7),
    ];

    expect(sequentialRoundTrips(calls)).toBe(3);
  });

  it('is independent of the order calls are listed in', () => {
    const calls = [call('c', 2.5, 4), call('a', 0, 1), call('b', 1, 2)];

    expect(sequentialRoundTrips(calls)).toBe(3);
    expect(sequentialRoundTrips([])).toBe(0);
  });
});

describe('pathLatency', () => {
  const timeline: Timeline = {
    starts: [
      { fn: 'triage', at: 0 },
      { fn: 'disable-access-key', at: 10 },
      { fn: 'notify', at: 30 },
    ],
    calls: [
      call('IAM:GetUser', 1, 3),
      call('SSM:GetParameter', 1, 2),
      call('DynamoDB:PutItem', 4, 5),
      call('DynamoDB:Query', 11, 12, 'disable-access-key'),
      call('IAM:ListAccessKeys', 11, 13, 'disable-access-key'),
      call('IAM:UpdateAccessKey', 14, 15, 'disable-access-key'),
      // In flight while the key was disabled: not before it.
      call('DynamoDB:Query', 13.5, 16, 'disable-access-key'),
      call('DynamoDB:PutItem', 16, 17, 'disable-access-key'),
      call('IAM:UpdateAccessKey', 18, 19, 'disable-access-key'),
      call('SNS:Publish', 31, 32, 'notify'),
    ],
  };

  it('counts the starts and the round trips that returned before the first containment write', () => {
    const latency = pathLatency(timeline, ['IAM:UpdateAccessKey']);

    expect(latency.firstWrite).toBe('IAM:UpdateAccessKey');
    expect(latency.toFirstWrite).toEqual({ starts: 2, roundTrips: 3 });
  });

  it('counts every start and every round trip to the end', () => {
    const latency = pathLatency(timeline, ['IAM:UpdateAccessKey']);

    // GetUser, PutItem, ListAccessKeys, UpdateAccessKey (or the Query beside it), PutItem,
    // UpdateAccessKey, Publish.
    expect(latency.toEnd).toEqual({ starts: 3, roundTrips: 7 });
  });

  it('reports no first write on a path that makes none', () => {
    const latency = pathLatency(timeline, ['EC2:ModifyInstanceAttribute']);

    expect(latency.firstWrite).toBeUndefined();
    expect(latency.toFirstWrite).toBeUndefined();
    expect(latency.toEnd.starts).toBe(3);
  });
});

/**
 * The anchor function's core with client mocks: what it writes for each kind
 * of stream record, and that a failed write fails the batch (so the stream
 * retries it) instead of skipping an anchor. Against real moto streams and an
 * Object Lock bucket: test/integration/ledger-verify.test.ts.
 */
import 'aws-sdk-client-mock-vitest/extend';
import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { anchorKey } from '../../../functions/anchor/contract.js';
import {
  type AnchorDeps,
  anchorRecords,
  StreamEventSchema,
} from '../../../functions/anchor/core.js';
import { forms } from '../../support/notices.js';

const INCIDENT = 'inc-0123456789abcdef0123';
const HASH = 'ab'.repeat(32);
const s3Mock = mockClient(S3Client);
const snsMock = mockClient(SNSClient);

const deps = (): AnchorDeps => ({
  s3: new S3Client({ region: 'us-east-1' }),
  sns: new SNSClient({ region: 'us-east-1' }),
  bucket: 'anchors',
  topicArn: 'arn:aws:sns:us-east-1:123456789012:cordon',
  actor: 'arn:aws:iam::123456789012:role/cordon/Anchor',
});

const image = (seq: number, hash: string | null = HASH) => ({
  incidentId: { S: INCIDENT },
  seq: { N: String(seq) },
  ...(hash === null ? {} : { hash: { S: hash } }),
  mac: { S: 'bWFj' },
  at: { S: '2026-12-05T02:00:00.000Z' },
});

const record = (
  eventName: 'INSERT' | 'MODIFY' | 'REMOVE',
  seq: number,
  images: { NewImage?: unknown; OldImage?: unknown },
) => ({
  eventID: `ev-${eventName}-${seq}`,
  eventName,
  eventSource: 'aws:dynamodb',
  dynamodb: {
    Keys: { incidentId: { S: INCIDENT }, seq: { N: String(seq) } },
    ApproximateCreationDateTime: 1_780_000_000,
    ...images,
  },
});

beforeEach(() => {
  s3Mock.reset();
  snsMock.reset();
  s3Mock.on(PutObjectCommand).resolves({});
  snsMock.on(PublishCommand).resolves({});
});

describe('anchorRecords', () => {
  it('anchors an inserted entry under its incident, sequence number and hash, and notifies nothing', async () => {
    const event = StreamEventSchema.parse({
      Records: [record('INSERT', 3, { NewImage: image(3) })],
    });

    const result = await anchorRecords(event, deps());

    expect(result).toEqual({ anchored: 1, tampering: 0 });
    expect(s3Mock).toHaveReceivedCommandWith(PutObjectCommand, {
      Bucket: 'anchors',
      Key: anchorKey({ incidentId: INCIDENT, seq: 3, hash: HASH }),
    });
    expect(snsMock).not.toHaveReceivedCommand(PublishCommand);
  });

  it('records a rewrite and a removal with the entry as it was, and notifies each', async () => {
    const event = StreamEventSchema.parse({
      Records: [
        record('MODIFY', 1, { OldImage: image(1), NewImage: image(1, 'cd'.repeat(32)) }),
        record('REMOVE', 2, { OldImage: image(2) }),
      ],
    });

    const result = await anchorRecords(event, deps());

    expect(result).toEqual({ anchored: 0, tampering: 2 });
    const keys = s3Mock.commandCalls(PutObjectCommand).map((c) => c.args[0].input.Key);
    expect(keys).toEqual([
      `tampering/${INCIDENT}/0000000001.MODIFY.ev-MODIFY-1.json`,
      `tampering/${INCIDENT}/0000000002.REMOVE.ev-REMOVE-2.json`,
    ]);
    const body = JSON.parse(String(s3Mock.commandCalls(PutObjectCommand)[0]?.args[0].input.Body));
    expect(body).toMatchObject({ event: 'MODIFY', seq: 1, oldImage: { hash: { S: HASH } } });
    const messages = snsMock.commandCalls(PublishCommand).map((c) => forms(c.args[0].input).text);
    expect(messages).toEqual([
      expect.stringContaining(`ledger entry #1 of ${INCIDENT} was rewritten`),
      expect.stringContaining(`ledger entry #2 of ${INCIDENT} was deleted`),
    ]);
  });

  it('records and notifies an insert with no hash instead of anchoring it', async () => {
    const event = StreamEventSchema.parse({
      Records: [record('INSERT', 0, { NewImage: image(0, null) })],
    });

    const result = await anchorRecords(event, deps());

    expect(result).toEqual({ anchored: 0, tampering: 1 });
    expect(snsMock).toHaveReceivedCommandTimes(PublishCommand, 1);
  });

  it('fails the batch on a write it cannot make, retryable when S3 is throttling, so no anchor is skipped', async () => {
    s3Mock
      .on(PutObjectCommand)
      .rejects(Object.assign(new Error('slow down'), { name: 'SlowDown' }));
    const event = StreamEventSchema.parse({
      Records: [record('INSERT', 0, { NewImage: image(0) })],
    });

    await expect(anchorRecords(event, deps())).rejects.toMatchObject({ name: 'Cordon.Throttled' });
  });
});

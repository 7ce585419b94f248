import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import { clientOptions, s3ClientOptions } from '../shared/aws.js';
import { boot } from '../shared/boot.js';
import { type Environment, requireEnv } from '../shared/env.js';
import { classifyAwsError } from '../shared/errors.js';
import { taskHandler } from '../shared/handler.js';
import { publishInput } from '../shared/notice.js';
import { ENV } from '../shared/runtime-config.js';
import { z } from '../shared/z.js';
import { type Anchor, anchorKey, type Tampering, tamperingKey } from './contract.js';

/**
 * The anchor function: reads the ledger table's stream and writes, for each
 * entry inserted, its anchor (incident, sequence number, hash, MAC) to the
 * Object Lock bucket (./contract.ts). A rewrite (MODIFY) or removal (REMOVE)
 * of an entry, which nothing in Cordon makes, is written there too, as a
 * tampering record holding the entry as it was, and notified. It never
 * deletes or overwrites anything: its role may only put objects, and the
 * bucket's compliance retention would refuse the rest anyway.
 */

/** A DynamoDB string or number attribute, as the stream carries it. */
const S = z.looseObject({ S: z.string() });
const N = z.looseObject({ N: z.string().regex(/^\d+$/) });

/** An entry image: only the attributes an anchor holds are read; the rest passes through. */
const ImageSchema = z.looseObject({
  incidentId: S,
  seq: N,
  hash: S.optional(),
  mac: S.optional(),
  at: S.optional(),
});

/** A stream record: AWS adds fields over time, so unknown ones pass. */
const RecordSchema = z.looseObject({
  eventID: z.string().regex(/^[A-Za-z0-9-]{1,128}$/),
  eventName: z.enum(['INSERT', 'MODIFY', 'REMOVE']),
  dynamodb: z.looseObject({
    Keys: z.looseObject({ incidentId: S, seq: N }),
    NewImage: ImageSchema.optional(),
    OldImage: ImageSchema.optional(),
    ApproximateCreationDateTime: z.number().optional(),
  }),
});
export type StreamRecord = z.infer<typeof RecordSchema>;

export const StreamEventSchema = z.looseObject({ Records: z.array(RecordSchema) });
export type StreamEvent = z.infer<typeof StreamEventSchema>;

const HASH = /^[0-9a-f]{64}$/;

export interface AnchorDeps {
  readonly s3: S3Client;
  readonly sns: SNSClient;
  readonly bucket: string;
  readonly topicArn: string;
  /** The function's role ARN, named in what it notifies. */
  readonly actor: string;
}

export interface AnchorResult {
  /** Entries anchored. */
  readonly anchored: number;
  /** Rewrites, removals and unanchorable inserts recorded and notified. */
  readonly tampering: number;
}

/** The anchor of an inserted entry, or undefined when its image has no hash to anchor. */
function anchorOf(image: z.infer<typeof ImageSchema>): Anchor | undefined {
  const hash = image.hash?.S;
  if (hash === undefined || !HASH.test(hash)) return undefined;
  return {
    incidentId: image.incidentId.S,
    seq: Number(image.seq.N),
    hash,
    ...(image.mac ? { mac: image.mac.S } : {}),
    ...(image.at ? { at: image.at.S } : {}),
  };
}

async function put(deps: AnchorDeps, key: string, body: unknown): Promise<void> {
  try {
    await deps.s3.send(
      new PutObjectCommand({
        Bucket: deps.bucket,
        Key: key,
        Body: JSON.stringify(body),
        ContentType: 'application/json',
      }),
    );
  } catch (error) {
    throw classifyAwsError(error, 'anchor write');
  }
}

async function notify(deps: AnchorDeps, subject: string, message: string): Promise<void> {
  try {
    await deps.sns.send(
      new PublishCommand(
        publishInput(deps.topicArn, {
          subject,
          text: message,
          title: 'Cordon ledger: tampering detected',
          kind: 'LEDGER_TAMPERING',
          nextSteps: ['npx cordon ledger verify'],
        }),
      ),
    );
  } catch (error) {
    throw classifyAwsError(error, 'notify');
  }
}

/** What a tampering record and its notification say about one record. */
function tamperingOf(record: StreamRecord): { tampering: Tampering; what: string } {
  const { Keys } = record.dynamodb;
  const incidentId = Keys.incidentId.S;
  const seq = Number(Keys.seq.N);
  if (record.eventName === 'INSERT') {
    // Only reached for an insert with no hash: recorded as a rewrite of that key.
    return {
      tampering: { incidentId, seq, event: 'MODIFY' },
      what: `ledger entry #${seq} of ${incidentId} was written without a hash`,
    };
  }
  const verb = record.eventName === 'MODIFY' ? 'rewritten' : 'deleted';
  return {
    tampering: { incidentId, seq, event: record.eventName },
    what: `ledger entry #${seq} of ${incidentId} was ${verb}`,
  };
}

/**
 * Anchors every insert and records every rewrite or removal, in stream
 * order. A failed write throws, so Lambda retries the batch: an anchor is
 * never skipped, only written late (twice at worst: same key, same body).
 */
export async function anchorRecords(event: StreamEvent, deps: AnchorDeps): Promise<AnchorResult> {
  let anchored = 0;
  let tampering = 0;
  for (const record of event.Records) {
    const image = record.dynamodb.NewImage;
    const anchor = record.eventName === 'INSERT' && image ? anchorOf(image) : undefined;
    if (anchor) {
      await put(deps, anchorKey(anchor), anchor);
      anchored++;
      continue;
    }
    const { tampering: t, what } = tamperingOf(record);
    const when = record.dynamodb.ApproximateCreationDateTime;
    await put(deps, tamperingKey(t, record.eventID), {
      ...t,
      eventId: record.eventID,
      ...(when === undefined ? {} : { at: new Date(when * 1000).toISOString() }),
      oldImage: record.dynamodb.OldImage ?? null,
      newImage: record.dynamodb.NewImage ?? null,
    });
    await notify(
      deps,
      'Cordon: ledger entry tampered with',
      `${what}. Cordon never changes or deletes a ledger entry: something with write access to the ledger table did. The entry as it was is kept in s3://${deps.bucket}/${tamperingKey(t, record.eventID)}; run cordon ledger verify --incident ${t.incidentId}. (reported by ${deps.actor})`,
    );
    tampering++;
  }
  return { anchored, tampering };
}

export function makeHandler(
  env: Environment,
  clients = {
    s3: new S3Client(s3ClientOptions()),
    sns: new SNSClient(clientOptions),
  },
) {
  const { logger, actor } = boot(env, 'anchor');
  const deps: AnchorDeps = {
    ...clients,
    actor,
    bucket: requireEnv(env, ENV.anchorsBucket),
    topicArn: requireEnv(env, ENV.topicArn),
  };
  return taskHandler(logger, StreamEventSchema, async (event) => {
    const result = await anchorRecords(event, deps);
    if (result.tampering > 0) logger.error('ledger tampering recorded', { ...result });
    else logger.info('ledger entries anchored', { ...result });
    return result;
  });
}

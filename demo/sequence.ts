import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import type { PublicBucket } from './exposure.js';
import type { CompromisedUser, ExfiltratedRole, FindingOptions } from './scenario.js';

/**
 * A GuardDuty attack sequence (Extended Threat Detection) over what the demo
 * seeded: the fixture `guardduty-attack-sequence-credentials.json` (shaped
 * after GuardDuty's API reference: Sequence, Actor, User, ResourceV2) with
 * its actors and resources re-aimed. The signals, endpoints and indicators
 * stay the fixture's; Cordon reads actors and resources only.
 */

const FIXTURE = join(
  dirname(fileURLToPath(import.meta.url)),
  '..',
  'test',
  'fixtures',
  'events',
  'guardduty-attack-sequence-credentials.json',
);

const SequenceEvent = z.looseObject({
  account: z.string(),
  region: z.string(),
  detail: z.looseObject({
    id: z.string(),
    accountId: z.string(),
    region: z.string(),
    type: z.string(),
    updatedAt: z.string(),
    service: z.looseObject({
      detection: z.looseObject({
        sequence: z.looseObject({ uid: z.string(), actors: z.array(z.unknown()) }),
      }),
    }),
  }),
});

/** What a sequence names: its actors' credentials, and the resources it touched. */
export interface SequenceScene {
  readonly users?: readonly CompromisedUser[];
  readonly roles?: readonly ExfiltratedRole[];
  readonly instanceIds?: readonly string[];
  readonly buckets?: readonly PublicBucket[];
  /** An EKS cluster the sequence names, which Cordon lists as not contained. */
  readonly eksCluster?: string;
}

export interface SequenceOptions extends FindingOptions {
  /** @default the fixture's `AttackSequence:IAM/CompromisedCredentials` */
  readonly type?: string;
  readonly sequenceUid?: string;
}

/** The sequence naming `scene`, as EventBridge delivers GuardDuty's finding. */
export function attackSequenceFinding(scene: SequenceScene, opts: SequenceOptions = {}) {
  const event = SequenceEvent.parse(JSON.parse(readFileSync(FIXTURE, 'utf8')));
  const account = opts.account ?? event.account;
  const region = opts.region ?? event.region;
  const resource = (resourceType: string, uid: string, name: string) => ({
    uid,
    name,
    accountId: account,
    resourceType,
    region,
    cloudPartition: 'aws',
  });
  const actors = [
    ...(scene.users ?? []).map((user, i) => ({
      id: `user-${i + 1}`,
      user: {
        name: user.userName,
        uid: user.userId,
        type: 'IAMUser',
        credentialUid: user.leakedKeyId,
        account: { uid: account },
      },
    })),
    ...(scene.roles ?? []).map((role, i) => ({
      id: `role-${i + 1}`,
      user: {
        name: role.roleName,
        uid: `${role.roleId}:i-0a1b2c3d4e5f67890`,
        type: 'AssumedRole',
        credentialUid: 'ASIAEXAMPLETEMPKEY01',
        account: { uid: account },
      },
    })),
  ];
  const resources = [
    ...(scene.users ?? []).map((user) =>
      resource('ACCESS_KEY', user.leakedKeyId, user.leakedKeyId),
    ),
    ...(scene.instanceIds ?? []).map((id) => resource('EC2_INSTANCE', id, id)),
    ...(scene.buckets ?? []).map((bucket) => resource('S3_BUCKET', bucket.arn, bucket.name)),
    ...(scene.eksCluster === undefined
      ? []
      : [
          resource(
            'EKS_CLUSTER',
            `arn:aws:eks:${region}:${account}:cluster/${scene.eksCluster}`,
            scene.eksCluster,
          ),
        ]),
  ];
  const { detail } = event;
  const { sequence } = detail.service.detection;
  return {
    ...event,
    account: opts.deliveredTo ?? account,
    region,
    detail: {
      ...detail,
      accountId: account,
      region,
      id: opts.findingId ?? detail.id,
      type: opts.type ?? detail.type,
      updatedAt: opts.updatedAt ?? detail.updatedAt,
      service: {
        ...detail.service,
        detection: {
          ...detail.service.detection,
          sequence: { ...sequence, uid: opts.sequenceUid ?? sequence.uid, actors, resources },
        },
      },
    },
  };
}

/**
 * GuardDuty attack sequences (Extended Threat Detection), natively and as
 * Security Hub imports them: every actor and resource is validated, what a
 * containment could act on is capped, and what it may not act on is listed
 * with why. The fixtures follow GuardDuty's API reference (Sequence, Actor,
 * User, ResourceV2, Signal, Indicator) and Security Hub's (Sequence, Actor,
 * ActorUser): test/fixtures/events/README.md.
 */
import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { InvalidFindingError } from '../../../../functions/shared/errors.js';
import { BUCKET_NAME, IAM_NAME, INSTANCE_ID } from '../../../../functions/triage/parse/arn.js';
import { attackSequence } from '../../../../functions/triage/parse/guardduty.js';
import { parseFindingEvent } from '../../../../functions/triage/parse/index.js';
import { SecurityHubEventSchema } from '../../../../functions/triage/parse/schemas/asff.js';
import { GuardDutyEventSchema } from '../../../../functions/triage/parse/schemas/guardduty.js';
import { isGuardDutyProduct } from '../../../../functions/triage/parse/securityhub.js';
import { securityHubAttackSequence } from '../../../../functions/triage/parse/securityhub-sequence.js';
import {
  type ClaimedSequence,
  describeSequence,
  SEQUENCE_ACT_LIMIT,
} from '../../../../functions/triage/parse/sequence.js';
import { ACCOUNT, fixture, valueAt, withValue } from '../helpers.js';

const SEQUENCE = ['detail', 'service', 'detection', 'sequence'] as const;
const RESOURCES = [...SEQUENCE, 'resources'] as const;
const OTHER_ACCOUNT = '210987654321';

function nativeSequence(event: unknown): ClaimedSequence | undefined {
  return attackSequence(GuardDutyEventSchema.parse(event).detail);
}

function asffSequence(event: unknown): ClaimedSequence | undefined {
  return securityHubAttackSequence(event, SecurityHubEventSchema.parse(event), isGuardDutyProduct)
    ?.sequence;
}

function rejection(read: () => unknown): string {
  try {
    read();
  } catch (error) {
    if (error instanceof InvalidFindingError) return error.message;
    throw error;
  }
  throw new Error('expected InvalidFindingError');
}

function instances(count: number, extra: Record<string, unknown> = {}) {
  return Array.from({ length: count }, (_, i) => ({
    uid: `i-${i.toString(16).padStart(17, '0')}`,
    resourceType: 'EC2_INSTANCE',
    accountId: ACCOUNT,
    region: 'us-east-1',
    ...extra,
  }));
}

describe('GuardDuty attack sequences, natively', () => {
  it('puts forward the actors credentials and the bucket, and refuses the bucket of another account', () => {
    // Act
    const sequence = nativeSequence(fixture('guardduty-attack-sequence-credentials'));

    // Assert
    expect(sequence?.signals).toBe(3);
    expect(sequence?.members).toEqual([
      {
        kind: 'principal',
        principal: {
          kind: 'IAMUser',
          name: 'compromised-user',
          principalId: 'AIDAEXAMPLEUSERID0001',
          accessKeyId: 'AKIAIOSFODNN7EXAMPLE',
        },
      },
      {
        kind: 'principal',
        principal: {
          kind: 'AssumedRole',
          name: 'exfiltrated-role',
          principalId: 'AROAEXAMPLEROLEID0001:i-0abc123def4567890',
          accessKeyId: 'ASIAEXAMPLETEMPKEY01',
        },
      },
      { kind: 'bucket', name: 'example-reports-bucket' },
    ]);
    // The access key resource is the first actor's key: listed once, as that actor.
    expect(sequence?.notActedOn).toEqual([
      {
        what: 'S3_BUCKET',
        id: 'arn:aws:s3:::partner-shared-bucket',
        reason: `refused: account ${OTHER_ACCOUNT} is not the finding's account ${ACCOUNT}`,
      },
    ]);
  });

  it('puts forward an instance group by id or ARN, and lists what it cannot contain with the AWS guide', () => {
    // Act
    const sequence = nativeSequence(fixture('guardduty-attack-sequence-instance-group'));

    // Assert
    expect(sequence?.members).toEqual([
      {
        kind: 'principal',
        principal: {
          kind: 'AssumedRole',
          name: 'web-app-role',
          principalId: 'AROAEXAMPLEROLEID0002:i-0abc123def4567890',
          accessKeyId: 'ASIAEXAMPLETEMPKEY02',
        },
      },
      { kind: 'instance', instanceId: 'i-0abc123def4567890' },
      { kind: 'instance', instanceId: 'i-0abc123def4567891' },
    ]);
    const notActedOn = sequence?.notActedOn ?? [];
    expect(notActedOn.map((n) => [n.what, n.guide])).toEqual([
      ['EC2_INSTANCE', undefined],
      ['IAM_INSTANCE_PROFILE', undefined],
      [
        'EKS_CLUSTER',
        'https://docs.aws.amazon.com/guardduty/latest/ug/guardduty-remediate-kubernetes.html',
      ],
      ['ECS_TASK', 'https://docs.aws.amazon.com/guardduty/latest/ug/compromised-ecs.html'],
    ]);
    expect(notActedOn[0]?.reason).toBe(
      "refused: region us-west-2 is not the finding's region us-east-1",
    );
  });

  it("is the attack-sequence playbook's, with or without a playbook to parse it for", () => {
    // Act
    const chosen = parseFindingEvent(fixture('guardduty-attack-sequence-credentials'));
    const forIt = parseFindingEvent(
      fixture('guardduty-attack-sequence-credentials'),
      'attack-sequence',
    );
    const forKeys = parseFindingEvent(
      fixture('guardduty-attack-sequence-credentials'),
      'iam-credentials',
    );

    // Assert
    for (const parsed of [chosen, forIt]) {
      if (parsed.status !== 'sequence')
        throw new Error(`expected a sequence, got ${parsed.status}`);
      expect(parsed.finding.playbook).toBe('attack-sequence');
      expect(describeSequence(parsed.finding.findingType, parsed.finding.sequence)).toBe(
        'AttackSequence:IAM/CompromisedCredentials (3 signals): 2 principals, 0 instances and 1 bucket Cordon could contain; 1 member not acted on',
      );
    }
    expect(forKeys).toMatchObject({ status: 'unhandled', reason: 'other-playbook' });
  });

  it('reads a sequence finding without a sequence (as some stored copies are) as unhandled', () => {
    // Arrange
    const event = withValue(
      fixture('guardduty-attack-sequence-credentials'),
      ['detail', 'service', 'detection'],
      undefined,
    );

    // Act
    const parsed = parseFindingEvent(event);

    // Assert
    expect(parsed).toMatchObject({ status: 'unhandled', reason: 'unhandled-resource' });
    expect(parsed.status === 'unhandled' ? parsed.message : '').toMatch(
      /holds no service\.detection\.sequence/,
    );
  });

  it(`caps what one approval may act on at ${SEQUENCE_ACT_LIMIT} and lists the rest as not acted on`, () => {
    // Arrange: the API reference's maximum of 400 resources, every one an instance.
    const event = withValue(
      fixture('guardduty-attack-sequence-instance-group'),
      [...RESOURCES],
      instances(400),
    );

    // Act
    const sequence = nativeSequence(event);

    // Assert: the actor, then the first instances; the rest not acted on, each said so.
    expect(sequence?.members).toHaveLength(SEQUENCE_ACT_LIMIT);
    expect(sequence?.members.filter((m) => m.kind === 'instance')).toHaveLength(
      SEQUENCE_ACT_LIMIT - 1,
    );
    expect(sequence?.notActedOn).toHaveLength(400 - (SEQUENCE_ACT_LIMIT - 1));
    expect(new Set(sequence?.notActedOn.map((n) => n.reason))).toEqual(
      new Set([`beyond the ${SEQUENCE_ACT_LIMIT} members one approval may act on`]),
    );
  });

  it('refuses a sequence longer than the API reference allows', () => {
    // Arrange
    const event = withValue(
      fixture('guardduty-attack-sequence-instance-group'),
      [...RESOURCES],
      instances(401),
    );

    // Act / Assert
    expect(rejection(() => parseFindingEvent(event))).toMatch(
      /detail\.service\.detection\.sequence\.resources/,
    );
  });

  it('lists a resource once however often the sequence names it', () => {
    // Arrange
    const [one] = instances(1);
    const event = withValue(
      fixture('guardduty-attack-sequence-instance-group'),
      [...RESOURCES],
      [one, one, { ...one, uid: `arn:aws:ec2:us-east-1:${ACCOUNT}:instance/${one?.uid}` }],
    );

    // Act
    const sequence = nativeSequence(event);

    // Assert
    expect(sequence?.members.filter((m) => m.kind === 'instance')).toEqual([
      { kind: 'instance', instanceId: one?.uid },
    ]);
  });

  it('lists root and principal types Cordon does not contain as not acted on', () => {
    // Arrange
    const event = withValue(
      fixture('guardduty-attack-sequence-credentials'),
      [...SEQUENCE, 'actors'],
      [
        { id: 'a', user: { name: 'Root', uid: ACCOUNT, type: 'Root' } },
        { id: 'b', user: { name: 'partner', uid: `${ACCOUNT}:partner`, type: 'FederatedUser' } },
      ],
    );

    // Act
    const sequence = nativeSequence(event);

    // Assert
    expect(sequence?.members.filter((m) => m.kind === 'principal')).toEqual([]);
    expect(sequence?.notActedOn.map((n) => n.reason)).toEqual(
      expect.arrayContaining([
        'IAM cannot restrict root credentials: notify only',
        'Cordon does not contain principal type FederatedUser',
      ]),
    );
  });
});

describe('GuardDuty attack sequences: what a forged or mangled sequence gets', () => {
  it('refuses an instance whose ARN names another account, whatever its accountId says', () => {
    // Arrange: a finding forger points the sequence at another account's instance.
    const event = withValue(
      fixture('guardduty-attack-sequence-instance-group'),
      [...RESOURCES],
      [
        {
          uid: `arn:aws:ec2:us-east-1:${OTHER_ACCOUNT}:instance/i-0abc123def4567899`,
          resourceType: 'EC2_INSTANCE',
          accountId: ACCOUNT,
        },
        { uid: 'i-0abc123def4567898', resourceType: 'EC2_INSTANCE', accountId: OTHER_ACCOUNT },
      ],
    );

    // Act
    const sequence = nativeSequence(event);

    // Assert
    expect(sequence?.members.filter((m) => m.kind === 'instance')).toEqual([]);
    expect(sequence?.notActedOn.map((n) => n.reason)).toEqual([
      `refused: account ${OTHER_ACCOUNT} is not the finding's account ${ACCOUNT}`,
      `refused: account ${OTHER_ACCOUNT} is not the finding's account ${ACCOUNT}`,
    ]);
  });

  it('lists an instance that does not parse as not acted on, and still puts the others forward', () => {
    // Arrange: an id no instance can have (a name someone chose, say).
    const event = withValue(
      fixture('guardduty-attack-sequence-instance-group'),
      [...RESOURCES, 1, 'uid'],
      'i-0abc; aws ec2 terminate-instances',
    );

    // Act
    const sequence = nativeSequence(event);

    // Assert
    expect(sequence?.notActedOn).toContainEqual({
      what: 'EC2_INSTANCE',
      id: 'i-0abc; aws ec2 terminate-instances',
      reason:
        'not acted on: GuardDuty finding has an invalid detail.service.detection.sequence.resources[1].uid: not an EC2 instance id or ARN',
    });
    expect(sequence?.members.map((m) => m.kind)).toEqual(['principal', 'instance']);
    expect(parseFindingEvent(event)).toMatchObject({ status: 'sequence' });
  });

  it('lists a bucket whose name S3 no longer allows (a legacy name) as not acted on, not the whole sequence', () => {
    // Arrange
    const event = withValue(
      fixture('guardduty-attack-sequence-credentials'),
      [...RESOURCES, 1, 'uid'],
      'arn:aws:s3:::Legacy_Bucket',
    );

    // Act
    const sequence = nativeSequence(event);

    // Assert
    expect(sequence?.notActedOn).toContainEqual(
      expect.objectContaining({
        what: 'S3_BUCKET',
        id: 'arn:aws:s3:::Legacy_Bucket',
        reason: expect.stringContaining('not an S3 bucket name or ARN'),
      }),
    );
    expect(sequence?.members.map((m) => m.kind)).toEqual(['principal', 'principal']);
  });

  it("refuses an actor of another account, whose name would find a namesake in the finding's, and still bars it from deciding", () => {
    // Arrange
    const event = withValue(
      fixture('guardduty-attack-sequence-credentials'),
      [...SEQUENCE, 'actors', 1, 'user', 'account', 'uid'],
      OTHER_ACCOUNT,
    );

    // Act
    const sequence = nativeSequence(event);

    // Assert
    expect(sequence?.notActedOn).toContainEqual({
      what: 'actor',
      id: 'AssumedRole/exfiltrated-role',
      reason: `refused: account ${OTHER_ACCOUNT} is not the finding's account ${ACCOUNT}`,
    });
    const names = sequence?.members.flatMap((m) =>
      m.kind === 'principal' ? [m.principal.name] : [],
    );
    expect(names).toEqual(['compromised-user']);
    expect(sequence?.principals).toContainEqual({
      kind: 'AssumedRole',
      name: 'exfiltrated-role',
      account: OTHER_ACCOUNT,
    });
  });

  it('lists an actor with no IAM name as not acted on, and never acts on it', () => {
    // Arrange
    const event = withValue(
      fixture('guardduty-attack-sequence-credentials'),
      [...SEQUENCE, 'actors', 0, 'user', 'name'],
      'user/../../role/admin',
    );

    // Act
    const sequence = nativeSequence(event);

    // Assert
    expect(sequence?.notActedOn).toContainEqual({
      what: 'actor',
      id: 'user/../../role/admin',
      reason:
        'not acted on: GuardDuty finding has an invalid detail.service.detection.sequence.actors[0].user.name: not an IAM name',
    });
    const names = sequence?.members.flatMap((m) =>
      m.kind === 'principal' ? [m.principal.name] : [],
    );
    expect(names).toEqual(['exfiltrated-role']);
    expect(sequence?.principals.map((p) => p.name)).not.toContain('user/../../role/admin');
  });

  it('refuses a sequence whose resources lack what the API reference requires', () => {
    // Arrange
    const event = withValue(
      fixture('guardduty-attack-sequence-credentials'),
      [...RESOURCES, 0, 'resourceType'],
      undefined,
    );

    // Act / Assert
    expect(rejection(() => parseFindingEvent(event))).toBe(
      'GuardDuty finding is missing detail.service.detection.sequence.resources[0].resourceType',
    );
  });
});

describe('GuardDuty attack sequences, through Security Hub (ASFF)', () => {
  it('reads the same actors and bucket as the native form', () => {
    // Act
    const native = nativeSequence(fixture('guardduty-attack-sequence-credentials'));
    const asff = asffSequence(fixture('securityhub-attack-sequence-credentials'));

    // Assert
    expect(asff?.members).toEqual(native?.members);
    expect(asff?.uid).toBe(native?.uid);
    expect(asff?.notActedOn).toEqual([]);
  });

  it("says, unhandled, that it is GuardDuty's sequence and what it names", () => {
    // Act
    const parsed = parseFindingEvent(fixture('securityhub-attack-sequence-credentials'));

    // Assert
    expect(parsed).toMatchObject({ status: 'unhandled', reason: 'guardduty-through-security-hub' });
    expect(parsed.status === 'unhandled' ? parsed.message : '').toContain(
      '2 principals, 0 instances and 1 bucket Cordon could contain; 0 members not acted on',
    );
  });

  it('refuses a resource in another region than the finding', () => {
    // Arrange
    const event = withValue(
      fixture('securityhub-attack-sequence-credentials'),
      ['detail', 'findings', 0, 'Resources', 1, 'Region'],
      'eu-west-1',
    );

    // Act
    const sequence = asffSequence(event);

    // Assert
    expect(sequence?.members.some((m) => m.kind === 'bucket')).toBe(false);
    expect(sequence?.notActedOn).toEqual([
      {
        what: 'S3_BUCKET',
        id: 'arn:aws:s3:::example-reports-bucket',
        reason: "refused: region eu-west-1 is not the finding's region us-east-1",
      },
    ]);
  });

  it('lists an actor with no IAM name as not acted on, as the native form does', () => {
    // Arrange
    const event = withValue(
      fixture('securityhub-attack-sequence-credentials'),
      ['detail', 'findings', 0, 'Detection', 'Sequence', 'Actors', 1, 'User', 'Name'],
      'exfiltrated role',
    );

    // Act
    const sequence = asffSequence(event);

    // Assert
    expect(sequence?.notActedOn).toContainEqual(
      expect.objectContaining({
        what: 'actor',
        id: 'exfiltrated role',
        reason:
          'not acted on: Security Hub finding has an invalid detail.findings[0].Detection.Sequence.Actors[1].User.Name: not an IAM name',
      }),
    );
  });

  it("does not read a sequence imported by another product as GuardDuty's", () => {
    // Arrange: anyone with BatchImportFindings can put a Detection.Sequence in a finding of their own product.
    const event = withValue(
      fixture('securityhub-attack-sequence-credentials'),
      ['detail', 'findings', 0, 'ProductArn'],
      `arn:aws:securityhub:us-east-1:${ACCOUNT}:product/${ACCOUNT}/default`,
    );
    const forged = withValue(event, ['detail', 'findings', 0, 'ProductName'], 'Default');

    // Act
    const sequence = asffSequence(forged);
    const parsed = parseFindingEvent(forged);

    // Assert: no sequence; the finding is read as any finding of that product is.
    expect(sequence).toBeUndefined();
    expect(
      valueAt(forged, ['detail', 'findings', 0, 'Detection', 'Sequence', 'Uid']),
    ).toBeDefined();
    expect(parsed.status === 'unhandled' ? parsed.reason : parsed.finding.playbook).toBe(
      'iam-credentials',
    );
  });
});

describe('attack sequence fixtures', () => {
  it('keep to the API reference: every required member of Sequence, Actor, User, ResourceV2 and Signal', () => {
    // Arrange
    const names = [
      'guardduty-attack-sequence-credentials',
      'guardduty-attack-sequence-instance-group',
    ];

    for (const name of names) {
      const url = new URL(`../../../fixtures/events/${name}.json`, import.meta.url);
      const event: unknown = JSON.parse(readFileSync(url, 'utf8'));
      const sequence = valueAt(event, [...SEQUENCE]) as Record<string, unknown[]>;

      // Assert
      for (const key of ['uid', 'description', 'signals']) expect(sequence).toHaveProperty(key);
      for (const actor of sequence.actors ?? []) {
        expect(actor).toHaveProperty('id');
        for (const key of ['name', 'uid', 'type']) expect(actor).toHaveProperty(['user', key]);
      }
      for (const resource of sequence.resources ?? []) {
        for (const key of ['resourceType', 'uid']) expect(resource).toHaveProperty(key);
      }
      for (const signal of sequence.signals ?? []) {
        for (const key of [
          'uid',
          'type',
          'name',
          'createdAt',
          'updatedAt',
          'firstSeenAt',
          'lastSeenAt',
          'count',
        ]) {
          expect(signal).toHaveProperty(key);
        }
      }
    }
  });
});

describe('claimedSequence under arbitrary input', () => {
  const RESOURCE_TYPES = [
    'EC2_INSTANCE',
    'S3_BUCKET',
    'ACCESS_KEY',
    'EKS_CLUSTER',
    'ECS_TASK',
    'IAM_INSTANCE_PROFILE',
    '__proto__',
    'constructor',
  ];
  const uid = fc.oneof(
    fc.string({ minLength: 1, maxLength: 40 }),
    fc.constantFrom(
      'i-0abc123def4567890',
      `arn:aws:ec2:us-east-1:${ACCOUNT}:instance/i-0abc123def4567891`,
      `arn:aws:ec2:us-east-1:${OTHER_ACCOUNT}:instance/i-0abc123def4567892`,
      'example-reports-bucket',
      'arn:aws:s3:::example-reports-bucket',
      'AKIAIOSFODNN7EXAMPLE',
    ),
  );
  const resource = fc.record(
    {
      resourceType: fc.constantFrom(...RESOURCE_TYPES),
      uid,
      accountId: fc.constantFrom(ACCOUNT, OTHER_ACCOUNT),
      region: fc.constantFrom('us-east-1', 'eu-west-1'),
    },
    { requiredKeys: ['resourceType', 'uid'] },
  );
  const actor = fc.record({
    id: fc.string({ minLength: 1, maxLength: 8 }),
    user: fc.record({
      name: fc.oneof(fc.string({ minLength: 1, maxLength: 20 }), fc.constant('compromised-user')),
      uid: fc.string({ minLength: 1, maxLength: 20 }),
      type: fc.constantFrom('IAMUser', 'AssumedRole', 'Root', 'FederatedUser', 'toString'),
      credentialUid: fc.constantFrom('AKIAIOSFODNN7EXAMPLE', 'ASIAEXAMPLETEMPKEY01'),
    }),
  });

  it("puts forward only what validated, in the finding's account and region, never more than the cap, and accounts for the rest", () => {
    fc.assert(
      fc.property(
        fc.array(actor, { maxLength: 6 }),
        fc.array(resource, { maxLength: 60 }),
        (actors, resources) => {
          // Arrange
          let event = withValue(
            fixture('guardduty-attack-sequence-instance-group'),
            [...RESOURCES],
            resources,
          );
          event = withValue(event, [...SEQUENCE, 'actors'], actors);

          // Act
          let sequence: ClaimedSequence | undefined;
          try {
            sequence = nativeSequence(event);
          } catch (error) {
            // An invalid finding acts on nothing; any other error is a bug.
            expect(error).toBeInstanceOf(InvalidFindingError);
            return;
          }

          // Assert
          expect(sequence).toBeDefined();
          const members = sequence?.members ?? [];
          expect(members.length).toBeLessThanOrEqual(SEQUENCE_ACT_LIMIT);
          for (const member of members) {
            if (member.kind === 'instance') expect(member.instanceId).toMatch(INSTANCE_ID);
            if (member.kind === 'bucket') expect(member.name).toMatch(BUCKET_NAME);
            if (member.kind === 'principal') {
              expect(['IAMUser', 'AssumedRole']).toContain(member.principal.kind);
              expect(member.principal.name).toMatch(IAM_NAME);
            }
          }
          // Every instance and bucket put forward is one a resource in this account and region named.
          const here = resources.filter(
            (r) =>
              (r.accountId ?? ACCOUNT) === ACCOUNT &&
              (r.region ?? 'us-east-1') === 'us-east-1' &&
              !r.uid.includes(OTHER_ACCOUNT),
          );
          for (const member of members) {
            if (member.kind === 'instance') {
              expect(here.some((r) => r.uid.endsWith(member.instanceId))).toBe(true);
            }
            if (member.kind === 'bucket') {
              expect(here.some((r) => r.uid.endsWith(member.name))).toBe(true);
            }
          }
          // Nothing is dropped in silence: each resource is a member, listed as not acted on, a
          // repeat, or an access key an actor already names.
          const listed = new Set(sequence?.notActedOn.map((n) => n.id));
          const keys = new Set<string>(actors.map((a) => a.user.credentialUid));
          for (const r of resources) {
            const accounted =
              listed.has(r.uid) ||
              (r.resourceType === 'ACCESS_KEY' && keys.has(r.uid)) ||
              members.some(
                (m) =>
                  (m.kind === 'instance' && r.uid.endsWith(m.instanceId)) ||
                  (m.kind === 'bucket' && r.uid.endsWith(m.name)),
              ) ||
              sequence?.notActedOn.some((n) => r.uid.endsWith(n.id));
            expect(accounted).toBe(true);
          }
        },
      ),
      { numRuns: 300 },
    );
  });
});

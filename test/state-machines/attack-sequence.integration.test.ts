/**
 * Layer 3: the synthesized attack-sequence definition, executed locally by
 * the rehearsal engine with the real handlers in-process against moto. The
 * event is GuardDuty's attack sequence as its API reference shapes it
 * (Sequence, Actor, User, ResourceV2; demo/sequence.ts re-aims the fixture
 * at what each test seeded). What the tests read back (key status, the
 * instance's interfaces, the bucket's public access block) is moto's.
 */
import { DescribeNetworkInterfacesCommand, EC2Client } from '@aws-sdk/client-ec2';
import {
  CreateUserCommand,
  DeleteAccessKeyCommand,
  DeleteLoginProfileCommand,
  DeleteUserCommand,
  IAMClient,
  ListAccessKeysCommand,
} from '@aws-sdk/client-iam';
import { GetPublicAccessBlockCommand, S3Client } from '@aws-sdk/client-s3';
import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { z } from 'zod';
import { type PublicBucket, seedPublicBucket } from '../../demo/exposure.js';
import {
  type CompromisedInstance,
  type CompromisedUser,
  seedCompromisedInstance,
  seedCompromisedUser,
} from '../../demo/scenario.js';
import { attackSequenceFinding } from '../../demo/sequence.js';
import { SEQUENCE } from '../../functions/shared/catalog.js';
import type { LedgerEntry } from '../../functions/shared/ledger.js';
import { MOTO_ACCOUNT_ID, motoClientConfig, useMoto } from '../support/moto.js';
import { forms } from '../support/notices.js';
import { explain, onlyExecution, outcomes, rehearsalHarness } from './harness.js';

const { endpoint } = useMoto();
const harness = rehearsalHarness();
const iam = new IAMClient(motoClientConfig(endpoint));
const ec2 = new EC2Client(motoClientConfig(endpoint));
const s3 = new S3Client({ ...motoClientConfig(endpoint), forcePathStyle: true });

afterEach(() => {
  vi.restoreAllMocks();
});

const LABEL = SEQUENCE.label;

async function keyStatus(user: CompromisedUser, keyId: string): Promise<string | undefined> {
  const out = await iam.send(new ListAccessKeysCommand({ UserName: user.userName }));
  return out.AccessKeyMetadata?.find((k) => k.AccessKeyId === keyId)?.Status;
}

async function blocked(bucket: PublicBucket): Promise<boolean> {
  try {
    const out = await s3.send(new GetPublicAccessBlockCommand({ Bucket: bucket.name }));
    return out.PublicAccessBlockConfiguration?.BlockPublicPolicy === true;
  } catch (error) {
    if (error instanceof Error && error.name === 'NoSuchPublicAccessBlockConfiguration') {
      return false;
    }
    throw error;
  }
}

/** The groups of each interface of the instance. */
async function interfaceGroups(instance: CompromisedInstance): Promise<string[][]> {
  const out = await ec2.send(
    new DescribeNetworkInterfacesCommand({ NetworkInterfaceIds: instance.interfaceIds }),
  );
  return (out.NetworkInterfaces ?? []).map((n) => (n.Groups ?? []).map((g) => g.GroupId ?? ''));
}

/** Records what is published to SNS; the calls still go to moto. */
function spyOnPublished(): () => Array<{ subject: string; message: string }> {
  const send = vi.spyOn(SNSClient.prototype, 'send');
  return () =>
    send.mock.calls.flatMap(([command]) =>
      command instanceof PublishCommand
        ? [{ subject: command.input.Subject ?? '', message: forms(command.input).text }]
        : [],
    );
}

const Children = z.object({
  children: z.array(z.object({ incidentId: z.string(), playbook: z.string(), parent: z.string() })),
  incident: z.object({ incidentId: z.string() }),
});

/** The entries of one incident among those an execution wrote. */
function of(ledger: readonly LedgerEntry[], incidentId: string): string[] {
  return ledger.filter((e) => e.incidentId === incidentId).map((e) => `${e.step}:${e.outcome}`);
}

async function scene() {
  const user = await seedCompromisedUser('ci-deployer', iam);
  const instance = await seedCompromisedInstance({}, { ec2, iam });
  const bucket = await seedPublicBucket('reports-exfil-target', s3);
  const event = attackSequenceFinding({
    users: [user],
    instanceIds: [instance.instanceId],
    buckets: [bucket],
    eksCluster: 'payments',
  });
  return { user, instance, bucket, event };
}

describe('an attack sequence (GuardDuty Extended Threat Detection)', () => {
  it('asks once for the whole set, then contains every member with its own playbook', async () => {
    // Arrange
    const { user, instance, bucket, event } = await scene();
    const published = spyOnPublished();
    const asked: string[] = [];

    // Act
    const report = await harness
      .engine(async (request) => {
        asked.push(`${request.incidentId}/${request.step}`);
        return 'approve';
      })
      .rehearse(event);

    // Assert: one execution, one approval, three members contained.
    expect(report.matched).toEqual([SEQUENCE.playbook]);
    const execution = onlyExecution(report);
    expect(execution.status, explain(execution)).toBe('SUCCEEDED');
    const { incident, children } = Children.parse(execution.output);
    expect(asked).toEqual([`${incident.incidentId}/${SEQUENCE.step}`]);
    expect(children.map((c) => c.playbook)).toEqual([
      'iam-credentials',
      'ec2-instance',
      's3-exposure',
    ]);
    expect(children.every((c) => c.parent === incident.incidentId)).toBe(true);
    expect(execution.states.slice(0, 4)).toEqual([
      'Triage',
      'Triage decision?',
      `${LABEL}?`,
      `${LABEL}: request approval`,
    ]);
    expect(execution.states.slice(-5)).toEqual([
      'Any member failed?',
      'Every member contained?',
      'Finished: from Security Hub?',
      'Notify summary',
      'Done',
    ]);

    expect(await keyStatus(user, user.leakedKeyId)).toBe('Inactive');
    expect(await keyStatus(user, user.healthyKeyId)).toBe('Active');
    expect(await blocked(bucket)).toBe(true);
    for (const groups of await interfaceGroups(instance)) {
      expect(groups).not.toContain(instance.appGroupId);
    }

    // The ledger: the parent's claim, request and grant; each child's claim and steps.
    expect(of(execution.ledger, incident.incidentId)).toEqual([
      'triage:CLAIMED',
      `${SEQUENCE.step}:APPROVAL_REQUESTED`,
      `${SEQUENCE.step}:APPROVAL_GRANTED`,
      'notify:NOTIFIED',
    ]);
    const [key, host, store] = children;
    expect(of(execution.ledger, key?.incidentId ?? '')).toEqual([
      'triage:CLAIMED',
      'disableAccessKey:INTENT',
      'disableAccessKey:CONTAINED',
      'revokeUserSessions:INTENT',
      'revokeUserSessions:CONTAINED',
      'quarantineUser:INTENT',
      'quarantineUser:CONTAINED',
    ]);
    expect(of(execution.ledger, host?.incidentId ?? '')).toContain('isolate:CONTAINED');
    expect(of(execution.ledger, store?.incidentId ?? '')).toEqual([
      'triage:CLAIMED',
      'blockPublicAccess:INTENT',
      'blockPublicAccess:CONTAINED',
    ]);
    const childClaim = execution.ledger.find(
      (e) => e.incidentId === key?.incidentId && e.outcome === 'CLAIMED',
    );
    expect(childClaim?.detail).toMatchObject({ parent: incident.incidentId });
    const parentClaim = execution.ledger.find(
      (e) => e.incidentId === incident.incidentId && e.outcome === 'CLAIMED',
    );
    expect(parentClaim?.detail).toMatchObject({ children: children.map((c) => c.incidentId) });
    // Each child's change carries the one grant it acted on: the parent's.
    const contained = execution.ledger.find(
      (e) =>
        e.incidentId === key?.incidentId &&
        e.step === 'disableAccessKey' &&
        e.outcome === 'CONTAINED',
    );
    expect(contained?.detail).toMatchObject({ approval: { step: SEQUENCE.step } });

    // The one request listed the whole set, and the cluster it cannot contain.
    const request = published().find((m) => m.subject.startsWith('Cordon approval needed'));
    expect(request?.message).toContain(user.leakedKeyId);
    expect(request?.message).toContain(instance.instanceId);
    expect(request?.message).toContain(bucket.name);
    expect(request?.message).toContain('payments');
    expect(request?.message).toContain(
      'https://docs.aws.amazon.com/guardduty/latest/ug/guardduty-remediate-kubernetes.html',
    );
  });

  it.each(['reject', 'timeout'] as const)(
    'changes nothing when the responders %s the set: no step of any member runs unattended',
    async (decision) => {
      // Arrange
      const { user, instance, bucket, event } = await scene();

      // Act
      const execution = onlyExecution(await harness.engine(decision).rehearse(event));

      // Assert
      expect(execution.status, explain(execution)).toBe('SUCCEEDED');
      expect(execution.states).not.toContain('Contain each member');
      expect(await keyStatus(user, user.leakedKeyId)).toBe('Active');
      expect(await blocked(bucket)).toBe(false);
      for (const groups of await interfaceGroups(instance)) {
        expect(groups).toContain(instance.appGroupId);
      }
      const { incident, children } = Children.parse(execution.output);
      expect(of(execution.ledger, incident.incidentId)).toEqual([
        'triage:CLAIMED',
        `${SEQUENCE.step}:APPROVAL_REQUESTED`,
        ...(decision === 'reject'
          ? [`${SEQUENCE.step}:APPROVAL_DENIED`, `${SEQUENCE.step}:REJECTED`]
          : [`${SEQUENCE.step}:NOT_ACTED_ON`, 'notify:NOTIFIED']),
        'notify:NOTIFIED',
      ]);
      for (const child of children) {
        expect(of(execution.ledger, child.incidentId)).toEqual(['triage:CLAIMED']);
      }
    },
  );

  it('ends a second delivery of the same sequence as a duplicate that claims no child', async () => {
    // Arrange
    const { user, event } = await scene();
    const engine = harness.engine('reject');
    await engine.rehearse(event);

    // Act
    const execution = onlyExecution(await engine.rehearse(event));

    // Assert
    expect(execution.states).toEqual(['Triage', 'Triage decision?', 'Duplicate delivery']);
    expect(outcomes(execution)).toEqual([]);
    expect(await keyStatus(user, user.leakedKeyId)).toBe('Active');
  });
});

describe('an attack sequence whose member cannot be contained', () => {
  it('records and notifies the failed member, still contains the others, then fails the execution', async () => {
    // Arrange: while the set waits for its approval, the user is deleted and
    // re-created under its name (another principal now): its steps must refuse.
    const { user, bucket, event } = await scene();
    const published = spyOnPublished();
    const duringWait = async () => {
      await iam.send(new DeleteLoginProfileCommand({ UserName: user.userName }));
      for (const keyId of [user.leakedKeyId, user.healthyKeyId]) {
        await iam.send(new DeleteAccessKeyCommand({ UserName: user.userName, AccessKeyId: keyId }));
      }
      await iam.send(new DeleteUserCommand({ UserName: user.userName }));
      await iam.send(new CreateUserCommand({ UserName: user.userName }));
    };

    // Act
    const execution = onlyExecution(
      await harness.engine('approve', { duringWait }).rehearse(event),
    );

    // Assert: the user's member failed; the instance and the bucket were contained.
    expect(execution.status, explain(execution)).toBe('FAILED');
    const parent = execution.ledger.find(
      (e) => e.step === 'triage' && e.outcome === 'CLAIMED' && e.detail?.children !== undefined,
    );
    const [key, host, store] = z.array(z.string()).parse(parent?.detail?.children);
    expect(of(execution.ledger, key ?? '')).toEqual([
      'triage:CLAIMED',
      'disableAccessKey:FAILED',
      'disableAccessKey:FAILED',
      'notify:NOTIFIED',
    ]);
    expect(of(execution.ledger, host ?? '')).toContain('isolate:CONTAINED');
    expect(of(execution.ledger, store ?? '')).toContain('blockPublicAccess:CONTAINED');
    expect(await blocked(bucket)).toBe(true);
    expect(of(execution.ledger, parent?.incidentId ?? '').slice(-2)).toEqual([
      `${SEQUENCE.step}:FAILED`,
      'notify:NOTIFIED',
    ]);
    expect(execution.states).toContain('Member: record failure');
    expect(execution.states.slice(-6)).toEqual([
      'Every member contained?',
      'A member failed',
      'Member failure as the error',
      'Record failure',
      'Notify failure',
      'Failed',
    ]);
    const failures = published().filter((m) => m.subject.startsWith('Cordon FAILED'));
    expect(failures.length).toBeGreaterThanOrEqual(2);
  });
});

describe('rolling back one member of an attack sequence', () => {
  it('restores that member alone, as any incident is rolled back', async () => {
    // Arrange
    const { user, bucket, event } = await scene();
    const execution = onlyExecution(await harness.engine('approve').rehearse(event));
    const { children } = Children.parse(execution.output);
    const [key] = children;
    expect(await keyStatus(user, user.leakedKeyId)).toBe('Inactive');

    // Act
    const rollback = await harness.engine('approve').rollback({
      incidentId: key?.incidentId,
      force: true,
      requestedBy: `arn:aws:iam::${MOTO_ACCOUNT_ID}:role/SecurityResponder`,
      reason: 'false positive: the owner confirmed the activity',
    });

    // Assert
    expect(rollback.status, explain(rollback)).toBe('SUCCEEDED');
    expect(await keyStatus(user, user.leakedKeyId)).toBe('Active');
    expect(await blocked(bucket)).toBe(true);
  });
});

import 'aws-sdk-client-mock-vitest/extend';
import {
  DescribeIamInstanceProfileAssociationsCommand,
  DescribeInstancesCommand,
  DescribeNetworkInterfacesCommand,
  DisassociateIamInstanceProfileCommand,
  EC2Client,
} from '@aws-sdk/client-ec2';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { detachInstanceProfile } from '../../../../functions/actions/detach-instance-profile/containment.js';
import { INTENT } from '../../../../functions/shared/intents.js';
import {
  ACTOR,
  APPROVALS,
  actionInput,
  approved,
  awsError,
  ENI_ID,
  ec2Incident,
  fakeLedger,
  INCIDENT_TAGS,
  INSTANCE_ARN,
  INSTANCE_ID,
  INSTANCE_PROFILE_ARN,
} from '../../shared/containment-fixtures.js';

const STEP = 'isolate';
const ASSOCIATION_ID = 'iip-assoc-0123456789abcdef0';
const INCIDENT = ec2Incident();
const ec2Mock = mockClient(EC2Client);
const ec2 = new EC2Client({ region: 'us-east-1' });

interface World {
  instanceState: string | undefined;
  association: { id: string; profileArn: string } | undefined;
  /** The instance and interface ids without the incident tag (someone removed it). */
  untagged: string[];
}

const tagsOf = (world: World, id: string) => (world.untagged.includes(id) ? [] : INCIDENT_TAGS);

/** EC2 with the instance, its interface and, maybe, its profile association. */
function ec2With(world: World): World {
  ec2Mock.on(DescribeInstancesCommand).callsFake(() => {
    if (world.instanceState === undefined) throw awsError('InvalidInstanceID.NotFound');
    const instance = {
      InstanceId: INSTANCE_ID,
      State: { Name: world.instanceState },
      Tags: tagsOf(world, INSTANCE_ID),
    };
    return { Reservations: [{ Instances: [instance] }] };
  });
  ec2Mock.on(DescribeNetworkInterfacesCommand).callsFake(() => ({
    NetworkInterfaces: [{ NetworkInterfaceId: ENI_ID, TagSet: tagsOf(world, ENI_ID) }],
  }));
  ec2Mock.on(DescribeIamInstanceProfileAssociationsCommand).callsFake(() => ({
    IamInstanceProfileAssociations: world.association
      ? [
          {
            AssociationId: world.association.id,
            InstanceId: INSTANCE_ID,
            IamInstanceProfile: { Arn: world.association.profileArn, Id: 'AIPAEXAMPLE' },
            State: 'associated',
          },
        ]
      : [],
  }));
  ec2Mock.on(DisassociateIamInstanceProfileCommand).callsFake(() => {
    world.association = undefined;
    return {};
  });
  return world;
}

const withProfile = (): World => ({
  instanceState: 'running',
  association: { id: ASSOCIATION_ID, profileArn: INSTANCE_PROFILE_ARN },
  untagged: [],
});

describe('detach-instance-profile', () => {
  let fake: ReturnType<typeof fakeLedger>;
  beforeEach(() => {
    ec2Mock.reset();
    fake = fakeLedger();
  });
  const deps = () => ({ ec2, ledger: fake.ledger, actor: ACTOR, approvals: APPROVALS });
  const input = (mode: 'auto' | 'dry-run' | 'approve' = 'auto') =>
    actionInput(STEP, { incident: INCIDENT, mode });

  it('disassociates the instance profile and says the role’s older sessions are a separate step', async () => {
    // Arrange
    const world = ec2With(withProfile());
    // Act
    const result = await detachInstanceProfile(input(), deps());
    // Assert
    expect(result).toEqual({
      step: STEP,
      action: 'detach-instance-profile',
      outcome: 'CONTAINED',
      mode: 'auto',
      targetArn: INSTANCE_ARN,
      summary: `detach instance profile ${INSTANCE_PROFILE_ARN} from instance ${INSTANCE_ID}; its role's credentials on the instance stop being refreshed (revoking the role's older sessions is a separate step)`,
    });
    expect(ec2Mock).toHaveReceivedCommandWith(DisassociateIamInstanceProfileCommand, {
      AssociationId: ASSOCIATION_ID,
    });
    expect(world.association).toBeUndefined();
  });

  it('looks only at live associations of this instance', async () => {
    // Arrange
    ec2With(withProfile());
    // Act
    await detachInstanceProfile(input(), deps());
    // Assert
    expect(ec2Mock).toHaveReceivedCommandWith(DescribeIamInstanceProfileAssociationsCommand, {
      Filters: [
        { Name: 'instance-id', Values: [INSTANCE_ID] },
        { Name: 'state', Values: ['associating', 'associated'] },
      ],
    });
  });

  it.each([
    ['the instance', INSTANCE_ID],
    ['a network interface', ENI_ID],
  ])(
    'refuses, keeping the profile, when the incident tag was removed from %s during the wait',
    async (_, id) => {
      // Arrange: the instance's own role deleted the tag preserve-evidence wrote.
      const world = ec2With({ ...withProfile(), untagged: [id] });
      // Act
      const attempt = detachInstanceProfile(
        actionInput(STEP, { incident: INCIDENT, approval: approved(STEP) }),
        deps(),
      );
      // Assert
      await expect(attempt).rejects.toMatchObject({
        name: 'Cordon.IncidentTagMissing',
        retryable: false,
        message: expect.stringContaining(`is gone from ${id}.`),
      });
      expect(ec2Mock).not.toHaveReceivedCommand(DisassociateIamInstanceProfileCommand);
      expect(world.association).toEqual({ id: ASSOCIATION_ID, profileArn: INSTANCE_PROFILE_ARN });
      expect(fake.entries()).toEqual([
        expect.objectContaining({
          outcome: 'FAILED',
          summary: expect.stringContaining('NOT isolated'),
        }),
      ]);
    },
  );

  it('records the association id and profile ARN before, for a rollback', async () => {
    // Arrange
    ec2With(withProfile());
    // Act
    await detachInstanceProfile(input(), deps());
    // Assert
    const before = {
      instanceId: INSTANCE_ID,
      association: {
        associationId: ASSOCIATION_ID,
        profileArn: INSTANCE_PROFILE_ARN,
        state: 'associated',
      },
    };
    expect(fake.entries()).toEqual([
      expect.objectContaining({ outcome: INTENT, actor: ACTOR, before }),
      expect.objectContaining({
        outcome: 'CONTAINED',
        actor: ACTOR,
        before,
        after: { instanceId: INSTANCE_ID, association: null },
      }),
    ]);
    expect(fake.entries()[0]).not.toHaveProperty('after');
  });

  it('returns ALREADY_CONTAINED and makes no Disassociate call when the instance has no profile', async () => {
    // Arrange
    ec2With({ instanceState: 'running', association: undefined, untagged: [] });
    // Act
    const result = await detachInstanceProfile(input(), deps());
    // Assert
    expect(result.outcome).toBe('ALREADY_CONTAINED');
    expect(ec2Mock).not.toHaveReceivedCommand(DisassociateIamInstanceProfileCommand);
    expect(fake.entries().map((e) => e.outcome)).toEqual(['ALREADY_CONTAINED']);
  });

  it('returns TARGET_NOT_FOUND when the instance is terminated mid-run', async () => {
    // Arrange
    const world = ec2With(withProfile());
    ec2Mock.on(DisassociateIamInstanceProfileCommand).callsFake(() => {
      world.instanceState = 'terminated';
      world.association = undefined;
      throw awsError('InvalidAssociationID.NotFound');
    });
    // Act
    const result = await detachInstanceProfile(input(), deps());
    // Assert
    expect(result.outcome).toBe('TARGET_NOT_FOUND');
    expect(fake.entries().map((e) => e.outcome)).toEqual([INTENT, 'TARGET_NOT_FOUND']);
    const [intent, notFound] = fake.entries();
    expect(notFound?.before).toMatchObject({
      association: { associationId: ASSOCIATION_ID, profileArn: INSTANCE_PROFILE_ARN },
    });
    expect(intent?.before).toEqual(notFound?.before);
  });

  it('records CONTAINED when someone else removed the association between the read and the call', async () => {
    // Arrange
    const world = ec2With(withProfile());
    ec2Mock.on(DisassociateIamInstanceProfileCommand).callsFake(() => {
      world.association = undefined;
      throw awsError('InvalidAssociationID.NotFound');
    });
    // Act
    const result = await detachInstanceProfile(input(), deps());
    // Assert
    expect(result.outcome).toBe('CONTAINED');
    expect(fake.entries().map((e) => e.outcome)).toEqual([INTENT, 'CONTAINED']);
    expect(fake.entries()[1]?.after).toEqual({ instanceId: INSTANCE_ID, association: null });
  });

  it('returns TARGET_NOT_FOUND when EC2 no longer knows the instance', async () => {
    // Arrange
    ec2With({ instanceState: undefined, association: undefined, untagged: [] });
    // Act
    const result = await detachInstanceProfile(input(), deps());
    // Assert
    expect(result.outcome).toBe('TARGET_NOT_FOUND');
    expect(ec2Mock).not.toHaveReceivedCommand(DescribeIamInstanceProfileAssociationsCommand);
  });

  it('records DRY_RUN and makes no Disassociate call in dry-run mode', async () => {
    // Arrange
    ec2With(withProfile());
    // Act
    const result = await detachInstanceProfile(input('dry-run'), deps());
    // Assert
    expect(result.outcome).toBe('DRY_RUN');
    expect(ec2Mock).not.toHaveReceivedCommand(DisassociateIamInstanceProfileCommand);
    expect(fake.entries().map((e) => e.outcome)).toEqual(['DRY_RUN']);
  });

  it('fails with Cordon.ApprovalMissing and makes no AWS call in approve mode without an approval', async () => {
    // Arrange
    ec2With(withProfile());
    // Act
    const attempt = detachInstanceProfile(input('approve'), deps());
    // Assert
    await expect(attempt).rejects.toMatchObject({ name: 'Cordon.ApprovalMissing' });
    expect(ec2Mock).not.toHaveReceivedAnyCommand();
  });

  it('acts in approve mode with an approval for the isolate step', async () => {
    // Arrange
    ec2With(withProfile());
    // Act
    const result = await detachInstanceProfile(
      actionInput(STEP, { incident: INCIDENT, approval: approved(STEP) }),
      deps(),
    );
    // Assert
    expect(result).toMatchObject({ outcome: 'CONTAINED', mode: 'approve' });
  });

  it('surfaces throttling as retryable Cordon.Throttled without a ledger entry', async () => {
    // Arrange
    ec2With(withProfile());
    ec2Mock
      .on(DescribeIamInstanceProfileAssociationsCommand)
      .rejects(awsError('RequestLimitExceeded', 503));
    // Act
    const attempt = detachInstanceProfile(input(), deps());
    // Assert
    await expect(attempt).rejects.toMatchObject({ name: 'Cordon.Throttled', retryable: true });
    expect(fake.entries()).toEqual([]);
  });

  it('records UnauthorizedOperation as a FAILED ledger entry and throws Cordon.AccessDenied', async () => {
    // Arrange
    ec2With(withProfile());
    ec2Mock
      .on(DisassociateIamInstanceProfileCommand)
      .rejects(awsError('UnauthorizedOperation', 403));
    // Act
    const attempt = detachInstanceProfile(input(), deps());
    // Assert
    await expect(attempt).rejects.toMatchObject({ name: 'Cordon.AccessDenied', retryable: false });
    expect(fake.entries()).toEqual([
      expect.objectContaining({
        outcome: INTENT,
        targetArn: INSTANCE_ARN,
        before: expect.objectContaining({
          association: expect.objectContaining({ associationId: ASSOCIATION_ID }),
        }),
      }),
      expect.objectContaining({
        outcome: 'FAILED',
        targetArn: INSTANCE_ARN,
        before: expect.objectContaining({
          association: expect.objectContaining({ associationId: ASSOCIATION_ID }),
        }),
      }),
    ]);
    const [intent, failed] = fake.entries();
    expect(intent?.before).toEqual(failed?.before);
  });
});

import 'aws-sdk-client-mock-vitest/extend';
import {
  AssociateIamInstanceProfileCommand,
  DescribeIamInstanceProfileAssociationsCommand,
  DescribeInstancesCommand,
  EC2Client,
  ReplaceIamInstanceProfileAssociationCommand,
} from '@aws-sdk/client-ec2';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { rollbackInstanceProfile } from '../../../../functions/actions/detach-instance-profile/rollback.js';
import {
  ACCOUNT,
  APPROVALS,
  fakeLedger,
  INSTANCE_ARN,
  INSTANCE_ID,
  INSTANCE_PROFILE_ARN,
} from '../../shared/containment-fixtures.js';
import { containedThenApproved, ROLLBACK_ACTOR } from '../../shared/rollback-fixtures.js';

const ec2Mock = mockClient(EC2Client);
const ec2 = new EC2Client({ region: 'us-east-1' });
const OTHER_PROFILE = `arn:aws:iam::${ACCOUNT}:instance-profile/debug`;

const DETACHED = {
  step: 'isolate',
  action: 'detach-instance-profile',
  targetArn: INSTANCE_ARN,
  before: {
    instanceId: INSTANCE_ID,
    association: {
      associationId: 'iip-assoc-1',
      profileArn: INSTANCE_PROFILE_ARN,
      state: 'associated',
    },
  },
  after: { instanceId: INSTANCE_ID, association: null },
};

function associated(profileArn: string | undefined) {
  ec2Mock.on(DescribeInstancesCommand).resolves({
    Reservations: [{ Instances: [{ InstanceId: INSTANCE_ID, State: { Name: 'running' } }] }],
  });
  ec2Mock.on(DescribeIamInstanceProfileAssociationsCommand).resolves({
    IamInstanceProfileAssociations:
      profileArn === undefined
        ? []
        : [
            {
              InstanceId: INSTANCE_ID,
              AssociationId: 'iip-assoc-9',
              IamInstanceProfile: { Arn: profileArn },
              State: 'associated',
            },
          ],
  });
  const answer = {
    IamInstanceProfileAssociation: {
      AssociationId: 'iip-assoc-2',
      IamInstanceProfile: { Arn: INSTANCE_PROFILE_ARN },
      State: 'associating' as const,
    },
  };
  ec2Mock.on(AssociateIamInstanceProfileCommand).resolves(answer);
  ec2Mock.on(ReplaceIamInstanceProfileAssociationCommand).resolves(answer);
}

describe('rollback-detach-instance-profile', () => {
  let fake: ReturnType<typeof fakeLedger>;
  beforeEach(() => {
    ec2Mock.reset();
    fake = fakeLedger();
  });
  const deps = () => ({ ec2, ledger: fake.ledger, actor: ROLLBACK_ACTOR, approvals: APPROVALS });

  it('associates the recorded profile again', async () => {
    associated(undefined);
    const input = await containedThenApproved(fake, 'rollback-detach-instance-profile', DETACHED);

    const result = await rollbackInstanceProfile(input, deps());

    expect(result.outcome).toBe('ROLLED_BACK');
    expect(ec2Mock).toHaveReceivedCommandWith(AssociateIamInstanceProfileCommand, {
      InstanceId: INSTANCE_ID,
      IamInstanceProfile: { Arn: INSTANCE_PROFILE_ARN },
    });
    expect(fake.entries().at(-1)?.after).toEqual({
      instanceId: INSTANCE_ID,
      association: {
        associationId: 'iip-assoc-2',
        profileArn: INSTANCE_PROFILE_ARN,
        state: 'associating',
      },
    });
  });

  it('refuses when another profile was associated since; with force, replaces it with the recorded one', async () => {
    associated(OTHER_PROFILE);
    const input = await containedThenApproved(fake, 'rollback-detach-instance-profile', DETACHED);

    const refused = await rollbackInstanceProfile(input, deps());

    expect(refused.outcome).toBe('ROLLBACK_REFUSED');
    expect(refused.summary).toContain(
      `the associated instance profile is "${OTHER_PROFILE}" now, Cordon left none`,
    );
    expect(ec2Mock).not.toHaveReceivedCommand(ReplaceIamInstanceProfileAssociationCommand);

    const forcedLedger = fakeLedger();
    const forcedInput = await containedThenApproved(
      forcedLedger,
      'rollback-detach-instance-profile',
      DETACHED,
      {
        force: true,
      },
    );
    const forced = await rollbackInstanceProfile(forcedInput, {
      ec2,
      ledger: forcedLedger.ledger,
      actor: ROLLBACK_ACTOR,
      approvals: APPROVALS,
    });

    expect(forced.outcome).toBe('ROLLED_BACK');
    expect(ec2Mock).toHaveReceivedCommandWith(ReplaceIamInstanceProfileAssociationCommand, {
      AssociationId: 'iip-assoc-9',
      IamInstanceProfile: { Arn: INSTANCE_PROFILE_ARN },
    });
    expect(ec2Mock).not.toHaveReceivedCommand(AssociateIamInstanceProfileCommand);
  });

  it('is already rolled back when the recorded profile is associated', async () => {
    associated(INSTANCE_PROFILE_ARN);
    const input = await containedThenApproved(fake, 'rollback-detach-instance-profile', DETACHED);

    expect((await rollbackInstanceProfile(input, deps())).outcome).toBe('ALREADY_ROLLED_BACK');
    expect(ec2Mock).not.toHaveReceivedCommand(AssociateIamInstanceProfileCommand);
  });
});

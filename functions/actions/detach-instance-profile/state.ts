import { DescribeIamInstanceProfileAssociationsCommand, type EC2Client } from '@aws-sdk/client-ec2';
import { instanceExists } from '../../shared/ec2.js';
import { z } from '../../shared/z.js';

/**
 * What detach-instance-profile reads and records, apart from what it
 * changes, so its rollback reads the same state without the detach call.
 */

export interface ProfileAssociation {
  readonly associationId: string;
  readonly profileArn: string;
  readonly state: string;
}

/**
 * What the ledger records: the association before (enough to associate the
 * same profile again with AssociateIamInstanceProfile), none after.
 */
export interface ProfileState {
  readonly instanceId: string;
  readonly association: ProfileAssociation | null;
}

/** A recorded state a rollback can act on: an instance, and an instance profile ARN or none. */
export const ProfileStateSchema = z.object({
  instanceId: z.string().regex(/^i-[0-9a-f]{8,17}$/),
  association: z
    .object({
      associationId: z.string(),
      profileArn: z.string().regex(/^arn:aws[a-z-]*:iam::\d{12}:instance-profile\/.+$/),
      state: z.string(),
    })
    .nullable(),
});

/** The instance has no instance profile. */
export const isDetached = (state: ProfileState) => state.association === null;

/** The instance's current (associating or associated) profile, or undefined when it is gone. */
export async function readProfile(
  ec2: EC2Client,
  instanceId: string,
): Promise<ProfileState | undefined> {
  if (!(await instanceExists(ec2, instanceId))) return undefined;
  const out = await ec2.send(
    new DescribeIamInstanceProfileAssociationsCommand({
      Filters: [
        { Name: 'instance-id', Values: [instanceId] },
        { Name: 'state', Values: ['associating', 'associated'] },
      ],
    }),
  );
  const found = out.IamInstanceProfileAssociations?.find(
    (a) => a.InstanceId === instanceId && a.AssociationId !== undefined,
  );
  if (found?.AssociationId === undefined) return { instanceId, association: null };
  return {
    instanceId,
    association: {
      associationId: found.AssociationId,
      profileArn: found.IamInstanceProfile?.Arn ?? 'unknown',
      state: found.State ?? 'unknown',
    },
  };
}

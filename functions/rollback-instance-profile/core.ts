import {
  AssociateIamInstanceProfileCommand,
  type EC2Client,
  ReplaceIamInstanceProfileAssociationCommand,
} from '@aws-sdk/client-ec2';
import { z } from 'zod';
import { type ProfileState, readProfile } from '../detach-instance-profile/read.js';
import { InvalidTaskInputError } from '../shared/errors.js';
import {
  differs,
  NotRestorableError,
  type Rollback,
  type RollbackDeps,
  type RollbackInput,
  type RollbackResult,
  runRollback,
} from '../shared/rollback.js';

export interface RollbackInstanceProfileDeps extends RollbackDeps {
  readonly ec2: EC2Client;
}

export interface InstanceTarget {
  readonly instanceId: string;
  readonly arn: string;
}

const ProfileStateSchema = z.object({
  instanceId: z.string().regex(/^i-[0-9a-f]{8,17}$/),
  association: z
    .object({
      associationId: z.string(),
      profileArn: z.string().regex(/^arn:aws[a-z-]*:iam::\d{12}:instance-profile\/.+$/),
      state: z.string(),
    })
    .nullable(),
});

const profileOf = (state: ProfileState) => state.association?.profileArn ?? null;

/**
 * Associates the instance profile detach-instance-profile removed, so the
 * instance gets its role's credentials again. A different profile
 * associated since (only with force) is replaced by the recorded one.
 */
export function instanceProfileRollback(ec2: EC2Client): Rollback<InstanceTarget, ProfileState> {
  return {
    action: 'rollback-instance-profile',
    undoes: 'detach-instance-profile',
    state: ProfileStateSchema,
    target(entry, before) {
      if (!entry.targetArn?.endsWith(`:instance/${before.instanceId}`)) {
        throw new InvalidTaskInputError(
          `rollback-instance-profile: ${JSON.stringify(entry.targetArn ?? null)} is not instance ${before.instanceId}`,
        );
      }
      return { instanceId: before.instanceId, arn: entry.targetArn };
    },
    read: ({ instanceId }) => readProfile(ec2, instanceId),
    drift: (current, after) =>
      differs('the associated instance profile', profileOf(current), profileOf(after)),
    isRestored: (current, before) => profileOf(current) === profileOf(before),
    describe: ({ instanceId }, before) =>
      `associate instance profile ${profileOf(before) ?? '(none)'} with instance ${instanceId} again: the instance gets its role's credentials again`,
    async restore({ instanceId }, before, current) {
      const profileArn = profileOf(before);
      if (profileArn === null) {
        throw new NotRestorableError(`the ledger records no profile on ${instanceId} to restore`);
      }
      const out = current.association
        ? await ec2.send(
            new ReplaceIamInstanceProfileAssociationCommand({
              AssociationId: current.association.associationId,
              IamInstanceProfile: { Arn: profileArn },
            }),
          )
        : await ec2.send(
            new AssociateIamInstanceProfileCommand({
              InstanceId: instanceId,
              IamInstanceProfile: { Arn: profileArn },
            }),
          );
      const association = out.IamInstanceProfileAssociation;
      return {
        instanceId,
        association: {
          associationId: association?.AssociationId ?? 'unknown',
          profileArn: association?.IamInstanceProfile?.Arn ?? profileArn,
          state: association?.State ?? 'associating',
        },
      };
    },
  };
}

export function rollbackInstanceProfile(
  input: RollbackInput,
  deps: RollbackInstanceProfileDeps,
): Promise<RollbackResult> {
  return runRollback(input, instanceProfileRollback(deps.ec2), deps);
}

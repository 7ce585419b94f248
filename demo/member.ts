import { IAMClient, ListAccessKeysCommand } from '@aws-sdk/client-iam';
import { AssumeRoleCommand, STSClient } from '@aws-sdk/client-sts';
import { clientOptions } from '../functions/shared/aws.js';
import { type CompromisedUser, seedCompromisedUser } from './scenario.js';

/**
 * The demo's organization-wide finding: a user of a member account whose
 * key leaked, a user of the same name in the hub (which must stay
 * untouched), and the `cordon` settings that put the member in scope. The
 * emulator (moto) keeps a separate state per account and answers
 * AssumeRole into any role of an account with credentials for it: that is
 * how the demo seeds the member, and how the hub's functions reach it
 * through their spoke roles.
 */

/** The member account of the demo's organization. */
export const MEMBER_ACCOUNT = '210987654321';

export interface MemberScene {
  /** The member's user, named by the finding. */
  readonly user: CompromisedUser;
  /** The hub's user of the same name. */
  readonly twin: CompromisedUser;
  readonly memberIam: IAMClient;
  readonly hubIam: IAMClient;
}

/** An IAM client acting in `account`, with the emulator's credentials for a role there. */
export async function iamInAccount(account: string, partition: string): Promise<IAMClient> {
  const { Credentials } = await new STSClient(clientOptions).send(
    new AssumeRoleCommand({
      RoleArn: `arn:${partition}:iam::${account}:role/demo-setup`,
      RoleSessionName: 'demo-setup',
    }),
  );
  if (!Credentials?.AccessKeyId || !Credentials.SecretAccessKey) {
    throw new Error(`the emulator returned no credentials for account ${account}`);
  }
  return new IAMClient({
    ...clientOptions,
    credentials: {
      accessKeyId: Credentials.AccessKeyId,
      secretAccessKey: Credentials.SecretAccessKey,
      sessionToken: Credentials.SessionToken,
    },
  });
}

/** A user named `userName` with a leaked key in the member account, and one of the same name in the hub. */
export async function seedMemberScene(
  userName: string,
  hubIam: IAMClient,
  partition: string,
): Promise<MemberScene> {
  const memberIam = await iamInAccount(MEMBER_ACCOUNT, partition);
  const user = await seedCompromisedUser(userName, memberIam);
  const twin = await seedCompromisedUser(userName, hubIam);
  return { user, twin, memberIam, hubIam };
}

/** The `cordon` settings that scope the member account, in `region`, organization-wide. */
export function memberScope(region: string): Record<string, unknown> {
  return {
    organization: {
      organizationId: 'o-cordondemo1',
      accounts: [MEMBER_ACCOUNT],
      organizationalUnits: ['ou-demo-members1'],
      regions: [region],
    },
  };
}

/** The status of the user's leaked and healthy keys, as IAM in its account reports them. */
export async function keyStatuses(
  iam: IAMClient,
  user: CompromisedUser,
): Promise<{ readonly leaked: string; readonly healthy: string }> {
  const keys = await iam.send(new ListAccessKeysCommand({ UserName: user.userName }));
  const statusOf = (id: string) =>
    keys.AccessKeyMetadata?.find((k) => k.AccessKeyId === id)?.Status ?? 'missing';
  return { leaked: statusOf(user.leakedKeyId), healthy: statusOf(user.healthyKeyId) };
}

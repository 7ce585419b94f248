import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  CreateAccessKeyCommand,
  CreateLoginProfileCommand,
  CreateRoleCommand,
  CreateUserCommand,
  IAMClient,
} from '@aws-sdk/client-iam';
import { z } from 'zod';
import { clientOptions } from '../functions/shared/aws.js';

/**
 * A small, believable compromised account: an IAM user whose long-term key
 * leaked (it has a second, healthy key and a console password), and an
 * application role whose instance credentials were used from outside AWS.
 * Used by `npm run demo` and by the integration tests.
 */

const FIXTURES = join(dirname(fileURLToPath(import.meta.url)), '..', 'test', 'fixtures', 'events');

export interface CompromisedUser {
  readonly userName: string;
  readonly userId: string;
  readonly arn: string;
  /** The key named in the finding. */
  readonly leakedKeyId: string;
  /** A second key that must stay active. */
  readonly healthyKeyId: string;
}

export interface ExfiltratedRole {
  readonly roleName: string;
  readonly roleId: string;
  readonly arn: string;
}

const TRUST_EC2 = JSON.stringify({
  Version: '2012-10-17',
  Statement: [
    { Effect: 'Allow', Principal: { Service: 'ec2.amazonaws.com' }, Action: 'sts:AssumeRole' },
  ],
});

export async function seedCompromisedUser(
  userName = 'ci-deployer',
  iam = new IAMClient(clientOptions),
): Promise<CompromisedUser> {
  const { User } = await iam.send(new CreateUserCommand({ UserName: userName }));
  const leaked = await iam.send(new CreateAccessKeyCommand({ UserName: userName }));
  const healthy = await iam.send(new CreateAccessKeyCommand({ UserName: userName }));
  await iam.send(
    new CreateLoginProfileCommand({ UserName: userName, Password: 'Demo-Passw0rd-Only!' }),
  );
  const leakedKeyId = leaked.AccessKey?.AccessKeyId;
  const healthyKeyId = healthy.AccessKey?.AccessKeyId;
  if (!User?.UserId || !User.Arn || !leakedKeyId || !healthyKeyId) {
    throw new Error('IAM did not return the user and keys it created');
  }
  return { userName, userId: User.UserId, arn: User.Arn, leakedKeyId, healthyKeyId };
}

export async function seedExfiltratedRole(
  roleName = 'web-app-instance',
  iam = new IAMClient(clientOptions),
): Promise<ExfiltratedRole> {
  const { Role } = await iam.send(
    new CreateRoleCommand({ RoleName: roleName, AssumeRolePolicyDocument: TRUST_EC2 }),
  );
  if (!Role?.RoleId || !Role.Arn) throw new Error('IAM did not return the role it created');
  return { roleName, roleId: Role.RoleId, arn: Role.Arn };
}

const EventSchema = z.looseObject({
  id: z.string(),
  account: z.string(),
  region: z.string(),
  detail: z.looseObject({
    id: z.string(),
    accountId: z.string(),
    region: z.string(),
    updatedAt: z.string(),
    resource: z.looseObject({ accessKeyDetails: z.looseObject({}) }),
  }),
});
type GuardDutyEvent = z.infer<typeof EventSchema>;

function fixture(name: string): GuardDutyEvent {
  return EventSchema.parse(JSON.parse(readFileSync(join(FIXTURES, name), 'utf8')));
}

export interface FindingOptions {
  readonly account?: string;
  readonly region?: string;
  /** Distinguishes findings (GuardDuty finding ids are 32 hex characters). */
  readonly findingId?: string;
  readonly updatedAt?: string;
}

function retarget(event: GuardDutyEvent, opts: FindingOptions): GuardDutyEvent {
  const account = opts.account ?? event.account;
  const region = opts.region ?? event.region;
  return {
    ...event,
    account,
    region,
    detail: {
      ...event.detail,
      accountId: account,
      region,
      id: opts.findingId ?? event.detail.id,
      updatedAt: opts.updatedAt ?? event.detail.updatedAt,
    },
  };
}

/** A GuardDuty finding naming the user's leaked key, as EventBridge delivers it. */
export function userKeyFinding(user: CompromisedUser, opts: FindingOptions = {}): GuardDutyEvent {
  const event = retarget(fixture('guardduty-iam-user.json'), opts);
  return {
    ...event,
    detail: {
      ...event.detail,
      resource: {
        ...event.detail.resource,
        accessKeyDetails: {
          accessKeyId: user.leakedKeyId,
          principalId: user.userId,
          userName: user.userName,
          userType: 'IAMUser',
        },
      },
    },
  };
}

/** A GuardDuty finding on an assumed role's credentials used outside AWS. */
export function roleCredentialFinding(
  role: ExfiltratedRole,
  opts: FindingOptions = {},
): GuardDutyEvent {
  const event = retarget(fixture('guardduty-assumed-role.json'), opts);
  return {
    ...event,
    detail: {
      ...event.detail,
      resource: {
        ...event.detail.resource,
        accessKeyDetails: {
          accessKeyId: 'ASIAEXAMPLETEMPKEY01',
          principalId: `${role.roleId}:i-0a1b2c3d4e5f67890`,
          userName: role.roleName,
          userType: 'AssumedRole',
        },
      },
    },
  };
}

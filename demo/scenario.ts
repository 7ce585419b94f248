import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  AutoScalingClient,
  CreateAutoScalingGroupCommand,
  DescribeAutoScalingGroupsCommand,
} from '@aws-sdk/client-auto-scaling';
import {
  AssociateIamInstanceProfileCommand,
  AttachNetworkInterfaceCommand,
  CreateLaunchTemplateCommand,
  CreateNetworkInterfaceCommand,
  CreateSecurityGroupCommand,
  CreateSubnetCommand,
  CreateVpcCommand,
  DescribeImagesCommand,
  DescribeInstancesCommand,
  EC2Client,
  ModifyNetworkInterfaceAttributeCommand,
} from '@aws-sdk/client-ec2';
import {
  AddRoleToInstanceProfileCommand,
  CreateAccessKeyCommand,
  CreateInstanceProfileCommand,
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
    resource: z.looseObject({}),
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
  /**
   * The account the event is delivered in, when not the finding's own:
   * organization-wide, GuardDuty's administrator (the hub) receives its
   * members' findings on its own bus, the member's account in the detail.
   */
  readonly deliveredTo?: string;
}

function retarget(event: GuardDutyEvent, opts: FindingOptions): GuardDutyEvent {
  const account = opts.account ?? event.account;
  const region = opts.region ?? event.region;
  return {
    ...event,
    account: opts.deliveredTo ?? account,
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

/** The event with the user's leaked key as the finding's access key. */
export function withLeakedKey<E extends { detail: { resource: Record<string, unknown> } }>(
  event: E,
  user: CompromisedUser,
) {
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

/** A GuardDuty finding naming the user's leaked key, as EventBridge delivers it. */
export function userKeyFinding(user: CompromisedUser, opts: FindingOptions = {}): GuardDutyEvent {
  return withLeakedKey(retarget(fixture('guardduty-iam-user.json'), opts), user);
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

export interface CompromisedInstance {
  readonly instanceId: string;
  readonly vpcId: string;
  readonly subnetId: string;
  /** Interfaces of the instance (primary first) and the group each had. */
  readonly interfaceIds: string[];
  readonly appGroupId: string;
  readonly autoScalingGroup: string;
  /** The group's other instance, which must stay untouched. */
  readonly healthyInstanceId: string;
  readonly instanceProfileArn: string;
  readonly roleName: string;
  readonly volumeIds: string[];
}

/**
 * moto's stock Amazon Linux AMI (the one moto's own examples use). Found by
 * id it costs one small call; listing Amazon's images returns over a thousand
 * (seconds per seed), so that is only the fallback for other emulators.
 */
const MOTO_AMI_ID = 'ami-12c6146b';

async function anImage(ec2: EC2Client): Promise<string | undefined> {
  try {
    const known = await ec2.send(new DescribeImagesCommand({ ImageIds: [MOTO_AMI_ID] }));
    const id = known.Images?.[0]?.ImageId;
    if (id) return id;
  } catch (error) {
    if (!(error instanceof Error) || !error.name.startsWith('InvalidAMIID')) throw error;
  }
  const images = await ec2.send(new DescribeImagesCommand({ Owners: ['amazon'] }));
  return images.Images?.[0]?.ImageId;
}

/**
 * A web worker in an Auto Scaling group of two, with an instance profile, a
 * second network interface, and its root volume: the instance a GuardDuty
 * crypto-mining finding names. Instances launch without groups and get their
 * group per interface (moto reports an interface's groups as its own plus the
 * instance's launch groups).
 */
export async function seedCompromisedInstance(
  names: { group?: string; role?: string } = {},
  clients: { ec2?: EC2Client; autoscaling?: AutoScalingClient; iam?: IAMClient } = {},
): Promise<CompromisedInstance> {
  const ec2 = clients.ec2 ?? new EC2Client(clientOptions);
  const autoscaling = clients.autoscaling ?? new AutoScalingClient(clientOptions);
  const iam = clients.iam ?? new IAMClient(clientOptions);
  const groupName = names.group ?? 'web-workers';
  const roleName = names.role ?? 'web-worker';

  const imageId = await anImage(ec2);
  const vpcId = (await ec2.send(new CreateVpcCommand({ CidrBlock: '10.20.0.0/16' }))).Vpc?.VpcId;
  const subnetId = (
    await ec2.send(
      new CreateSubnetCommand({
        VpcId: vpcId,
        CidrBlock: '10.20.1.0/24',
        AvailabilityZone: 'us-east-1a',
      }),
    )
  ).Subnet?.SubnetId;
  const appGroupId = (
    await ec2.send(
      new CreateSecurityGroupCommand({ GroupName: 'web', Description: 'web tier', VpcId: vpcId }),
    )
  ).GroupId;
  if (!imageId || !vpcId || !subnetId || !appGroupId)
    throw new Error('EC2 did not create the network');

  await iam.send(
    new CreateRoleCommand({ RoleName: roleName, AssumeRolePolicyDocument: TRUST_EC2 }),
  );
  const profile = await iam.send(
    new CreateInstanceProfileCommand({ InstanceProfileName: roleName }),
  );
  await iam.send(
    new AddRoleToInstanceProfileCommand({ InstanceProfileName: roleName, RoleName: roleName }),
  );
  const instanceProfileArn = profile.InstanceProfile?.Arn;
  if (!instanceProfileArn) throw new Error('IAM did not create the instance profile');

  await ec2.send(
    new CreateLaunchTemplateCommand({
      LaunchTemplateName: groupName,
      LaunchTemplateData: { ImageId: imageId, InstanceType: 't3.micro' },
    }),
  );
  await autoscaling.send(
    new CreateAutoScalingGroupCommand({
      AutoScalingGroupName: groupName,
      MinSize: 1,
      MaxSize: 4,
      DesiredCapacity: 2,
      LaunchTemplate: { LaunchTemplateName: groupName },
      VPCZoneIdentifier: subnetId,
    }),
  );
  const group = await autoscaling.send(
    new DescribeAutoScalingGroupsCommand({ AutoScalingGroupNames: [groupName] }),
  );
  const [instanceId, healthyInstanceId] = (group.AutoScalingGroups?.[0]?.Instances ?? []).map(
    (i) => i.InstanceId,
  );
  if (!instanceId || !healthyInstanceId)
    throw new Error('Auto Scaling did not launch two instances');

  await ec2.send(
    new AssociateIamInstanceProfileCommand({
      InstanceId: instanceId,
      IamInstanceProfile: { Arn: instanceProfileArn },
    }),
  );
  const secondary = (
    await ec2.send(new CreateNetworkInterfaceCommand({ SubnetId: subnetId, Groups: [appGroupId] }))
  ).NetworkInterface?.NetworkInterfaceId;
  if (!secondary) throw new Error('EC2 did not create the second interface');
  await ec2.send(
    new AttachNetworkInterfaceCommand({
      NetworkInterfaceId: secondary,
      InstanceId: instanceId,
      DeviceIndex: 1,
    }),
  );
  const described = await ec2.send(new DescribeInstancesCommand({ InstanceIds: [instanceId] }));
  const instance = described.Reservations?.[0]?.Instances?.[0];
  const interfaceIds = (instance?.NetworkInterfaces ?? [])
    .sort((a, b) => (a.Attachment?.DeviceIndex ?? 0) - (b.Attachment?.DeviceIndex ?? 0))
    .flatMap((n) => (n.NetworkInterfaceId ? [n.NetworkInterfaceId] : []));
  for (const id of interfaceIds) {
    await ec2.send(
      new ModifyNetworkInterfaceAttributeCommand({ NetworkInterfaceId: id, Groups: [appGroupId] }),
    );
  }
  const volumeIds = (instance?.BlockDeviceMappings ?? []).flatMap((m) =>
    m.Ebs?.VolumeId ? [m.Ebs.VolumeId] : [],
  );
  return {
    instanceId,
    vpcId,
    subnetId,
    interfaceIds,
    appGroupId,
    autoScalingGroup: groupName,
    healthyInstanceId,
    instanceProfileArn,
    roleName,
    volumeIds,
  };
}

const InstanceEventSchema = z.looseObject({
  detail: z.looseObject({
    resource: z.looseObject({ instanceDetails: z.looseObject({}) }),
  }),
});

/** A GuardDuty crypto-mining finding on the instance, as EventBridge delivers it. */
export function instanceFinding(instance: CompromisedInstance, opts: FindingOptions = {}) {
  const event = retarget(fixture('guardduty-ec2-instance.json'), opts);
  const { detail } = InstanceEventSchema.parse(event);
  return {
    ...event,
    detail: {
      ...event.detail,
      resource: {
        ...detail.resource,
        instanceDetails: {
          ...detail.resource.instanceDetails,
          instanceId: instance.instanceId,
          iamInstanceProfile: { arn: instance.instanceProfileArn, id: 'AIPAEXAMPLEPROFILE001' },
          tags: [{ key: 'aws:autoscaling:groupName', value: instance.autoScalingGroup }],
        },
      },
    },
  };
}

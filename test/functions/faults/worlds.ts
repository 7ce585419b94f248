import {
  AttachInstancesCommand,
  AutoScalingClient,
  DescribeAutoScalingGroupsCommand,
  DescribeAutoScalingInstancesCommand,
  DetachInstancesCommand,
  SetInstanceProtectionCommand,
} from '@aws-sdk/client-auto-scaling';
import {
  AssociateIamInstanceProfileCommand,
  AuthorizeSecurityGroupEgressCommand,
  AuthorizeSecurityGroupIngressCommand,
  CreateSecurityGroupCommand,
  CreateSnapshotCommand,
  CreateTagsCommand,
  DescribeIamInstanceProfileAssociationsCommand,
  DescribeInstanceAttributeCommand,
  DescribeInstancesCommand,
  DescribeNetworkInterfacesCommand,
  DescribeSecurityGroupsCommand,
  DescribeSnapshotsCommand,
  DisassociateIamInstanceProfileCommand,
  EC2Client,
  type IpPermission,
  ModifyInstanceAttributeCommand,
  ModifyNetworkInterfaceAttributeCommand,
  ReplaceIamInstanceProfileAssociationCommand,
  RevokeSecurityGroupEgressCommand,
  RevokeSecurityGroupIngressCommand,
  type Tag,
} from '@aws-sdk/client-ec2';
import {
  AttachUserPolicyCommand,
  DeleteLoginProfileCommand,
  DeleteRolePolicyCommand,
  DeleteUserPolicyCommand,
  DetachUserPolicyCommand,
  GetLoginProfileCommand,
  GetRoleCommand,
  GetRolePolicyCommand,
  GetUserCommand,
  GetUserPolicyCommand,
  IAMClient,
  ListAccessKeysCommand,
  ListAttachedUserPoliciesCommand,
  PutRolePolicyCommand,
  PutUserPolicyCommand,
  type StatusType,
  UpdateAccessKeyCommand,
} from '@aws-sdk/client-iam';
import {
  DeleteFunctionConcurrencyCommand,
  GetFunctionConcurrencyCommand,
  LambdaClient,
  PutFunctionConcurrencyCommand,
} from '@aws-sdk/client-lambda';
import {
  DeletePublicAccessBlockCommand,
  GetPublicAccessBlockCommand,
  type PublicAccessBlockConfiguration,
  PutPublicAccessBlockCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import {
  DeleteResourcePolicyCommand,
  DescribeSecretCommand,
  GetResourcePolicyCommand,
  PutResourcePolicyCommand,
  RotateSecretCommand,
  SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import { mockClient } from 'aws-sdk-client-mock';
import { awsError, noSuchEntity } from '../shared/containment-fixtures.js';
import type { Faults } from './faults.js';

/**
 * Small stateful fakes of the AWS APIs the containment and rollback actions
 * call: a write changes what the next read returns, so a retry sees what an
 * earlier attempt did. Every handler goes through `Faults.wrap`, which names
 * each command a read or a write. Commands a fake does not know fail loudly.
 */

const region = 'us-east-1';
export const clients = {
  iam: new IAMClient({ region }),
  ec2: new EC2Client({ region }),
  autoScaling: new AutoScalingClient({ region }),
  secrets: new SecretsManagerClient({ region }),
  lambda: new LambdaClient({ region }),
  s3: new S3Client({ region }),
};

const mocks = {
  iam: mockClient(IAMClient),
  ec2: mockClient(EC2Client),
  autoScaling: mockClient(AutoScalingClient),
  secrets: mockClient(SecretsManagerClient),
  lambda: mockClient(LambdaClient),
  s3: mockClient(S3Client),
};

/** Resets every client mock; a command nobody set up rejects. */
export function resetMocks(): void {
  const unexpected = (service: string) => () => {
    throw new Error(`unexpected ${service} command: no fake handles it`);
  };
  mocks.iam.reset().onAnyCommand().callsFake(unexpected('iam'));
  mocks.ec2.reset().onAnyCommand().callsFake(unexpected('ec2'));
  mocks.autoScaling.reset().onAnyCommand().callsFake(unexpected('autoScaling'));
  mocks.secrets.reset().onAnyCommand().callsFake(unexpected('secrets'));
  mocks.lambda.reset().onAnyCommand().callsFake(unexpected('lambda'));
  mocks.s3.reset().onAnyCommand().callsFake(unexpected('s3'));
}

const copy = <T>(value: T): T => structuredClone(value);
const CREATED = new Date('2025-01-01T00:00:00.000Z');

// ---------------------------------------------------------------- IAM

export interface IamUser {
  keys: Record<string, StatusType>;
  policies: Record<string, string>;
  /** Managed policies attached, by ARN. */
  attached: string[];
  login: boolean;
}
export interface IamWorld {
  users: Record<string, IamUser>;
  roles: Record<string, { policies: Record<string, string> }>;
}

export function iamWorld(f: Faults, world: IamWorld): IamWorld {
  const user = (name: string | undefined): IamUser => {
    const found = world.users[name ?? ''];
    if (!found) throw noSuchEntity();
    return found;
  };
  const role = (name: string | undefined) => {
    const found = world.roles[name ?? ''];
    if (!found) throw noSuchEntity();
    return found;
  };
  const policy = (policies: Record<string, string>, name: string | undefined) => {
    const document = policies[name ?? ''];
    if (document === undefined) throw noSuchEntity();
    return document;
  };
  const m = mocks.iam;
  m.on(ListAccessKeysCommand).callsFake(
    f.wrap('ListAccessKeys', 'read', (input: { UserName?: string }) => ({
      AccessKeyMetadata: Object.entries(user(input.UserName).keys).map(([AccessKeyId, Status]) => ({
        UserName: input.UserName,
        AccessKeyId,
        Status,
        CreateDate: CREATED,
      })),
      IsTruncated: false,
    })),
  );
  m.on(UpdateAccessKeyCommand).callsFake(
    f.wrap(
      'UpdateAccessKey',
      'write',
      (input: { UserName?: string; AccessKeyId?: string; Status?: StatusType }) => {
        const keys = user(input.UserName).keys;
        if (!input.AccessKeyId || !(input.AccessKeyId in keys) || !input.Status) {
          throw noSuchEntity();
        }
        keys[input.AccessKeyId] = input.Status;
        return {};
      },
    ),
  );
  m.on(GetUserCommand).callsFake(
    f.wrap('GetUser', 'read', (input: { UserName?: string }) => {
      user(input.UserName);
      return { User: { UserName: input.UserName, CreateDate: CREATED } };
    }),
  );
  m.on(GetRoleCommand).callsFake(
    f.wrap('GetRole', 'read', (input: { RoleName?: string }) => {
      role(input.RoleName);
      return { Role: { RoleName: input.RoleName, CreateDate: CREATED } };
    }),
  );
  m.on(GetUserPolicyCommand).callsFake(
    f.wrap('GetUserPolicy', 'read', (input: { UserName?: string; PolicyName?: string }) => ({
      PolicyDocument: policy(user(input.UserName).policies, input.PolicyName),
    })),
  );
  m.on(GetRolePolicyCommand).callsFake(
    f.wrap('GetRolePolicy', 'read', (input: { RoleName?: string; PolicyName?: string }) => ({
      PolicyDocument: policy(role(input.RoleName).policies, input.PolicyName),
    })),
  );
  m.on(ListAttachedUserPoliciesCommand).callsFake(
    f.wrap('ListAttachedUserPolicies', 'read', (input: { UserName?: string }) => ({
      AttachedPolicies: user(input.UserName).attached.map((PolicyArn) => ({ PolicyArn })),
      IsTruncated: false,
    })),
  );
  m.on(AttachUserPolicyCommand).callsFake(
    f.wrap('AttachUserPolicy', 'write', (input: { UserName?: string; PolicyArn?: string }) => {
      const attached = user(input.UserName).attached;
      if (input.PolicyArn && !attached.includes(input.PolicyArn)) attached.push(input.PolicyArn);
      return {};
    }),
  );
  m.on(DetachUserPolicyCommand).callsFake(
    f.wrap('DetachUserPolicy', 'write', (input: { UserName?: string; PolicyArn?: string }) => {
      const found = user(input.UserName);
      if (!input.PolicyArn || !found.attached.includes(input.PolicyArn)) throw noSuchEntity();
      found.attached = found.attached.filter((a) => a !== input.PolicyArn);
      return {};
    }),
  );
  m.on(PutUserPolicyCommand).callsFake(
    f.wrap(
      'PutUserPolicy',
      'write',
      (input: { UserName?: string; PolicyName?: string; PolicyDocument?: string }) => {
        user(input.UserName).policies[input.PolicyName ?? ''] = input.PolicyDocument ?? '';
        return {};
      },
    ),
  );
  m.on(PutRolePolicyCommand).callsFake(
    f.wrap(
      'PutRolePolicy',
      'write',
      (input: { RoleName?: string; PolicyName?: string; PolicyDocument?: string }) => {
        role(input.RoleName).policies[input.PolicyName ?? ''] = input.PolicyDocument ?? '';
        return {};
      },
    ),
  );
  m.on(DeleteUserPolicyCommand).callsFake(
    f.wrap('DeleteUserPolicy', 'write', (input: { UserName?: string; PolicyName?: string }) => {
      const policies = user(input.UserName).policies;
      policy(policies, input.PolicyName);
      delete policies[input.PolicyName ?? ''];
      return {};
    }),
  );
  m.on(DeleteRolePolicyCommand).callsFake(
    f.wrap('DeleteRolePolicy', 'write', (input: { RoleName?: string; PolicyName?: string }) => {
      const policies = role(input.RoleName).policies;
      policy(policies, input.PolicyName);
      delete policies[input.PolicyName ?? ''];
      return {};
    }),
  );
  m.on(GetLoginProfileCommand).callsFake(
    f.wrap('GetLoginProfile', 'read', (input: { UserName?: string }) => {
      if (!user(input.UserName).login) throw noSuchEntity();
      return {
        LoginProfile: {
          UserName: input.UserName,
          CreateDate: CREATED,
          PasswordResetRequired: false,
        },
      };
    }),
  );
  m.on(DeleteLoginProfileCommand).callsFake(
    f.wrap('DeleteLoginProfile', 'write', (input: { UserName?: string }) => {
      const found = user(input.UserName);
      if (!found.login) throw noSuchEntity();
      found.login = false;
      return {};
    }),
  );
  return world;
}

// ---------------------------------------------------------------- EC2 and Auto Scaling

export interface Ec2World {
  instanceId: string;
  vpcId: string;
  rootDeviceType: string;
  disableApiTermination: boolean;
  shutdownBehavior: string;
  volumes: { deviceName: string; volumeId: string; deleteOnTermination: boolean }[];
  /** Network interfaces of the instance: their VPC and groups. */
  interfaces: Record<string, { groups: string[] }>;
  securityGroups: Record<string, { name: string; ingress: IpPermission[]; egress: IpPermission[] }>;
  snapshots: { snapshotId: string; volumeId: string }[];
  /** Tags of every resource, by id. */
  tags: Record<string, Record<string, string>>;
  association: { associationId: string; profileArn: string } | null;
  asg: {
    group: string | null;
    lifecycleState: string;
    protectedFromScaleIn: boolean;
    desiredCapacity: number;
    minSize: number;
    maxSize: number;
  };
  /** Counter for the ids the fake hands out. */
  nextId: number;
}

const tagList = (tags: Record<string, string> | undefined): Tag[] =>
  Object.entries(tags ?? {}).map(([Key, Value]) => ({ Key, Value }));

const sameRule = (a: IpPermission, b: IpPermission) => JSON.stringify(a) === JSON.stringify(b);

export function ec2World(f: Faults, world: Ec2World): Ec2World {
  const id = (prefix: string) => `${prefix}-${(world.nextId++).toString(16).padStart(8, '0')}`;
  const tagsOf = (resource: string) => {
    world.tags[resource] ??= {};
    return world.tags[resource];
  };
  const group = (groupId: string | undefined) => {
    const found = world.securityGroups[groupId ?? ''];
    if (!found) throw awsError('InvalidGroup.NotFound');
    return found;
  };
  const instance = (instanceId: string | undefined) => {
    if (instanceId !== world.instanceId) throw awsError('InvalidInstanceID.NotFound');
  };
  const m = mocks.ec2;
  m.on(DescribeInstancesCommand).callsFake(
    f.wrap('DescribeInstances', 'read', (input: { InstanceIds?: string[] }) => {
      instance(input.InstanceIds?.[0]);
      return {
        Reservations: [
          {
            Instances: [
              {
                InstanceId: world.instanceId,
                State: { Name: 'running' as const },
                VpcId: world.vpcId,
                RootDeviceType:
                  world.rootDeviceType === 'ebs' ? ('ebs' as const) : ('instance-store' as const),
                Tags: tagList(world.tags[world.instanceId]),
                BlockDeviceMappings: world.volumes.map((v) => ({
                  DeviceName: v.deviceName,
                  Ebs: { VolumeId: v.volumeId, DeleteOnTermination: v.deleteOnTermination },
                })),
                NetworkInterfaces: Object.keys(world.interfaces).map((NetworkInterfaceId) => ({
                  NetworkInterfaceId,
                })),
              },
            ],
          },
        ],
      };
    }),
  );
  m.on(DescribeInstanceAttributeCommand).callsFake(
    f.wrap(
      'DescribeInstanceAttribute',
      'read',
      (input: { InstanceId?: string; Attribute?: string }) => {
        instance(input.InstanceId);
        return input.Attribute === 'disableApiTermination'
          ? { DisableApiTermination: { Value: world.disableApiTermination } }
          : { InstanceInitiatedShutdownBehavior: { Value: world.shutdownBehavior } };
      },
    ),
  );
  m.on(ModifyInstanceAttributeCommand).callsFake(
    f.wrap(
      'ModifyInstanceAttribute',
      'write',
      (input: {
        InstanceId?: string;
        DisableApiTermination?: { Value?: boolean };
        InstanceInitiatedShutdownBehavior?: { Value?: string };
        BlockDeviceMappings?: { DeviceName?: string; Ebs?: { DeleteOnTermination?: boolean } }[];
      }) => {
        instance(input.InstanceId);
        if (input.DisableApiTermination) {
          world.disableApiTermination = input.DisableApiTermination.Value === true;
        }
        if (input.InstanceInitiatedShutdownBehavior?.Value) {
          world.shutdownBehavior = input.InstanceInitiatedShutdownBehavior.Value;
        }
        for (const mapping of input.BlockDeviceMappings ?? []) {
          const volume = world.volumes.find((v) => v.deviceName === mapping.DeviceName);
          if (volume) volume.deleteOnTermination = mapping.Ebs?.DeleteOnTermination === true;
        }
        return {};
      },
    ),
  );
  m.on(CreateTagsCommand).callsFake(
    f.wrap('CreateTags', 'write', (input: { Resources?: string[]; Tags?: Tag[] }) => {
      for (const resource of input.Resources ?? []) {
        for (const tag of input.Tags ?? []) {
          if (tag.Key) tagsOf(resource)[tag.Key] = tag.Value ?? '';
        }
      }
      return {};
    }),
  );
  m.on(DescribeSnapshotsCommand).callsFake(
    f.wrap(
      'DescribeSnapshots',
      'read',
      (input: { Filters?: { Name?: string; Values?: string[] }[] }) => ({
        Snapshots: world.snapshots
          .filter((s) =>
            (input.Filters ?? []).every((filter) => {
              const key = filter.Name?.replace(/^tag:/, '') ?? '';
              return (filter.Values ?? []).includes(world.tags[s.snapshotId]?.[key] ?? '');
            }),
          )
          .map((s) => ({
            SnapshotId: s.snapshotId,
            VolumeId: s.volumeId,
            State: 'completed' as const,
            Tags: tagList(world.tags[s.snapshotId]),
          })),
      }),
    ),
  );
  m.on(CreateSnapshotCommand).callsFake(
    f.wrap(
      'CreateSnapshot',
      'write',
      (input: { VolumeId?: string; TagSpecifications?: { Tags?: Tag[] }[] }) => {
        const snapshotId = id('snap');
        world.snapshots.push({ snapshotId, volumeId: input.VolumeId ?? '' });
        for (const tag of input.TagSpecifications?.flatMap((s) => s.Tags ?? []) ?? []) {
          if (tag.Key) tagsOf(snapshotId)[tag.Key] = tag.Value ?? '';
        }
        return { SnapshotId: snapshotId, State: 'pending' as const };
      },
    ),
  );
  m.on(DescribeNetworkInterfacesCommand).callsFake(
    f.wrap('DescribeNetworkInterfaces', 'read', () => ({
      NetworkInterfaces: Object.entries(world.interfaces).map(([NetworkInterfaceId, eni]) => ({
        NetworkInterfaceId,
        VpcId: world.vpcId,
        Groups: eni.groups.map((GroupId) => ({ GroupId })),
        TagSet: tagList(world.tags[NetworkInterfaceId]),
      })),
    })),
  );
  m.on(ModifyNetworkInterfaceAttributeCommand).callsFake(
    f.wrap(
      'ModifyNetworkInterfaceAttribute',
      'write',
      (input: { NetworkInterfaceId?: string; Groups?: string[] }) => {
        const eni = world.interfaces[input.NetworkInterfaceId ?? ''];
        if (!eni) throw awsError('InvalidNetworkInterfaceID.NotFound');
        for (const g of input.Groups ?? []) group(g);
        eni.groups = [...(input.Groups ?? [])];
        return {};
      },
    ),
  );
  m.on(DescribeSecurityGroupsCommand).callsFake(
    f.wrap(
      'DescribeSecurityGroups',
      'read',
      (input: { Filters?: { Name?: string; Values?: string[] }[] }) => {
        const tagKeys = input.Filters?.find((x) => x.Name === 'tag-key')?.Values ?? [];
        return {
          SecurityGroups: Object.entries(world.securityGroups)
            .filter(([groupId]) => tagKeys.every((k) => world.tags[groupId]?.[k] !== undefined))
            .map(([GroupId, g]) => ({
              GroupId,
              GroupName: g.name,
              VpcId: world.vpcId,
              Tags: tagList(world.tags[GroupId]),
              IpPermissions: copy(g.ingress),
              IpPermissionsEgress: copy(g.egress),
            })),
        };
      },
    ),
  );
  m.on(CreateSecurityGroupCommand).callsFake(
    f.wrap(
      'CreateSecurityGroup',
      'write',
      (input: { GroupName?: string; TagSpecifications?: { Tags?: Tag[] }[] }) => {
        if (Object.values(world.securityGroups).some((g) => g.name === input.GroupName)) {
          throw awsError('InvalidGroup.Duplicate');
        }
        const groupId = id('sg');
        world.securityGroups[groupId] = {
          name: input.GroupName ?? '',
          ingress: [],
          egress: [{ IpProtocol: '-1', IpRanges: [{ CidrIp: '0.0.0.0/0' }] }],
        };
        for (const tag of input.TagSpecifications?.flatMap((s) => s.Tags ?? []) ?? []) {
          if (tag.Key) tagsOf(groupId)[tag.Key] = tag.Value ?? '';
        }
        return { GroupId: groupId };
      },
    ),
  );
  const authorize =
    (which: 'ingress' | 'egress') =>
    (input: { GroupId?: string; IpPermissions?: IpPermission[] }) => {
      const g = group(input.GroupId);
      for (const rule of input.IpPermissions ?? []) {
        if (g[which].some((r) => sameRule(r, rule))) throw awsError('InvalidPermission.Duplicate');
        g[which].push(copy(rule));
      }
      return { Return: true };
    };
  const revoke =
    (which: 'ingress' | 'egress') =>
    (input: { GroupId?: string; IpPermissions?: IpPermission[] }) => {
      const g = group(input.GroupId);
      for (const rule of input.IpPermissions ?? []) {
        const at = g[which].findIndex((r) => sameRule(r, rule));
        if (at < 0) throw awsError('InvalidPermission.NotFound');
        g[which].splice(at, 1);
      }
      return { Return: true };
    };
  m.on(AuthorizeSecurityGroupIngressCommand).callsFake(
    f.wrap('AuthorizeSecurityGroupIngress', 'write', authorize('ingress')),
  );
  m.on(AuthorizeSecurityGroupEgressCommand).callsFake(
    f.wrap('AuthorizeSecurityGroupEgress', 'write', authorize('egress')),
  );
  m.on(RevokeSecurityGroupIngressCommand).callsFake(
    f.wrap('RevokeSecurityGroupIngress', 'write', revoke('ingress')),
  );
  m.on(RevokeSecurityGroupEgressCommand).callsFake(
    f.wrap('RevokeSecurityGroupEgress', 'write', revoke('egress')),
  );
  const association = (profileArn: string) => {
    world.association = { associationId: id('iip-assoc'), profileArn };
    return {
      IamInstanceProfileAssociation: {
        AssociationId: world.association.associationId,
        InstanceId: world.instanceId,
        IamInstanceProfile: { Arn: profileArn },
        State: 'associating' as const,
      },
    };
  };
  m.on(DescribeIamInstanceProfileAssociationsCommand).callsFake(
    f.wrap('DescribeIamInstanceProfileAssociations', 'read', () => ({
      IamInstanceProfileAssociations: world.association
        ? [
            {
              AssociationId: world.association.associationId,
              InstanceId: world.instanceId,
              IamInstanceProfile: { Arn: world.association.profileArn },
              State: 'associated' as const,
            },
          ]
        : [],
    })),
  );
  m.on(DisassociateIamInstanceProfileCommand).callsFake(
    f.wrap('DisassociateIamInstanceProfile', 'write', (input: { AssociationId?: string }) => {
      if (world.association?.associationId !== input.AssociationId) {
        throw awsError('InvalidAssociationID.NotFound');
      }
      world.association = null;
      return {};
    }),
  );
  m.on(AssociateIamInstanceProfileCommand).callsFake(
    f.wrap(
      'AssociateIamInstanceProfile',
      'write',
      (input: { InstanceId?: string; IamInstanceProfile?: { Arn?: string } }) => {
        instance(input.InstanceId);
        if (world.association) throw awsError('IncorrectState');
        return association(input.IamInstanceProfile?.Arn ?? '');
      },
    ),
  );
  m.on(ReplaceIamInstanceProfileAssociationCommand).callsFake(
    f.wrap(
      'ReplaceIamInstanceProfileAssociation',
      'write',
      (input: { AssociationId?: string; IamInstanceProfile?: { Arn?: string } }) => {
        if (world.association?.associationId !== input.AssociationId) {
          throw awsError('InvalidAssociationID.NotFound');
        }
        return association(input.IamInstanceProfile?.Arn ?? '');
      },
    ),
  );

  const a = mocks.autoScaling;
  a.on(DescribeAutoScalingInstancesCommand).callsFake(
    f.wrap('DescribeAutoScalingInstances', 'read', () => ({
      AutoScalingInstances:
        world.asg.group === null
          ? []
          : [
              {
                InstanceId: world.instanceId,
                AutoScalingGroupName: world.asg.group,
                LifecycleState: world.asg.lifecycleState as 'InService',
                AvailabilityZone: 'us-east-1a',
                HealthStatus: 'HEALTHY',
                ProtectedFromScaleIn: world.asg.protectedFromScaleIn,
              },
            ],
    })),
  );
  a.on(DescribeAutoScalingGroupsCommand).callsFake(
    f.wrap('DescribeAutoScalingGroups', 'read', (input: { AutoScalingGroupNames?: string[] }) => ({
      AutoScalingGroups: (input.AutoScalingGroupNames ?? []).map((AutoScalingGroupName) => ({
        AutoScalingGroupName,
        DesiredCapacity: world.asg.desiredCapacity,
        MinSize: world.asg.minSize,
        MaxSize: world.asg.maxSize,
        DefaultCooldown: 300,
        AvailabilityZones: ['us-east-1a'],
        HealthCheckType: 'EC2',
        CreatedTime: CREATED,
      })),
    })),
  );
  a.on(DetachInstancesCommand).callsFake(
    f.wrap(
      'DetachInstances',
      'write',
      (input: { AutoScalingGroupName?: string; ShouldDecrementDesiredCapacity?: boolean }) => {
        if (world.asg.group !== input.AutoScalingGroupName) {
          throw Object.assign(awsError('ValidationError'), {
            message: `The instance ${world.instanceId} is not part of Auto Scaling group ${input.AutoScalingGroupName}.`,
          });
        }
        world.asg.group = null;
        if (input.ShouldDecrementDesiredCapacity) world.asg.desiredCapacity -= 1;
        return { Activities: [] };
      },
    ),
  );
  a.on(AttachInstancesCommand).callsFake(
    f.wrap('AttachInstances', 'write', (input: { AutoScalingGroupName?: string }) => {
      if (world.asg.group !== null) throw awsError('ValidationError');
      world.asg.group = input.AutoScalingGroupName ?? null;
      world.asg.lifecycleState = 'InService';
      // An attached instance takes the group's default: unprotected here.
      world.asg.protectedFromScaleIn = false;
      world.asg.desiredCapacity += 1;
      return {};
    }),
  );
  a.on(SetInstanceProtectionCommand).callsFake(
    f.wrap(
      'SetInstanceProtection',
      'write',
      (input: { AutoScalingGroupName?: string; ProtectedFromScaleIn?: boolean }) => {
        if (world.asg.group !== input.AutoScalingGroupName) throw awsError('ValidationError');
        world.asg.protectedFromScaleIn = input.ProtectedFromScaleIn ?? false;
        return {};
      },
    ),
  );
  return world;
}

// ---------------------------------------------------------------- Secrets Manager

export interface SecretsWorld {
  rotationEnabled: boolean;
  versions: { versionId: string; created: Date; stages: string[] }[];
  policy: string | null;
  /** When RotateSecret's new version is created. */
  rotatedAt: Date;
}

export function secretsWorld(f: Faults, world: SecretsWorld): SecretsWorld {
  const m = mocks.secrets;
  m.on(DescribeSecretCommand).callsFake(
    f.wrap('DescribeSecret', 'read', (input: { SecretId?: string }) => ({
      ARN: input.SecretId,
      RotationEnabled: world.rotationEnabled,
      VersionIdsToStages: Object.fromEntries(
        world.versions.map((v) => [v.versionId, [...v.stages]]),
      ),
    })),
  );
  m.on(RotateSecretCommand).callsFake(
    f.wrap('RotateSecret', 'write', () => {
      // The rotation function runs at once and succeeds.
      for (const v of world.versions) {
        v.stages = v.stages.includes('AWSCURRENT') ? ['AWSPREVIOUS'] : [];
      }
      const versionId = `v${world.versions.length + 1}`;
      world.versions.push({ versionId, created: world.rotatedAt, stages: ['AWSCURRENT'] });
      return { VersionId: versionId };
    }),
  );
  m.on(GetResourcePolicyCommand).callsFake(
    f.wrap('GetResourcePolicy', 'read', (input: { SecretId?: string }) => ({
      ARN: input.SecretId,
      ...(world.policy === null ? {} : { ResourcePolicy: world.policy }),
    })),
  );
  m.on(PutResourcePolicyCommand).callsFake(
    f.wrap('PutResourcePolicy', 'write', (input: { ResourcePolicy?: string }) => {
      world.policy = input.ResourcePolicy ?? null;
      return {};
    }),
  );
  m.on(DeleteResourcePolicyCommand).callsFake(
    f.wrap('DeleteResourcePolicy', 'write', () => {
      world.policy = null;
      return {};
    }),
  );
  return world;
}

// ---------------------------------------------------------------- Lambda

export interface LambdaWorld {
  reserved: number | null;
}

export function lambdaWorld(f: Faults, world: LambdaWorld): LambdaWorld {
  const m = mocks.lambda;
  m.on(GetFunctionConcurrencyCommand).callsFake(
    f.wrap('GetFunctionConcurrency', 'read', () =>
      world.reserved === null ? {} : { ReservedConcurrentExecutions: world.reserved },
    ),
  );
  m.on(PutFunctionConcurrencyCommand).callsFake(
    f.wrap(
      'PutFunctionConcurrency',
      'write',
      (input: { ReservedConcurrentExecutions?: number }) => {
        world.reserved = input.ReservedConcurrentExecutions ?? null;
        return { ReservedConcurrentExecutions: world.reserved ?? undefined };
      },
    ),
  );
  m.on(DeleteFunctionConcurrencyCommand).callsFake(
    f.wrap('DeleteFunctionConcurrency', 'write', () => {
      world.reserved = null;
      return {};
    }),
  );
  return world;
}

// ---------------------------------------------------------------- S3

export interface S3World {
  block: PublicAccessBlockConfiguration | null;
}

export function s3World(f: Faults, world: S3World): S3World {
  const m = mocks.s3;
  m.on(GetPublicAccessBlockCommand).callsFake(
    f.wrap('GetPublicAccessBlock', 'read', () => {
      if (world.block === null) throw awsError('NoSuchPublicAccessBlockConfiguration', 404);
      return { PublicAccessBlockConfiguration: { ...world.block } };
    }),
  );
  m.on(PutPublicAccessBlockCommand).callsFake(
    f.wrap(
      'PutPublicAccessBlock',
      'write',
      (input: { PublicAccessBlockConfiguration?: PublicAccessBlockConfiguration }) => {
        world.block = { ...input.PublicAccessBlockConfiguration };
        return {};
      },
    ),
  );
  m.on(DeletePublicAccessBlockCommand).callsFake(
    f.wrap('DeletePublicAccessBlock', 'write', () => {
      world.block = null;
      return {};
    }),
  );
  return world;
}

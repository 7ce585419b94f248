import { readFileSync } from 'node:fs';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  DescribeIamInstanceProfileAssociationsCommand,
  DescribeInstancesCommand,
  EC2Client,
  type Tag as Ec2Tag,
  type Instance,
  type InstanceStateName,
} from '@aws-sdk/client-ec2';
import {
  GetInstanceProfileCommand,
  GetRoleCommand,
  GetUserCommand,
  IAMClient,
  type Tag,
} from '@aws-sdk/client-iam';
import {
  GetFunctionConfigurationCommand,
  LambdaClient,
  ListTagsCommand,
} from '@aws-sdk/client-lambda';
import { GetBucketTaggingCommand, S3Client } from '@aws-sdk/client-s3';
import { DescribeSecretCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import {
  DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  QueryCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { documentClient } from '../../../functions/shared/aws.js';
import { Ledger } from '../../../functions/shared/ledger.js';
import type { RuntimeConfig } from '../../../functions/shared/runtime-config.js';
import type { Guardrails, TriageDeps } from '../../../functions/triage/triage.js';
import { localVerifier } from '../../support/approval-key.js';
import { fakeLedgerMac } from '../../support/ledger-mac.js';

export const ACCOUNT = '123456789012';
export const USER_ARN = `arn:aws:iam::${ACCOUNT}:user/staff/compromised-user`;
export const ROLE_ARN = `arn:aws:iam::${ACCOUNT}:role/app/exfiltrated-role`;
export const INSTANCE_ID = 'i-0abc123def4567890';
export const INSTANCE_ARN = `arn:aws:ec2:us-east-1:${ACCOUNT}:instance/${INSTANCE_ID}`;
export const PROFILE_ARN = `arn:aws:iam::${ACCOUNT}:instance-profile/app/web-app-profile`;
export const INSTANCE_ROLE_ARN = `arn:aws:iam::${ACCOUNT}:role/app/web-app-role`;

export type Fixture =
  | 'guardduty-iam-user'
  | 'guardduty-assumed-role'
  | 'guardduty-root'
  | 'guardduty-sample'
  | 'guardduty-low-severity'
  | 'guardduty-missing-resource'
  | 'securityhub-iam-access-key'
  | 'securityhub-from-guardduty'
  | 'guardduty-ec2-instance'
  | 'guardduty-ec2-target'
  | 'securityhub-ec2-instance'
  | 'securityhub-secret'
  | 'guardduty-secret-access'
  | 'guardduty-lambda'
  | 'securityhub-lambda'
  | 'guardduty-s3-public'
  | 'securityhub-s3-public'
  | 'guardduty-attack-sequence-credentials'
  | 'guardduty-attack-sequence-instance-group'
  | 'securityhub-attack-sequence-credentials'
  | 'unrelated-event';

export function fixture(name: Fixture): unknown {
  const url = new URL(`../../fixtures/events/${name}.json`, import.meta.url);
  const value: unknown = JSON.parse(readFileSync(url, 'utf8'));
  return value;
}

type Path = ReadonlyArray<string | number>;

/** A deep copy of `event` with the value at `path` replaced (or removed, for `undefined`). */
export function withValue(event: unknown, path: Path, value: unknown): unknown {
  const copy: unknown = structuredClone(event);
  const parentPath = path.slice(0, -1);
  const last = path.at(-1);
  let node: unknown = copy;
  for (const key of parentPath) {
    if (typeof node !== 'object' || node === null) throw new Error(`no object at ${String(key)}`);
    node = Reflect.get(node, key);
  }
  if (typeof node !== 'object' || node === null || last === undefined) {
    throw new Error(`no object at ${path.join('.')}`);
  }
  if (value === undefined) Reflect.deleteProperty(node, last);
  else Reflect.set(node, last, value);
  return copy;
}

/** A published finding from test/fixtures/real (SOURCES.md says where each comes from). */
export function realEvent(name: string): unknown {
  const url = new URL(`../../fixtures/real/${name}.json`, import.meta.url);
  const value: unknown = JSON.parse(readFileSync(url, 'utf8'));
  return value;
}

/** Where the one finding of a Security Hub OCSF event sits. */
export const OCSF = ['detail', 'findings', 0] as const;

/**
 * The published GuardDuty finding in Security Hub's OCSF form, made the
 * detection of an allow-listed AWS product (GuardDuty's own go through the
 * GuardDuty rule), New, High, in ACCOUNT, on alice's long-term key. Every
 * field not named here is as published.
 */
export function ocsfEvent(): unknown {
  let event = realEvent('securityhub-v2-guardduty-stealth-iam-user-cloudtrail-logging-disabled');
  const set: Array<[Path, unknown]> = [
    [['account'], ACCOUNT],
    [[...OCSF, 'cloud', 'account', 'uid'], ACCOUNT],
    [
      [...OCSF, 'metadata', 'product', 'uid'],
      'arn:aws:securityhub:us-east-1::productv2/aws/securityhub',
    ],
    [[...OCSF, 'metadata', 'product', 'name'], 'Security Hub'],
    [[...OCSF, 'status_id'], 1],
    [[...OCSF, 'severity_id'], 4],
    [[...OCSF, 'vendor_attributes', 'severity_id'], 4],
    [[...OCSF, 'resources', 0, 'uid'], 'AKIAIOSFODNN7EXAMPLE'],
    [
      [...OCSF, 'resources', 0, 'data'],
      {
        access_key_id: 'AKIAIOSFODNN7EXAMPLE',
        principal_id: 'AIDAEXAMPLEUSERID0001',
        user_name: 'alice',
        user_type: 'IAMUser',
      },
    ],
  ];
  for (const [path, value] of set) event = withValue(event, path, value);
  return event;
}

export function without(event: unknown, path: Path): unknown {
  return withValue(event, path, undefined);
}

export function valueAt(event: unknown, path: Path): unknown {
  let node: unknown = event;
  for (const key of path) {
    if (typeof node !== 'object' || node === null) return undefined;
    node = Reflect.get(node, key);
  }
  return node;
}

export const ASFF_RESOURCE = ['detail', 'findings', 0, 'Resources', 0] as const;

/** One of Cordon's own roles (they are many; one is enough to test the guard). */
export const CORDON_ROLE_ARN = `arn:aws:iam::${ACCOUNT}:role/cordon/Cordon-Triage-ABC123`;

export function config(overrides: Partial<RuntimeConfig> = {}): RuntimeConfig {
  return {
    homeAccount: ACCOUNT,
    allowedRegions: ['us-east-1', 'eu-west-1'],
    severityThreshold: 7,
    securityHubSeverityLabels: ['HIGH', 'CRITICAL'],
    protectedPrincipalPatterns: [`arn:aws:iam::${ACCOUNT}:role/break-glass-*`],
    cordonRoleArns: [CORDON_ROLE_ARN],
    exemptTag: { key: 'cordon:exempt', value: 'true' },
    modes: { 'iam-credentials': {} },
    securityHubProductAllowList: [
      'arn:aws:securityhub:*::product/aws/*',
      'arn:aws:securityhub:*::productv2/aws/*',
    ],
    runtimeModeParameter: '/cordon/mode',
    circuitBreaker: { maxContainments: 20, windowSeconds: 3600 },
    ...overrides,
  };
}

export const ACTOR = `arn:aws:iam::${ACCOUNT}:role/cordon/cordon-triage`;
/** The responder the triage tests' approval records name. */
export const RESPONDER_ARN = `arn:aws:iam::${ACCOUNT}:role/responders`;

export const iamMock = mockClient(IAMClient);
export const ec2Mock = mockClient(EC2Client);
export const ddbMock = mockClient(DynamoDBDocumentClient);
export const secretsMock = mockClient(SecretsManagerClient);
export const lambdaMock = mockClient(LambdaClient);
export const s3Mock = mockClient(S3Client);

/**
 * Resets the client mocks and returns fresh deps: nothing exists until a
 * test says so (each lookup fails as AWS fails it for an unknown name), and
 * every ledger write succeeds.
 */
export function setup(configOverrides: Partial<RuntimeConfig> = {}) {
  iamMock.reset();
  ec2Mock.reset();
  ddbMock.reset();
  secretsMock.reset();
  lambdaMock.reset();
  s3Mock.reset();
  nothingExists();
  ddbMock.on(PutCommand).resolves({});
  // Every incident starts with an empty ledger.
  ddbMock.on(QueryCommand).resolves({ Items: [] });
  // The circuit breaker's window counter, for tests that wire the real breaker.
  ddbMock.on(GetCommand).resolves({});
  ddbMock.on(UpdateCommand).resolves({ Attributes: { count: 1 } });
  const runtime = config(configOverrides);
  const deps: TriageDeps = {
    iam: new IAMClient({ region: 'us-east-1' }),
    ec2: new EC2Client({ region: 'us-east-1' }),
    secretsManager: new SecretsManagerClient({ region: 'us-east-1' }),
    lambda: new LambdaClient({ region: 'us-east-1' }),
    s3: new S3Client({ region: 'us-east-1' }),
    ledger: new Ledger({
      client: documentClient(new DynamoDBClient({ region: 'us-east-1' })),
      tableName: 'cordon-ledger',
      now: () => new Date('2024-05-14T09:32:00.000Z'),
      mac: fakeLedgerMac(),
    }),
    approvals: localVerifier([RESPONDER_ARN]),
    config: runtime,
    actor: ACTOR,
    guardrails: openGuardrails(runtime),
  };
  return deps;
}

/**
 * Guardrails that let every finding through: runtime mode auto, the breaker
 * never holding, every source confirming. Tests of the guards and deciders
 * use them; guardrails.test.ts and the integration tests test the real ones.
 */
export function openGuardrails(runtime: RuntimeConfig): Guardrails {
  return {
    runtimeMode: {
      read: async () => ({ mode: 'auto' }),
      parameterName: runtime.runtimeModeParameter,
    },
    breaker: {
      state: async () => ({ state: 'CLOSED', generation: 0 }),
      count: async () => ({ status: 'counted', count: 1 }),
    },
    limits: runtime.circuitBreaker,
    announceTrip: async () => undefined,
    verifySource: async () => ({ status: 'verified' }),
  };
}

export function userExists(options: { arn?: string; userId?: string; tags?: Tag[] } = {}): void {
  iamMock.on(GetUserCommand, { UserName: 'compromised-user' }).resolves({
    User: {
      Path: '/staff/',
      UserName: 'compromised-user',
      UserId: options.userId ?? 'AIDAEXAMPLEUSERID0001',
      Arn: options.arn ?? USER_ARN,
      CreateDate: new Date('2023-11-02T08:14:55.000Z'),
      Tags: options.tags ?? [{ Key: 'team', Value: 'payments' }],
    },
  });
}

export function roleExists(options: { arn?: string; roleId?: string; tags?: Tag[] } = {}): void {
  iamMock.on(GetRoleCommand, { RoleName: 'exfiltrated-role' }).resolves({
    Role: {
      Path: '/app/',
      RoleName: 'exfiltrated-role',
      RoleId: options.roleId ?? 'AROAEXAMPLEROLEID0001',
      Arn: options.arn ?? ROLE_ARN,
      CreateDate: new Date('2023-11-02T08:14:55.000Z'),
      AssumeRolePolicyDocument: '{}',
      Tags: options.tags ?? [],
    },
  });
}

export interface InstanceOptions {
  readonly ownerId?: string;
  readonly state?: InstanceStateName;
  readonly tags?: Ec2Tag[];
  /** `null` for an instance without a profile. */
  readonly profileArn?: string | null;
}

/** The instance `i-0abc123def4567890` as DescribeInstances reports it. */
export function instanceExists(options: InstanceOptions = {}): void {
  const profileArn = options.profileArn === undefined ? PROFILE_ARN : options.profileArn;
  const instance: Instance = {
    InstanceId: INSTANCE_ID,
    State: { Name: options.state ?? 'running', Code: 16 },
    VpcId: 'vpc-0a1b2c3d4e5f67890',
    SubnetId: 'subnet-0fedcba9876543210',
    ...(profileArn === null
      ? {}
      : { IamInstanceProfile: { Arn: profileArn, Id: 'AIPAEXAMPLEPROFILE001' } }),
    Tags: options.tags ?? [
      { Key: 'Name', Value: 'web-app-1' },
      { Key: 'aws:autoscaling:groupName', Value: 'web-app-asg' },
    ],
  };
  ec2Mock.on(DescribeInstancesCommand, { InstanceIds: [INSTANCE_ID] }).resolves({
    Reservations: [
      {
        ReservationId: 'r-0123456789abcdef0',
        OwnerId: options.ownerId ?? ACCOUNT,
        Instances: [instance],
      },
    ],
  });
}

/** Other instances with the profile associated: DescribeIamInstanceProfileAssociations, in pages. */
export function profileSharedBy(pages: ReadonlyArray<ReadonlyArray<string>>): void {
  const associations = ec2Mock.on(DescribeIamInstanceProfileAssociationsCommand);
  pages.forEach((ids, page) => {
    associations.resolvesOnce({
      IamInstanceProfileAssociations: [
        // This instance and another profile's instance are not counted.
        ...(page === 0
          ? [
              {
                InstanceId: INSTANCE_ID,
                IamInstanceProfile: { Arn: PROFILE_ARN },
                State: 'associated' as const,
              },
              {
                InstanceId: 'i-0fff000000000000f',
                IamInstanceProfile: { Arn: `${PROFILE_ARN}-other` },
                State: 'associated' as const,
              },
            ]
          : []),
        ...ids.map((id) => ({
          InstanceId: id,
          IamInstanceProfile: { Arn: PROFILE_ARN },
          State: 'associated' as const,
        })),
      ],
      ...(page < pages.length - 1 ? { NextToken: `page-${page + 1}` } : {}),
    });
  });
}

/** The profile `web-app-profile` holds the role `web-app-role`, tagged `tags`. */
export function instanceRoleExists(options: { arn?: string; tags?: Tag[] } = {}): void {
  const arn = options.arn ?? INSTANCE_ROLE_ARN;
  const role = {
    Path: '/app/',
    RoleName: 'web-app-role',
    RoleId: 'AROAEXAMPLEWEBAPP0001',
    Arn: arn,
    CreateDate: new Date('2023-11-02T08:14:55.000Z'),
    AssumeRolePolicyDocument: '{}',
  };
  iamMock.on(GetInstanceProfileCommand, { InstanceProfileName: 'web-app-profile' }).resolves({
    InstanceProfile: {
      Path: '/app/',
      InstanceProfileName: 'web-app-profile',
      InstanceProfileId: 'AIPAEXAMPLEPROFILE001',
      Arn: PROFILE_ARN,
      CreateDate: new Date('2023-11-02T08:14:55.000Z'),
      Roles: [role],
    },
  });
  iamMock.on(GetRoleCommand, { RoleName: 'web-app-role' }).resolves({
    Role: { ...role, Tags: options.tags ?? [{ Key: 'team', Value: 'web' }] },
  });
}

export const SECRET_NAME = 'prod/payments/db-password';
export const SECRET_ARN = `arn:aws:secretsmanager:us-east-1:${ACCOUNT}:secret:${SECRET_NAME}-AbCdEf`;
export const FUNCTION_NAME = 'payments-webhook';
export const FUNCTION_ARN = `arn:aws:lambda:us-east-1:${ACCOUNT}:function:${FUNCTION_NAME}`;
export const FUNCTION_ROLE_ARN = `arn:aws:iam::${ACCOUNT}:role/service-role/payments-webhook-role`;
export const BUCKET = 'example-reports-bucket';
export const BUCKET_ARN = `arn:aws:s3:::${BUCKET}`;

export interface SecretOptions {
  readonly arn?: string;
  readonly rotationEnabled?: boolean;
  readonly deletedDate?: Date;
  readonly tags?: Array<{ Key: string; Value: string }>;
  /** VersionIdsToStages. @default b2b2... AWSCURRENT, a1a1... AWSPREVIOUS */
  readonly versions?: Record<string, string[]>;
}

/** The secret `prod/payments/db-password` as DescribeSecret reports it, by ARN and by name. */
export function secretExists(options: SecretOptions = {}): void {
  const output = {
    ARN: options.arn ?? SECRET_ARN,
    Name: SECRET_NAME,
    RotationEnabled: options.rotationEnabled ?? false,
    ...(options.deletedDate === undefined ? {} : { DeletedDate: options.deletedDate }),
    Tags: options.tags ?? [{ Key: 'team', Value: 'payments' }],
    VersionIdsToStages: options.versions ?? {
      'b2b2b2b2-0000-4000-8000-000000000002': ['AWSCURRENT'],
      'a1a1a1a1-0000-4000-8000-000000000001': ['AWSPREVIOUS'],
    },
  };
  secretsMock.on(DescribeSecretCommand, { SecretId: SECRET_ARN }).resolves(output);
  secretsMock.on(DescribeSecretCommand, { SecretId: SECRET_NAME }).resolves(output);
}

export interface FunctionOptions {
  readonly arn?: string;
  readonly roleArn?: string;
  readonly tags?: Record<string, string>;
  /** ListTags is denied. */
  readonly tagsDenied?: boolean;
}

/**
 * The function `payments-webhook` as GetFunctionConfiguration and ListTags
 * report it, with its role `payments-webhook-role`.
 */
export function functionExists(options: FunctionOptions = {}): void {
  lambdaMock.on(GetFunctionConfigurationCommand, { FunctionName: FUNCTION_ARN }).resolves({
    FunctionName: FUNCTION_NAME,
    FunctionArn: options.arn ?? FUNCTION_ARN,
    Role: options.roleArn ?? FUNCTION_ROLE_ARN,
    Runtime: 'nodejs20.x',
  });
  const tags = lambdaMock.on(ListTagsCommand, { Resource: FUNCTION_ARN });
  if (options.tagsDenied === true) tags.rejects(awsError('AccessDeniedException', 403));
  else tags.resolves({ Tags: options.tags ?? { team: 'payments' } });
}

/** The function's role, tagged `tags`, as GetRole reports it. */
export function functionRoleExists(options: { tags?: Tag[]; arn?: string } = {}): void {
  iamMock.on(GetRoleCommand, { RoleName: 'payments-webhook-role' }).resolves({
    Role: {
      Path: '/service-role/',
      RoleName: 'payments-webhook-role',
      RoleId: 'AROAEXAMPLEFUNCTION01',
      Arn: options.arn ?? FUNCTION_ROLE_ARN,
      CreateDate: new Date('2023-11-02T08:14:55.000Z'),
      AssumeRolePolicyDocument: '{}',
      Tags: options.tags ?? [],
    },
  });
}

/** The bucket's tags, as GetBucketTagging reports them to its owner. */
export function bucketTagged(tags: Array<{ Key: string; Value: string }>): void {
  s3Mock
    .on(GetBucketTaggingCommand, { Bucket: BUCKET, ExpectedBucketOwner: ACCOUNT })
    .resolves({ TagSet: tags });
}

/**
 * What AWS answers for a name it does not know. A client mock with no
 * matching behaviour resolves `undefined`, which no real client returns,
 * so a lookup a test did not set up would crash triage instead of being
 * refused the way a deployed triage refuses it.
 */
function nothingExists(): void {
  iamMock.on(GetUserCommand).rejects(awsError('NoSuchEntity', 404));
  iamMock.on(GetRoleCommand).rejects(awsError('NoSuchEntity', 404));
  iamMock.on(GetInstanceProfileCommand).rejects(awsError('NoSuchEntity', 404));
  ec2Mock.on(DescribeInstancesCommand).rejects(awsError('InvalidInstanceID.NotFound', 400));
  ec2Mock
    .on(DescribeIamInstanceProfileAssociationsCommand)
    .resolves({ IamInstanceProfileAssociations: [] });
  secretsMock.on(DescribeSecretCommand).rejects(awsError('ResourceNotFoundException', 400));
  lambdaMock
    .on(GetFunctionConfigurationCommand)
    .rejects(awsError('ResourceNotFoundException', 404));
  lambdaMock.on(ListTagsCommand).rejects(awsError('ResourceNotFoundException', 404));
  s3Mock.on(GetBucketTaggingCommand).rejects(awsError('NoSuchBucket', 404));
}

/** An AWS SDK error by name and status, as every client throws them. */
export function awsError(name: string, status: number): Error {
  return Object.assign(new Error(name), {
    name,
    $fault: status >= 500 ? 'server' : 'client',
    $metadata: { httpStatusCode: status },
  });
}

export const PUBLIC_BUCKET = 'example-public-bucket';

/**
 * The published SQS.1 control failing (Security Hub's OCSF form, class 2003,
 * test/fixtures/real) made `control` failing on PUBLIC_BUCKET in ACCOUNT and
 * us-east-1, High (provider and top level). No published OCSF finding names
 * a bucket; every field not named here is as published.
 */
export function ocsfBucketControl(control = 'S3.8'): unknown {
  let event = realEvent('securityhub-v2-control-sqs-1');
  const set: Array<[Path, unknown]> = [
    [['account'], ACCOUNT],
    [['region'], 'us-east-1'],
    [[...OCSF, 'cloud', 'account', 'uid'], ACCOUNT],
    [[...OCSF, 'cloud', 'region'], 'us-east-1'],
    [
      [...OCSF, 'metadata', 'product', 'uid'],
      'arn:aws:securityhub:us-east-1::productv2/aws/securityhub',
    ],
    [[...OCSF, 'compliance', 'control'], control],
    [
      [...OCSF, 'finding_info', 'uid'],
      `arn:aws:securityhub:us-east-1:${ACCOUNT}:security-control/${control}/finding/7dabcdef-1234-8912-5678-5012345678904`,
    ],
    [[...OCSF, 'severity_id'], 4],
    [[...OCSF, 'vendor_attributes', 'severity_id'], 4],
    [
      [...OCSF, 'resources'],
      [
        {
          cloud_partition: 'aws',
          owner: { account: { uid: ACCOUNT } },
          region: 'us-east-1',
          type: 'AWS::S3::Bucket',
          uid: `arn:aws:s3:::${PUBLIC_BUCKET}`,
        },
      ],
    ],
  ];
  for (const [path, value] of set) event = withValue(event, path, value);
  return event;
}

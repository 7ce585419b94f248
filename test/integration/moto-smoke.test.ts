/**
 * Proves that the run's moto server serves, to the JS SDK v3, the calls Cordon
 * makes, with real resulting state, and that `useMoto()` resets it per test.
 *
 * Known moto differences (moto 5.2.x), checked here so a change shows up:
 * - GetUserPolicy / GetRolePolicy return the policy document URL-encoded, as
 *   real IAM does; decode before parsing.
 * - CreateLoginProfile ignores PasswordResetRequired (GetLoginProfile reports
 *   false); only UpdateLoginProfile sets it. Not asserted here.
 * - Security Hub BatchUpdateFindings is not implemented (cover it with client
 *   mocks).
 */

import {
  ConditionalCheckFailedException,
  CreateTableCommand,
  DynamoDBClient,
} from '@aws-sdk/client-dynamodb';
import {
  AttachUserPolicyCommand,
  CreateAccessKeyCommand,
  CreateLoginProfileCommand,
  CreateRoleCommand,
  CreateUserCommand,
  DeleteLoginProfileCommand,
  DetachUserPolicyCommand,
  GetLoginProfileCommand,
  GetRoleCommand,
  GetRolePolicyCommand,
  GetUserCommand,
  GetUserPolicyCommand,
  IAMClient,
  ListAccessKeysCommand,
  ListAttachedUserPoliciesCommand,
  ListUsersCommand,
  NoSuchEntityException,
  PutRolePolicyCommand,
  PutUserPolicyCommand,
  UpdateAccessKeyCommand,
} from '@aws-sdk/client-iam';
import {
  BatchImportFindingsCommand,
  GetFindingsCommand,
  SecurityHubClient,
} from '@aws-sdk/client-securityhub';
import {
  CreateTopicCommand,
  ListTopicsCommand,
  PublishCommand,
  SNSClient,
} from '@aws-sdk/client-sns';
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { DynamoDBDocumentClient, PutCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { describe, expect, it } from 'vitest';
import { MOTO_ACCOUNT_ID, motoClientConfig, useMoto } from '../support/moto.js';

const { endpoint } = useMoto();
const config = motoClientConfig(endpoint);
const iam = new IAMClient(config);

const denyAll = {
  Version: '2012-10-17',
  Statement: [{ Sid: 'CordonQuarantine', Effect: 'Deny', Action: '*', Resource: '*' }],
};

function decodePolicy(document: string | undefined): unknown {
  expect(document).toBeDefined();
  return JSON.parse(decodeURIComponent(document ?? ''));
}

describe('moto serves what Cordon calls', () => {
  it('STS: the default test credentials belong to account 123456789012', async () => {
    const sts = new STSClient(config);
    const identity = await sts.send(new GetCallerIdentityCommand({}));
    expect(identity.Account).toBe(MOTO_ACCOUNT_ID);
    expect(identity.Arn).toMatch(/^arn:aws:(iam|sts)::123456789012:/);
  });

  it('the SDK reaches moto through AWS_ENDPOINT_URL alone', async () => {
    expect(process.env.AWS_ENDPOINT_URL).toBe(endpoint);
    await new IAMClient(config).send(new CreateUserCommand({ UserName: 'via-config' }));
    const implicit = new IAMClient({});
    const users = await implicit.send(new ListUsersCommand({}));
    expect(users.Users?.map((u) => u.UserName)).toEqual(['via-config']);
  });

  it('IAM: access keys can be listed and disabled, and read back Inactive', async () => {
    await iam.send(
      new CreateUserCommand({ UserName: 'alice', Tags: [{ Key: 'team', Value: 'a' }] }),
    );
    const created = await iam.send(new CreateAccessKeyCommand({ UserName: 'alice' }));
    const keyId = created.AccessKey?.AccessKeyId;
    expect(keyId).toMatch(/^AKIA/);
    expect(created.AccessKey?.Status).toBe('Active');

    await iam.send(
      new UpdateAccessKeyCommand({ UserName: 'alice', AccessKeyId: keyId, Status: 'Inactive' }),
    );
    const listed = await iam.send(new ListAccessKeysCommand({ UserName: 'alice' }));
    expect(listed.AccessKeyMetadata).toEqual([
      expect.objectContaining({ AccessKeyId: keyId, Status: 'Inactive', UserName: 'alice' }),
    ]);

    const user = await iam.send(new GetUserCommand({ UserName: 'alice' }));
    expect(user.User?.Arn).toBe('arn:aws:iam::123456789012:user/alice');
    expect(user.User?.Tags).toEqual([{ Key: 'team', Value: 'a' }]);
  });

  it('IAM: inline user policies round-trip (URL-encoded on read)', async () => {
    await iam.send(new CreateUserCommand({ UserName: 'alice' }));
    await iam.send(
      new PutUserPolicyCommand({
        UserName: 'alice',
        PolicyName: 'cordon-quarantine',
        PolicyDocument: JSON.stringify(denyAll),
      }),
    );
    const policy = await iam.send(
      new GetUserPolicyCommand({ UserName: 'alice', PolicyName: 'cordon-quarantine' }),
    );
    expect(policy.PolicyName).toBe('cordon-quarantine');
    expect(decodePolicy(policy.PolicyDocument)).toEqual(denyAll);
  });

  it("IAM: AWS's managed AWSDenyAll attaches to a user and detaches (the server loads AWS's policies)", async () => {
    const denyAll = 'arn:aws:iam::aws:policy/AWSDenyAll';
    await iam.send(new CreateUserCommand({ UserName: 'alice' }));
    await iam.send(new AttachUserPolicyCommand({ UserName: 'alice', PolicyArn: denyAll }));
    const attached = await iam.send(new ListAttachedUserPoliciesCommand({ UserName: 'alice' }));
    expect(attached.AttachedPolicies).toEqual([{ PolicyName: 'AWSDenyAll', PolicyArn: denyAll }]);
    await iam.send(new DetachUserPolicyCommand({ UserName: 'alice', PolicyArn: denyAll }));
    const after = await iam.send(new ListAttachedUserPoliciesCommand({ UserName: 'alice' }));
    expect(after.AttachedPolicies).toEqual([]);
  });

  it('IAM: roles with a path keep their tags and inline policies', async () => {
    const trust = {
      Version: '2012-10-17',
      Statement: [
        {
          Effect: 'Allow',
          Principal: { Service: 'lambda.amazonaws.com' },
          Action: 'sts:AssumeRole',
        },
      ],
    };
    const created = await iam.send(
      new CreateRoleCommand({
        RoleName: 'worker',
        Path: '/service-role/',
        AssumeRolePolicyDocument: JSON.stringify(trust),
        Tags: [{ Key: 'cordon:exempt', Value: 'false' }],
      }),
    );
    expect(created.Role?.Arn).toBe('arn:aws:iam::123456789012:role/service-role/worker');

    const revoke = {
      Version: '2012-10-17',
      Statement: [
        {
          Effect: 'Deny',
          Action: '*',
          Resource: '*',
          Condition: { DateLessThan: { 'aws:TokenIssueTime': '2026-01-01T00:00:00Z' } },
        },
      ],
    };
    await iam.send(
      new PutRolePolicyCommand({
        RoleName: 'worker',
        PolicyName: 'cordon-revoke-older-sessions',
        PolicyDocument: JSON.stringify(revoke),
      }),
    );
    const policy = await iam.send(
      new GetRolePolicyCommand({ RoleName: 'worker', PolicyName: 'cordon-revoke-older-sessions' }),
    );
    expect(decodePolicy(policy.PolicyDocument)).toEqual(revoke);

    const role = await iam.send(new GetRoleCommand({ RoleName: 'worker' }));
    expect(role.Role?.Path).toBe('/service-role/');
    expect(role.Role?.Tags).toEqual([{ Key: 'cordon:exempt', Value: 'false' }]);
  });

  it('IAM: console login profiles can be created, read and removed', async () => {
    await iam.send(new CreateUserCommand({ UserName: 'alice' }));
    await iam.send(
      new CreateLoginProfileCommand({
        UserName: 'alice',
        Password: 'Correct-Horse-9',
        PasswordResetRequired: true,
      }),
    );
    const profile = await iam.send(new GetLoginProfileCommand({ UserName: 'alice' }));
    expect(profile.LoginProfile?.UserName).toBe('alice');
    expect(profile.LoginProfile?.CreateDate).toBeInstanceOf(Date);

    await iam.send(new DeleteLoginProfileCommand({ UserName: 'alice' }));
    await expect(
      iam.send(new GetLoginProfileCommand({ UserName: 'alice' })),
    ).rejects.toBeInstanceOf(NoSuchEntityException);
  });

  it('DynamoDB: conditional puts claim once, GSI queries newest first', async () => {
    const client = new DynamoDBClient(config);
    const doc = DynamoDBDocumentClient.from(client);
    const created = await client.send(
      new CreateTableCommand({
        TableName: 'ledger',
        BillingMode: 'PAY_PER_REQUEST',
        AttributeDefinitions: [
          { AttributeName: 'pk', AttributeType: 'S' },
          { AttributeName: 'sk', AttributeType: 'S' },
          { AttributeName: 'target', AttributeType: 'S' },
          { AttributeName: 'at', AttributeType: 'S' },
        ],
        KeySchema: [
          { AttributeName: 'pk', KeyType: 'HASH' },
          { AttributeName: 'sk', KeyType: 'RANGE' },
        ],
        GlobalSecondaryIndexes: [
          {
            IndexName: 'by-target',
            KeySchema: [
              { AttributeName: 'target', KeyType: 'HASH' },
              { AttributeName: 'at', KeyType: 'RANGE' },
            ],
            Projection: { ProjectionType: 'ALL' },
          },
        ],
      }),
    );
    expect(created.TableDescription?.GlobalSecondaryIndexes?.[0]?.IndexName).toBe('by-target');

    const target = 'arn:aws:iam::123456789012:user/alice';
    const entry = (seq: number) => ({
      pk: 'incident#1',
      sk: `seq#${String(seq).padStart(6, '0')}`,
      target,
      at: `2026-01-01T00:00:0${seq}Z`,
      step: `step-${seq}`,
    });
    const claim = (seq: number) =>
      new PutCommand({
        TableName: 'ledger',
        Item: entry(seq),
        ConditionExpression: 'attribute_not_exists(pk)',
      });

    await doc.send(claim(1));
    await doc.send(claim(2));
    await expect(doc.send(claim(1))).rejects.toBeInstanceOf(ConditionalCheckFailedException);

    const newest = await doc.send(
      new QueryCommand({
        TableName: 'ledger',
        IndexName: 'by-target',
        KeyConditionExpression: '#t = :t',
        ExpressionAttributeNames: { '#t': 'target' },
        ExpressionAttributeValues: { ':t': target },
        ScanIndexForward: false,
        Limit: 1,
      }),
    );
    expect(newest.Items).toEqual([entry(2)]);
    expect(newest.LastEvaluatedKey).toBeDefined();
  });

  it('SNS: topics accept published summaries', async () => {
    const sns = new SNSClient(config);
    const topic = await sns.send(new CreateTopicCommand({ Name: 'cordon-notifications' }));
    expect(topic.TopicArn).toBe('arn:aws:sns:us-east-1:123456789012:cordon-notifications');
    const published = await sns.send(
      new PublishCommand({
        TopicArn: topic.TopicArn,
        Subject: 'Cordon: incident contained',
        Message: JSON.stringify({ incident: 'incident#1', outcome: 'contained' }),
      }),
    );
    expect(published.MessageId).toMatch(/\S+/);
    const topics = await sns.send(new ListTopicsCommand({}));
    expect(topics.Topics?.map((t) => t.TopicArn)).toEqual([topic.TopicArn]);
  });

  it('Security Hub: imported findings can be read back (no BatchUpdateFindings in moto)', async () => {
    const hub = new SecurityHubClient(config);
    const now = new Date().toISOString();
    const imported = await hub.send(
      new BatchImportFindingsCommand({
        Findings: [
          {
            SchemaVersion: '2018-10-08',
            Id: 'finding-1',
            ProductArn: 'arn:aws:securityhub:us-east-1:123456789012:product/123456789012/default',
            GeneratorId: 'cordon-test',
            AwsAccountId: MOTO_ACCOUNT_ID,
            Types: ['Unusual Behaviors/User'],
            CreatedAt: now,
            UpdatedAt: now,
            Severity: { Label: 'HIGH' },
            Title: 'Access key used from an unusual location',
            Description: 'test finding',
            Resources: [{ Type: 'AwsIamAccessKey', Id: 'AKIAEXAMPLE' }],
          },
        ],
      }),
    );
    expect(imported.SuccessCount).toBe(1);
    const found = await hub.send(new GetFindingsCommand({}));
    expect(found.Findings?.map((f) => [f.Id, f.Severity?.Label])).toEqual([['finding-1', 'HIGH']]);
  });
});

describe('useMoto resets state before each test', () => {
  // Both tests create the same user; without the reset the second would fail
  // with EntityAlreadyExists (and see two users), whichever order they run in.
  for (const name of ['first', 'second']) {
    it(`${name} test starts from an empty account`, async () => {
      const before = await iam.send(new ListUsersCommand({}));
      expect(before.Users).toEqual([]);
      await iam.send(new CreateUserCommand({ UserName: 'same-name' }));
      const after = await iam.send(new ListUsersCommand({}));
      expect(after.Users?.map((u) => u.UserName)).toEqual(['same-name']);
    });
  }
});

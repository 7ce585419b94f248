import 'aws-sdk-client-mock-vitest/extend';
import {
  DescribeIamInstanceProfileAssociationsCommand,
  DescribeInstancesCommand,
  EC2ServiceException,
} from '@aws-sdk/client-ec2';
import {
  GetInstanceProfileCommand,
  GetRoleCommand,
  IAMServiceException,
} from '@aws-sdk/client-iam';
import { PutCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { describe, expect, it } from 'vitest';
import { TriageResultSchema } from '../../../../functions/shared/incident.js';
import {
  ACCOUNT,
  ACTOR,
  ASFF_RESOURCE,
  ddbMock,
  ec2Mock,
  fixture,
  INSTANCE_ARN,
  INSTANCE_ID,
  INSTANCE_ROLE_ARN,
  iamMock,
  instanceExists,
  instanceRoleExists,
  PROFILE_ARN,
  profileSharedBy,
  setup,
  valueAt,
  withValue,
} from '../helpers.js';
import { runTriage } from '../run.js';

function ec2Error(name: string, status: number): EC2ServiceException {
  return new EC2ServiceException({
    name,
    $fault: status >= 500 ? 'server' : 'client',
    $metadata: { httpStatusCode: status },
    message: name,
  });
}

function iamError(name: string, status: number): IAMServiceException {
  return new IAMServiceException({
    name,
    $fault: status >= 500 ? 'server' : 'client',
    $metadata: { httpStatusCode: status },
    message: name,
  });
}

/** An instance with its profile, role and two other instances sharing the profile. */
function healthyInstance(): void {
  instanceExists();
  instanceRoleExists();
  profileSharedBy([['i-0aaaaaaaaaaaaaaa1', INSTANCE_ID], ['i-0bbbbbbbbbbbbbbb2']]);
}

const TARGET_REASON = 'the instance is the target of the activity, not its actor';

/** Refused, claimed as refused, and every ec2-instance step off. */
async function expectRefused(event: unknown, reason: string | RegExp, deps = setup()) {
  const result = await runTriage(event, deps);
  expect(result.decision).toBe('REFUSED');
  if (typeof reason === 'string') expect(result.reason).toBe(reason);
  else expect(result.reason).toMatch(reason);
  expect(Object.keys(result.incident.plan).sort()).toEqual([
    'isolate',
    'preserveEvidence',
    'revokeInstanceRoleSessions',
  ]);
  expect(Object.values(result.incident.plan).every((step) => step.mode === 'off')).toBe(true);
  expect(ddbMock).toHaveReceivedCommandWith(PutCommand, {
    Item: expect.objectContaining({ outcome: 'REFUSED', summary: result.reason }),
  });
  return result;
}

describe('triage: GuardDuty EC2 instance', () => {
  it('verifies the instance, fills it and its role, and plans the ec2-instance steps', async () => {
    // Arrange
    const deps = setup();
    healthyInstance();

    // Act
    const result = await runTriage(fixture('guardduty-ec2-instance'), deps);

    // Assert
    expect(TriageResultSchema.parse(result)).toEqual(result);
    expect(result.decision).toBe('PROCEED');
    expect(result.reason).toBe('claimed');
    expect(result.incident).toMatchObject({
      playbook: 'ec2-instance',
      source: 'guardduty',
      findingId: 'c4e8b3a5d0f16b2a9e7d5c4b3f2a1c03',
      findingType: 'CryptoCurrency:EC2/BitcoinTool.B!DNS',
      severity: 8,
      account: ACCOUNT,
      region: 'us-east-1',
    });
    expect(result.incident.instance).toEqual({
      instanceId: INSTANCE_ID,
      arn: INSTANCE_ARN,
      vpcId: 'vpc-0a1b2c3d4e5f67890',
      instanceProfileArn: PROFILE_ARN,
      autoScalingGroup: 'web-app-asg',
      profileSharedWith: 2,
    });
    expect(result.incident.principal).toEqual({
      kind: 'AssumedRole',
      arn: INSTANCE_ROLE_ARN,
      name: 'web-app-role',
      uniqueId: 'AROAEXAMPLEWEBAPP0001',
    });
    expect(result.incident.plan).toEqual({
      preserveEvidence: { mode: 'auto' },
      isolate: { mode: 'approve' },
      revokeInstanceRoleSessions: { mode: 'approve' },
    });
  });

  it('asks EC2 for the instance and IAM for the profile named by the last segment of its ARN', async () => {
    const deps = setup();
    healthyInstance();

    await runTriage(fixture('guardduty-ec2-instance'), deps);

    expect(ec2Mock).toHaveReceivedCommandWith(DescribeInstancesCommand, {
      InstanceIds: [INSTANCE_ID],
    });
    expect(iamMock).toHaveReceivedCommandWith(GetInstanceProfileCommand, {
      InstanceProfileName: 'web-app-profile',
    });
    expect(iamMock).toHaveReceivedCommandWith(GetRoleCommand, { RoleName: 'web-app-role' });
  });

  it('counts the other instances with the profile associated across pages, excluding this one', async () => {
    const deps = setup();
    healthyInstance();

    const result = await runTriage(fixture('guardduty-ec2-instance'), deps);

    expect(ec2Mock).toHaveReceivedCommandWith(DescribeIamInstanceProfileAssociationsCommand, {
      Filters: [{ Name: 'state', Values: ['associating', 'associated'] }],
      NextToken: 'page-1',
    });
    expect(result.incident.instance?.profileSharedWith).toBe(2);
  });

  it('writes the claim with the instance ARN as target and the execution ARN', async () => {
    const deps = setup();
    healthyInstance();
    const executionArn = `arn:aws:states:us-east-1:${ACCOUNT}:execution:cordon-ec2:run-1`;

    const result = await runTriage(fixture('guardduty-ec2-instance'), deps, { executionArn });

    expect(ddbMock).toHaveReceivedCommandTimes(PutCommand, 1);
    expect(ddbMock).toHaveReceivedCommandWith(PutCommand, {
      ConditionExpression: 'attribute_not_exists(#pk)',
      Item: expect.objectContaining({
        incidentId: result.incident.incidentId,
        seq: 0,
        actor: ACTOR,
        outcome: 'CLAIMED',
        targetArn: INSTANCE_ARN,
        executionArn,
        findingId: 'c4e8b3a5d0f16b2a9e7d5c4b3f2a1c03',
      }),
    });
  });

  it('applies configured ec2-instance modes over catalog defaults', async () => {
    const deps = setup({
      modes: { 'ec2-instance': { preserveEvidence: 'dry-run', isolate: 'auto' } },
    });
    healthyInstance();

    const result = await runTriage(fixture('guardduty-ec2-instance'), deps);

    expect(result.incident.plan).toEqual({
      preserveEvidence: { mode: 'dry-run' },
      isolate: { mode: 'auto' },
      revokeInstanceRoleSessions: { mode: 'approve' },
    });
  });

  it('returns DUPLICATE with every ec2-instance step off when already claimed', async () => {
    const deps = setup();
    healthyInstance();
    const first = `arn:aws:states:us-east-1:${ACCOUNT}:execution:cordon-ec2-instance:first`;
    const updatedAt = valueAt(fixture('guardduty-ec2-instance'), ['detail', 'updatedAt']);
    ddbMock.on(QueryCommand).resolves({
      Items: [
        { seq: 0, step: 'triage', outcome: 'CLAIMED', executionArn: first, detail: { updatedAt } },
      ],
    });

    const result = await runTriage(fixture('guardduty-ec2-instance'), deps);

    expect(result.decision).toBe('DUPLICATE');
    expect(result.incident.plan).toEqual({
      preserveEvidence: { mode: 'off', reason: 'already claimed' },
      isolate: { mode: 'off', reason: 'already claimed' },
      revokeInstanceRoleSessions: { mode: 'off', reason: 'already claimed' },
    });
  });
});

describe('triage: Security Hub EC2 instance', () => {
  it('verifies an AwsEc2Instance finding and plans the ec2-instance steps', async () => {
    const deps = setup();
    healthyInstance();

    const result = await runTriage(fixture('securityhub-ec2-instance'), deps);

    expect(result.decision).toBe('PROCEED');
    expect(result.incident).toMatchObject({
      playbook: 'ec2-instance',
      source: 'securityhub',
      productArn: 'arn:aws:securityhub:us-east-1:123456789012:product/123456789012/default',
      instance: { instanceId: INSTANCE_ID, arn: INSTANCE_ARN },
      principal: { arn: INSTANCE_ROLE_ARN },
    });
    expect(result.incident.plan.preserveEvidence).toEqual({ mode: 'auto' });
  });

  it('refuses an instance ARN in another account before asking EC2', async () => {
    const deps = setup();
    const event = withValue(
      fixture('securityhub-ec2-instance'),
      [...ASFF_RESOURCE, 'Id'],
      `arn:aws:ec2:us-east-1:210987654321:instance/${INSTANCE_ID}`,
    );

    await expectRefused(
      event,
      `account: the instance arn:aws:ec2:us-east-1:210987654321:instance/${INSTANCE_ID} is in account 210987654321, not the finding's account ${ACCOUNT}`,
      deps,
    );
    expect(ec2Mock).not.toHaveReceivedAnyCommand();
  });

  it("refuses an instance ARN whose region is not the finding's", async () => {
    const event = withValue(
      fixture('securityhub-ec2-instance'),
      [...ASFF_RESOURCE, 'Id'],
      `arn:aws:ec2:eu-west-1:${ACCOUNT}:instance/${INSTANCE_ID}`,
    );

    await expectRefused(
      event,
      /^region: the instance .* is in eu-west-1, not the finding's region us-east-1$/,
    );
  });

  it('refuses a Security Hub instance finding from GuardDuty, leaving it to the GuardDuty rule', async () => {
    const event = withValue(
      fixture('securityhub-ec2-instance'),
      ['detail', 'findings', 0, 'ProductName'],
      'GuardDuty',
    );

    await expectRefused(event, /^product: /);
  });
});

describe('triage: instance verification', () => {
  it('refuses, without asking IAM, when EC2 says the instance does not exist', async () => {
    const deps = setup();
    ec2Mock.on(DescribeInstancesCommand).rejects(ec2Error('InvalidInstanceID.NotFound', 400));

    const result = await expectRefused(
      fixture('guardduty-ec2-instance'),
      `instance: instance ${INSTANCE_ID} no longer exists`,
      deps,
    );
    expect(result.incident.instance).toEqual({ instanceId: INSTANCE_ID, arn: INSTANCE_ARN });
    expect(iamMock).not.toHaveReceivedAnyCommand();
  });

  it('refuses when EC2 returns no such instance', async () => {
    const deps = setup();
    ec2Mock.on(DescribeInstancesCommand).resolves({ Reservations: [] });

    await expectRefused(
      fixture('guardduty-ec2-instance'),
      `instance: instance ${INSTANCE_ID} no longer exists`,
      deps,
    );
  });

  it.each(['terminated', 'shutting-down'] as const)(
    'refuses an instance that is %s',
    async (state) => {
      const deps = setup();
      instanceExists({ state });

      await expectRefused(
        fixture('guardduty-ec2-instance'),
        `instance: instance ${INSTANCE_ID} is ${state}`,
        deps,
      );
    },
  );

  it('acts on a stopped instance', async () => {
    const deps = setup();
    instanceExists({ state: 'stopped' });
    instanceRoleExists();
    profileSharedBy([[]]);

    const result = await runTriage(fixture('guardduty-ec2-instance'), deps);

    expect(result.decision).toBe('PROCEED');
    expect(result.incident.instance?.profileSharedWith).toBe(0);
  });

  it("refuses an instance EC2 reports as another account's", async () => {
    const deps = setup();
    instanceExists({ ownerId: '210987654321' });

    await expectRefused(
      fixture('guardduty-ec2-instance'),
      `account: instance ${INSTANCE_ID} is owned by account 210987654321, not the finding's account ${ACCOUNT}`,
      deps,
    );
  });

  it("refuses an instance in a region this deployment's EC2 client does not call", async () => {
    const deps = setup();
    const event = withValue(fixture('guardduty-ec2-instance'), ['detail', 'region'], 'eu-west-1');

    await expectRefused(
      event,
      `region: instance ${INSTANCE_ID} is in eu-west-1; this deployment's EC2 calls go to us-east-1`,
      deps,
    );
    expect(ec2Mock).not.toHaveReceivedAnyCommand();
  });

  it('refuses a sample instance finding without asking EC2, naming the claimed instance', async () => {
    const deps = setup();
    const event = withValue(
      fixture('guardduty-ec2-instance'),
      ['detail', 'service', 'additionalInfo', 'sample'],
      true,
    );

    const result = await expectRefused(event, 'sample: the finding is a sample finding', deps);
    expect(result.incident.instance).toEqual({ instanceId: INSTANCE_ID, arn: INSTANCE_ARN });
    expect(ec2Mock).not.toHaveReceivedAnyCommand();
  });

  it('sends every automatic or dry-run step to a human when EC2 denies DescribeInstances', async () => {
    const deps = setup({ modes: { 'ec2-instance': { isolate: 'dry-run' } } });
    ec2Mock.on(DescribeInstancesCommand).rejects(ec2Error('UnauthorizedOperation', 403));

    const result = await runTriage(fixture('guardduty-ec2-instance'), deps);

    expect(result.decision).toBe('PROCEED');
    expect(result.reason).toMatch(
      /^claimed; automatic steps need approval: exempt tag could not be read: describe instance i-0abc123def4567890: UnauthorizedOperation/,
    );
    expect(result.incident.plan.preserveEvidence).toEqual({
      mode: 'approve',
      reason: expect.stringMatching(/^exempt tag could not be read: /),
    });
    expect(result.incident.plan.isolate?.mode).toBe('approve');
    expect(result.incident.plan.revokeInstanceRoleSessions).toEqual({
      mode: 'off',
      reason: expect.stringMatching(/^the instance role could not be read: /),
    });
    expect(result.incident.instance).toEqual({ instanceId: INSTANCE_ID, arn: INSTANCE_ARN });
    expect(result.incident.principal).toBeUndefined();
  });

  it('still refuses a protected instance when EC2 cannot be read', async () => {
    const deps = setup({ protectedPrincipalPatterns: ['arn:aws:ec2:*:*:instance/i-0abc*'] });
    ec2Mock.on(DescribeInstancesCommand).rejects(ec2Error('UnauthorizedOperation', 403));

    await expectRefused(fixture('guardduty-ec2-instance'), /^protected: /, deps);
  });

  it('throws Cordon.Throttled, claiming nothing, when EC2 throttles', async () => {
    const deps = setup();
    ec2Mock.on(DescribeInstancesCommand).rejects(ec2Error('RequestLimitExceeded', 503));

    const result = runTriage(fixture('guardduty-ec2-instance'), deps);

    await expect(result).rejects.toMatchObject({ name: 'Cordon.Throttled', retryable: true });
    expect(ddbMock).not.toHaveReceivedCommand(PutCommand);
  });

  it('throws Cordon.ServiceUnavailable when IAM fails with a 5xx reading the profile', async () => {
    const deps = setup();
    instanceExists();
    profileSharedBy([[]]);
    iamMock.on(GetInstanceProfileCommand).rejects(iamError('ServiceFailure', 500));

    await expect(runTriage(fixture('guardduty-ec2-instance'), deps)).rejects.toMatchObject({
      name: 'Cordon.ServiceUnavailable',
    });
    expect(ddbMock).not.toHaveReceivedCommand(PutCommand);
  });
});

describe('triage: instance guards', () => {
  it('contains an instance whose role tagged it exempt (ec2:CreateTags) only with a responder', async () => {
    const deps = setup();
    instanceExists({ tags: [{ Key: 'cordon:exempt', Value: 'true' }] });
    instanceRoleExists();
    profileSharedBy([[]]);

    const result = await runTriage(fixture('guardduty-ec2-instance'), deps);

    const why = `exempt: ${INSTANCE_ARN} is tagged cordon:exempt=true`;
    expect(result.decision).toBe('PROCEED');
    expect(result.incident.plan).toEqual({
      preserveEvidence: { mode: 'approve', reason: why },
      isolate: { mode: 'approve' },
      revokeInstanceRoleSessions: { mode: 'approve' },
    });
  });

  it('refuses an instance whose ARN matches a protected pattern', async () => {
    const deps = setup({ protectedPrincipalPatterns: ['arn:aws:ec2:*:*:instance/i-0abc123*'] });
    instanceExists();

    await expectRefused(
      fixture('guardduty-ec2-instance'),
      `protected: ${INSTANCE_ARN} matches protected arn:aws:ec2:*:*:instance/i-0abc123*`,
      deps,
    );
  });
});

describe('triage: the instance role', () => {
  it.each([
    [
      'protected by a configured pattern',
      { protectedPrincipalPatterns: ['arn:aws:iam::*:role/app/web-*'] },
      {},
      `the instance role is protected: ${INSTANCE_ROLE_ARN} matches protected arn:aws:iam::*:role/app/web-*`,
    ],
    [
      "Cordon's own (by exact identity, whatever the path)",
      { cordonRoleArns: [`arn:aws:iam::${ACCOUNT}:role/cordon/web-app-role`] },
      { arn: `arn:aws:iam::${ACCOUNT}:role/cordon/web-app-role` },
      `the instance role is protected: arn:aws:iam::${ACCOUNT}:role/cordon/web-app-role is Cordon's own role arn:aws:iam::${ACCOUNT}:role/cordon/web-app-role`,
    ],
  ])(
    'turns off only revoking the role when it is %s',
    async (_what, configOverrides, role, reason) => {
      const deps = setup(configOverrides);
      instanceExists();
      instanceRoleExists(role);
      profileSharedBy([[]]);

      const result = await runTriage(fixture('guardduty-ec2-instance'), deps);

      expect(result.decision).toBe('PROCEED');
      expect(result.incident.plan).toEqual({
        preserveEvidence: { mode: 'auto' },
        isolate: { mode: 'approve' },
        revokeInstanceRoleSessions: { mode: 'off', reason },
      });
      expect(result.incident.principal?.kind).toBe('AssumedRole');
    },
  );

  it('revokes an instance role that tagged itself exempt (iam:TagRole) only with a responder', async () => {
    const deps = setup({ modes: { 'ec2-instance': { revokeInstanceRoleSessions: 'auto' } } });
    instanceExists();
    instanceRoleExists({ tags: [{ Key: 'Cordon:Exempt', Value: 'true' }] });
    profileSharedBy([[]]);

    const result = await runTriage(fixture('guardduty-ec2-instance'), deps);

    expect(result.incident.plan.revokeInstanceRoleSessions).toEqual({
      mode: 'approve',
      reason: `the instance role is exempt: ${INSTANCE_ROLE_ARN} is tagged cordon:exempt=true`,
    });
  });

  it('turns off revoking, and asks IAM nothing, when the instance has no profile', async () => {
    const deps = setup();
    instanceExists({ profileArn: null });

    const result = await runTriage(fixture('guardduty-ec2-instance'), deps);

    expect(result.decision).toBe('PROCEED');
    expect(result.incident.plan).toEqual({
      preserveEvidence: { mode: 'auto' },
      isolate: { mode: 'approve' },
      revokeInstanceRoleSessions: {
        mode: 'off',
        reason: 'the instance has no instance profile',
        applies: false,
      },
    });
    expect(result.incident.principal).toBeUndefined();
    expect(result.incident.instance?.instanceProfileArn).toBeUndefined();
    expect(iamMock).not.toHaveReceivedAnyCommand();
  });

  it('turns off revoking when the profile holds no role', async () => {
    const deps = setup();
    instanceExists();
    profileSharedBy([[]]);
    iamMock.on(GetInstanceProfileCommand).resolves({
      InstanceProfile: {
        Path: '/app/',
        InstanceProfileName: 'web-app-profile',
        InstanceProfileId: 'AIPAEXAMPLEPROFILE001',
        Arn: PROFILE_ARN,
        CreateDate: new Date('2023-11-02T08:14:55.000Z'),
        Roles: [],
      },
    });

    const result = await runTriage(fixture('guardduty-ec2-instance'), deps);

    expect(result.incident.plan.revokeInstanceRoleSessions).toEqual({
      mode: 'off',
      reason: 'instance profile web-app-profile has no role',
      applies: false,
    });
    expect(result.incident.plan.preserveEvidence).toEqual({ mode: 'auto' });
  });

  it('fails closed, and cannot revoke an unknown role, when IAM denies GetInstanceProfile', async () => {
    const deps = setup();
    instanceExists();
    profileSharedBy([[]]);
    iamMock.on(GetInstanceProfileCommand).rejects(iamError('AccessDenied', 403));

    const result = await runTriage(fixture('guardduty-ec2-instance'), deps);

    expect(result.decision).toBe('PROCEED');
    expect(result.incident.plan.preserveEvidence).toEqual({
      mode: 'approve',
      reason: expect.stringMatching(
        /^the instance role could not be read: read instance profile web-app-profile: AccessDenied/,
      ),
    });
    expect(result.incident.plan.revokeInstanceRoleSessions?.mode).toBe('off');
    expect(result.incident.principal).toBeUndefined();
  });

  it('fails closed, keeping the role, when IAM denies GetRole', async () => {
    const deps = setup();
    instanceExists();
    instanceRoleExists();
    profileSharedBy([[]]);
    iamMock.on(GetRoleCommand).rejects(iamError('AccessDenied', 403));

    const result = await runTriage(fixture('guardduty-ec2-instance'), deps);

    expect(result.incident.plan).toEqual({
      preserveEvidence: {
        mode: 'approve',
        reason: expect.stringMatching(
          /^exempt tag of role web-app-role could not be read: read role web-app-role: AccessDenied/,
        ),
      },
      isolate: { mode: 'approve' },
      revokeInstanceRoleSessions: { mode: 'approve' },
    });
    expect(result.incident.principal?.arn).toBe(INSTANCE_ROLE_ARN);
  });

  it('fails closed, leaving the count out, when EC2 denies counting the instances sharing the profile', async () => {
    const deps = setup();
    ec2Mock
      .on(DescribeIamInstanceProfileAssociationsCommand)
      .rejects(ec2Error('UnauthorizedOperation', 403));
    instanceExists();
    instanceRoleExists();

    const result = await runTriage(fixture('guardduty-ec2-instance'), deps);

    expect(result.incident.plan.preserveEvidence).toEqual({
      mode: 'approve',
      reason: expect.stringMatching(
        /^instances sharing the instance profile could not be counted: /,
      ),
    });
    expect(result.incident.instance?.profileSharedWith).toBeUndefined();
  });
});

describe('triage: GuardDuty resource role', () => {
  it('sends automatic steps to a human when the instance is the target, not the actor', async () => {
    const deps = setup({
      modes: { 'ec2-instance': { isolate: 'dry-run', revokeInstanceRoleSessions: 'off' } },
    });
    healthyInstance();

    const result = await runTriage(fixture('guardduty-ec2-target'), deps);

    expect(result.decision).toBe('PROCEED');
    expect(result.reason).toBe(`claimed; automatic steps need approval: ${TARGET_REASON}`);
    expect(result.incident.plan).toEqual({
      preserveEvidence: { mode: 'approve', reason: TARGET_REASON },
      isolate: { mode: 'dry-run' },
      revokeInstanceRoleSessions: { mode: 'off' },
    });
  });

  it('leaves approve steps as they are for a target instance', async () => {
    const deps = setup();
    healthyInstance();

    const result = await runTriage(fixture('guardduty-ec2-target'), deps);

    expect(result.incident.plan.isolate).toEqual({ mode: 'approve' });
    expect(result.incident.plan.revokeInstanceRoleSessions).toEqual({ mode: 'approve' });
  });

  it('fails closed on a resource role it does not know', async () => {
    const deps = setup({ modes: { 'ec2-instance': { isolate: 'dry-run' } } });
    healthyInstance();
    const event = withValue(
      fixture('guardduty-ec2-instance'),
      ['detail', 'service', 'resourceRole'],
      'BYSTANDER',
    );

    const result = await runTriage(event, deps);

    expect(result.incident.plan.preserveEvidence).toEqual({
      mode: 'approve',
      reason: 'GuardDuty resource role BYSTANDER is neither ACTOR nor TARGET',
    });
    expect(result.incident.plan.isolate?.mode).toBe('approve');
  });
});

import 'aws-sdk-client-mock-vitest/extend';
import { GetRoleCommand, GetUserCommand, IAMServiceException } from '@aws-sdk/client-iam';
import { PutCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { describe, expect, it } from 'vitest';
import { InvalidFindingError } from '../../../../functions/shared/errors.js';
import { sha256Hex } from '../../../../functions/shared/hash.js';
import { TriageResultSchema } from '../../../../functions/shared/incident.js';
import { validatedRecord } from '../../../../functions/shared/validated.js';
import {
  ACCOUNT,
  ACTOR,
  ASFF_RESOURCE,
  ddbMock,
  fixture,
  iamMock,
  ROLE_ARN,
  roleExists,
  setup,
  USER_ARN,
  userExists,
  withValue,
} from '../helpers.js';
import { runTriage } from '../run.js';

function iamError(name: string, status: number): IAMServiceException {
  return new IAMServiceException({
    name,
    $fault: status >= 500 ? 'server' : 'client',
    $metadata: { httpStatusCode: status },
    message: name,
  });
}

describe('triage: GuardDuty IAM user', () => {
  it('claims the incident and plans key, sessions and quarantine for a user with a long-term key', async () => {
    // Arrange
    const deps = setup();
    userExists();

    // Act
    const result = await runTriage(fixture('guardduty-iam-user'), deps);

    // Assert
    expect(TriageResultSchema.parse(result)).toEqual(result);
    expect(result.decision).toBe('PROCEED');
    expect(result.reason).toBe('claimed');
    expect(result.incident).toMatchObject({
      playbook: 'iam-credentials',
      source: 'guardduty',
      findingId: 'a2c6f1e3b8d94f0e9c7b5a4d3e2f1a01',
      severity: 8,
      severityLabel: 'HIGH',
      account: ACCOUNT,
      region: 'us-east-1',
      principal: {
        kind: 'IAMUser',
        arn: USER_ARN,
        name: 'compromised-user',
        accessKeyId: 'AKIAIOSFODNN7EXAMPLE',
      },
    });
    expect(result.incident.plan).toEqual({
      disableAccessKey: { mode: 'auto' },
      revokeUserSessions: { mode: 'auto' },
      quarantineUser: { mode: 'approve' },
      revokeRoleSessions: { mode: 'off', reason: 'applies to assumed roles only', applies: false },
    });
  });

  it('takes the ARN, with its path, from IAM rather than the finding', async () => {
    const deps = setup();
    userExists({ arn: `arn:aws:iam::${ACCOUNT}:user/a/b/compromised-user` });

    const result = await runTriage(fixture('guardduty-iam-user'), deps);

    expect(iamMock).toHaveReceivedCommandWith(GetUserCommand, { UserName: 'compromised-user' });
    expect(result.incident.principal?.arn).toBe(
      `arn:aws:iam::${ACCOUNT}:user/a/b/compromised-user`,
    );
  });

  it('writes the claim as the ledger first entry, conditional on a new incident', async () => {
    const deps = setup();
    userExists();

    const result = await runTriage(fixture('guardduty-iam-user'), deps);

    expect(ddbMock).toHaveReceivedCommandTimes(PutCommand, 1);
    expect(ddbMock).toHaveReceivedCommandWith(PutCommand, {
      TableName: 'cordon-ledger',
      ConditionExpression: 'attribute_not_exists(#pk)',
      Item: expect.objectContaining({
        incidentId: result.incident.incidentId,
        seq: 0,
        step: 'triage',
        action: 'triage',
        actor: ACTOR,
        outcome: 'CLAIMED',
        targetArn: USER_ARN,
        findingId: 'a2c6f1e3b8d94f0e9c7b5a4d3e2f1a01',
        summary: 'claimed',
        detail: {
          findingType: 'UnauthorizedAccess:IAMUser/MaliciousIPCaller',
          source: 'guardduty',
          severity: 8,
          updatedAt: '2024-05-14T09:31:27.405Z',
          createdAt: '2024-05-14T09:31:27.405Z',
          count: 1,
          // Who may not dismiss the incident.
          subjects: [USER_ARN],
          // What the guardrails read (these tests' guardrails let everything through).
          runtimeMode: 'auto',
          sourceCheck: { status: 'verified' },
          // What the actions compare their input with.
          validated: validatedRecord(result.incident),
        },
      }),
    });
    expect(validatedRecord(result.incident).modes).toEqual({
      disableAccessKey: 'auto',
      revokeUserSessions: 'auto',
      quarantineUser: 'approve',
      revokeRoleSessions: 'off',
    });
  });

  it('turns off disabling a key when the finding names only a temporary key', async () => {
    const deps = setup();
    userExists();
    const event = withValue(
      fixture('guardduty-iam-user'),
      ['detail', 'resource', 'accessKeyDetails', 'accessKeyId'],
      'ASIAEXAMPLETEMPKEY99',
    );

    const result = await runTriage(event, deps);

    expect(result.incident.plan.disableAccessKey).toEqual({
      mode: 'off',
      reason: 'the finding names no long-term access key (AKIA...)',
      applies: false,
    });
    expect(result.incident.plan.revokeUserSessions).toEqual({ mode: 'auto' });
  });

  it('applies configured modes over catalog defaults', async () => {
    const deps = setup({
      modes: {
        'iam-credentials': {
          disableAccessKey: 'dry-run',
          quarantineUser: 'auto',
          revokeUserSessions: 'off',
        },
      },
    });
    userExists();

    const result = await runTriage(fixture('guardduty-iam-user'), deps);

    expect(result.incident.plan).toMatchObject({
      disableAccessKey: { mode: 'dry-run' },
      revokeUserSessions: { mode: 'off' },
      quarantineUser: { mode: 'auto' },
    });
  });

  it('uses catalog defaults when config has no modes for the playbook', async () => {
    const deps = setup({ modes: {} });
    userExists();

    const result = await runTriage(fixture('guardduty-iam-user'), deps);

    expect(result.incident.plan.disableAccessKey).toEqual({ mode: 'auto' });
  });
});

describe('triage: GuardDuty assumed role', () => {
  it('verifies the role and plans only revoking its sessions', async () => {
    const deps = setup();
    roleExists();

    const result = await runTriage(fixture('guardduty-assumed-role'), deps);

    expect(iamMock).toHaveReceivedCommandWith(GetRoleCommand, { RoleName: 'exfiltrated-role' });
    expect(result.decision).toBe('PROCEED');
    expect(result.incident.principal).toEqual({
      kind: 'AssumedRole',
      arn: ROLE_ARN,
      name: 'exfiltrated-role',
      accessKeyId: 'ASIAEXAMPLETEMPKEY01',
      uniqueId: 'AROAEXAMPLEROLEID0001',
    });
    expect(result.incident.plan).toEqual({
      disableAccessKey: { mode: 'off', reason: 'applies to IAM users only', applies: false },
      revokeUserSessions: { mode: 'off', reason: 'applies to IAM users only', applies: false },
      quarantineUser: { mode: 'off', reason: 'applies to IAM users only', applies: false },
      revokeRoleSessions: { mode: 'approve' },
    });
  });

  it('refuses when the role id differs from the principal id in the finding', async () => {
    const deps = setup();
    roleExists({ roleId: 'AROAOTHERROLEID000099' });

    const result = await runTriage(fixture('guardduty-assumed-role'), deps);

    expect(result.decision).toBe('REFUSED');
    expect(result.reason).toMatch(
      /^principal id mismatch: the finding names AROAEXAMPLEROLEID0001/,
    );
  });
});

describe('triage: root', () => {
  it('builds the root ARN without calling IAM and plans notify only', async () => {
    const deps = setup();

    const result = await runTriage(fixture('guardduty-root'), deps);

    expect(iamMock).not.toHaveReceivedAnyCommand();
    expect(result.decision).toBe('PROCEED');
    expect(result.incident.principal).toEqual({
      kind: 'Root',
      arn: `arn:aws:iam::${ACCOUNT}:root`,
      accessKeyId: 'ASIAEXAMPLEROOTKEY01',
    });
    for (const step of Object.values(result.incident.plan)) {
      expect(step).toEqual({
        mode: 'off',
        reason: 'IAM cannot restrict root credentials: notify only',
        applies: false,
      });
    }
  });

  it('uses the partition of the finding region in the root ARN', async () => {
    const deps = setup({ allowedRegions: ['cn-north-1'] });
    const event = withValue(fixture('guardduty-root'), ['detail', 'region'], 'cn-north-1');

    const result = await runTriage(event, deps);

    expect(result.incident.principal?.arn).toBe(`arn:aws-cn:iam::${ACCOUNT}:root`);
  });
});

describe('triage: Security Hub', () => {
  it('normalises an AwsIamAccessKey finding with its product ARN', async () => {
    const deps = setup();
    userExists();

    const result = await runTriage(fixture('securityhub-iam-access-key'), deps);

    expect(result.decision).toBe('PROCEED');
    expect(result.incident).toMatchObject({
      source: 'securityhub',
      productArn: 'arn:aws:securityhub:us-east-1:123456789012:product/123456789012/default',
      severity: 7,
      severityLabel: 'HIGH',
      principal: { kind: 'IAMUser', arn: USER_ARN, accessKeyId: 'AKIAIOSFODNN7EXAMPLE' },
    });
    expect(ddbMock).toHaveReceivedCommandWith(PutCommand, {
      Item: expect.objectContaining({
        detail: expect.objectContaining({ productArn: result.incident.productArn }),
      }),
    });
  });

  it('verifies an AwsIamUser finding against IAM by name and ARN', async () => {
    const deps = setup();
    userExists();
    const event = withValue(fixture('securityhub-iam-access-key'), [...ASFF_RESOURCE], {
      Type: 'AwsIamUser',
      Id: USER_ARN,
      Details: { AwsIamUser: { UserName: 'compromised-user', UserId: 'AIDAEXAMPLEUSERID0001' } },
    });

    const result = await runTriage(event, deps);

    expect(result.decision).toBe('PROCEED');
    expect(result.incident.principal).toEqual({
      kind: 'IAMUser',
      arn: USER_ARN,
      name: 'compromised-user',
      uniqueId: 'AIDAEXAMPLEUSERID0001',
    });
    expect(result.incident.plan.disableAccessKey?.mode).toBe('off');
    expect(result.incident.plan.quarantineUser?.mode).toBe('approve');
  });

  it('refuses an AwsIamUser finding whose ARN is not the user IAM has under that name', async () => {
    const deps = setup();
    userExists();
    const event = withValue(fixture('securityhub-iam-access-key'), [...ASFF_RESOURCE], {
      Type: 'AwsIamUser',
      Id: `arn:aws:iam::${ACCOUNT}:user/compromised-user`,
    });

    const result = await runTriage(event, deps);

    expect(result.decision).toBe('REFUSED');
    expect(result.reason).toBe(
      `principal arn mismatch: the finding names arn:aws:iam::${ACCOUNT}:user/compromised-user, IAM has ${USER_ARN}`,
    );
  });

  it('treats an AwsIamRole finding as an assumed role to revoke', async () => {
    const deps = setup();
    roleExists();
    const event = withValue(fixture('securityhub-iam-access-key'), [...ASFF_RESOURCE], {
      Type: 'AwsIamRole',
      Id: ROLE_ARN,
      Details: { AwsIamRole: { RoleName: 'exfiltrated-role', RoleId: 'AROAEXAMPLEROLEID0001' } },
    });

    const result = await runTriage(event, deps);

    expect(result.decision).toBe('PROCEED');
    expect(result.incident.principal).toEqual({
      kind: 'AssumedRole',
      arn: ROLE_ARN,
      name: 'exfiltrated-role',
      uniqueId: 'AROAEXAMPLEROLEID0001',
    });
    expect(result.incident.plan.revokeRoleSessions).toEqual({ mode: 'approve' });
  });
});

describe('triage: principal verification', () => {
  it('refuses when the user id differs from the principal id in the finding', async () => {
    const deps = setup();
    userExists({ userId: 'AIDAANOTHERUSERID0099' });

    const result = await runTriage(fixture('guardduty-iam-user'), deps);

    expect(result.decision).toBe('REFUSED');
    expect(result.reason).toBe(
      `principal id mismatch: the finding names AIDAEXAMPLEUSERID0001, IAM has AIDAANOTHERUSERID0099 for ${USER_ARN}`,
    );
    expect(Object.values(result.incident.plan).every((step) => step.mode === 'off')).toBe(true);
  });

  it('refuses, and claims the refusal, when the principal no longer exists', async () => {
    const deps = setup();
    iamMock.on(GetUserCommand).rejects(iamError('NoSuchEntity', 404));

    const result = await runTriage(fixture('guardduty-iam-user'), deps);

    expect(result.decision).toBe('REFUSED');
    expect(result.reason).toBe('principal: user compromised-user no longer exists');
    expect(ddbMock).toHaveReceivedCommandWith(PutCommand, {
      Item: expect.objectContaining({ outcome: 'REFUSED', summary: result.reason }),
    });
  });

  it('sends every automatic or dry-run step to a human when IAM denies the read', async () => {
    const deps = setup({ modes: { 'iam-credentials': { revokeUserSessions: 'dry-run' } } });
    iamMock.on(GetUserCommand).rejects(iamError('AccessDenied', 403));

    const result = await runTriage(fixture('guardduty-iam-user'), deps);

    expect(result.decision).toBe('PROCEED');
    expect(result.reason).toMatch(
      /^claimed; automatic steps need approval: exempt tag could not be read: /,
    );
    expect(result.incident.plan.disableAccessKey).toEqual({
      mode: 'approve',
      reason: expect.stringMatching(
        /^exempt tag could not be read: read user compromised-user: AccessDenied/,
      ),
    });
    expect(result.incident.plan.revokeUserSessions?.mode).toBe('approve');
    expect(result.incident.plan.quarantineUser).toEqual({ mode: 'approve' });
    expect(result.incident.plan.revokeRoleSessions?.mode).toBe('off');
  });

  it('still refuses a protected principal when IAM cannot be read', async () => {
    const deps = setup({ protectedPrincipalPatterns: ['arn:aws:iam::*:user/compromised-*'] });
    iamMock.on(GetUserCommand).rejects(iamError('AccessDenied', 403));

    const result = await runTriage(fixture('guardduty-iam-user'), deps);

    expect(result.decision).toBe('REFUSED');
  });

  it('throws Cordon.Throttled, claiming nothing, when IAM throttles', async () => {
    const deps = setup();
    iamMock.on(GetUserCommand).rejects(iamError('Throttling', 400));

    const result = runTriage(fixture('guardduty-iam-user'), deps);

    await expect(result).rejects.toMatchObject({ name: 'Cordon.Throttled', retryable: true });
    expect(ddbMock).not.toHaveReceivedCommand(PutCommand);
  });

  it('throws Cordon.ServiceUnavailable when IAM fails with a 5xx', async () => {
    const deps = setup();
    iamMock.on(GetRoleCommand).rejects(iamError('ServiceFailure', 500));

    await expect(runTriage(fixture('guardduty-assumed-role'), deps)).rejects.toMatchObject({
      name: 'Cordon.ServiceUnavailable',
    });
  });
});

describe('triage: ledger claim', () => {
  /** This emission is claimed: the ledger's first entry names `executionArn`. */
  function claimedBy(executionArn: string) {
    ddbMock.on(QueryCommand).resolves({
      Items: [
        {
          seq: 0,
          step: 'triage',
          outcome: 'CLAIMED',
          executionArn,
          detail: { updatedAt: '2024-05-14T09:31:27.405Z' },
        },
      ],
    });
  }

  it('returns DUPLICATE with every step off when the incident was already claimed', async () => {
    const deps = setup();
    userExists();
    claimedBy(`arn:aws:states:us-east-1:${ACCOUNT}:execution:cordon-iam-credentials:first`);

    const result = await runTriage(fixture('guardduty-iam-user'), deps);

    expect(result.decision).toBe('DUPLICATE');
    expect(result.reason).toBe('already claimed');
    expect(Object.values(result.incident.plan).every((step) => step.mode === 'off')).toBe(true);
    expect(ddbMock).not.toHaveReceivedCommand(PutCommand);
  });

  it("resumes, not duplicates, when the claim is this execution's own (a retried attempt)", async () => {
    const deps = setup();
    userExists();
    const executionArn = `arn:aws:states:us-east-1:${ACCOUNT}:execution:cordon-iam-credentials:retried`;
    claimedBy(executionArn);

    const result = await runTriage(fixture('guardduty-iam-user'), deps, { executionArn });

    expect(result.decision).toBe('PROCEED');
    expect(result.incident.plan.disableAccessKey?.mode).toBe('auto');
  });

  it('throws Cordon.Throttled when the ledger write is throttled', async () => {
    const deps = setup();
    userExists();
    ddbMock
      .on(PutCommand)
      .rejects(
        Object.assign(new Error('slow down'), { name: 'ProvisionedThroughputExceededException' }),
      );

    await expect(runTriage(fixture('guardduty-iam-user'), deps)).rejects.toMatchObject({
      name: 'Cordon.Throttled',
    });
  });
});

describe('triage: incident id', () => {
  it('is inc- and the first 20 hex characters of sha256(source|findingId|playbook)', async () => {
    const deps = setup();
    userExists();

    const result = await runTriage(fixture('guardduty-iam-user'), deps);

    const expected = sha256Hex('guardduty|a2c6f1e3b8d94f0e9c7b5a4d3e2f1a01|iam-credentials').slice(
      0,
      20,
    );
    expect(result.incident.incidentId).toBe(`inc-${expected}`);
  });

  it('is stable across deliveries and ignores fields outside the key (count, envelope id)', async () => {
    const deps = setup();
    userExists();
    const redelivered = withValue(
      withValue(fixture('guardduty-iam-user'), ['id'], 'another-delivery'),
      ['detail', 'service', 'count'],
      7,
    );

    const first = await runTriage(fixture('guardduty-iam-user'), deps);
    const second = await runTriage(redelivered, deps);

    expect(second.incident.incidentId).toBe(first.incident.incidentId);
  });

  it('stays the same when GuardDuty re-emits the finding with a new updatedAt: one incident per finding', async () => {
    const deps = setup();
    userExists();
    const reemitted = withValue(
      fixture('guardduty-iam-user'),
      ['detail', 'updatedAt'],
      '2024-05-14T10:31:27.405Z',
    );

    const first = await runTriage(fixture('guardduty-iam-user'), deps);
    const second = await runTriage(reemitted, deps);

    expect(second.incident.incidentId).toBe(first.incident.incidentId);
  });
});

describe('triage: events it cannot act on', () => {
  it.each([
    [
      'an unrelated source',
      'unrelated-event' as const,
      /^triage cannot act on this event: unhandled source aws\.ec2/,
    ],
    [
      'a finding missing its resource',
      'guardduty-missing-resource' as const,
      /^GuardDuty finding is missing detail\.resource$/,
    ],
  ])('throws InvalidFindingError for %s, touching nothing', async (_what, name, message) => {
    const deps = setup();

    const result = runTriage(fixture(name), deps);

    await expect(result).rejects.toBeInstanceOf(InvalidFindingError);
    await expect(result).rejects.toThrow(message);
    expect(iamMock).not.toHaveReceivedAnyCommand();
    expect(ddbMock).not.toHaveReceivedAnyCommand();
  });
});

import 'aws-sdk-client-mock-vitest/extend';
import {
  DeleteLoginProfileCommand,
  GetLoginProfileCommand,
  GetUserCommand,
  GetUserPolicyCommand,
  IAMClient,
  PutUserPolicyCommand,
} from '@aws-sdk/client-iam';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { quarantineUser } from '../../../../functions/actions/quarantine-user/containment.js';
import {
  PASSWORD_NOT_RESTORABLE,
  QUARANTINE_POLICY_DOCUMENT,
  QUARANTINE_POLICY_NAME,
} from '../../../../functions/actions/quarantine-user/state.js';
import { INTENT } from '../../../../functions/shared/intents.js';
import {
  ACTOR,
  actionInput,
  approved,
  awsError,
  fakeLedger,
  GUARDS,
  noSuchEntity,
  USER_ARN,
} from '../../shared/containment-fixtures.js';

const STEP = 'quarantineUser';
const iamMock = mockClient(IAMClient);
const iam = new IAMClient({ region: 'us-east-1' });
const approvedInput = (mode: 'approve' | 'dry-run' = 'approve') =>
  actionInput(STEP, { mode, approval: approved(STEP) });

describe('quarantine-user', () => {
  let fake: ReturnType<typeof fakeLedger>;
  beforeEach(() => {
    iamMock.reset();
    iamMock.on(GetUserCommand).resolves({});
    fake = fakeLedger();
  });
  const deps = () => ({ iam, ledger: fake.ledger, actor: ACTOR, guards: GUARDS });

  it('attaches the deny-all policy and deletes the console login profile, recording what it was', async () => {
    // Arrange
    iamMock.on(GetUserPolicyCommand).rejects(noSuchEntity());
    iamMock.on(GetLoginProfileCommand).resolves({
      LoginProfile: {
        UserName: 'alice',
        CreateDate: new Date('2025-06-01T00:00:00.000Z'),
        PasswordResetRequired: true,
      },
    });
    iamMock.on(PutUserPolicyCommand).resolves({});
    iamMock.on(DeleteLoginProfileCommand).resolves({});
    // Act
    const result = await quarantineUser(approvedInput(), deps());
    // Assert
    expect(result).toMatchObject({ outcome: 'CONTAINED', mode: 'approve', targetArn: USER_ARN });
    expect(iamMock).toHaveReceivedCommandWith(PutUserPolicyCommand, {
      UserName: 'alice',
      PolicyName: QUARANTINE_POLICY_NAME,
      PolicyDocument:
        '{"Version":"2012-10-17","Statement":[{"Sid":"CordonQuarantine","Effect":"Deny","Action":"*","Resource":"*"}]}',
    });
    expect(iamMock).toHaveReceivedCommandWith(DeleteLoginProfileCommand, { UserName: 'alice' });
    const before = {
      quarantinePolicy: false,
      loginProfile: {
        createDate: '2025-06-01T00:00:00.000Z',
        passwordResetRequired: true,
        note: PASSWORD_NOT_RESTORABLE,
      },
    };
    expect(fake.entries().map((e) => e.outcome)).toEqual([INTENT, 'CONTAINED']);
    expect(fake.entries()[0]).toMatchObject({ outcome: INTENT, before });
    expect(fake.entries()[1]).toMatchObject({
      before,
      after: { quarantinePolicy: true, loginProfile: null },
    });
  });

  it('attaches only the policy when the user has no console login', async () => {
    // Arrange
    iamMock.on(GetUserPolicyCommand).rejects(noSuchEntity());
    iamMock.on(GetLoginProfileCommand).rejects(noSuchEntity());
    iamMock.on(PutUserPolicyCommand).resolves({});
    // Act
    const result = await quarantineUser(approvedInput(), deps());
    // Assert
    expect(result.outcome).toBe('CONTAINED');
    expect(result.summary).toBe(
      `quarantine user alice: attach deny-all policy ${QUARANTINE_POLICY_NAME}`,
    );
    expect(iamMock).toHaveReceivedCommandTimes(PutUserPolicyCommand, 1);
    expect(iamMock).not.toHaveReceivedCommand(DeleteLoginProfileCommand);
  });

  it('only deletes the login profile when the policy is already attached', async () => {
    // Arrange
    iamMock
      .on(GetUserPolicyCommand)
      .resolves({ PolicyDocument: encodeURIComponent(QUARANTINE_POLICY_DOCUMENT) });
    iamMock
      .on(GetLoginProfileCommand)
      .resolves({ LoginProfile: { UserName: 'alice', CreateDate: new Date(0) } });
    iamMock.on(DeleteLoginProfileCommand).resolves({});
    // Act
    const result = await quarantineUser(approvedInput(), deps());
    // Assert
    expect(result.outcome).toBe('CONTAINED');
    expect(iamMock).not.toHaveReceivedCommand(PutUserPolicyCommand);
    expect(iamMock).toHaveReceivedCommandTimes(DeleteLoginProfileCommand, 1);
  });

  it('treats a login profile already gone at delete time as done', async () => {
    // Arrange
    iamMock
      .on(GetUserPolicyCommand)
      .resolves({ PolicyDocument: encodeURIComponent(QUARANTINE_POLICY_DOCUMENT) });
    iamMock
      .on(GetLoginProfileCommand)
      .resolves({ LoginProfile: { UserName: 'alice', CreateDate: new Date(0) } });
    iamMock.on(DeleteLoginProfileCommand).rejects(noSuchEntity());
    // Act
    const result = await quarantineUser(approvedInput(), deps());
    // Assert
    expect(result.outcome).toBe('CONTAINED');
  });

  it('returns ALREADY_CONTAINED with no mutating call when the policy is attached and there is no login', async () => {
    // Arrange
    iamMock
      .on(GetUserPolicyCommand)
      .resolves({ PolicyDocument: encodeURIComponent(QUARANTINE_POLICY_DOCUMENT) });
    iamMock.on(GetLoginProfileCommand).rejects(noSuchEntity());
    // Act
    const result = await quarantineUser(approvedInput(), deps());
    // Assert
    expect(result.outcome).toBe('ALREADY_CONTAINED');
    expect(iamMock).not.toHaveReceivedCommand(PutUserPolicyCommand);
    expect(iamMock).not.toHaveReceivedCommand(DeleteLoginProfileCommand);
  });

  it('does not count a policy with our name that no longer denies everything', async () => {
    // Arrange
    const weakened = JSON.stringify({
      Version: '2012-10-17',
      Statement: [
        { Sid: QUARANTINE_POLICY_NAME, Effect: 'Deny', Action: 's3:GetObject', Resource: '*' },
      ],
    });
    iamMock.on(GetUserPolicyCommand).resolves({ PolicyDocument: encodeURIComponent(weakened) });
    iamMock.on(GetLoginProfileCommand).rejects(noSuchEntity());
    iamMock.on(PutUserPolicyCommand).resolves({});
    // Act
    const result = await quarantineUser(approvedInput(), deps());
    // Assert
    expect(result.outcome).toBe('CONTAINED');
    expect(iamMock).toHaveReceivedCommandTimes(PutUserPolicyCommand, 1);
  });

  it('fails with Cordon.ApprovalMissing and makes no AWS call without an approval (default mode approve)', async () => {
    // Arrange
    const input = actionInput(STEP);
    // Act
    const attempt = quarantineUser(input, deps());
    // Assert
    await expect(attempt).rejects.toMatchObject({ name: 'Cordon.ApprovalMissing' });
    expect(iamMock).not.toHaveReceivedAnyCommand();
  });

  it('returns TARGET_NOT_FOUND when the user no longer exists', async () => {
    // Arrange
    iamMock.on(GetUserCommand).rejects(noSuchEntity());
    // Act
    const result = await quarantineUser(approvedInput(), deps());
    // Assert
    expect(result.outcome).toBe('TARGET_NOT_FOUND');
    expect(iamMock).not.toHaveReceivedCommand(PutUserPolicyCommand);
  });

  it('records DRY_RUN and makes no mutating call in dry-run mode', async () => {
    // Arrange
    iamMock.on(GetUserPolicyCommand).rejects(noSuchEntity());
    iamMock
      .on(GetLoginProfileCommand)
      .resolves({ LoginProfile: { UserName: 'alice', CreateDate: new Date(0) } });
    // Act
    const result = await quarantineUser(approvedInput('dry-run'), deps());
    // Assert
    expect(result.outcome).toBe('DRY_RUN');
    expect(iamMock).not.toHaveReceivedCommand(PutUserPolicyCommand);
    expect(iamMock).not.toHaveReceivedCommand(DeleteLoginProfileCommand);
  });

  it('converges to CONTAINED with the original before-state and no second put after a crash before the ledger write', async () => {
    // Arrange
    let attached = false;
    let login = true;
    iamMock.on(GetUserPolicyCommand).callsFake(() => {
      if (!attached) throw noSuchEntity();
      return { PolicyDocument: encodeURIComponent(QUARANTINE_POLICY_DOCUMENT) };
    });
    iamMock.on(GetLoginProfileCommand).callsFake(() => {
      if (!login) throw noSuchEntity();
      return { LoginProfile: { UserName: 'alice', CreateDate: new Date(0) } };
    });
    iamMock.on(PutUserPolicyCommand).callsFake(() => {
      attached = true;
      return {};
    });
    iamMock.on(DeleteLoginProfileCommand).callsFake(() => {
      login = false;
      return {};
    });
    // The crash comes after both IAM calls, on the final ledger write.
    fake.failNextPut(
      awsError('ProvisionedThroughputExceededException'),
      (e) => e.outcome !== INTENT,
    );
    // Act
    await expect(quarantineUser(approvedInput(), deps())).rejects.toMatchObject({
      name: 'Cordon.Throttled',
    });
    const retried = await quarantineUser(approvedInput(), deps());
    // Assert
    expect(retried.outcome).toBe('CONTAINED');
    expect(retried.summary).toMatch(/\(finished by an earlier attempt\)$/);
    expect(iamMock).toHaveReceivedCommandTimes(PutUserPolicyCommand, 1);
    expect(iamMock).toHaveReceivedCommandTimes(DeleteLoginProfileCommand, 1);
    const original = {
      quarantinePolicy: false,
      loginProfile: {
        createDate: new Date(0).toISOString(),
        passwordResetRequired: false,
        note: PASSWORD_NOT_RESTORABLE,
      },
    };
    expect(fake.entries().map((e) => e.outcome)).toEqual([INTENT, 'CONTAINED']);
    expect(fake.entries()[0]).toMatchObject({ outcome: INTENT, before: original });
    expect(fake.entries()[1]).toMatchObject({
      outcome: 'CONTAINED',
      before: original,
      after: { quarantinePolicy: true, loginProfile: null },
    });
  });

  it('records AccessDenied on delete as FAILED and throws Cordon.AccessDenied', async () => {
    // Arrange
    iamMock.on(GetUserPolicyCommand).rejects(noSuchEntity());
    iamMock
      .on(GetLoginProfileCommand)
      .resolves({ LoginProfile: { UserName: 'alice', CreateDate: new Date(0) } });
    iamMock.on(PutUserPolicyCommand).resolves({});
    iamMock.on(DeleteLoginProfileCommand).rejects(awsError('AccessDenied', 403));
    // Act
    const attempt = quarantineUser(approvedInput(), deps());
    // Assert
    await expect(attempt).rejects.toMatchObject({ name: 'Cordon.AccessDenied' });
    expect(fake.entries().map((e) => e.outcome)).toEqual([INTENT, 'FAILED']);
  });
});

import 'aws-sdk-client-mock-vitest/extend';
import {
  AttachUserPolicyCommand,
  type AttachUserPolicyCommandInput,
  DeleteLoginProfileCommand,
  GetLoginProfileCommand,
  GetUserCommand,
  GetUserPolicyCommand,
  IAMClient,
  ListAttachedUserPoliciesCommand,
  type ListAttachedUserPoliciesCommandInput,
  PutUserPolicyCommand,
} from '@aws-sdk/client-iam';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { quarantineUser } from '../../../../functions/actions/quarantine-user/containment.js';
import {
  PASSWORD_NOT_RESTORABLE,
  QUARANTINE_POLICY_NAME,
} from '../../../../functions/actions/quarantine-user/state.js';
import { INTENT } from '../../../../functions/shared/intents.js';
import {
  ACTOR,
  APPROVALS,
  actionInput,
  approved,
  awsError,
  fakeLedger,
  GUARDS,
  noSuchEntity,
  USER_ARN,
} from '../../shared/containment-fixtures.js';

const STEP = 'quarantineUser';
const DENY_ALL = 'arn:aws:iam::aws:policy/AWSDenyAll';
/** The deny-all inline policy earlier Cordon versions put. */
const LEGACY_DENY_ALL = JSON.stringify({
  Version: '2012-10-17',
  Statement: [{ Sid: QUARANTINE_POLICY_NAME, Effect: 'Deny', Action: '*', Resource: '*' }],
});
const iamMock = mockClient(IAMClient);
const iam = new IAMClient({ region: 'us-east-1' });
const approvedInput = (mode: 'approve' | 'dry-run' = 'approve') =>
  actionInput(STEP, { mode, approval: approved(STEP) });

interface FakeUser {
  /** Managed policies attached, by ARN. */
  attached: string[];
  /** The inline policy named CordonQuarantine, if any. */
  inline?: string;
  login: boolean;
  /** Attached policies listed per page. @default 100 */
  pageSize?: number;
}

/** IAM holding user alice as `user` says, changed by the calls quarantine makes. */
function iamWith(user: FakeUser): FakeUser {
  iamMock.on(GetUserCommand).resolves({});
  iamMock
    .on(ListAttachedUserPoliciesCommand)
    .callsFake((input: ListAttachedUserPoliciesCommandInput) => {
      const size = user.pageSize ?? 100;
      const start = Number(input.Marker ?? 0);
      const page = user.attached.slice(start, start + size);
      const more = start + size < user.attached.length;
      return {
        AttachedPolicies: page.map((PolicyArn) => ({ PolicyArn, PolicyName: PolicyArn })),
        IsTruncated: more,
        ...(more ? { Marker: String(start + size) } : {}),
      };
    });
  iamMock.on(GetUserPolicyCommand).callsFake(() => {
    if (user.inline === undefined) throw noSuchEntity();
    return { PolicyDocument: encodeURIComponent(user.inline) };
  });
  iamMock.on(GetLoginProfileCommand).callsFake(() => {
    if (!user.login) throw noSuchEntity();
    return {
      LoginProfile: {
        UserName: 'alice',
        CreateDate: new Date('2025-06-01T00:00:00.000Z'),
        PasswordResetRequired: true,
      },
    };
  });
  iamMock.on(AttachUserPolicyCommand).callsFake((input: AttachUserPolicyCommandInput) => {
    if (input.PolicyArn && !user.attached.includes(input.PolicyArn)) {
      user.attached.push(input.PolicyArn);
    }
    return {};
  });
  iamMock.on(DeleteLoginProfileCommand).callsFake(() => {
    if (!user.login) throw noSuchEntity();
    user.login = false;
    return {};
  });
  return user;
}

const LOGIN = {
  createDate: '2025-06-01T00:00:00.000Z',
  passwordResetRequired: true,
  note: PASSWORD_NOT_RESTORABLE,
};

describe('quarantine-user', () => {
  let fake: ReturnType<typeof fakeLedger>;
  beforeEach(() => {
    iamMock.reset();
    iamMock.on(GetUserCommand).resolves({});
    fake = fakeLedger();
  });
  const deps = () => ({
    iam,
    ledger: fake.ledger,
    actor: ACTOR,
    approvals: APPROVALS,
    guards: GUARDS,
  });

  it('attaches AWSDenyAll, writes no policy, and deletes the console login profile, recording what it was', async () => {
    // Arrange
    const user = iamWith({ attached: ['arn:aws:iam::aws:policy/ReadOnlyAccess'], login: true });
    // Act
    const result = await quarantineUser(approvedInput(), deps());
    // Assert
    expect(result).toMatchObject({ outcome: 'CONTAINED', mode: 'approve', targetArn: USER_ARN });
    expect(result.summary).toBe(
      'quarantine user alice: attach AWS managed policy AWSDenyAll, delete its console login profile',
    );
    expect(iamMock).toHaveReceivedCommandWith(AttachUserPolicyCommand, {
      UserName: 'alice',
      PolicyArn: DENY_ALL,
    });
    expect(iamMock).not.toHaveReceivedCommand(PutUserPolicyCommand);
    expect(iamMock).toHaveReceivedCommandWith(DeleteLoginProfileCommand, { UserName: 'alice' });
    expect(user).toMatchObject({
      attached: ['arn:aws:iam::aws:policy/ReadOnlyAccess', DENY_ALL],
      login: false,
    });
    const before = { denyAllAttached: false, quarantinePolicy: false, loginProfile: LOGIN };
    expect(fake.entries().map((e) => e.outcome)).toEqual([INTENT, 'CONTAINED']);
    expect(fake.entries()[0]).toMatchObject({ outcome: INTENT, before });
    expect(fake.entries()[1]).toMatchObject({
      before,
      after: { denyAllAttached: true, quarantinePolicy: false, loginProfile: null },
    });
  });

  it('attaches only the policy when the user has no console login', async () => {
    // Arrange
    iamWith({ attached: [], login: false });
    // Act
    const result = await quarantineUser(approvedInput(), deps());
    // Assert
    expect(result.outcome).toBe('CONTAINED');
    expect(result.summary).toBe('quarantine user alice: attach AWS managed policy AWSDenyAll');
    expect(iamMock).toHaveReceivedCommandTimes(AttachUserPolicyCommand, 1);
    expect(iamMock).not.toHaveReceivedCommand(DeleteLoginProfileCommand);
  });

  it('only deletes the login profile when AWSDenyAll is already attached, found on a later page', async () => {
    // Arrange
    const others = ['a', 'b', 'c'].map((n) => `arn:aws:iam::123456789012:policy/${n}`);
    iamWith({ attached: [...others, DENY_ALL], login: true, pageSize: 2 });
    // Act
    const result = await quarantineUser(approvedInput(), deps());
    // Assert
    expect(result.outcome).toBe('CONTAINED');
    expect(iamMock).not.toHaveReceivedCommand(AttachUserPolicyCommand);
    expect(iamMock).toHaveReceivedCommandTimes(DeleteLoginProfileCommand, 1);
    expect(iamMock).toHaveReceivedCommandTimes(ListAttachedUserPoliciesCommand, 2);
  });

  it('treats a login profile already gone at delete time as done', async () => {
    // Arrange
    iamWith({ attached: [DENY_ALL], login: true });
    iamMock.on(DeleteLoginProfileCommand).rejects(noSuchEntity());
    // Act
    const result = await quarantineUser(approvedInput(), deps());
    // Assert
    expect(result.outcome).toBe('CONTAINED');
  });

  it('returns ALREADY_CONTAINED with no mutating call when AWSDenyAll is attached and there is no login', async () => {
    // Arrange
    iamWith({ attached: [DENY_ALL], login: false });
    // Act
    const result = await quarantineUser(approvedInput(), deps());
    // Assert
    expect(result.outcome).toBe('ALREADY_CONTAINED');
    expect(iamMock).not.toHaveReceivedCommand(AttachUserPolicyCommand);
    expect(iamMock).not.toHaveReceivedCommand(DeleteLoginProfileCommand);
  });

  it('counts a user an earlier version quarantined with its inline deny-all as quarantined', async () => {
    // Arrange
    iamWith({ attached: [], inline: LEGACY_DENY_ALL, login: false });
    // Act
    const result = await quarantineUser(approvedInput(), deps());
    // Assert
    expect(result.outcome).toBe('ALREADY_CONTAINED');
    expect(result.summary).toContain(`deny-all policy ${QUARANTINE_POLICY_NAME}`);
    expect(iamMock).not.toHaveReceivedCommand(AttachUserPolicyCommand);
  });

  it('does not count an inline policy with the earlier name that no longer denies everything', async () => {
    // Arrange
    const weakened = JSON.stringify({
      Version: '2012-10-17',
      Statement: [
        { Sid: QUARANTINE_POLICY_NAME, Effect: 'Deny', Action: 's3:GetObject', Resource: '*' },
      ],
    });
    iamWith({ attached: [], inline: weakened, login: false });
    // Act
    const result = await quarantineUser(approvedInput(), deps());
    // Assert
    expect(result.outcome).toBe('CONTAINED');
    expect(iamMock).toHaveReceivedCommandTimes(AttachUserPolicyCommand, 1);
  });

  it('fails with Cordon.ManagedPolicyQuota, changing nothing, when the user has no room for another managed policy', async () => {
    // Arrange
    const user = iamWith({ attached: [], login: true });
    iamMock.on(AttachUserPolicyCommand).rejects(
      Object.assign(new Error('Cannot exceed quota for PoliciesPerUser: 10'), {
        name: 'LimitExceededException',
        $metadata: { httpStatusCode: 409 },
      }),
    );
    // Act
    const attempt = quarantineUser(approvedInput(), deps());
    // Assert: terminal (not retried as a throttle), and the login is kept.
    await expect(attempt).rejects.toMatchObject({
      name: 'Cordon.ManagedPolicyQuota',
      retryable: false,
      message: expect.stringMatching(/PoliciesPerUser.*Nothing was changed/),
    });
    expect(iamMock).not.toHaveReceivedCommand(DeleteLoginProfileCommand);
    expect(user.login).toBe(true);
    expect(fake.entries().map((e) => e.outcome)).toEqual([INTENT, 'FAILED']);
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
    iamWith({ attached: [], login: false });
    iamMock.on(GetUserCommand).rejects(noSuchEntity());
    // Act
    const result = await quarantineUser(approvedInput(), deps());
    // Assert
    expect(result.outcome).toBe('TARGET_NOT_FOUND');
    expect(iamMock).not.toHaveReceivedCommand(AttachUserPolicyCommand);
  });

  it('records DRY_RUN and makes no mutating call in dry-run mode', async () => {
    // Arrange
    iamWith({ attached: [], login: true });
    // Act
    const result = await quarantineUser(approvedInput('dry-run'), deps());
    // Assert
    expect(result.outcome).toBe('DRY_RUN');
    expect(iamMock).not.toHaveReceivedCommand(AttachUserPolicyCommand);
    expect(iamMock).not.toHaveReceivedCommand(DeleteLoginProfileCommand);
  });

  it('converges to CONTAINED with the original before-state and no second attach after a crash before the ledger write', async () => {
    // Arrange
    iamWith({ attached: [], login: true });
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
    expect(iamMock).toHaveReceivedCommandTimes(AttachUserPolicyCommand, 1);
    expect(iamMock).toHaveReceivedCommandTimes(DeleteLoginProfileCommand, 1);
    const original = { denyAllAttached: false, quarantinePolicy: false, loginProfile: LOGIN };
    expect(fake.entries().map((e) => e.outcome)).toEqual([INTENT, 'CONTAINED']);
    expect(fake.entries()[0]).toMatchObject({ outcome: INTENT, before: original });
    expect(fake.entries()[1]).toMatchObject({
      outcome: 'CONTAINED',
      before: original,
      after: { denyAllAttached: true, quarantinePolicy: false, loginProfile: null },
    });
  });

  it('records AccessDenied on delete as FAILED and throws Cordon.AccessDenied', async () => {
    // Arrange
    iamWith({ attached: [], login: true });
    iamMock.on(DeleteLoginProfileCommand).rejects(awsError('AccessDenied', 403));
    // Act
    const attempt = quarantineUser(approvedInput(), deps());
    // Assert
    await expect(attempt).rejects.toMatchObject({ name: 'Cordon.AccessDenied' });
    expect(fake.entries().map((e) => e.outcome)).toEqual([INTENT, 'FAILED']);
  });
});

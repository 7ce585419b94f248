import 'aws-sdk-client-mock-vitest/extend';
import {
  GetUserCommand,
  IAMClient,
  ListAccessKeysCommand,
  type ListAccessKeysCommandInput,
  type StatusType,
  UpdateAccessKeyCommand,
  type UpdateAccessKeyCommandInput,
} from '@aws-sdk/client-iam';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { disableAccessKey } from '../../../../functions/actions/disable-access-key/containment.js';
import { requirePrincipal } from '../../../../functions/shared/incident.js';
import { INTENT } from '../../../../functions/shared/intents.js';
import {
  ACCOUNT,
  ACTOR,
  APPROVALS,
  actionInput,
  approved,
  awsError,
  fakeLedger,
  GUARDS,
  incident,
  KEY_ID,
  noSuchEntity,
  OTHER_KEY_ID,
  USER_ARN,
  USER_ID,
} from '../../shared/containment-fixtures.js';

const STEP = 'disableAccessKey';
const iamMock = mockClient(IAMClient);
const iam = new IAMClient({ region: 'us-east-1' });

/** Alice in IAM, as triage verified her (or, with `userId`, a namesake). */
function aliceExists(userId = USER_ID) {
  iamMock.on(GetUserCommand, { UserName: 'alice' }).resolves({
    User: {
      UserName: 'alice',
      UserId: userId,
      Arn: USER_ARN,
      Path: '/',
      CreateDate: new Date('2024-05-01T00:00:00.000Z'),
    },
  });
}

/** Alice and her keys in IAM: List reads them, Update changes them. */
function iamWithKeys(keys: Record<string, StatusType>) {
  aliceExists();
  iamMock.on(ListAccessKeysCommand).callsFake((input: ListAccessKeysCommandInput) => ({
    AccessKeyMetadata: Object.entries(keys).map(([AccessKeyId, Status]) => ({
      UserName: input.UserName,
      AccessKeyId,
      Status,
      CreateDate: new Date('2025-01-01T00:00:00.000Z'),
    })),
    IsTruncated: false,
  }));
  iamMock.on(UpdateAccessKeyCommand).callsFake((input: UpdateAccessKeyCommandInput) => {
    if (input.AccessKeyId && input.Status) keys[input.AccessKeyId] = input.Status;
    return {};
  });
  return keys;
}

describe('disable-access-key', () => {
  let fake: ReturnType<typeof fakeLedger>;
  beforeEach(() => {
    iamMock.reset();
    fake = fakeLedger();
  });
  const deps = () => ({
    iam,
    ledger: fake.ledger,
    actor: ACTOR,
    approvals: APPROVALS,
    guards: GUARDS,
  });

  it('disables only the key named in the finding when the user has two keys', async () => {
    // Arrange
    const keys = iamWithKeys({ [OTHER_KEY_ID]: 'Active', [KEY_ID]: 'Active' });
    // Act
    const result = await disableAccessKey(actionInput(STEP), deps());
    // Assert
    expect(result).toEqual({
      step: STEP,
      action: 'disable-access-key',
      outcome: 'CONTAINED',
      mode: 'auto',
      targetArn: USER_ARN,
      summary: `disable access key ${KEY_ID} of user alice`,
    });
    expect(iamMock).toHaveReceivedCommandTimes(UpdateAccessKeyCommand, 1);
    expect(iamMock).toHaveReceivedCommandWith(UpdateAccessKeyCommand, {
      UserName: 'alice',
      AccessKeyId: KEY_ID,
      Status: 'Inactive',
    });
    expect(keys).toEqual({ [OTHER_KEY_ID]: 'Active', [KEY_ID]: 'Inactive' });
    const [intent, entry] = fake.entries();
    expect(fake.entries().map((e) => e.outcome)).toEqual([INTENT, 'CONTAINED']);
    expect(entry).toMatchObject({
      outcome: 'CONTAINED',
      actor: ACTOR,
      targetArn: USER_ARN,
      before: { accessKeyId: KEY_ID, status: 'Active', createDate: '2025-01-01T00:00:00.000Z' },
      after: { accessKeyId: KEY_ID, status: 'Inactive' },
    });
    expect(intent).toMatchObject({
      actor: ACTOR,
      targetArn: USER_ARN,
      summary: `about to disable access key ${KEY_ID} of user alice`,
    });
    expect(intent).not.toHaveProperty('after');
    expect(intent?.before).toEqual(entry?.before);
  });

  it('finds the key on a later page of ListAccessKeys', async () => {
    // Arrange
    aliceExists();
    iamMock
      .on(ListAccessKeysCommand, { UserName: 'alice', Marker: undefined })
      .resolves({
        AccessKeyMetadata: [{ AccessKeyId: OTHER_KEY_ID, Status: 'Active' }],
        IsTruncated: true,
        Marker: 'page-2',
      })
      .on(ListAccessKeysCommand, { UserName: 'alice', Marker: 'page-2' })
      .resolves({ AccessKeyMetadata: [{ AccessKeyId: KEY_ID, Status: 'Active' }] });
    iamMock.on(UpdateAccessKeyCommand).resolves({});
    // Act
    const result = await disableAccessKey(actionInput(STEP), deps());
    // Assert
    expect(result.outcome).toBe('CONTAINED');
    expect(iamMock).toHaveReceivedCommandTimes(ListAccessKeysCommand, 2);
  });

  it('returns ALREADY_CONTAINED and makes no UpdateAccessKey call when the key is already Inactive', async () => {
    // Arrange
    iamWithKeys({ [KEY_ID]: 'Inactive' });
    // Act
    const result = await disableAccessKey(actionInput(STEP), deps());
    // Assert
    expect(result.outcome).toBe('ALREADY_CONTAINED');
    expect(iamMock).not.toHaveReceivedCommand(UpdateAccessKeyCommand);
    expect(fake.entries().map((e) => e.outcome)).toEqual(['ALREADY_CONTAINED']);
  });

  it('records DRY_RUN and makes no mutating call in dry-run mode', async () => {
    // Arrange
    iamWithKeys({ [KEY_ID]: 'Active' });
    // Act
    const result = await disableAccessKey(actionInput(STEP, { mode: 'dry-run' }), deps());
    // Assert
    expect(result.outcome).toBe('DRY_RUN');
    expect(result.summary).toBe(`would disable access key ${KEY_ID} of user alice`);
    expect(iamMock).not.toHaveReceivedCommand(UpdateAccessKeyCommand);
    expect(fake.entries().map((e) => e.outcome)).toEqual(['DRY_RUN']);
    expect(fake.entries()[0]).toMatchObject({ outcome: 'DRY_RUN', mode: 'dry-run' });
  });

  it('fails with Cordon.ApprovalMissing and makes no AWS call in approve mode without an approval', async () => {
    // Arrange
    iamWithKeys({ [KEY_ID]: 'Active' });
    const input = actionInput(STEP, { mode: 'approve' });
    // Act
    const attempt = disableAccessKey(input, deps());
    // Assert
    await expect(attempt).rejects.toMatchObject({ name: 'Cordon.ApprovalMissing' });
    expect(iamMock).not.toHaveReceivedAnyCommand();
    expect(fake.entries()).toEqual([]);
  });

  it('refuses an approval given for another step', async () => {
    // Arrange
    iamWithKeys({ [KEY_ID]: 'Active' });
    const input = actionInput(STEP, { mode: 'approve', approval: approved('quarantineUser') });
    // Act
    const attempt = disableAccessKey(input, deps());
    // Assert
    await expect(attempt).rejects.toMatchObject({ name: 'Cordon.ApprovalMissing' });
    expect(iamMock).not.toHaveReceivedAnyCommand();
  });

  it('acts in approve mode with an approval for its own step and records the approver', async () => {
    // Arrange
    iamWithKeys({ [KEY_ID]: 'Active' });
    const input = actionInput(STEP, { mode: 'approve', approval: approved(STEP) });
    // Act
    const result = await disableAccessKey(input, deps());
    // Assert
    expect(result.outcome).toBe('CONTAINED');
    expect(fake.entries().map((e) => e.outcome)).toEqual([INTENT, 'CONTAINED']);
    for (const entry of fake.entries()) {
      expect(entry.detail).toMatchObject({ approval: { decision: 'APPROVED', step: STEP } });
    }
  });

  it('refuses to act when the step is off', async () => {
    // Arrange
    iamWithKeys({ [KEY_ID]: 'Active' });
    // Act
    const attempt = disableAccessKey(actionInput(STEP, { mode: 'off' }), deps());
    // Assert
    await expect(attempt).rejects.toMatchObject({ name: 'Cordon.ApprovalMissing' });
    expect(iamMock).not.toHaveReceivedAnyCommand();
  });

  it('returns TARGET_NOT_FOUND when the user no longer exists', async () => {
    // Arrange
    iamMock.on(GetUserCommand).rejects(noSuchEntity());
    iamMock.on(ListAccessKeysCommand).rejects(noSuchEntity());
    // Act
    const result = await disableAccessKey(actionInput(STEP), deps());
    // Assert
    expect(result.outcome).toBe('TARGET_NOT_FOUND');
    expect(iamMock).not.toHaveReceivedCommand(UpdateAccessKeyCommand);
    expect(fake.entries().map((e) => e.outcome)).toEqual(['TARGET_NOT_FOUND']);
  });

  it('returns TARGET_NOT_FOUND when the key was deleted but the user remains', async () => {
    // Arrange
    iamWithKeys({ [OTHER_KEY_ID]: 'Active' });
    // Act
    const result = await disableAccessKey(actionInput(STEP), deps());
    // Assert
    expect(result.outcome).toBe('TARGET_NOT_FOUND');
    expect(iamMock).not.toHaveReceivedCommand(UpdateAccessKeyCommand);
  });

  it('surfaces throttling as retryable Cordon.Throttled, and a later attempt succeeds', async () => {
    // Arrange
    const keys = iamWithKeys({ [KEY_ID]: 'Active' });
    iamMock
      .on(UpdateAccessKeyCommand)
      .rejectsOnce(awsError('Throttling'))
      .callsFake((input: UpdateAccessKeyCommandInput) => {
        if (input.AccessKeyId && input.Status) keys[input.AccessKeyId] = input.Status;
        return {};
      });
    // Act
    const first = disableAccessKey(actionInput(STEP), deps());
    await expect(first).rejects.toMatchObject({ name: 'Cordon.Throttled', retryable: true });
    const second = await disableAccessKey(actionInput(STEP), deps());
    // Assert
    expect(second.outcome).toBe('CONTAINED');
    expect(keys[KEY_ID]).toBe('Inactive');
    // A retryable failure is not recorded: the first attempt's intent stands
    // and the retry, writing no second intent, records the CONTAINED entry.
    expect(fake.entries().map((e) => e.outcome)).toEqual([INTENT, 'CONTAINED']);
    const [intent, entry] = fake.entries();
    expect(entry?.before).toMatchObject({ accessKeyId: KEY_ID, status: 'Active' });
    expect(intent?.before).toEqual(entry?.before);
  });

  it('records AccessDenied as a FAILED ledger entry and throws Cordon.AccessDenied', async () => {
    // Arrange
    iamWithKeys({ [KEY_ID]: 'Active' });
    iamMock.on(UpdateAccessKeyCommand).rejects(awsError('AccessDenied', 403));
    // Act
    const attempt = disableAccessKey(actionInput(STEP), deps());
    // Assert
    await expect(attempt).rejects.toMatchObject({ name: 'Cordon.AccessDenied', retryable: false });
    expect(fake.entries()).toEqual([
      expect.objectContaining({
        outcome: INTENT,
        targetArn: USER_ARN,
        before: expect.objectContaining({ status: 'Active' }),
      }),
      expect.objectContaining({
        outcome: 'FAILED',
        targetArn: USER_ARN,
        before: expect.objectContaining({ status: 'Active' }),
      }),
    ]);
    const [intent, failed] = fake.entries();
    expect(intent?.before).toEqual(failed?.before);
  });

  it('converges to CONTAINED with the original before-state and no second UpdateAccessKey after a crash before the ledger write', async () => {
    // Arrange
    const keys = iamWithKeys({ [KEY_ID]: 'Active' });
    fake.failNextPut(awsError('InternalServerError', 500), (e) => e.outcome !== INTENT);
    // Act
    const crashed = disableAccessKey(actionInput(STEP), deps());
    await expect(crashed).rejects.toMatchObject({ name: 'Cordon.ServiceUnavailable' });
    expect(keys[KEY_ID]).toBe('Inactive');
    expect(fake.entries().map((e) => e.outcome)).toEqual([INTENT]);
    const retried = await disableAccessKey(actionInput(STEP), deps());
    // Assert
    expect(keys[KEY_ID]).toBe('Inactive');
    expect(retried.outcome).toBe('CONTAINED');
    expect(retried.summary).toBe(
      `disable access key ${KEY_ID} of user alice (finished by an earlier attempt)`,
    );
    expect(iamMock).toHaveReceivedCommandTimes(UpdateAccessKeyCommand, 1);
    expect(fake.entries().map((e) => e.outcome)).toEqual([INTENT, 'CONTAINED']);
    const [intent, entry] = fake.entries();
    expect(entry).toMatchObject({
      before: { accessKeyId: KEY_ID, status: 'Active' },
      after: { accessKeyId: KEY_ID, status: 'Inactive' },
    });
    expect(entry?.before).toEqual(intent?.before);
  });

  it.each([
    ['a temporary (ASIA) key', { accessKeyId: 'ASIAIOSFODNN7EXAMPLE' }],
    ['no key', { accessKeyId: undefined }],
    ['a user ARN of another account', { arn: 'arn:aws:iam::999999999999:user/alice' }],
    ['an ARN whose name differs from the principal name', { name: 'bob' }],
  ])('fails with Cordon.InvalidTaskInput and no AWS call for %s', async (_, principal) => {
    // Arrange
    const base = incident();
    const input = actionInput(STEP, {
      incident: { ...base, principal: { ...requirePrincipal(base, 'test'), ...principal } },
    });
    // Act
    const attempt = disableAccessKey(input, deps());
    // Assert
    await expect(attempt).rejects.toMatchObject({ name: 'Cordon.InvalidTaskInput' });
    expect(iamMock).not.toHaveReceivedAnyCommand();
  });

  it('accepts a user with a path in its ARN', async () => {
    // Arrange
    iamWithKeys({ [KEY_ID]: 'Active' });
    const base = incident();
    const arn = `arn:aws:iam::${ACCOUNT}:user/division/team/alice`;
    const input = actionInput(STEP, {
      incident: { ...base, principal: { ...requirePrincipal(base, 'test'), arn } },
    });
    // Act
    const result = await disableAccessKey(input, deps());
    // Assert
    expect(result).toMatchObject({ outcome: 'CONTAINED', targetArn: arn });
    expect(iamMock).toHaveReceivedCommandWith(UpdateAccessKeyCommand, { UserName: 'alice' });
  });
});

import 'aws-sdk-client-mock-vitest/extend';
import {
  IAMClient,
  ListAccessKeysCommand,
  type StatusType,
  UpdateAccessKeyCommand,
} from '@aws-sdk/client-iam';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { rollbackAccessKey } from '../../../../functions/actions/disable-access-key/rollback.js';
import { refuseBroken } from '../../../../functions/shared/rollback.js';
import {
  ACCOUNT,
  APPROVALS,
  awsError,
  fakeLedger,
  KEY_ID,
  USER_ARN,
} from '../../shared/containment-fixtures.js';
import {
  containedThenApproved,
  INCIDENT_ID,
  REQUESTER,
  ROLLBACK_ACTOR,
  ROLLBACK_EXECUTION,
  rollbackApproval,
  rollbackEntries,
} from '../../shared/rollback-fixtures.js';

/**
 * The rules runRollback enforces for every rollback action, shown through
 * rollback-disable-access-key: approval, the entry it undoes, the ledger chain,
 * drift, force, order after a refusal, and failures.
 */

const iamMock = mockClient(IAMClient);
const iam = new IAMClient({ region: 'us-east-1' });

const KEY = {
  step: 'disableAccessKey',
  action: 'disable-access-key',
  targetArn: USER_ARN,
  before: { accessKeyId: KEY_ID, status: 'Active', createDate: '2025-01-01T00:00:00.000Z' },
  after: { accessKeyId: KEY_ID, status: 'Inactive', createDate: '2025-01-01T00:00:00.000Z' },
};

function keyIs(status: StatusType | undefined) {
  iamMock.on(ListAccessKeysCommand).resolves({
    AccessKeyMetadata:
      status === undefined ? [] : [{ AccessKeyId: KEY_ID, Status: status, UserName: 'alice' }],
    IsTruncated: false,
  });
  iamMock.on(UpdateAccessKeyCommand).resolves({});
}

describe('runRollback', () => {
  let fake: ReturnType<typeof fakeLedger>;
  beforeEach(() => {
    iamMock.reset();
    fake = fakeLedger();
  });
  const deps = () => ({ iam, ledger: fake.ledger, actor: ROLLBACK_ACTOR, approvals: APPROVALS });

  it('restores the before-state and records ROLLED_BACK with the state found and the state restored', async () => {
    keyIs('Inactive');
    const input = await containedThenApproved(fake, 'rollback-disable-access-key', KEY);

    const result = await rollbackAccessKey(input, deps());

    expect(iamMock).toHaveReceivedCommandWith(UpdateAccessKeyCommand, {
      UserName: 'alice',
      AccessKeyId: KEY_ID,
      Status: 'Active',
    });
    expect(result).toEqual({
      seq: 1,
      step: 'disableAccessKey',
      action: 'rollback-disable-access-key',
      outcome: 'ROLLED_BACK',
      targetArn: USER_ARN,
      summary: `set access key ${KEY_ID} of user alice back to Active: it works again`,
    });
    expect(rollbackEntries(fake)).toEqual([
      expect.objectContaining({
        incidentId: INCIDENT_ID,
        step: 'disableAccessKey',
        actor: ROLLBACK_ACTOR,
        outcome: 'ROLLED_BACK',
        executionArn: ROLLBACK_EXECUTION,
        findingId: 'f-0001',
        before: { accessKeyId: KEY_ID, status: 'Inactive' },
        after: { accessKeyId: KEY_ID, status: 'Active' },
        detail: {
          entrySeq: 1,
          undoes: 'disable-access-key',
          requestedBy: REQUESTER,
          reason: 'owner confirmed',
          force: false,
          approval: rollbackApproval(),
          forced: false,
          drift: [],
        },
      }),
    ]);
  });

  it('records ALREADY_ROLLED_BACK and changes nothing when the target is in its before-state', async () => {
    keyIs('Active');
    const input = await containedThenApproved(fake, 'rollback-disable-access-key', KEY);

    const result = await rollbackAccessKey(input, deps());

    expect(result.outcome).toBe('ALREADY_ROLLED_BACK');
    expect(iamMock).not.toHaveReceivedCommand(UpdateAccessKeyCommand);
  });

  it('records TARGET_NOT_FOUND when the key is gone', async () => {
    keyIs(undefined);
    const input = await containedThenApproved(fake, 'rollback-disable-access-key', KEY);

    const result = await rollbackAccessKey(input, deps());

    expect(result.outcome).toBe('TARGET_NOT_FOUND');
    expect(iamMock).not.toHaveReceivedCommand(UpdateAccessKeyCommand);
  });

  /** Recorded Active -> Inactive; found Expired: neither, so someone changed it. */
  async function driftedKey(force: boolean) {
    const input = await containedThenApproved(fake, 'rollback-disable-access-key', KEY, { force });
    iamMock.on(ListAccessKeysCommand).resolves({
      AccessKeyMetadata: [{ AccessKeyId: KEY_ID, Status: 'Expired' as StatusType }],
      IsTruncated: false,
    });
    iamMock.on(UpdateAccessKeyCommand).resolves({});
    return input;
  }

  it('refuses on drift, saying what differs, and changes nothing', async () => {
    const input = await driftedKey(false);

    const refused = await rollbackAccessKey(input, deps());

    expect(refused.outcome).toBe('ROLLBACK_REFUSED');
    expect(refused.summary).toBe(
      `refused: ${USER_ARN} changed since Cordon contained it (access key ${KEY_ID} is "Expired" now, Cordon left "Inactive"); nothing was changed; roll back with --force to restore the recorded before-state anyway`,
    );
    expect(iamMock).not.toHaveReceivedCommand(UpdateAccessKeyCommand);
    expect(rollbackEntries(fake).at(-1)?.detail).toMatchObject({
      drift: [`access key ${KEY_ID} is "Expired" now, Cordon left "Inactive"`],
    });
  });

  it('restores over drift with force, and records that it was forced', async () => {
    const input = await driftedKey(true);

    const forced = await rollbackAccessKey(input, deps());

    expect(forced.outcome).toBe('ROLLED_BACK');
    expect(forced.summary).toBe(
      `set access key ${KEY_ID} of user alice back to Active: it works again (forced over changes since containment: access key ${KEY_ID} is "Expired" now, Cordon left "Inactive")`,
    );
    expect(iamMock).toHaveReceivedCommandWith(UpdateAccessKeyCommand, { Status: 'Active' });
    expect(rollbackEntries(fake).at(-1)?.detail).toMatchObject({ force: true, forced: true });
  });

  it('skips an item after a refusal earlier in the same rollback, acting on nothing', async () => {
    keyIs('Inactive');
    const input = await containedThenApproved(fake, 'rollback-disable-access-key', KEY);
    await fake.ledger.append(INCIDENT_ID, {
      step: 'quarantineUser',
      action: 'rollback-quarantine-user',
      actor: ROLLBACK_ACTOR,
      outcome: 'ROLLBACK_REFUSED',
      executionArn: ROLLBACK_EXECUTION,
    });

    const result = await rollbackAccessKey(input, deps());

    expect(result.outcome).toBe('ROLLBACK_SKIPPED');
    expect(result.summary).toBe(
      'not attempted: quarantineUser (rollback-quarantine-user) was refused earlier in this rollback; nothing was changed',
    );
    expect(iamMock).not.toHaveReceivedCommand(ListAccessKeysCommand);
  });

  it('refuses to act without an approval of this rollback in the input', async () => {
    keyIs('Inactive');
    const input = await containedThenApproved(fake, 'rollback-disable-access-key', KEY, {
      approval: { decision: 'NOT_REQUIRED', step: 'rollback0123456789ab' },
    });

    await expect(rollbackAccessKey(input, deps())).rejects.toMatchObject({
      name: 'Cordon.ApprovalMissing',
    });
    expect(iamMock).not.toHaveReceivedCommand(UpdateAccessKeyCommand);
  });

  it('refuses to act when the ledger holds no granted approval, whatever the input says', async () => {
    keyIs('Inactive');
    const input = await containedThenApproved(fake, 'rollback-disable-access-key', KEY, {
      granted: false,
    });

    await expect(rollbackAccessKey(input, deps())).rejects.toMatchObject({
      name: 'Cordon.ApprovalMissing',
    });
    expect(iamMock).not.toHaveReceivedCommand(UpdateAccessKeyCommand);
  });

  it('refuses an item whose entry is not a CONTAINED entry of the action it undoes', async () => {
    keyIs('Inactive');
    const input = await containedThenApproved(fake, 'rollback-disable-access-key', {
      ...KEY,
      action: 'revoke-sessions',
    });

    await expect(rollbackAccessKey(input, deps())).rejects.toMatchObject({
      name: 'Cordon.InvalidTaskInput',
      message: `rollback-disable-access-key: entry #1 of ${INCIDENT_ID} is not a CONTAINED entry of disable-access-key`,
    });
  });

  it('refuses a ledger whose chain is broken', async () => {
    keyIs('Inactive');
    const input = await containedThenApproved(fake, 'rollback-disable-access-key', KEY);
    const entries = fake.entries();
    const forged = entries.map((e) =>
      e.seq === 1 ? { ...e, before: { accessKeyId: KEY_ID, status: 'Active', forged: true } } : e,
    );
    const broken = await fake.ledger.verify(forged);
    expect(() => refuseBroken(INCIDENT_ID, broken)).toThrow(
      `the ledger of ${INCIDENT_ID} is broken at entry #1 (edited: its content does not match its hash): refusing to restore anything from it`,
    );
    const tampered = {
      entries: async () => forged,
      append: fake.ledger.append.bind(fake.ledger),
      verify: fake.ledger.verify.bind(fake.ledger),
    };

    await expect(
      rollbackAccessKey(input, { iam, ledger: tampered, actor: ROLLBACK_ACTOR }),
    ).rejects.toMatchObject({ name: 'Cordon.LedgerTampered' });
    expect(iamMock).not.toHaveReceivedCommand(UpdateAccessKeyCommand);
  });

  it('records FAILED and throws on a terminal AWS error; throws without recording on a retryable one', async () => {
    keyIs('Inactive');
    iamMock.on(UpdateAccessKeyCommand).rejects(awsError('AccessDenied', 403));
    const input = await containedThenApproved(fake, 'rollback-disable-access-key', KEY);

    await expect(rollbackAccessKey(input, deps())).rejects.toMatchObject({
      name: 'Cordon.AccessDenied',
    });
    expect(rollbackEntries(fake).map((e) => e.outcome)).toEqual(['FAILED']);

    iamMock.on(UpdateAccessKeyCommand).rejects(awsError('Throttling', 400));
    await expect(rollbackAccessKey(input, deps())).rejects.toMatchObject({
      name: 'Cordon.Throttled',
    });
    expect(rollbackEntries(fake).map((e) => e.outcome)).toEqual(['FAILED']);
    expect(ACCOUNT).toBe('123456789012');
  });
});

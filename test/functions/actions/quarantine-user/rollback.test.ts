import 'aws-sdk-client-mock-vitest/extend';
import {
  DeleteUserPolicyCommand,
  DetachUserPolicyCommand,
  GetLoginProfileCommand,
  GetUserCommand,
  GetUserPolicyCommand,
  IAMClient,
  ListAttachedUserPoliciesCommand,
  PutUserPolicyCommand,
} from '@aws-sdk/client-iam';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import {
  PASSWORD_CAVEAT,
  rollbackUserQuarantine,
} from '../../../../functions/actions/quarantine-user/rollback.js';
import {
  APPROVALS,
  fakeLedger,
  noSuchEntity,
  USER_ARN,
} from '../../shared/containment-fixtures.js';
import { containedThenApproved, ROLLBACK_ACTOR } from '../../shared/rollback-fixtures.js';

const iamMock = mockClient(IAMClient);
const iam = new IAMClient({ region: 'us-east-1' });
const DENY_ALL = 'arn:aws:iam::aws:policy/AWSDenyAll';
const LEGACY_DENY_ALL = JSON.stringify({
  Version: '2012-10-17',
  Statement: [{ Sid: 'CordonQuarantine', Effect: 'Deny', Action: '*', Resource: '*' }],
});
const LOGIN = { createDate: '2025-01-01T00:00:00.000Z', passwordResetRequired: false };

/** A CONTAINED entry as quarantine writes it now: AWSDenyAll attached. */
const QUARANTINED = {
  step: 'quarantineUser',
  action: 'quarantine-user',
  targetArn: USER_ARN,
  before: { denyAllAttached: false, quarantinePolicy: false, loginProfile: LOGIN },
  after: { denyAllAttached: true, quarantinePolicy: false, loginProfile: null },
};

/** A CONTAINED entry an earlier version wrote: the inline deny-all, no denyAllAttached. */
const QUARANTINED_BEFORE_UPGRADE = {
  ...QUARANTINED,
  before: { quarantinePolicy: false, loginProfile: LOGIN },
  after: { quarantinePolicy: true, loginProfile: null },
};

function userHas(user: { attached: string[]; inline?: string; login: boolean }) {
  iamMock.on(GetUserCommand).resolves({});
  iamMock.on(ListAttachedUserPoliciesCommand).resolves({
    AttachedPolicies: user.attached.map((PolicyArn) => ({ PolicyArn })),
    IsTruncated: false,
  });
  if (user.inline === undefined) iamMock.on(GetUserPolicyCommand).rejects(noSuchEntity());
  else iamMock.on(GetUserPolicyCommand).resolves({ PolicyDocument: user.inline });
  if (user.login) iamMock.on(GetLoginProfileCommand).resolves({ LoginProfile: undefined });
  else iamMock.on(GetLoginProfileCommand).rejects(noSuchEntity());
  iamMock.on(DetachUserPolicyCommand).resolves({});
  iamMock.on(DeleteUserPolicyCommand).resolves({});
}

describe('rollback-quarantine-user', () => {
  let fake: ReturnType<typeof fakeLedger>;
  beforeEach(() => {
    iamMock.reset();
    fake = fakeLedger();
  });
  const deps = () => ({ iam, ledger: fake.ledger, actor: ROLLBACK_ACTOR, approvals: APPROVALS });

  it('detaches AWSDenyAll and says the deleted console password is not restored', async () => {
    userHas({ attached: [DENY_ALL], login: false });
    const input = await containedThenApproved(fake, 'rollback-quarantine-user', QUARANTINED);

    const result = await rollbackUserQuarantine(input, deps());

    expect(iamMock).toHaveReceivedCommandWith(DetachUserPolicyCommand, {
      UserName: 'alice',
      PolicyArn: DENY_ALL,
    });
    expect(iamMock).not.toHaveReceivedCommand(DeleteUserPolicyCommand);
    expect(iamMock).not.toHaveReceivedCommand(PutUserPolicyCommand);
    expect(result.outcome).toBe('ROLLED_BACK');
    expect(result.summary).toBe(
      `remove the deny-all policy quarantine added from user alice: it can call AWS again; ${PASSWORD_CAVEAT}`,
    );
    expect(PASSWORD_CAVEAT).toBe(
      'the console password Cordon deleted is NOT restored: the console password cannot be read or restored; undoing this means creating a new login profile with a new password',
    );
  });

  it('rolls back a user an earlier version quarantined: deletes its inline deny-all, detaches nothing', async () => {
    userHas({ attached: [], inline: LEGACY_DENY_ALL, login: false });
    const input = await containedThenApproved(
      fake,
      'rollback-quarantine-user',
      QUARANTINED_BEFORE_UPGRADE,
    );

    const result = await rollbackUserQuarantine(input, deps());

    expect(result.outcome).toBe('ROLLED_BACK');
    expect(iamMock).toHaveReceivedCommandWith(DeleteUserPolicyCommand, {
      UserName: 'alice',
      PolicyName: 'CordonQuarantine',
    });
    expect(iamMock).not.toHaveReceivedCommand(DetachUserPolicyCommand);
  });

  it('keeps an AWSDenyAll the user had before the quarantine', async () => {
    userHas({ attached: [DENY_ALL], login: false });
    const input = await containedThenApproved(fake, 'rollback-quarantine-user', {
      ...QUARANTINED,
      before: { ...QUARANTINED.before, denyAllAttached: true },
    });

    const result = await rollbackUserQuarantine(input, deps());

    expect(result.outcome).toBe('ALREADY_ROLLED_BACK');
    expect(iamMock).not.toHaveReceivedCommand(DetachUserPolicyCommand);
  });

  it('refuses when a console password was created since, and changes nothing', async () => {
    userHas({ attached: [DENY_ALL], login: true });
    const input = await containedThenApproved(fake, 'rollback-quarantine-user', QUARANTINED);

    const result = await rollbackUserQuarantine(input, deps());

    expect(result.outcome).toBe('ROLLBACK_REFUSED');
    expect(result.summary).toContain('a console password is true now, Cordon left false');
    expect(iamMock).not.toHaveReceivedCommand(DetachUserPolicyCommand);
  });

  it('is already rolled back when the policy is gone', async () => {
    userHas({ attached: [], login: false });
    const input = await containedThenApproved(fake, 'rollback-quarantine-user', QUARANTINED);

    expect((await rollbackUserQuarantine(input, deps())).outcome).toBe('ALREADY_ROLLED_BACK');
    expect(iamMock).not.toHaveReceivedCommand(DetachUserPolicyCommand);
  });
});

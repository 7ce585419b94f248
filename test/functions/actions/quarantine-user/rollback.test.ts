import 'aws-sdk-client-mock-vitest/extend';
import {
  DeleteUserPolicyCommand,
  GetLoginProfileCommand,
  GetUserCommand,
  GetUserPolicyCommand,
  IAMClient,
  PutUserPolicyCommand,
} from '@aws-sdk/client-iam';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import {
  PASSWORD_CAVEAT,
  rollbackUserQuarantine,
} from '../../../../functions/actions/quarantine-user/rollback.js';
import { QUARANTINE_POLICY_DOCUMENT } from '../../../../functions/actions/quarantine-user/state.js';
import { fakeLedger, noSuchEntity, USER_ARN } from '../../shared/containment-fixtures.js';
import { containedThenApproved, ROLLBACK_ACTOR } from '../../shared/rollback-fixtures.js';

const iamMock = mockClient(IAMClient);
const iam = new IAMClient({ region: 'us-east-1' });

const QUARANTINED = {
  step: 'quarantineUser',
  action: 'quarantine-user',
  targetArn: USER_ARN,
  before: {
    quarantinePolicy: false,
    loginProfile: { createDate: '2025-01-01T00:00:00.000Z', passwordResetRequired: false },
  },
  after: { quarantinePolicy: true, loginProfile: null },
};

function userHas(policy: string | undefined, login: boolean) {
  iamMock.on(GetUserCommand).resolves({});
  if (policy === undefined) iamMock.on(GetUserPolicyCommand).rejects(noSuchEntity());
  else iamMock.on(GetUserPolicyCommand).resolves({ PolicyDocument: policy });
  if (login) iamMock.on(GetLoginProfileCommand).resolves({ LoginProfile: undefined });
  else iamMock.on(GetLoginProfileCommand).rejects(noSuchEntity());
  iamMock.on(DeleteUserPolicyCommand).resolves({});
}

describe('rollback-quarantine-user', () => {
  let fake: ReturnType<typeof fakeLedger>;
  beforeEach(() => {
    iamMock.reset();
    fake = fakeLedger();
  });
  const deps = () => ({ iam, ledger: fake.ledger, actor: ROLLBACK_ACTOR });

  it('removes the deny-all policy and says the deleted console password is not restored', async () => {
    userHas(QUARANTINE_POLICY_DOCUMENT, false);
    const input = await containedThenApproved(fake, 'rollback-quarantine-user', QUARANTINED);

    const result = await rollbackUserQuarantine(input, deps());

    expect(iamMock).toHaveReceivedCommandWith(DeleteUserPolicyCommand, {
      UserName: 'alice',
      PolicyName: 'CordonQuarantine',
    });
    expect(iamMock).not.toHaveReceivedCommand(PutUserPolicyCommand);
    expect(result.outcome).toBe('ROLLED_BACK');
    expect(result.summary).toBe(
      `remove deny-all policy CordonQuarantine from user alice: it can call AWS again; ${PASSWORD_CAVEAT}`,
    );
    expect(PASSWORD_CAVEAT).toBe(
      'the console password Cordon deleted is NOT restored: the console password cannot be read or restored; undoing this means creating a new login profile with a new password',
    );
  });

  it('refuses when a console password was created since, and changes nothing', async () => {
    userHas(QUARANTINE_POLICY_DOCUMENT, true);
    const input = await containedThenApproved(fake, 'rollback-quarantine-user', QUARANTINED);

    const result = await rollbackUserQuarantine(input, deps());

    expect(result.outcome).toBe('ROLLBACK_REFUSED');
    expect(result.summary).toContain('a console password is true now, Cordon left false');
    expect(iamMock).not.toHaveReceivedCommand(DeleteUserPolicyCommand);
  });

  it('is already rolled back when the policy is gone', async () => {
    userHas(undefined, false);
    const input = await containedThenApproved(fake, 'rollback-quarantine-user', QUARANTINED);

    expect((await rollbackUserQuarantine(input, deps())).outcome).toBe('ALREADY_ROLLED_BACK');
    expect(iamMock).not.toHaveReceivedCommand(DeleteUserPolicyCommand);
  });
});

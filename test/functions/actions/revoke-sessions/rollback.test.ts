import 'aws-sdk-client-mock-vitest/extend';
import {
  DeleteRolePolicyCommand,
  DeleteUserPolicyCommand,
  GetRoleCommand,
  GetRolePolicyCommand,
  GetUserCommand,
  GetUserPolicyCommand,
  IAMClient,
  PutRolePolicyCommand,
} from '@aws-sdk/client-iam';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { rollbackSessionRevocation } from '../../../../functions/actions/revoke-sessions/rollback.js';
import { revokePolicyDocument } from '../../../../functions/actions/revoke-sessions/state.js';
import {
  APPROVALS,
  fakeLedger,
  noSuchEntity,
  ROLE_ARN,
  USER_ARN,
} from '../../shared/containment-fixtures.js';
import { containedThenApproved, ROLLBACK_ACTOR } from '../../shared/rollback-fixtures.js';

const iamMock = mockClient(IAMClient);
const iam = new IAMClient({ region: 'us-east-1' });
const CUTOFF = '2026-03-01T10:06:00.000Z';
const OLDER = '2026-02-01T00:00:00.000Z';

const revoked = (targetArn: string, before: string | null) => ({
  step: targetArn === USER_ARN ? 'revokeUserSessions' : 'revokeRoleSessions',
  action: 'revoke-sessions',
  targetArn,
  before: { policyName: 'CordonRevokeOlderSessions', revokedBefore: before },
  after: { policyName: 'CordonRevokeOlderSessions', revokedBefore: CUTOFF },
});

/** The principal exists; its policy holds `document`, or it has none. */
function policyIs(document: string | undefined) {
  iamMock.on(GetUserCommand).resolves({});
  iamMock.on(GetRoleCommand).resolves({});
  if (document === undefined) {
    iamMock.on(GetUserPolicyCommand).rejects(noSuchEntity());
    iamMock.on(GetRolePolicyCommand).rejects(noSuchEntity());
  } else {
    iamMock.on(GetUserPolicyCommand).resolves({ PolicyDocument: document });
    iamMock.on(GetRolePolicyCommand).resolves({ PolicyDocument: document });
  }
  iamMock.on(DeleteUserPolicyCommand).resolves({});
  iamMock.on(DeleteRolePolicyCommand).resolves({});
  iamMock.on(PutRolePolicyCommand).resolves({});
}

describe('rollback-revoke-sessions', () => {
  let fake: ReturnType<typeof fakeLedger>;
  beforeEach(() => {
    iamMock.reset();
    fake = fakeLedger();
  });
  const deps = () => ({ iam, ledger: fake.ledger, actor: ROLLBACK_ACTOR, approvals: APPROVALS });

  it("deletes the user's deny policy when it had none before", async () => {
    policyIs(revokePolicyDocument(new Date(CUTOFF)));
    const input = await containedThenApproved(
      fake,
      'rollback-revoke-sessions',
      revoked(USER_ARN, null),
    );

    const result = await rollbackSessionRevocation(input, deps());

    expect(result.outcome).toBe('ROLLED_BACK');
    expect(iamMock).toHaveReceivedCommandWith(DeleteUserPolicyCommand, {
      UserName: 'alice',
      PolicyName: 'CordonRevokeOlderSessions',
    });
    expect(fake.entries().at(-1)).toMatchObject({
      before: { revokedBefore: CUTOFF, policyPresent: true },
      after: { revokedBefore: null, policyPresent: false },
    });
  });

  it("puts the role's older cutoff back when the policy existed before", async () => {
    policyIs(revokePolicyDocument(new Date(CUTOFF)));
    const input = await containedThenApproved(
      fake,
      'rollback-revoke-sessions',
      revoked(ROLE_ARN, OLDER),
    );

    const result = await rollbackSessionRevocation(input, deps());

    expect(result.outcome).toBe('ROLLED_BACK');
    expect(iamMock).toHaveReceivedCommandWith(PutRolePolicyCommand, {
      RoleName: 'app-role',
      PolicyName: 'CordonRevokeOlderSessions',
      PolicyDocument: revokePolicyDocument(new Date(OLDER)),
    });
    expect(iamMock).not.toHaveReceivedCommand(DeleteRolePolicyCommand);
  });

  it('is already rolled back when the policy is gone', async () => {
    policyIs(undefined);
    const input = await containedThenApproved(
      fake,
      'rollback-revoke-sessions',
      revoked(USER_ARN, null),
    );

    expect((await rollbackSessionRevocation(input, deps())).outcome).toBe('ALREADY_ROLLED_BACK');
    expect(iamMock).not.toHaveReceivedCommand(DeleteUserPolicyCommand);
  });

  it('refuses when the policy was edited by hand (no cutoff Cordon trusts, but still there)', async () => {
    policyIs('{"Statement":[{"Effect":"Deny","Action":"s3:*","Resource":"*"}]}');
    const input = await containedThenApproved(
      fake,
      'rollback-revoke-sessions',
      revoked(USER_ARN, null),
    );

    const result = await rollbackSessionRevocation(input, deps());

    expect(result.outcome).toBe('ROLLBACK_REFUSED');
    expect(result.summary).toContain(
      `the CordonRevokeOlderSessions cutoff is none now, Cordon left "${CUTOFF}"`,
    );
    expect(iamMock).not.toHaveReceivedCommand(DeleteUserPolicyCommand);
  });
});

import 'aws-sdk-client-mock-vitest/extend';
import {
  GetLoginProfileCommand,
  GetRoleCommand,
  GetRolePolicyCommand,
  GetUserCommand,
  GetUserPolicyCommand,
  IAMClient,
  ListAccessKeysCommand,
  PutRolePolicyCommand,
  PutUserPolicyCommand,
  type Tag,
  UpdateAccessKeyCommand,
} from '@aws-sdk/client-iam';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { disableAccessKey } from '../../../functions/actions/disable-access-key/containment.js';
import { quarantineUser } from '../../../functions/actions/quarantine-user/containment.js';
import { revokeSessions } from '../../../functions/actions/revoke-sessions/containment.js';
import {
  ACCOUNT,
  ACTOR,
  APPROVALS,
  actionInput,
  approved,
  fakeLedger,
  GUARDS,
  KEY_ID,
  noSuchEntity,
  ROLE_ARN,
  ROLE_ID,
  roleIncident,
  USER_ARN,
  USER_ID,
} from '../shared/containment-fixtures.js';

/**
 * The last look before an action changes an IAM principal (item: act on the
 * target triage verified). Each test is the attack: between triage and the
 * action (an approval can wait an hour), someone changes what the name
 * points at, and the action must refuse to act on it.
 */

const iamMock = mockClient(IAMClient);
const iam = new IAMClient({ region: 'us-east-1' });
const NOW = new Date('2026-03-01T10:10:00.000Z');
let fake: ReturnType<typeof fakeLedger>;

beforeEach(() => {
  iamMock.reset();
  fake = fakeLedger();
  iamMock.on(ListAccessKeysCommand).resolves({
    AccessKeyMetadata: [{ UserName: 'alice', AccessKeyId: KEY_ID, Status: 'Active' }],
  });
  iamMock.on(GetUserPolicyCommand).rejects(noSuchEntity());
  iamMock.on(GetRolePolicyCommand).rejects(noSuchEntity());
  iamMock.on(GetLoginProfileCommand).rejects(noSuchEntity());
});

const deps = () => ({
  iam,
  ledger: fake.ledger,
  actor: ACTOR,
  approvals: APPROVALS,
  guards: GUARDS,
  now: () => NOW,
});

/** The user IAM has under the name alice now. */
function aliceIs(user: { id?: string; arn?: string; tags?: Tag[] } = {}) {
  iamMock.on(GetUserCommand, { UserName: 'alice' }).resolves({
    User: {
      UserName: 'alice',
      UserId: user.id ?? USER_ID,
      Arn: user.arn ?? USER_ARN,
      Path: '/',
      CreateDate: new Date('2026-03-01T10:05:00.000Z'),
      ...(user.tags === undefined ? {} : { Tags: user.tags }),
    },
  });
}

const EXEMPT: Tag[] = [{ Key: 'cordon:exempt', Value: 'true' }];

describe('an IAM principal changed while its step waited', () => {
  it('does not disable a key of a user deleted and re-created under the same name', async () => {
    aliceIs({ id: 'AIDANEWALICE00000001' });

    const attempt = disableAccessKey(actionInput('disableAccessKey'), deps());

    await expect(attempt).rejects.toMatchObject({ name: 'Cordon.TargetChanged' });
    expect(iamMock).not.toHaveReceivedCommand(UpdateAccessKeyCommand);
    // The new user's keys may have been read beside the check (a read
    // changes nothing), but nothing of them is recorded as the state to
    // roll back to.
    const [entry] = fake.entries();
    expect(fake.entries()).toHaveLength(1);
    expect(entry).toMatchObject({ outcome: 'FAILED', targetArn: USER_ARN });
    expect(entry?.before).toBeUndefined();
    expect(entry?.summary).toContain(`IAM now has id AIDANEWALICE00000001, triage saw ${USER_ID}`);
  });

  it('does not revoke the sessions of a role re-created under the same name', async () => {
    iamMock.on(GetRoleCommand, { RoleName: 'app-role' }).resolves({
      Role: {
        RoleName: 'app-role',
        RoleId: 'AROANEWAPPROLE000001',
        Arn: ROLE_ARN,
        Path: '/service/',
        CreateDate: NOW,
        AssumeRolePolicyDocument: '{}',
      },
    });
    const input = actionInput('revokeRoleSessions', {
      incident: roleIncident({ revokeRoleSessions: { mode: 'auto' } }),
    });

    await expect(revokeSessions(input, deps())).rejects.toMatchObject({
      name: 'Cordon.TargetChanged',
    });
    expect(iamMock).not.toHaveReceivedCommand(PutRolePolicyCommand);
    expect(fake.entries()[0]?.summary).toContain(`triage saw ${ROLE_ID}`);
  });

  it('does not quarantine a user moved under a protected path since triage (iam:UpdateUser)', async () => {
    const moved = `arn:aws:iam::${ACCOUNT}:user/break-glass/alice`;
    aliceIs({ arn: moved });
    const input = actionInput('quarantineUser', { approval: approved('quarantineUser') });

    await expect(quarantineUser(input, deps())).rejects.toMatchObject({
      name: 'Cordon.TargetChanged',
    });
    expect(iamMock).not.toHaveReceivedCommand(PutUserPolicyCommand);
    expect(fake.entries()[0]?.summary).toMatch(
      /^protected: .*break-glass\/alice matches protected/,
    );
  });

  it('does not revoke unattended the sessions of a user that tagged itself exempt since triage', async () => {
    aliceIs({ tags: EXEMPT });

    const attempt = revokeSessions(actionInput('revokeUserSessions'), deps());

    await expect(attempt).rejects.toMatchObject({ name: 'Cordon.TargetChanged' });
    expect(iamMock).not.toHaveReceivedCommand(PutUserPolicyCommand);
    expect(fake.entries()[0]?.summary).toContain('tagged cordon:exempt=true since triage');
  });

  it('acts on an exempt-tagged user when a responder approved the step', async () => {
    aliceIs({ tags: EXEMPT });
    iamMock.on(PutUserPolicyCommand).resolves({});
    const input = actionInput('revokeUserSessions', {
      mode: 'approve',
      approval: approved('revokeUserSessions'),
    });

    const result = await revokeSessions(input, deps());

    expect(result.outcome).toBe('CONTAINED');
  });

  it('acts on the same user, found by the id triage verified', async () => {
    aliceIs();
    iamMock.on(UpdateAccessKeyCommand).resolves({});

    const result = await disableAccessKey(actionInput('disableAccessKey'), deps());

    expect(result.outcome).toBe('CONTAINED');
    expect(iamMock).toHaveReceivedCommandWith(GetUserCommand, { UserName: 'alice' });
  });

  it('reports a user deleted since triage as not found, not as changed', async () => {
    iamMock.on(GetUserCommand).rejects(noSuchEntity());
    iamMock.on(ListAccessKeysCommand).rejects(noSuchEntity());

    const result = await disableAccessKey(actionInput('disableAccessKey'), deps());

    expect(result.outcome).toBe('TARGET_NOT_FOUND');
  });
});

import 'aws-sdk-client-mock-vitest/extend';
import {
  GetRoleCommand,
  GetRolePolicyCommand,
  GetUserCommand,
  GetUserPolicyCommand,
  IAMClient,
  PutRolePolicyCommand,
  PutUserPolicyCommand,
} from '@aws-sdk/client-iam';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { revokeSessions } from '../../../../functions/actions/revoke-sessions/containment.js';
import {
  cutoffOf,
  REVOKE_POLICY_NAME,
  revokePolicyDocument,
} from '../../../../functions/actions/revoke-sessions/state.js';
import { parseIamArn } from '../../../../functions/shared/iam-arn.js';
import { requirePrincipal } from '../../../../functions/shared/incident.js';
import { INTENT } from '../../../../functions/shared/intents.js';
import {
  ACTOR,
  APPROVALS,
  actionInput,
  approved,
  awsError,
  FINDING_UPDATED_AT,
  fakeLedger,
  GUARDS,
  noSuchEntity,
  ROLE_ARN,
  roleIncident,
  USER_ARN,
} from '../../shared/containment-fixtures.js';

const NOW = new Date('2026-03-01T10:10:00.000Z');
const iamMock = mockClient(IAMClient);
const iam = new IAMClient({ region: 'us-east-1' });

const encoded = (cutoff: string) => encodeURIComponent(revokePolicyDocument(new Date(cutoff)));

describe('revoke-sessions', () => {
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
    now: () => NOW,
    guards: GUARDS,
  });

  it("puts a deny policy on the user with the clock's time as cutoff", async () => {
    // Arrange
    iamMock.on(GetUserCommand).resolves({});
    iamMock.on(GetUserPolicyCommand).rejects(noSuchEntity());
    iamMock.on(PutUserPolicyCommand).resolves({});
    // Act
    const result = await revokeSessions(actionInput('revokeUserSessions'), deps());
    // Assert
    expect(result).toMatchObject({ outcome: 'CONTAINED', targetArn: USER_ARN });
    expect(iamMock).toHaveReceivedCommandWith(PutUserPolicyCommand, {
      UserName: 'alice',
      PolicyName: REVOKE_POLICY_NAME,
      PolicyDocument: JSON.stringify({
        Version: '2012-10-17',
        Statement: [
          {
            Sid: 'CordonRevokeOlderSessions',
            Effect: 'Deny',
            Action: '*',
            Resource: '*',
            Condition: { DateLessThan: { 'aws:TokenIssueTime': NOW.toISOString() } },
          },
        ],
      }),
    });
    expect(iamMock).not.toHaveReceivedCommand(PutRolePolicyCommand);
    const before = { policyName: REVOKE_POLICY_NAME, revokedBefore: null };
    expect(fake.entries().map((e) => e.outcome)).toEqual([INTENT, 'CONTAINED']);
    expect(fake.entries()[0]).toMatchObject({ outcome: INTENT, before });
    expect(fake.entries()[1]).toMatchObject({
      before,
      after: { policyName: REVOKE_POLICY_NAME, revokedBefore: NOW.toISOString() },
    });
  });

  it('puts the policy on the role named by the last segment of a role ARN with a path', async () => {
    // Arrange
    iamMock.on(GetRoleCommand).resolves({});
    iamMock.on(GetRolePolicyCommand).rejects(noSuchEntity());
    iamMock.on(PutRolePolicyCommand).resolves({});
    // Act
    const result = await revokeSessions(
      actionInput('revokeRoleSessions', { incident: roleIncident() }),
      deps(),
    );
    // Assert
    expect(result).toMatchObject({ outcome: 'CONTAINED', targetArn: ROLE_ARN });
    expect(result.summary).toContain('including those of legitimate users of the role');
    expect(iamMock).toHaveReceivedCommandWith(GetRoleCommand, { RoleName: 'app-role' });
    expect(iamMock).toHaveReceivedCommandWith(PutRolePolicyCommand, {
      RoleName: 'app-role',
      PolicyName: REVOKE_POLICY_NAME,
    });
    expect(iamMock).not.toHaveReceivedCommand(PutUserPolicyCommand);
  });

  it('returns ALREADY_CONTAINED without a put when an existing cutoff is newer than the finding', async () => {
    // Arrange
    iamMock.on(GetRoleCommand).resolves({});
    iamMock
      .on(GetRolePolicyCommand)
      .resolves({ PolicyDocument: encoded('2026-03-01T10:01:00.000Z') });
    // Act
    const result = await revokeSessions(
      actionInput('revokeRoleSessions', { incident: roleIncident() }),
      deps(),
    );
    // Assert
    expect(result.outcome).toBe('ALREADY_CONTAINED');
    expect(iamMock).not.toHaveReceivedCommand(PutRolePolicyCommand);
  });

  it('returns ALREADY_CONTAINED for a user whose existing cutoff equals the finding update time', async () => {
    // Arrange
    iamMock.on(GetUserCommand).resolves({});
    iamMock.on(GetUserPolicyCommand).resolves({ PolicyDocument: encoded(FINDING_UPDATED_AT) });
    // Act
    const result = await revokeSessions(actionInput('revokeUserSessions'), deps());
    // Assert
    expect(result.outcome).toBe('ALREADY_CONTAINED');
    expect(iamMock).not.toHaveReceivedCommand(PutUserPolicyCommand);
  });

  it('moves the cutoff forward when the existing one is older than the finding', async () => {
    // Arrange
    iamMock.on(GetUserCommand).resolves({});
    iamMock
      .on(GetUserPolicyCommand)
      .resolves({ PolicyDocument: encoded('2026-02-01T00:00:00.000Z') });
    iamMock.on(PutUserPolicyCommand).resolves({});
    // Act
    const result = await revokeSessions(actionInput('revokeUserSessions'), deps());
    // Assert
    expect(result.outcome).toBe('CONTAINED');
    const before = { revokedBefore: '2026-02-01T00:00:00.000Z' };
    expect(fake.entries().map((e) => e.outcome)).toEqual([INTENT, 'CONTAINED']);
    expect(fake.entries()[0]).toMatchObject({ outcome: INTENT, before });
    expect(fake.entries()[1]).toMatchObject({
      before,
      after: { revokedBefore: NOW.toISOString() },
    });
  });

  it('replaces a policy with our name whose content is not ours', async () => {
    // Arrange
    const tampered = JSON.stringify({
      Version: '2012-10-17',
      Statement: [{ Sid: REVOKE_POLICY_NAME, Effect: 'Allow', Action: '*', Resource: '*' }],
    });
    iamMock.on(GetUserCommand).resolves({});
    iamMock.on(GetUserPolicyCommand).resolves({ PolicyDocument: encodeURIComponent(tampered) });
    iamMock.on(PutUserPolicyCommand).resolves({});
    // Act
    const result = await revokeSessions(actionInput('revokeUserSessions'), deps());
    // Assert
    expect(result.outcome).toBe('CONTAINED');
    expect(iamMock).toHaveReceivedCommandTimes(PutUserPolicyCommand, 1);
  });

  it('returns TARGET_NOT_FOUND when the role no longer exists', async () => {
    // Arrange
    iamMock.on(GetRoleCommand).rejects(noSuchEntity());
    // Act
    const result = await revokeSessions(
      actionInput('revokeRoleSessions', { incident: roleIncident() }),
      deps(),
    );
    // Assert
    expect(result.outcome).toBe('TARGET_NOT_FOUND');
    expect(iamMock).not.toHaveReceivedCommand(GetRolePolicyCommand);
    expect(iamMock).not.toHaveReceivedCommand(PutRolePolicyCommand);
  });

  it('records DRY_RUN without putting a policy', async () => {
    // Arrange
    iamMock.on(GetUserCommand).resolves({});
    iamMock.on(GetUserPolicyCommand).rejects(noSuchEntity());
    // Act
    const result = await revokeSessions(
      actionInput('revokeUserSessions', { mode: 'dry-run' }),
      deps(),
    );
    // Assert
    expect(result.outcome).toBe('DRY_RUN');
    expect(iamMock).not.toHaveReceivedCommand(PutUserPolicyCommand);
  });

  it('fails with Cordon.ApprovalMissing and no AWS call for a role step in approve mode without approval', async () => {
    // Arrange
    const input = actionInput('revokeRoleSessions', {
      incident: roleIncident({ revokeRoleSessions: { mode: 'approve' } }),
    });
    // Act
    const attempt = revokeSessions(input, deps());
    // Assert
    await expect(attempt).rejects.toMatchObject({ name: 'Cordon.ApprovalMissing' });
    expect(iamMock).not.toHaveReceivedAnyCommand();
  });

  it('acts on a role step in approve mode with an approval for that step', async () => {
    // Arrange
    iamMock.on(GetRoleCommand).resolves({});
    iamMock.on(GetRolePolicyCommand).rejects(noSuchEntity());
    iamMock.on(PutRolePolicyCommand).resolves({});
    const input = actionInput('revokeRoleSessions', {
      incident: roleIncident({ revokeRoleSessions: { mode: 'approve' } }),
      approval: approved('revokeRoleSessions'),
    });
    // Act
    const result = await revokeSessions(input, deps());
    // Assert
    expect(result.outcome).toBe('CONTAINED');
  });

  it('surfaces a throttled read as retryable Cordon.Throttled without a ledger entry', async () => {
    // Arrange
    iamMock.on(GetUserCommand).rejects(awsError('Throttling'));
    // Act
    const attempt = revokeSessions(actionInput('revokeUserSessions'), deps());
    // Assert
    await expect(attempt).rejects.toMatchObject({ name: 'Cordon.Throttled', retryable: true });
    expect(fake.entries()).toEqual([]);
  });

  it('records AccessDenied on the put as FAILED and throws Cordon.AccessDenied', async () => {
    // Arrange
    iamMock.on(GetUserCommand).resolves({});
    iamMock.on(GetUserPolicyCommand).rejects(noSuchEntity());
    iamMock.on(PutUserPolicyCommand).rejects(awsError('AccessDenied', 403));
    // Act
    const attempt = revokeSessions(actionInput('revokeUserSessions'), deps());
    // Assert
    await expect(attempt).rejects.toMatchObject({ name: 'Cordon.AccessDenied' });
    expect(fake.entries().map((e) => e.outcome)).toEqual([INTENT, 'FAILED']);
  });

  it.each([
    [
      'the root user',
      { kind: 'Root' as const, arn: 'arn:aws:iam::123456789012:root', name: undefined },
    ],
    [
      'an STS session ARN instead of the role ARN',
      { arn: 'arn:aws:sts::123456789012:assumed-role/app-role/s1' },
    ],
    ['a role name that disagrees with the ARN', { name: 'other-role' }],
  ])('fails with Cordon.InvalidTaskInput and no AWS call for %s', async (_, principal) => {
    // Arrange
    const base = roleIncident();
    const input = actionInput('revokeRoleSessions', {
      incident: { ...base, principal: { ...requirePrincipal(base, 'test'), ...principal } },
    });
    // Act
    const attempt = revokeSessions(input, deps());
    // Assert
    await expect(attempt).rejects.toMatchObject({ name: 'Cordon.InvalidTaskInput' });
    expect(iamMock).not.toHaveReceivedAnyCommand();
  });
});

describe('cutoffOf', () => {
  it('reads the cutoff of a URL-encoded document and of a plain one', () => {
    const cutoff = '2026-03-01T10:10:00.000Z';
    expect(cutoffOf(encoded(cutoff))).toBe(cutoff);
    expect(cutoffOf(revokePolicyDocument(new Date(cutoff)))).toBe(cutoff);
  });

  it('returns null for a document that is not JSON or not our statement', () => {
    expect(cutoffOf('%E0%A4%A')).toBeNull();
    expect(cutoffOf('{"Statement":[{"Sid":"Other"}]}')).toBeNull();
  });
});

describe('parseIamArn', () => {
  it('takes the last path segment as the name', () => {
    expect(parseIamArn('arn:aws:iam::123456789012:role/path/to/name')).toEqual({
      partition: 'aws',
      account: '123456789012',
      resourceType: 'role',
      path: '/path/to/',
      name: 'name',
    });
  });

  it('rejects ARNs that are not IAM users or roles', () => {
    expect(parseIamArn('arn:aws:sts::123456789012:assumed-role/r/s')).toBeUndefined();
    expect(parseIamArn('arn:aws:iam::123456789012:group/g')).toBeUndefined();
    expect(parseIamArn('arn:aws:iam::123456789012:role/')).toBeUndefined();
  });
});

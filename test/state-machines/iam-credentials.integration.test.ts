/**
 * Layer 3: the synthesized iam-credentials definition, executed locally by the
 * rehearsal engine with the real handlers in-process against moto. Asserts the
 * path (states entered, in order), the output and the ledger outcomes, and,
 * where a guard is under test, that the target was really left alone.
 *
 * Everything goes to moto except one call: Security Hub BatchUpdateFindings,
 * which moto 5.2 does not implement. The
 * Security Hub tests mock that one command with aws-sdk-client-mock (every
 * finding processed) while IAM, DynamoDB and SNS still go to moto. The
 * Security Hub's V2 APIs (GetFindingsV2, BatchUpdateFindingsV2), which the
 * OCSF tests need, exist in no emulator (moto has neither): those tests use
 * the rehearsal's finding-source stand-in, which holds the rehearsed
 * finding, answers GetFindingsV2 and records each BatchUpdateFindingsV2. The
 * throttling test makes one UpdateAccessKey call fail as IAM throttling does,
 * in place of the SDK's whole middleware stack (so the SDK does not retry
 * it): only the state machine's Retry can recover.
 *
 * The configuration variants (protected principals, dry-run) need other CDK
 * context, so they live in iam-credentials-config.integration.test.ts.
 */
import {
  CreateAccessKeyCommand,
  CreateLoginProfileCommand,
  CreateRoleCommand,
  CreateUserCommand,
  DeleteAccessKeyCommand,
  DeleteLoginProfileCommand,
  DeleteUserCommand,
  DeleteUserPolicyCommand,
  GetLoginProfileCommand,
  GetUserCommand,
  GetUserPolicyCommand,
  IAMClient,
  IAMServiceException,
  ListAccessKeysCommand,
  ListAttachedUserPoliciesCommand,
  ListRolePoliciesCommand,
  ListUserPoliciesCommand,
  TagUserCommand,
  UpdateAccessKeyCommand,
} from '@aws-sdk/client-iam';
import { BatchUpdateFindingsCommand, SecurityHubClient } from '@aws-sdk/client-securityhub';
import { PublishCommand } from '@aws-sdk/client-sns';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { z } from 'zod';
import {
  type CompromisedUser,
  roleCredentialFinding,
  seedCompromisedUser,
  seedExfiltratedRole,
  userKeyFinding,
} from '../../demo/scenario.js';
import { findingSource } from '../../rehearsal/finding-source.js';
import { MOTO_ACCOUNT_ID, motoClientConfig, useMoto } from '../support/moto.js';
import {
  afterBatchUpdate,
  afterBatchUpdateV2,
  aimedAt,
  asSample,
  findingIdentifiersOf,
  OCSF_AWS_PRODUCT,
  ocsfKeyFinding,
  processedFindings,
  securityHubKeyFinding,
  withOcsfUid,
  withWorkflowStatus,
} from './events.js';
import { explain, fixtureEvent, onlyExecution, outcomes, rehearsalHarness } from './harness.js';

const { endpoint } = useMoto();
const harness = rehearsalHarness();
const iam = new IAMClient(motoClientConfig(endpoint));

const START = ['Triage', 'Triage decision?'];
const FINISH = ['Finished: from Security Hub?', 'Notify summary', 'Done'];
/** The playbook is linear: triage's plan turns off the steps that do not apply, and they pass. */
const NOT_FOR_A_USER = ['Revoke role sessions?', 'Revoke role sessions: off'];
const NOT_FOR_A_ROLE = [
  'Disable access key?',
  'Disable access key: off',
  'Revoke user sessions?',
  'Revoke user sessions: off',
  'Quarantine user?',
  'Quarantine user: off',
];
/** The results the steps that do not apply leave: off. */
const OFF_FOR_A_USER = { revokeRoleSessions: 'OFF' };
const OFF_FOR_A_ROLE = {
  disableAccessKey: 'OFF',
  revokeUserSessions: 'OFF',
  quarantineUser: 'OFF',
};
const REFUSED = ['Triage', 'Triage decision?', 'Notify refusal', 'Not acted on'];
const DISABLE_AND_REVOKE = [
  'Disable access key?',
  'Disable access key',
  'Revoke user sessions?',
  'Revoke user sessions',
];
const ACTION_STATES = [
  'Disable access key',
  'Revoke user sessions',
  'Quarantine user',
  'Revoke role sessions',
];

const TRUST_EC2 = JSON.stringify({
  Version: '2012-10-17',
  Statement: [
    { Effect: 'Allow', Principal: { Service: 'ec2.amazonaws.com' }, Action: 'sts:AssumeRole' },
  ],
});

/** Two keys and a console password for an existing user, as seedCompromisedUser gives. */
async function seedKeysFor(userName: string): Promise<CompromisedUser> {
  const { User } = await iam.send(new GetUserCommand({ UserName: userName }));
  const leaked = await iam.send(new CreateAccessKeyCommand({ UserName: userName }));
  const healthy = await iam.send(new CreateAccessKeyCommand({ UserName: userName }));
  await iam.send(new CreateLoginProfileCommand({ UserName: userName, Password: 'Test-Passw0rd!' }));
  const leakedKeyId = leaked.AccessKey?.AccessKeyId;
  const healthyKeyId = healthy.AccessKey?.AccessKeyId;
  if (!User?.UserId || !User.Arn || !leakedKeyId || !healthyKeyId) {
    throw new Error(`IAM did not return user ${userName} and the keys it created`);
  }
  return { userName, userId: User.UserId, arn: User.Arn, leakedKeyId, healthyKeyId };
}

async function keyStatus(user: CompromisedUser, keyId: string): Promise<string | undefined> {
  const keys = await iam.send(new ListAccessKeysCommand({ UserName: user.userName }));
  return keys.AccessKeyMetadata?.find((k) => k.AccessKeyId === keyId)?.Status;
}

async function userPolicies(userName: string): Promise<string[]> {
  const out = await iam.send(new ListUserPoliciesCommand({ UserName: userName }));
  return out.PolicyNames ?? [];
}

/** The ARNs of the managed policies attached to the user. */
async function attachedPolicies(userName: string): Promise<string[]> {
  const out = await iam.send(new ListAttachedUserPoliciesCommand({ UserName: userName }));
  return (out.AttachedPolicies ?? []).flatMap((p) => (p.PolicyArn ? [p.PolicyArn] : []));
}

const securityHubMocks: Array<{ restore(): void }> = [];
afterEach(() => {
  for (const mock of securityHubMocks.splice(0)) mock.restore();
  vi.restoreAllMocks();
});

/**
 * Answers BatchUpdateFindings as Security Hub does (moto lacks it): every
 * finding processed. Other Security Hub calls are not expected here.
 */
function mockBatchUpdateFindings() {
  const hub = mockClient(SecurityHubClient);
  securityHubMocks.push(hub);
  hub.on(BatchUpdateFindingsCommand).callsFake((input: unknown) => ({
    ProcessedFindings: processedFindings(input),
    UnprocessedFindings: [],
  }));
  return hub;
}

function workflowUpdates(hub: ReturnType<typeof mockBatchUpdateFindings>) {
  return hub.commandCalls(BatchUpdateFindingsCommand).map((call) => call.args[0].input);
}

const StepResults = z.object({
  results: z.record(z.string(), z.object({ outcome: z.string() })),
});

/** Each step's outcome in the execution output's `results`. */
function resultOutcomes(output: unknown): Record<string, string> {
  const { results } = StepResults.parse(output);
  return Object.fromEntries(Object.entries(results).map(([step, r]) => [step, r.outcome]));
}

describe('an IAM user whose key leaked (default modes)', () => {
  it('disables the key and revokes sessions unattended, and quarantines once approved', async () => {
    // Arrange
    const user = await seedCompromisedUser();

    // Act
    const report = await harness.engine('approve').rehearse(userKeyFinding(user));

    // Assert
    expect(report.matched).toEqual(['iam-credentials']);
    const execution = onlyExecution(report);
    expect(execution.status, explain(execution)).toBe('SUCCEEDED');
    expect(execution.states).toEqual([
      ...START,
      ...DISABLE_AND_REVOKE,
      'Quarantine user?',
      'Quarantine user: request approval',
      'Quarantine user',
      ...NOT_FOR_A_USER,
      ...FINISH,
    ]);
    expect(resultOutcomes(execution.output)).toEqual({
      disableAccessKey: 'CONTAINED',
      revokeUserSessions: 'CONTAINED',
      quarantineUser: 'CONTAINED',
      ...OFF_FOR_A_USER,
    });
    expect(outcomes(execution)).toEqual([
      'triage:CLAIMED',
      'disableAccessKey:INTENT',
      'disableAccessKey:CONTAINED',
      'revokeUserSessions:INTENT',
      'revokeUserSessions:CONTAINED',
      'quarantineUser:APPROVAL_REQUESTED',
      'quarantineUser:APPROVAL_GRANTED',
      'quarantineUser:INTENT',
      'quarantineUser:CONTAINED',
      'notify:NOTIFIED',
    ]);
    // Quarantined by AWS's deny-all managed policy; the only inline policy is the revocation's.
    expect(await attachedPolicies(user.userName)).toEqual(['arn:aws:iam::aws:policy/AWSDenyAll']);
    expect(await userPolicies(user.userName)).toEqual(['CordonRevokeOlderSessions']);
  });

  it('records the approver on the quarantine entry', async () => {
    const user = await seedCompromisedUser();

    const execution = onlyExecution(await harness.engine('approve').rehearse(userKeyFinding(user)));

    const quarantine = execution.ledger.find(
      (e) => e.step === 'quarantineUser' && e.outcome === 'CONTAINED',
    );
    expect(quarantine?.detail).toMatchObject({
      approval: { decision: 'APPROVED', step: 'quarantineUser', approver: expect.any(String) },
    });
  });

  it('records a rejected quarantine as REJECTED and still contains the key and sessions', async () => {
    const user = await seedCompromisedUser();

    const execution = onlyExecution(await harness.engine('reject').rehearse(userKeyFinding(user)));

    expect(execution.status, explain(execution)).toBe('SUCCEEDED');
    expect(execution.states).toEqual([
      ...START,
      ...DISABLE_AND_REVOKE,
      'Quarantine user?',
      'Quarantine user: request approval',
      'Quarantine user: not acted on',
      'Quarantine user: timed out?',
      ...NOT_FOR_A_USER,
      ...FINISH,
    ]);
    expect(resultOutcomes(execution.output)).toEqual({
      disableAccessKey: 'CONTAINED',
      revokeUserSessions: 'CONTAINED',
      quarantineUser: 'REJECTED',
      ...OFF_FOR_A_USER,
    });
    expect(outcomes(execution)).toEqual(
      expect.arrayContaining(['quarantineUser:APPROVAL_DENIED', 'quarantineUser:REJECTED']),
    );
    // Rejected means untouched: no deny-all policy, console login kept.
    expect(await userPolicies(user.userName)).toEqual(['CordonRevokeOlderSessions']);
    const profile = await iam.send(new GetLoginProfileCommand({ UserName: user.userName }));
    expect(profile.LoginProfile?.UserName).toBe(user.userName);
  });

  it('records an unanswered quarantine as NOT_ACTED_ON', async () => {
    const user = await seedCompromisedUser();

    const execution = onlyExecution(await harness.engine('timeout').rehearse(userKeyFinding(user)));

    expect(execution.status, explain(execution)).toBe('SUCCEEDED');
    expect(execution.states).toContain('Quarantine user: not acted on');
    expect(execution.states).not.toContain('Quarantine user');
    expect(resultOutcomes(execution.output)).toMatchObject({ quarantineUser: 'NOT_ACTED_ON' });
    expect(outcomes(execution)).toEqual([
      'triage:CLAIMED',
      'disableAccessKey:INTENT',
      'disableAccessKey:CONTAINED',
      'revokeUserSessions:INTENT',
      'revokeUserSessions:CONTAINED',
      'quarantineUser:APPROVAL_REQUESTED',
      'quarantineUser:NOT_ACTED_ON',
      'notify:NOTIFIED',
      'notify:NOTIFIED',
    ]);
    expect(await attachedPolicies(user.userName)).toEqual([]);
  });

  it('reports TARGET_NOT_FOUND, not a failure, when the named key was deleted before the run', async () => {
    const user = await seedCompromisedUser();
    await iam.send(
      new DeleteAccessKeyCommand({ UserName: user.userName, AccessKeyId: user.leakedKeyId }),
    );

    const execution = onlyExecution(await harness.engine('approve').rehearse(userKeyFinding(user)));

    expect(execution.status, explain(execution)).toBe('SUCCEEDED');
    expect(resultOutcomes(execution.output)).toEqual({
      disableAccessKey: 'TARGET_NOT_FOUND',
      revokeUserSessions: 'CONTAINED',
      quarantineUser: 'CONTAINED',
      ...OFF_FOR_A_USER,
    });
    expect(await keyStatus(user, user.healthyKeyId)).toBe('Active');
  });

  it('does not quarantine a namesake: the user deleted and re-created while its approval waited', async () => {
    const user = await seedCompromisedUser();
    let namesakeId: string | undefined;
    const recreateThenApprove = async (): Promise<'approve'> => {
      const { PolicyNames = [] } = await iam.send(
        new ListUserPoliciesCommand({ UserName: user.userName }),
      );
      for (const PolicyName of PolicyNames) {
        await iam.send(new DeleteUserPolicyCommand({ UserName: user.userName, PolicyName }));
      }
      for (const keyId of [user.leakedKeyId, user.healthyKeyId]) {
        await iam.send(new DeleteAccessKeyCommand({ UserName: user.userName, AccessKeyId: keyId }));
      }
      await iam.send(new DeleteLoginProfileCommand({ UserName: user.userName }));
      await iam.send(new DeleteUserCommand({ UserName: user.userName }));
      const namesake = await iam.send(new CreateUserCommand({ UserName: user.userName }));
      namesakeId = namesake.User?.UserId;
      return 'approve';
    };

    const execution = onlyExecution(
      await harness.engine(recreateThenApprove).rehearse(userKeyFinding(user)),
    );

    expect(outcomes(execution)).toEqual(
      expect.arrayContaining(['quarantineUser:APPROVAL_GRANTED', 'quarantineUser:FAILED']),
    );
    const failed = execution.ledger.find(
      (e) => e.step === 'quarantineUser' && e.outcome === 'FAILED',
    );
    expect(failed?.summary).toContain(`IAM now has id ${namesakeId}`);
    expect(await userPolicies(user.userName)).toEqual([]);
  });

  it('refuses a finding whose user no longer exists', async () => {
    const user = await seedCompromisedUser();
    for (const keyId of [user.leakedKeyId, user.healthyKeyId]) {
      await iam.send(new DeleteAccessKeyCommand({ UserName: user.userName, AccessKeyId: keyId }));
    }
    await iam.send(new DeleteLoginProfileCommand({ UserName: user.userName }));
    await iam.send(new DeleteUserCommand({ UserName: user.userName }));

    const execution = onlyExecution(await harness.engine('approve').rehearse(userKeyFinding(user)));

    expect(execution.states).toEqual(REFUSED);
    expect(execution.ledger).toEqual([
      expect.objectContaining({
        step: 'triage',
        outcome: 'REFUSED',
        summary: expect.stringContaining('no longer exists'),
      }),
      expect.objectContaining({ step: 'notify', outcome: 'NOTIFIED' }),
    ]);
  });

  it('retries a throttled disable and then contains the key', async () => {
    const user = await seedCompromisedUser();
    const throttling = new IAMServiceException({
      name: 'Throttling',
      $fault: 'client',
      $metadata: { httpStatusCode: 400 },
      message: 'Rate exceeded',
    });
    // The first UpdateAccessKey fails as IAM throttling does; later ones reach moto.
    const resolve = vi
      .spyOn(UpdateAccessKeyCommand.prototype, 'resolveMiddleware')
      .mockImplementationOnce(() => async () => {
        throw throttling;
      });

    const execution = onlyExecution(await harness.engine('approve').rehearse(userKeyFinding(user)));

    expect(resolve).toHaveBeenCalledTimes(2);
    expect(execution.status, explain(execution)).toBe('SUCCEEDED');
    expect(execution.states.filter((s) => s === 'Disable access key')).toHaveLength(1);
    expect(execution.states).not.toContain('Disable access key: failed');
    expect(resultOutcomes(execution.output)).toMatchObject({ disableAccessKey: 'CONTAINED' });
    // A retryable error is not a result: the ledger holds only the intent
    // (written once, before the first attempt) and the success.
    expect(outcomes(execution).filter((o) => o.startsWith('disableAccessKey:'))).toEqual([
      'disableAccessKey:INTENT',
      'disableAccessKey:CONTAINED',
    ]);
    expect(await keyStatus(user, user.leakedKeyId)).toBe('Inactive');
  });
});

/** IAM refuses UpdateAccessKey (AccessDenied): the disable step fails terminally. */
function denyUpdateAccessKey(): void {
  const denied = new IAMServiceException({
    name: 'AccessDenied',
    $fault: 'client',
    $metadata: { httpStatusCode: 403 },
    message: 'not authorized to perform iam:UpdateAccessKey',
  });
  vi.spyOn(UpdateAccessKeyCommand.prototype, 'resolveMiddleware').mockImplementation(
    () => async () => {
      throw denied;
    },
  );
}

describe('a step that fails terminally', () => {
  it('records and notifies the failure, stops, and fails the execution', async () => {
    const user = await seedCompromisedUser();
    denyUpdateAccessKey();

    const execution = onlyExecution(await harness.engine('approve').rehearse(userKeyFinding(user)));

    expect(execution.status).toBe('FAILED');
    expect(execution.error?.Error).toBe('Cordon.PlaybookFailed');
    expect(execution.states).toEqual([
      ...START,
      'Disable access key?',
      'Disable access key',
      'Disable access key: failed',
      'Record failure',
      'Notify failure',
      'Failed',
    ]);
    // The action records its intent and its own FAILED (with the
    // before-state), then the failure path records the error; the later
    // steps never run.
    expect(outcomes(execution)).toEqual([
      'triage:CLAIMED',
      'disableAccessKey:INTENT',
      'disableAccessKey:FAILED',
      'disableAccessKey:FAILED',
      'notify:NOTIFIED',
    ]);
    expect(execution.ledger[3]?.summary).toContain('Cordon.AccessDenied');
    expect(await keyStatus(user, user.leakedKeyId)).toBe('Active');
    expect(await userPolicies(user.userName)).toEqual([]);
  });
});

describe('a failure whose notice does not go out', () => {
  it("ends Cordon.FailureUnreported, which the watch records and notifies, not the failure path's own error", async () => {
    const user = await seedCompromisedUser();
    denyUpdateAccessKey();
    // SNS is down (or notify is compromised): the failure notice fails.
    vi.spyOn(PublishCommand.prototype, 'resolveMiddleware').mockImplementation(() => async () => {
      throw Object.assign(new Error('SNS unavailable'), { name: 'InternalErrorException' });
    });

    const execution = onlyExecution(await harness.engine('approve').rehearse(userKeyFinding(user)));

    expect(execution.status).toBe('FAILED');
    expect(execution.error?.Error).toBe('Cordon.FailureUnreported');
    expect(execution.states.slice(-3)).toEqual([
      'Record failure',
      'Notify failure',
      'Failed, not notified',
    ]);
    expect(await keyStatus(user, user.leakedKeyId)).toBe('Active');
  });
});

describe('principals under an IAM path', () => {
  it('contains a user whose ARN carries a path', async () => {
    await iam.send(new CreateUserCommand({ UserName: 'ci-deployer', Path: '/team/ci/' }));
    const user = await seedKeysFor('ci-deployer');

    const execution = onlyExecution(await harness.engine('approve').rehearse(userKeyFinding(user)));

    expect(execution.status, explain(execution)).toBe('SUCCEEDED');
    expect(execution.ledger[0]?.targetArn).toBe(
      'arn:aws:iam::123456789012:user/team/ci/ci-deployer',
    );
    expect(resultOutcomes(execution.output)).toEqual({
      disableAccessKey: 'CONTAINED',
      revokeUserSessions: 'CONTAINED',
      quarantineUser: 'CONTAINED',
      ...OFF_FOR_A_USER,
    });
    expect(await keyStatus(user, user.leakedKeyId)).toBe('Inactive');
  });

  it('contains a role whose ARN carries a path', async () => {
    const created = await iam.send(
      new CreateRoleCommand({
        RoleName: 'web-app-instance',
        Path: '/service-role/',
        AssumeRolePolicyDocument: TRUST_EC2,
      }),
    );
    const { RoleId, Arn } = created.Role ?? {};
    if (!RoleId || !Arn) throw new Error('IAM did not return the role it created');
    const role = { roleName: 'web-app-instance', roleId: RoleId, arn: Arn };

    const execution = onlyExecution(
      await harness.engine('approve').rehearse(roleCredentialFinding(role)),
    );

    expect(execution.status, explain(execution)).toBe('SUCCEEDED');
    expect(execution.ledger[0]?.targetArn).toBe(
      'arn:aws:iam::123456789012:role/service-role/web-app-instance',
    );
    expect(resultOutcomes(execution.output)).toEqual({
      ...OFF_FOR_A_ROLE,
      revokeRoleSessions: 'CONTAINED',
    });
  });
});

describe('an assumed role whose credentials were exfiltrated', () => {
  it('asks before revoking the role sessions and contains them once approved', async () => {
    const role = await seedExfiltratedRole();

    const execution = onlyExecution(
      await harness.engine('approve').rehearse(roleCredentialFinding(role)),
    );

    expect(execution.status, explain(execution)).toBe('SUCCEEDED');
    expect(execution.states).toEqual([
      ...START,
      ...NOT_FOR_A_ROLE,
      'Revoke role sessions?',
      'Revoke role sessions: request approval',
      'Revoke role sessions',
      ...FINISH,
    ]);
    expect(resultOutcomes(execution.output)).toEqual({
      ...OFF_FOR_A_ROLE,
      revokeRoleSessions: 'CONTAINED',
    });
    expect(outcomes(execution)).toEqual([
      'triage:CLAIMED',
      'revokeRoleSessions:APPROVAL_REQUESTED',
      'revokeRoleSessions:APPROVAL_GRANTED',
      'revokeRoleSessions:INTENT',
      'revokeRoleSessions:CONTAINED',
      'notify:NOTIFIED',
    ]);
  });

  it('leaves the role untouched when nobody approves in time', async () => {
    const role = await seedExfiltratedRole();

    const execution = onlyExecution(
      await harness.engine('timeout').rehearse(roleCredentialFinding(role)),
    );

    expect(execution.status, explain(execution)).toBe('SUCCEEDED');
    expect(execution.states).toContain('Revoke role sessions: not acted on');
    expect(resultOutcomes(execution.output)).toEqual({
      ...OFF_FOR_A_ROLE,
      revokeRoleSessions: 'NOT_ACTED_ON',
    });
    const policies = await iam.send(new ListRolePoliciesCommand({ RoleName: role.roleName }));
    expect(policies.PolicyNames).toEqual([]);
  });
});

describe('the root user', () => {
  it('is only notified about: no action state runs', async () => {
    const execution = onlyExecution(
      await harness.engine('approve').rehearse(fixtureEvent('guardduty-root.json')),
    );

    expect(execution.status, explain(execution)).toBe('SUCCEEDED');
    expect(execution.states).toEqual([...START, ...NOT_FOR_A_ROLE, ...NOT_FOR_A_USER, ...FINISH]);
    expect(execution.states.filter((s) => ACTION_STATES.includes(s))).toEqual([]);
    expect(outcomes(execution)).toEqual(['triage:CLAIMED', 'notify:NOTIFIED']);
  });
});

describe('repeats', () => {
  it('ends a second delivery of the same event as a duplicate that writes and changes nothing', async () => {
    const user = await seedCompromisedUser();
    const event = userKeyFinding(user);
    const engine = harness.engine('approve');
    await engine.rehearse(event);
    // Re-enable the key: if the repeat acted again, it would disable it again.
    await iam.send(
      new UpdateAccessKeyCommand({
        UserName: user.userName,
        AccessKeyId: user.leakedKeyId,
        Status: 'Active',
      }),
    );

    const repeat = onlyExecution(await engine.rehearse(event));

    expect(repeat.status, explain(repeat)).toBe('SUCCEEDED');
    expect(repeat.states).toEqual(['Triage', 'Triage decision?', 'Duplicate delivery']);
    expect(repeat.output).toMatchObject({ decision: 'DUPLICATE', reason: 'already claimed' });
    expect(repeat.ledger).toEqual([]);
    expect(await keyStatus(user, user.leakedKeyId)).toBe('Active');
  });

  it('lets only one of two simultaneous deliveries act', async () => {
    const user = await seedCompromisedUser();
    const event = userKeyFinding(user);
    const engine = harness.engine('approve');

    const runs = await Promise.all([engine.rehearse(event), engine.rehearse(event)]);

    const ends = runs.map((r) => onlyExecution(r).states.at(-1)).sort();
    expect(ends).toEqual(['Done', 'Duplicate delivery']);
    // Both reports share the incident, and the engine attributes entries by
    // incident and start time, so the duplicate's report may list the winner's
    // entries: count distinct entries (incident, seq) instead.
    const entries = new Map(
      runs.flatMap((r) => onlyExecution(r).ledger).map((e) => [`${e.incidentId}#${e.seq}`, e]),
    );
    const written = [...entries.values()].map((e) => `${e.step}:${e.outcome}`);
    expect(written.filter((o) => o.startsWith('triage:'))).toEqual(['triage:CLAIMED']);
    expect(written.filter((o) => o.startsWith('disableAccessKey:'))).toEqual([
      'disableAccessKey:INTENT',
      'disableAccessKey:CONTAINED',
    ]);
  });

  it('joins a re-emission with a new updatedAt to the incident: recorded with its count, nothing runs again', async () => {
    const user = await seedCompromisedUser();
    const engine = harness.engine('approve');
    const first = onlyExecution(
      await engine.rehearse(userKeyFinding(user, { updatedAt: '2024-05-14T09:31:27.405Z' })),
    );

    const again = onlyExecution(
      await engine.rehearse(userKeyFinding(user, { updatedAt: '2024-05-14T10:45:00.000Z' })),
    );

    expect(again.status, explain(again)).toBe('SUCCEEDED');
    expect(again.states).toEqual(['Triage', 'Triage decision?', 'Joined its incident']);
    expect(again.output).toMatchObject({ decision: 'JOINED' });
    expect(again.ledger.map((e) => [e.incidentId, e.step, e.outcome])).toEqual([
      [first.ledger[0]?.incidentId, 'triage', 'REEMITTED'],
    ]);
  });

  it('does not revoke again unattended when the finding is emitted again after containment', async () => {
    const user = await seedCompromisedUser();
    const engine = harness.engine('approve');
    await engine.rehearse(userKeyFinding(user));
    const cutoff = await iam.send(
      new GetUserPolicyCommand({
        UserName: user.userName,
        PolicyName: 'CordonRevokeOlderSessions',
      }),
    );
    // Activity seen after the first revocation: GuardDuty emits the finding again.
    const later = new Date(Date.now() + 1000).toISOString();

    const again = onlyExecution(await engine.rehearse(userKeyFinding(user, { updatedAt: later })));

    expect(again.output).toMatchObject({ decision: 'JOINED' });
    const now = await iam.send(
      new GetUserPolicyCommand({
        UserName: user.userName,
        PolicyName: 'CordonRevokeOlderSessions',
      }),
    );
    expect(now.PolicyDocument).toBe(cutoff.PolicyDocument);
  });
});

describe('guards', () => {
  it('refuses a sample finding, even one naming a real key, and leaves the key active', async () => {
    const user = await seedCompromisedUser();
    const sampleEvent = asSample(userKeyFinding(user));

    const execution = onlyExecution(await harness.engine('approve').rehearse(sampleEvent));

    expect(execution.status, explain(execution)).toBe('SUCCEEDED');
    expect(execution.states).toEqual(REFUSED);
    expect(execution.ledger[0]).toMatchObject({
      step: 'triage',
      outcome: 'REFUSED',
      summary: expect.stringMatching(/^sample:/),
    });
    expect(await keyStatus(user, user.leakedKeyId)).toBe('Active');
  });

  it('refuses the sample fixture GuardDuty generates', async () => {
    const execution = onlyExecution(
      await harness.engine('approve').rehearse(fixtureEvent('guardduty-sample.json')),
    );

    expect(execution.states).toEqual(REFUSED);
    expect(outcomes(execution)).toEqual(['triage:REFUSED', 'notify:NOTIFIED']);
  });

  it('contains a user that tagged itself exempt (iam:TagUser) only with a responder', async () => {
    const tagged = async (name: string) => {
      const user = await seedCompromisedUser(name);
      await iam.send(
        new TagUserCommand({
          UserName: user.userName,
          Tags: [{ Key: 'cordon:exempt', Value: 'true' }],
        }),
      );
      return user;
    };
    const unanswered = await tagged('payments-robot');
    const approved = await tagged('billing-robot');

    const waited = onlyExecution(
      await harness.engine('timeout').rehearse(userKeyFinding(unanswered)),
    );
    const contained = onlyExecution(
      await harness
        .engine('approve')
        .rehearse(userKeyFinding(approved, { findingId: 'e1'.repeat(16) })),
    );

    expect(outcomes(waited).slice(0, 3)).toEqual([
      'triage:CLAIMED',
      'disableAccessKey:APPROVAL_REQUESTED',
      'disableAccessKey:NOT_ACTED_ON',
    ]);
    expect(await keyStatus(unanswered, unanswered.leakedKeyId)).toBe('Active');
    expect(outcomes(contained)).toEqual(
      expect.arrayContaining(['disableAccessKey:APPROVAL_GRANTED', 'disableAccessKey:CONTAINED']),
    );
    expect(await keyStatus(approved, approved.leakedKeyId)).toBe('Inactive');
  });

  it('does not start the playbook for a low-severity finding', async () => {
    const user = await seedCompromisedUser();
    const low = aimedAt(fixtureEvent('guardduty-low-severity.json'), user);

    expect(harness.engine('approve').match(low)).toEqual([]);
    expect((await harness.engine('approve').rehearse(low)).executions).toEqual([]);
  });

  it('refuses a low-severity finding in triage even when a rule lets it through', async () => {
    const user = await seedCompromisedUser();
    const low = aimedAt(fixtureEvent('guardduty-low-severity.json'), user);

    const execution = await harness.engine('approve').execute(harness.playbook(), low);

    expect(execution.states).toEqual(REFUSED);
    expect(execution.ledger[0]).toMatchObject({
      outcome: 'REFUSED',
      summary: 'severity: 2 is below the threshold 7',
    });
    expect(await keyStatus(user, user.leakedKeyId)).toBe('Active');
  });
});

describe('an invalid event', () => {
  it('records and notifies the failure, then fails the execution', async () => {
    const event = fixtureEvent('guardduty-missing-resource.json');

    const execution = await harness.engine('approve').execute(harness.playbook(), event);

    expect(execution.status).toBe('FAILED');
    expect(execution.error?.Error).toBe('Cordon.PlaybookFailed');
    expect(execution.states).toEqual([
      'Triage',
      'Record invalid finding',
      'Notify invalid finding',
      'Failed',
    ]);
    expect(execution.ledger).toEqual([
      expect.objectContaining({
        step: 'triage',
        outcome: 'FAILED',
        summary: expect.stringContaining('Cordon.InvalidFinding'),
        executionArn: execution.executionArn,
      }),
    ]);
  });
});

describe('a Security Hub finding on an access key', () => {
  it('marks the finding NOTIFIED on pickup and RESOLVED once every step is contained', async () => {
    const user = await seedCompromisedUser();
    const event = securityHubKeyFinding(user);
    const hub = mockBatchUpdateFindings();

    const execution = onlyExecution(await harness.engine('approve').rehearse(event));

    expect(execution.status, explain(execution)).toBe('SUCCEEDED');
    expect(execution.states).toEqual([
      'Triage',
      'Triage decision?',
      'Update finding: picked up',
      // A finding imported into the account's default product is not on the
      // product allow-list: the automatic steps wait for a responder too.
      'Disable access key?',
      'Disable access key: request approval',
      'Disable access key',
      'Revoke user sessions?',
      'Revoke user sessions: request approval',
      'Revoke user sessions',
      'Quarantine user?',
      'Quarantine user: request approval',
      'Quarantine user',
      ...NOT_FOR_A_USER,
      'Finished: from Security Hub?',
      'Update finding: finished',
      'Notify summary',
      'Done',
    ]);
    const [identifier] = findingIdentifiersOf(event);
    expect(workflowUpdates(hub)).toEqual([
      expect.objectContaining({
        FindingIdentifiers: [identifier],
        Workflow: { Status: 'NOTIFIED' },
      }),
      expect.objectContaining({
        FindingIdentifiers: [identifier],
        Workflow: { Status: 'RESOLVED' },
      }),
    ]);
    expect(outcomes(execution).filter((o) => o.startsWith('finding:'))).toEqual([
      'finding:FINDING_UPDATED',
      'finding:FINDING_UPDATED',
    ]);
    expect(await keyStatus(user, user.leakedKeyId)).toBe('Inactive');
  });

  it('leaves the finding NOTIFIED, with a note for a responder, when a step was not acted on', async () => {
    const user = await seedCompromisedUser();
    const hub = mockBatchUpdateFindings();

    const execution = onlyExecution(
      await harness.engine('timeout').rehearse(securityHubKeyFinding(user)),
    );

    expect(execution.status, explain(execution)).toBe('SUCCEEDED');
    const [pickup, finish] = workflowUpdates(hub);
    expect(pickup?.Workflow).toEqual({ Status: 'NOTIFIED' });
    expect(finish?.Workflow).toEqual({ Status: 'NOTIFIED' });
    expect(finish?.Note?.Text).toContain('not fully contained; needs a responder');
    expect(finish?.Note?.Text).toContain('quarantineUser: NOT_ACTED_ON');
  });

  it('does not re-trigger itself: the finding it updated to NOTIFIED or RESOLVED matches no rule', () => {
    const event = securityHubKeyFinding({
      userName: 'ci-deployer',
      userId: 'AIDAEXAMPLEUSERID0001',
      arn: 'arn:aws:iam::123456789012:user/ci-deployer',
      leakedKeyId: 'AKIAIOSFODNN7EXAMPLE',
      healthyKeyId: 'AKIAIOSFODNN7EXAMPL2',
    });
    const engine = harness.engine('approve');

    expect(engine.match(event).map((m) => m.playbook)).toEqual(['iam-credentials']);
    expect(engine.match(withWorkflowStatus(event, 'NOTIFIED'))).toEqual([]);
    expect(engine.match(withWorkflowStatus(event, 'RESOLVED'))).toEqual([]);
  });

  it('refuses its own updated finding in triage even when a rule lets it through', async () => {
    const user = await seedCompromisedUser();
    const notified = withWorkflowStatus(securityHubKeyFinding(user), 'NOTIFIED');
    const hub = mockBatchUpdateFindings();

    const execution = await harness.engine('approve').execute(harness.playbook(), notified);

    expect(execution.states).toEqual(REFUSED);
    expect(execution.ledger[0]).toMatchObject({
      outcome: 'REFUSED',
      summary: 'workflow: Security Hub workflow status is NOTIFIED, not NEW',
    });
    expect(workflowUpdates(hub)).toEqual([]);
    expect(await keyStatus(user, user.leakedKeyId)).toBe('Active');
  });

  it('loop safety: the events its own finding updates produce start nothing, through the rules and triage', async () => {
    const user = await seedCompromisedUser();
    const event = securityHubKeyFinding(user);
    const hub = mockBatchUpdateFindings();
    const first = onlyExecution(await harness.engine('approve').rehearse(event));
    expect(first.status, explain(first)).toBe('SUCCEEDED');
    const updates = workflowUpdates(hub);
    expect(updates.map((u) => u.Workflow?.Status)).toEqual(['NOTIFIED', 'RESOLVED']);
    const claims = first.ledger.filter((e) => e.outcome === 'CLAIMED');

    for (const [index, update] of updates.entries()) {
      const echoed = afterBatchUpdate(event, update, `2030-01-01T00:00:0${index}.000Z`);
      // EventBridge: no rule matches the echo ...
      expect(harness.engine('approve').match(echoed)).toEqual([]);
      // ... and even if a rule did, the echo is an emission of a finding its
      // incident holds: triage records it, and it acts on nothing.
      const forced = await harness.engine('approve').execute(harness.playbook(), echoed);
      expect(forced.states).toEqual(['Triage', 'Triage decision?', 'Joined its incident']);
      expect(forced.ledger.map((e) => e.outcome)).toEqual(['REEMITTED']);
    }
    expect(workflowUpdates(hub)).toHaveLength(2);
    expect(claims).toHaveLength(1);
  });

  it('leaves a GuardDuty-produced Security Hub finding to the GuardDuty rule', () => {
    expect(
      harness.engine('approve').match(fixtureEvent('securityhub-from-guardduty.json')),
    ).toEqual([]);
  });
});

describe('a Security Hub OCSF finding on an access key (Findings Imported V2)', () => {
  const V2_UPDATE = z.object({
    FindingIdentifiers: z.array(
      z.object({
        CloudAccountUid: z.string(),
        FindingInfoUid: z.string(),
        MetadataProductUid: z.string(),
      }),
    ),
    StatusId: z.number(),
    Comment: z.string(),
  });
  it('is verified with GetFindingsV2, contains the key unattended, and is marked In Progress then Resolved with BatchUpdateFindingsV2', async () => {
    const user = await seedCompromisedUser();
    const event = ocsfKeyFinding(user, MOTO_ACCOUNT_ID);
    const updatesBefore = findingSource.updates.length;

    const report = await harness.engine('approve').rehearse(event);

    expect(report.matched).toEqual(['iam-credentials']);
    const execution = onlyExecution(report);
    expect(execution.status, explain(execution)).toBe('SUCCEEDED');
    expect(execution.states).toEqual([
      'Triage',
      'Triage decision?',
      'Update finding: picked up',
      // Verified at its source (the product is allow-listed in its productv2 form): unattended.
      ...DISABLE_AND_REVOKE,
      'Quarantine user?',
      'Quarantine user: request approval',
      'Quarantine user',
      ...NOT_FOR_A_USER,
      'Finished: from Security Hub?',
      'Update finding: finished',
      'Notify summary',
      'Done',
    ]);
    expect(execution.ledger[0]).toMatchObject({
      outcome: 'CLAIMED',
      detail: { sourceCheck: { status: 'verified' }, productArn: OCSF_AWS_PRODUCT },
    });
    const identifier = {
      CloudAccountUid: MOTO_ACCOUNT_ID,
      FindingInfoUid:
        'arn:aws:guardduty:us-east-1:869728294630:detector/b4c71b47fb852d3fc0e99a82fa2841aa/finding/06c95f0cfdfd3b579b977e20e9da1aa4',
      MetadataProductUid: OCSF_AWS_PRODUCT,
    };
    const updates = findingSource.updates.slice(updatesBefore).map((u) => V2_UPDATE.parse(u));
    expect(updates.map((u) => [u.FindingIdentifiers, u.StatusId])).toEqual([
      [[identifier], 2],
      [[identifier], 4],
    ]);
    expect(updates[1]?.Comment).toContain('contained (iam-credentials)');
    // Only the two fields its role may set: never SeverityId.
    for (const update of findingSource.updates.slice(updatesBefore)) {
      expect(Object.keys(z.record(z.string(), z.unknown()).parse(update)).sort()).toEqual([
        'Comment',
        'FindingIdentifiers',
        'StatusId',
      ]);
    }
    expect(await keyStatus(user, user.leakedKeyId)).toBe('Inactive');
  });

  it('loop safety: the events its own V2 updates produce start nothing, through the rules and triage', async () => {
    const user = await seedCompromisedUser();
    const event = ocsfKeyFinding(user, MOTO_ACCOUNT_ID);
    const updatesBefore = findingSource.updates.length;
    const first = onlyExecution(await harness.engine('approve').rehearse(event));
    expect(first.status, explain(first)).toBe('SUCCEEDED');
    const updates = findingSource.updates.slice(updatesBefore);
    expect(updates).toHaveLength(2);

    for (const update of updates) {
      const echoed = afterBatchUpdateV2(event, update);
      // EventBridge: no rule matches the echo (status_id 2 or 4, never 1) ...
      expect(harness.engine('approve').match(echoed)).toEqual([]);
      // ... and even if a rule did, triage acts on nothing.
      const forced = await harness.engine('approve').execute(harness.playbook(), echoed);
      expect(forced.states.filter((s) => ACTION_STATES.includes(s))).toEqual([]);
      expect(forced.ledger.map((e) => e.outcome)).not.toContain('CLAIMED');
    }
    expect(findingSource.updates.slice(updatesBefore)).toHaveLength(2);
    expect(first.ledger.filter((e) => e.outcome === 'CLAIMED')).toHaveLength(1);
  });

  it("a finding forger's import (the account's own productv2 default) never acts unattended", async () => {
    const user = await seedCompromisedUser();
    const forged = ocsfKeyFinding(user, MOTO_ACCOUNT_ID, {
      product: `arn:aws:securityhub:us-east-1:${MOTO_ACCOUNT_ID}:productv2/${MOTO_ACCOUNT_ID}/default`,
      productName: 'Default',
    });

    const execution = onlyExecution(await harness.engine('timeout').rehearse(forged));

    expect(execution.status, explain(execution)).toBe('SUCCEEDED');
    expect(execution.states).toContain('Disable access key: request approval');
    expect(execution.ledger[0]?.summary).toMatch(/not on the Security Hub product allow-list/);
    expect(await keyStatus(user, user.leakedKeyId)).toBe('Active');
  });

  it('someone who raised the severity with BatchUpdateFindingsV2 starts nothing, and triage would not act unattended on it', async () => {
    const user = await seedCompromisedUser();
    // The product said Low (2); an editor made it Critical (5).
    const raised = ocsfKeyFinding(user, MOTO_ACCOUNT_ID, { severityId: 5, providerSeverityId: 2 });

    expect(harness.engine('approve').match(raised)).toEqual([]);
    const forced = await harness.engine('timeout').execute(harness.playbook(), raised);
    expect(forced.states).not.toContain('Disable access key');
    expect(await keyStatus(user, user.leakedKeyId)).toBe('Active');
  });

  it('one incident per finding across forms: the same finding in ASFF and then in OCSF is contained once', async () => {
    const user = await seedCompromisedUser();
    const asff = securityHubKeyFinding(user);
    const [identifier] = findingIdentifiersOf(asff);
    // Security Hub gives the OCSF form the ASFF Id as finding_info.uid.
    const ocsf = withOcsfUid(ocsfKeyFinding(user, MOTO_ACCOUNT_ID), identifier?.Id ?? '');

    const first = onlyExecution(await harness.engine('approve').rehearse(asff));
    const second = onlyExecution(await harness.engine('approve').rehearse(ocsf));

    expect(first.status, explain(first)).toBe('SUCCEEDED');
    expect(await keyStatus(user, user.leakedKeyId)).toBe('Inactive');
    expect(second.status, explain(second)).toBe('SUCCEEDED');
    expect(second.states.filter((s) => ACTION_STATES.includes(s))).toEqual([]);
    // The OCSF emission joins the ASFF one's incident: recorded there, acting on nothing.
    expect(second.states).toEqual(['Triage', 'Triage decision?', 'Joined its incident']);
    expect(second.ledger.map((e) => [e.incidentId, e.outcome])).toEqual([
      [first.ledger[0]?.incidentId, 'REEMITTED'],
    ]);
  });

  it('one incident per finding across forms: a GuardDuty finding in OCSF is left to the GuardDuty rule, which contains it once', async () => {
    const user = await seedCompromisedUser();
    const native = aimedAt(fixtureEvent('guardduty-iam-user.json'), user);
    // The published GuardDuty finding in OCSF, New and High, naming the same key.
    const ocsf = ocsfKeyFinding(user, MOTO_ACCOUNT_ID, {
      product: 'arn:aws:securityhub:us-east-1::productv2/aws/guardduty',
      productName: 'GuardDuty',
    });
    const asff = fixtureEvent('securityhub-from-guardduty.json');

    const engine = harness.engine('approve');
    expect(engine.match(ocsf)).toEqual([]);
    expect(engine.match(asff)).toEqual([]);
    expect(engine.match(native).map((m) => m.playbook)).toEqual(['iam-credentials']);
    // Forced past the rules, the OCSF form is refused before anything runs.
    const forced = await engine.execute(harness.playbook(), ocsf);
    expect(forced.states.filter((s) => ACTION_STATES.includes(s))).toEqual([]);
  });
});

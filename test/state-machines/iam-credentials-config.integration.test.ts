/**
 * Layer 3, configured: the iam-credentials playbook synthesized with a CDK
 * context that protects break-glass users, puts disableAccessKey in dry-run
 * and puts quarantineUser under the two-person rule: one engine per
 * configuration, so a file of its own.
 */
import {
  GetUserPolicyCommand,
  IAMClient,
  ListAccessKeysCommand,
  ListAttachedUserPoliciesCommand,
} from '@aws-sdk/client-iam';
import { describe, expect, it } from 'vitest';
import { type CompromisedUser, seedCompromisedUser, userKeyFinding } from '../../demo/scenario.js';
import { RehearsalEngine } from '../../rehearsal/engine.js';
import { MOTO_ACCOUNT_ID, MOTO_REGION, motoClientConfig, useMoto } from '../support/moto.js';
import { contextWith, explain, onlyExecution, outcomes, rehearsalHarness } from './harness.js';

const { endpoint } = useMoto();
const BREAK_GLASS = `arn:aws:iam::${MOTO_ACCOUNT_ID}:user/break-glass*`;
const harness = rehearsalHarness({
  context: contextWith({
    protectedPrincipalPatterns: [BREAK_GLASS],
    modes: {
      'iam-credentials': {
        disableAccessKey: 'dry-run',
        revokeUserSessions: 'auto',
        quarantineUser: 'approve',
        revokeRoleSessions: 'approve',
      },
    },
    twoPersonRule: { 'iam-credentials': ['quarantineUser'] },
  }),
});
const iam = new IAMClient(motoClientConfig(endpoint));

async function keyStatus(user: CompromisedUser, keyId: string): Promise<string | undefined> {
  const keys = await iam.send(new ListAccessKeysCommand({ UserName: user.userName }));
  return keys.AccessKeyMetadata?.find((k) => k.AccessKeyId === keyId)?.Status;
}

describe('a protected principal', () => {
  it('is refused, and its key stays active', async () => {
    const user = await seedCompromisedUser('break-glass-admin');

    const execution = onlyExecution(await harness.engine('timeout').rehearse(userKeyFinding(user)));

    expect(execution.status, explain(execution)).toBe('SUCCEEDED');
    expect(execution.states).toEqual([
      'Triage',
      'Triage decision?',
      'Notify refusal',
      'Not acted on',
    ]);
    expect(execution.ledger[0]).toMatchObject({
      step: 'triage',
      outcome: 'REFUSED',
      targetArn: user.arn,
      summary: `protected: ${user.arn} matches protected ${BREAK_GLASS}`,
    });
    expect(await keyStatus(user, user.leakedKeyId)).toBe('Active');
  });
});

describe('disableAccessKey in dry-run', () => {
  it('records what it would do as DRY_RUN and leaves the key active, while other steps act', async () => {
    const user = await seedCompromisedUser('ci-deployer');

    const execution = onlyExecution(await harness.engine('timeout').rehearse(userKeyFinding(user)));

    expect(execution.status, explain(execution)).toBe('SUCCEEDED');
    // A dry-run step goes from its gate straight to its action, unasked.
    expect(execution.states).toContain('Disable access key');
    expect(execution.states).not.toContain('Disable access key: request approval');
    expect(outcomes(execution)).toEqual([
      'triage:CLAIMED',
      'disableAccessKey:DRY_RUN',
      'revokeUserSessions:INTENT',
      'revokeUserSessions:CONTAINED',
      'quarantineUser:APPROVAL_REQUESTED',
      'quarantineUser:NOT_ACTED_ON',
      'notify:NOTIFIED',
      'notify:NOTIFIED',
    ]);
    expect(execution.ledger[1]).toMatchObject({
      mode: 'dry-run',
      summary: `would disable access key ${user.leakedKeyId} of user ${user.userName}`,
      before: { accessKeyId: user.leakedKeyId, status: 'Active' },
    });
    expect(execution.ledger[1]?.after).toBeUndefined();
    expect(await keyStatus(user, user.leakedKeyId)).toBe('Active');
    // The auto step is not held back by its neighbour's dry-run.
    const revoke = await iam.send(
      new GetUserPolicyCommand({
        UserName: user.userName,
        PolicyName: 'CordonRevokeOlderSessions',
      }),
    );
    expect(revoke.PolicyDocument).toBeDefined();
  });
});

describe('a step under the two-person rule', () => {
  it('runs only after two different responders approved it through the endpoint, both recorded', async () => {
    const user = await seedCompromisedUser('ci-deployer');

    const execution = onlyExecution(await harness.engine('approve').rehearse(userKeyFinding(user)));

    expect(execution.status, explain(execution)).toBe('SUCCEEDED');
    const quarantine = execution.ledger.filter((e) => e.step === 'quarantineUser');
    expect(quarantine.map((e) => e.outcome)).toEqual([
      'APPROVAL_REQUESTED',
      'FIRST_APPROVAL',
      'APPROVAL_GRANTED',
      'INTENT',
      'CONTAINED',
    ]);
    const [, first, second, , contained] = quarantine;
    expect(first?.actor).toMatch(/assumed-role\/cordon-rehearsal-responder\/first-responder$/);
    expect(second?.actor).toMatch(/assumed-role\/cordon-rehearsal-responder\/second-responder$/);
    expect(contained?.detail?.approval).toMatchObject({
      decision: 'APPROVED',
      approver: second?.actor,
      approvers: [first?.actor, second?.actor],
    });
    const attached = await iam.send(
      new ListAttachedUserPoliciesCommand({ UserName: user.userName }),
    );
    expect(attached.AttachedPolicies?.map((p) => p.PolicyArn)).toEqual([
      'arn:aws:iam::aws:policy/AWSDenyAll',
    ]);
  });
});

describe('two engines with different configuration in one process', () => {
  // Handlers read their configuration at import; the engine imports one
  // module instance per configuration, so a later engine never runs with the
  // first engine's CORDON_CONFIG.
  it('each runs with its own configuration', async () => {
    const configured = harness.engine('timeout');
    const plain = await RehearsalEngine.create({
      account: MOTO_ACCOUNT_ID,
      region: MOTO_REGION,
      decision: 'timeout',
    });
    const user = await seedCompromisedUser('break-glass-admin');
    const first = userKeyFinding(user, { findingId: 'f'.repeat(32) });
    const second = userKeyFinding(user, { findingId: 'e'.repeat(32) });

    const protectedRun = onlyExecution(await configured.rehearse(first));
    const plainRun = onlyExecution(await plain.rehearse(second));

    expect(protectedRun.ledger[0]?.outcome).toBe('REFUSED');
    // cdk.json protects no user: the plain engine must claim the incident.
    expect(plainRun.ledger[0]?.outcome).toBe('CLAIMED');
  });
});

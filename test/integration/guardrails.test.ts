/**
 * The operators' guardrails against moto: the runtime mode switch (an SSM
 * parameter, read by triage, changed without a deploy) and the circuit
 * breaker. Each test shows a guard blocking something: `dry-run` and `off`
 * change nothing in the account, and a flood of 200 distinct findings trips
 * the breaker exactly once, after which automatic steps wait for approval.
 */

import { GuardDutyClient } from '@aws-sdk/client-guardduty';
import {
  GetLoginProfileCommand,
  IAMClient,
  ListAccessKeysCommand,
  ListUserPoliciesCommand,
} from '@aws-sdk/client-iam';
import { SecurityHubClient } from '@aws-sdk/client-securityhub';
import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import { PutParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import { describe, expect, it, vi } from 'vitest';
import { type CompromisedUser, seedCompromisedUser, userKeyFinding } from '../../demo/scenario.js';
import { clientOptions, documentClient } from '../../functions/shared/aws.js';
import { CircuitBreaker } from '../../functions/shared/breaker.js';
import { Ledger } from '../../functions/shared/ledger.js';
import { ENV, type RuntimeConfig } from '../../functions/shared/runtime-config.js';
import { announceTrip } from '../../functions/triage/guardrails/announce.js';
import {
  RUNTIME_MODE_TTL_MS,
  RuntimeModeSwitch,
} from '../../functions/triage/guardrails/runtime-mode.js';
import { verifyAtSource } from '../../functions/triage/guardrails/source.js';
import type { TriageDeps } from '../../functions/triage/triage.js';
import { findingSource } from '../../rehearsal/finding-source.js';
import { runTriage } from '../functions/triage/run.js';
import { securityHubKeyFinding } from '../state-machines/events.js';
import { explain, onlyExecution, outcomes, rehearsalHarness } from '../state-machines/harness.js';
import { localVerifier } from '../support/approval-key.js';
import { fakeLedgerMac } from '../support/ledger-mac.js';
import { MOTO_ACCOUNT_ID, motoClientConfig, useMoto } from '../support/moto.js';

const { endpoint } = useMoto();
const iam = new IAMClient(motoClientConfig(endpoint));
const ssm = new SSMClient(motoClientConfig(endpoint));

// Triage reads the mode for every finding here, so a test can switch it.
const harness = rehearsalHarness({ environment: { [ENV.runtimeModeCacheSeconds]: '0' } });

async function setMode(mode: string): Promise<void> {
  await ssm.send(
    new PutParameterCommand({ Name: '/cordon/mode', Value: mode, Type: 'String', Overwrite: true }),
  );
}

/** What the playbook could change about the user, read back from moto. */
async function userState(user: CompromisedUser) {
  const keys = await iam.send(new ListAccessKeysCommand({ UserName: user.userName }));
  const policies = await iam.send(new ListUserPoliciesCommand({ UserName: user.userName }));
  const login = await iam
    .send(new GetLoginProfileCommand({ UserName: user.userName }))
    .then(() => true)
    .catch(() => false);
  return {
    keys: Object.fromEntries((keys.AccessKeyMetadata ?? []).map((k) => [k.AccessKeyId, k.Status])),
    policies: policies.PolicyNames ?? [],
    login,
  };
}

describe('runtime mode', () => {
  it('dry-run runs the whole playbook, records what it would do, and changes nothing', async () => {
    const user = await seedCompromisedUser();
    const before = await userState(user);
    await setMode('dry-run');

    const execution = onlyExecution(await harness.engine('approve').rehearse(userKeyFinding(user)));

    expect(execution.status, explain(execution)).toBe('SUCCEEDED');
    expect(await userState(user)).toEqual(before);
    expect(outcomes(execution)).toEqual([
      'triage:CLAIMED',
      'disableAccessKey:DRY_RUN',
      'revokeUserSessions:DRY_RUN',
      'quarantineUser:DRY_RUN',
      'notify:NOTIFIED',
    ]);
    const disable = execution.ledger.find((e) => e.step === 'disableAccessKey');
    expect(disable?.summary).toBe(
      `would disable access key ${user.leakedKeyId} of user ${user.userName}`,
    );
    expect(execution.ledger[0]?.detail).toMatchObject({ runtimeMode: 'dry-run' });
  });

  it('off records and notifies only: every step is off and nothing changes', async () => {
    const user = await seedCompromisedUser();
    const before = await userState(user);
    await setMode('off');

    const execution = onlyExecution(await harness.engine('approve').rehearse(userKeyFinding(user)));

    expect(execution.status, explain(execution)).toBe('SUCCEEDED');
    expect(await userState(user)).toEqual(before);
    expect(outcomes(execution)).toEqual(['triage:CLAIMED', 'notify:NOTIFIED']);
    expect(execution.states).toEqual(
      expect.arrayContaining(['Disable access key: off', 'Quarantine user: off']),
    );
    expect(execution.ledger[0]?.summary).toContain('runtime mode is off');
  });

  it('approve-all makes the automatic steps wait for a responder', async () => {
    const user = await seedCompromisedUser();
    await setMode('approve-all');

    const execution = onlyExecution(await harness.engine('timeout').rehearse(userKeyFinding(user)));

    expect(execution.status, explain(execution)).toBe('SUCCEEDED');
    expect(outcomes(execution).filter((o) => o.endsWith(':APPROVAL_REQUESTED'))).toEqual([
      'disableAccessKey:APPROVAL_REQUESTED',
      'revokeUserSessions:APPROVAL_REQUESTED',
      'quarantineUser:APPROVAL_REQUESTED',
    ]);
    expect((await userState(user)).keys[user.leakedKeyId]).toBe('Active');
  });
});

describe('circuit breaker', () => {
  it('trips exactly once in a flood of 200 distinct findings; every later auto step needs approval', async () => {
    // Arrange: the tables as the template declares them (the engine made them), mode auto.
    await setMode('auto');
    const user = await seedCompromisedUser();
    const client = documentClient();
    const sns = new SNSClient(clientOptions);
    const publish = vi.spyOn(sns, 'send');
    const runtime: RuntimeConfig = {
      homeAccount: MOTO_ACCOUNT_ID,
      allowedRegions: ['us-east-1'],
      severityThreshold: 7,
      securityHubSeverityLabels: ['HIGH', 'CRITICAL'],
      protectedPrincipalPatterns: [],
      cordonRoleArns: [],
      exemptTag: { key: 'cordon:exempt', value: 'true' },
      modes: {},
      securityHubProductAllowList: [
        'arn:aws:securityhub:*::product/aws/*',
        'arn:aws:securityhub:*::productv2/aws/*',
      ],
      runtimeModeParameter: '/cordon/mode',
      circuitBreaker: { maxContainments: 10, windowSeconds: 3600 },
    };
    const deps: TriageDeps = {
      iam: new IAMClient(clientOptions),
      ec2: undefined as never,
      secretsManager: undefined as never,
      lambda: undefined as never,
      s3: undefined as never,
      ledger: new Ledger({
        client,
        tableName: 'cordon-ledger',
        now: () => new Date(),
        mac: fakeLedgerMac(),
      }),
      approvals: localVerifier([]),
      config: runtime,
      actor: `arn:aws:iam::${MOTO_ACCOUNT_ID}:role/cordon/triage`,
      guardrails: {
        runtimeMode: new RuntimeModeSwitch(
          new SSMClient(clientOptions),
          '/cordon/mode',
          Date.now,
          RUNTIME_MODE_TTL_MS,
        ),
        breaker: new CircuitBreaker({
          client,
          tableName: 'cordon-guardrails',
          now: () => new Date(),
        }),
        limits: runtime.circuitBreaker,
        announceTrip: (incident, reason) =>
          announceTrip(
            { sns, topicArn: `arn:aws:sns:us-east-1:${MOTO_ACCOUNT_ID}:cordon-notifications` },
            incident,
            reason,
          ),
        // GuardDuty is the rehearsal's finding source stand-in, holding each finding below.
        verifySource: (finding, identifier) =>
          verifyAtSource(
            finding,
            identifier,
            {
              guardDuty: new GuardDutyClient(clientOptions),
              securityHub: new SecurityHubClient(clientOptions),
            },
            runtime.securityHubProductAllowList,
          ),
      },
    };

    // Act: 200 distinct findings, then one delivered twice.
    const results = [];
    for (let i = 0; i < 200; i++) {
      const findingId = i.toString(16).padStart(32, '0');
      const event = userKeyFinding(user, { findingId });
      findingSource.publish(event);
      results.push(await runTriage(event, deps, { playbook: 'iam-credentials' }));
    }

    // Assert
    const auto = results.filter((r) => r.incident.plan.disableAccessKey?.mode === 'auto');
    const held = results.filter((r) => r.incident.plan.disableAccessKey?.mode === 'approve');
    expect(results.every((r) => r.decision === 'PROCEED')).toBe(true);
    expect(auto).toHaveLength(10);
    expect(held).toHaveLength(190);
    expect(held[0]?.incident.plan.disableAccessKey?.reason).toMatch(
      /^circuit breaker tripped at .+: more than 10 automatic containments within 60 min/,
    );
    const ledger = deps.ledger;
    const marks = (
      await Promise.all(results.map((r) => ledger.entries(r.incident.incidentId)))
    ).flatMap((entries) =>
      entries.filter((e) => e.outcome.startsWith('BREAKER_')).map((e) => e.outcome),
    );
    expect(marks.filter((m) => m === 'BREAKER_TRIPPED')).toHaveLength(1);
    expect(marks.filter((m) => m === 'BREAKER_HOLDING')).toHaveLength(189);
    const announcements = publish.mock.calls.filter(
      ([command]) => command instanceof PublishCommand,
    );
    expect(announcements).toHaveLength(1);
    expect(results[10]?.incident.plan.disableAccessKey?.mode).toBe('approve');
    expect((await userState(user)).keys[user.leakedKeyId]).toBe('Active');
  });
});

describe('source verification', () => {
  it('does not act unattended on a Security Hub finding from a product not on the allow-list (a forged import)', async () => {
    await setMode('auto');
    const user = await seedCompromisedUser();
    // Imported into the account's own default product, as anyone with
    // securityhub:BatchImportFindings can; cdk.json allows only AWS's products.
    const forged = securityHubKeyFinding(user);

    const execution = onlyExecution(await harness.engine('timeout').rehearse(forged));

    expect(execution.status, explain(execution)).toBe('SUCCEEDED');
    expect(execution.ledger[0]?.summary).toMatch(
      /^claimed; automatic steps need approval: source not verified: product "arn:aws:securityhub:us-east-1:123456789012:product\/123456789012\/default" is not on the Security Hub product allow-list/,
    );
    expect(outcomes(execution)).not.toContain('disableAccessKey:CONTAINED');
    expect((await userState(user)).keys[user.leakedKeyId]).toBe('Active');
  });

  it('does not act unattended on a GuardDuty event whose finding GuardDuty does not have', async () => {
    await setMode('auto');
    const user = await seedCompromisedUser();

    const execution = onlyExecution(
      await harness.engine('timeout').rehearse(userKeyFinding(user), { atSource: false }),
    );

    expect(execution.ledger[0]?.detail).toMatchObject({
      sourceCheck: {
        status: 'unverified',
        reason: 'GuardDuty detector 12abc34d567e8fa901bc2d34e56789f0 has no such finding',
      },
    });
    expect(outcomes(execution)).toContain('disableAccessKey:NOT_ACTED_ON');
    expect((await userState(user)).keys[user.leakedKeyId]).toBe('Active');
  });

  it('does not act unattended when GuardDuty says the finding is about another key', async () => {
    await setMode('auto');
    const user = await seedCompromisedUser();
    const event = userKeyFinding(user);
    // GuardDuty holds the finding with the healthy key: the event was altered on its way.
    findingSource.publish(
      JSON.parse(JSON.stringify(event).replaceAll(user.leakedKeyId, user.healthyKeyId)),
    );

    const execution = onlyExecution(
      await harness.engine('timeout').rehearse(event, { atSource: false }),
    );

    expect(execution.ledger[0]?.summary).toContain(
      `source not verified: the source's finding differs from the event: no resource "${user.leakedKeyId}"`,
    );
    expect((await userState(user)).keys).toEqual({
      [user.leakedKeyId]: 'Active',
      [user.healthyKeyId]: 'Active',
    });
  });

  it('acts unattended on a GuardDuty finding its source confirms', async () => {
    await setMode('auto');
    const user = await seedCompromisedUser();

    const execution = onlyExecution(await harness.engine('timeout').rehearse(userKeyFinding(user)));

    expect(execution.ledger[0]?.detail).toMatchObject({ sourceCheck: { status: 'verified' } });
    expect((await userState(user)).keys[user.leakedKeyId]).toBe('Inactive');
  });
});

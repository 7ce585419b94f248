/**
 * Layer 4: one incident per finding, against moto. GuardDuty emits a
 * finding again (same id, a higher count, a later updatedAt); each emission
 * runs the real iam-credentials playbook through the rehearsal engine, with
 * the real approval, rollback and dismissal paths (the emulated responders
 * call the real responder API handler with caller proofs moto's STS
 * checks). What is asserted is the resulting AWS state (the key's status,
 * the user's policies) and the incident's ledger.
 */
import {
  IAMClient,
  ListAccessKeysCommand,
  ListAttachedUserPoliciesCommand,
} from '@aws-sdk/client-iam';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { type CompromisedUser, seedCompromisedUser, userKeyFinding } from '../../demo/scenario.js';
import { documentClient } from '../../functions/shared/aws.js';
import { Ledger, type LedgerEntry } from '../../functions/shared/ledger.js';
import type { ExecutionReport } from '../../rehearsal/engine.js';
import {
  explain,
  LEDGER_TABLE,
  onlyExecution,
  rehearsalHarness,
} from '../state-machines/harness.js';
import { fakeLedgerMac } from '../support/ledger-mac.js';
import { MOTO_ACCOUNT_ID, motoClientConfig, useMoto } from '../support/moto.js';

const { endpoint } = useMoto();
const harness = rehearsalHarness();
const iam = new IAMClient(motoClientConfig(endpoint));
// Reads only: what the playbook wrote, in order.
const ledger = new Ledger({
  client: documentClient(),
  tableName: LEDGER_TABLE,
  now: () => new Date(),
  mac: fakeLedgerMac(),
});

const REQUESTER = `arn:aws:sts::${MOTO_ACCOUNT_ID}:assumed-role/SecurityResponder/requester`;

/** The user's finding as GuardDuty emits it the `count`-th time, `hours` after the first. */
function emission(user: CompromisedUser, count: number, options: { severity?: number } = {}) {
  const event = userKeyFinding(user);
  const updatedAt = new Date(Date.parse(event.detail.updatedAt) + (count - 1) * 6 * 3_600_000);
  return {
    ...event,
    detail: {
      ...event.detail,
      updatedAt: updatedAt.toISOString(),
      ...(options.severity === undefined ? {} : { severity: options.severity }),
      service: { ...z.record(z.string(), z.unknown()).parse(event.detail.service), count },
    },
  };
}

async function keyStatus(user: CompromisedUser): Promise<string | undefined> {
  const out = await iam.send(new ListAccessKeysCommand({ UserName: user.userName }));
  return out.AccessKeyMetadata?.find((k) => k.AccessKeyId === user.leakedKeyId)?.Status;
}

async function attached(user: CompromisedUser): Promise<string[]> {
  const out = await iam.send(new ListAttachedUserPoliciesCommand({ UserName: user.userName }));
  return (out.AttachedPolicies ?? []).flatMap((p) => (p.PolicyName ? [p.PolicyName] : []));
}

/** The incident's triage entries: one per emission. */
const triaged = (entries: readonly LedgerEntry[]) =>
  entries.filter((e) => e.step === 'triage').map((e) => e.outcome);

/** The incident every execution of `report` wrote to. */
function incidentOf(execution: ExecutionReport): string {
  const id = execution.ledger[0]?.incidentId;
  if (id === undefined) throw new Error(`the execution wrote nothing: ${explain(execution)}`);
  return id;
}

describe('a re-emission while the incident waits for an approval', () => {
  it('joins it: recorded with its count, no second execution acts or asks', async () => {
    const user = await seedCompromisedUser();
    let joined: ExecutionReport | undefined;
    const engine = harness.engine('approve', {
      duringWait: async () => {
        // GuardDuty emits the finding again while the quarantine waits.
        joined ??= onlyExecution(await engine.rehearse(emission(user, 2)));
      },
    });

    const first = onlyExecution(await engine.rehearse(emission(user, 1)));

    expect(first.status, explain(first)).toBe('SUCCEEDED');
    expect(joined?.status).toBe('SUCCEEDED');
    expect(joined?.states.at(-1)).toBe('Joined its incident');
    expect(joined?.output).toMatchObject({ decision: 'JOINED' });
    const entries = await ledger.entries(incidentOf(first));
    expect(triaged(entries)).toEqual(['CLAIMED', 'REEMITTED']);
    expect(entries.find((e) => e.outcome === 'REEMITTED')?.detail).toMatchObject({ count: 2 });
    // One approval asked, one quarantine made.
    expect(entries.filter((e) => e.outcome === 'APPROVAL_REQUESTED')).toHaveLength(1);
    expect(entries.filter((e) => e.outcome === 'CONTAINED').map((e) => e.step)).toEqual([
      'disableAccessKey',
      'revokeUserSessions',
      'quarantineUser',
    ]);
    expect(await attached(user)).toEqual(['AWSDenyAll']);
  });
});

describe('a re-emission after a rollback', () => {
  it('is recorded and notified, and the key the rollback re-enabled stays enabled', async () => {
    const user = await seedCompromisedUser();
    const first = onlyExecution(await harness.engine('approve').rehearse(emission(user, 1)));
    const incidentId = incidentOf(first);
    expect(await keyStatus(user)).toBe('Inactive');
    const rollback = await harness.engine('approve').rollback({
      incidentId,
      force: false,
      requestedBy: REQUESTER,
      reason: 'false positive: the owner ran the job',
    });
    expect(rollback.status, explain(rollback)).toBe('SUCCEEDED');
    expect(await keyStatus(user)).toBe('Active');

    // Six hours later, GuardDuty emits it again; responders would approve anything.
    const again = onlyExecution(await harness.engine('approve').rehearse(emission(user, 2)));

    expect(again.status, explain(again)).toBe('SUCCEEDED');
    expect(again.states.slice(-2)).toEqual(['Notify suppressed', 'Suppressed']);
    expect(again.ledger.map((e) => `${e.step}:${e.outcome}`)).toEqual([
      'triage:REEMITTED',
      'notify:NOTIFIED',
    ]);
    expect(again.ledger[0]?.detail).toMatchObject({
      count: 2,
      suppressed: { cause: 'rolled back' },
    });
    expect(await keyStatus(user)).toBe('Active');
    expect(await attached(user)).toEqual([]);
  });
});

describe('a responder dismisses a finding as a false positive', () => {
  it('a first emission refused below the threshold does not hold the finding: updated above it, it acts', async () => {
    const user = await seedCompromisedUser();
    // Replayed into the playbook directly: no rule would start it at severity 4.
    const low = await harness
      .engine('approve')
      .execute(harness.playbook(), emission(user, 1, { severity: 4 }));
    expect(low.output).toMatchObject({ decision: 'REFUSED' });

    const raised = onlyExecution(
      await harness.engine('approve').rehearse(emission(user, 2, { severity: 8 })),
    );

    expect(raised.status, explain(raised)).toBe('SUCCEEDED');
    expect(triaged(await ledger.entries(incidentOf(raised)))).toEqual(['REFUSED', 'CLAIMED']);
    expect(await keyStatus(user)).toBe('Inactive');
  });

  it('after the dismissal, later emissions are recorded and notified, never acted on', async () => {
    const user = await seedCompromisedUser();
    const low = await harness
      .engine('approve')
      .execute(harness.playbook(), emission(user, 1, { severity: 4 }));
    const incidentId = incidentOf(low);
    const dismissal = await harness.engine('approve').dismiss(incidentId, 'a scheduled scanner');
    expect(dismissal.incidentId).toBe(incidentId);

    const raised = onlyExecution(
      await harness.engine('approve').rehearse(emission(user, 2, { severity: 8 })),
    );

    expect(raised.status, explain(raised)).toBe('SUCCEEDED');
    expect(raised.output).toMatchObject({ decision: 'SUPPRESSED' });
    expect(raised.states).toContain('Notify suppressed');
    const entries = await ledger.entries(incidentId);
    expect(entries.map((e) => `${e.step}:${e.outcome}`)).toEqual([
      'triage:REFUSED',
      'notify:NOTIFIED',
      'dismiss:DISMISSED',
      'triage:REEMITTED',
      'notify:NOTIFIED',
    ]);
    expect(await keyStatus(user)).toBe('Active');
    expect(await attached(user)).toEqual([]);
  });
});

/**
 * Whoever may call `lambda:InvokeFunction` on an action's function
 * (PowerUserAccess, AdministratorAccess, many CI roles) can hand it any
 * input. These tests do what such an insider would: invoke the action
 * handlers Cordon deploys (built from the environment the rehearsal
 * resolved from the synthesized template) straight from the test, against
 * moto, with inputs made up or copied from a real incident and altered.
 * Each is refused, nothing changes, and the refusal of a step of a real
 * incident is in its ledger.
 */

import {
  CreateAccessKeyCommand,
  CreateUserCommand,
  IAMClient,
  ListAccessKeysCommand,
  ListAttachedUserPoliciesCommand,
} from '@aws-sdk/client-iam';
import { describe, expect, it } from 'vitest';
import { seedCompromisedUser, userKeyFinding } from '../../../demo/scenario.js';
import { attackSequenceFinding } from '../../../demo/sequence.js';
import { makeHandler as disableAccessKeyHandler } from '../../../functions/actions/disable-access-key/containment.js';
import { makeHandler as quarantineUserHandler } from '../../../functions/actions/quarantine-user/containment.js';
import { documentClient } from '../../../functions/shared/aws.js';
import { SEQUENCE } from '../../../functions/shared/catalog.js';
import {
  type ActionInput,
  ApprovalSchema,
  type Incident,
  IncidentSchema,
} from '../../../functions/shared/incident.js';
import { Ledger } from '../../../functions/shared/ledger.js';
import { KmsLedgerMac } from '../../../functions/shared/ledger-mac.js';
import { ENV } from '../../../functions/shared/runtime-config.js';
import { z } from '../../../functions/shared/z.js';
import { makeHandler as triageHandler } from '../../../functions/triage/triage.js';
import { onlyExecution, rehearsalHarness } from '../../state-machines/harness.js';
import { lambdaContext } from '../../support/lambda-context.js';
import { motoClientConfig, useMoto } from '../../support/moto.js';

const { endpoint } = useMoto();
const harness = rehearsalHarness();
const iam = new IAMClient(motoClientConfig(endpoint));

/** Invokes the deployed handler of `name` with `input`, as `lambda:InvokeFunction` would. */
function invoke(name: 'disable-access-key' | 'quarantine-user', input: ActionInput) {
  const environment = harness.environment(name);
  const handler =
    name === 'disable-access-key'
      ? disableAccessKeyHandler(environment)
      : quarantineUserHandler(environment);
  return handler(input, lambdaContext(name, 'direct-1'));
}

/** The ledger as the action's environment names it (its table, its key). */
function ledger(): Ledger {
  const environment = harness.environment('disable-access-key');
  const tableName = environment[ENV.ledgerTable];
  const keyId = environment[ENV.ledgerKey];
  if (!tableName || !keyId) throw new Error('the action has no ledger in its environment');
  return new Ledger({
    client: documentClient(),
    tableName,
    now: () => new Date(),
    mac: new KmsLedgerMac(keyId),
  });
}

/** A real incident: the playbook ran, disabled the key, and nobody approved the quarantine. */
async function realIncident() {
  const user = await seedCompromisedUser();
  const execution = onlyExecution(await harness.engine('timeout').rehearse(userKeyFinding(user)));
  const { incident } = z.object({ incident: IncidentSchema }).parse(execution.output);
  return { user, execution, incident };
}

const keyStatuses = async (userName: string) =>
  (await iam.send(new ListAccessKeysCommand({ UserName: userName }))).AccessKeyMetadata?.map(
    (k) => k.Status,
  );

const stepInput = (incident: Incident, step: string, executionArn: string): ActionInput => ({
  incident,
  step,
  executionArn,
  approval: { decision: 'NOT_REQUIRED', step },
});

describe('an action invoked directly, with an input nobody validated', () => {
  it('refuses an incident triage never claimed, and writes nothing under its id', async () => {
    // Arrange: a user of the insider's choosing, and a made-up incident about it.
    const victim = await iam.send(new CreateUserCommand({ UserName: 'payroll-batch' }));
    await iam.send(new CreateAccessKeyCommand({ UserName: 'payroll-batch' }));
    const { incident: real, execution } = await realIncident();
    const madeUp: Incident = {
      ...real,
      incidentId: 'inc-00000000000000000001',
      principal: {
        kind: 'IAMUser',
        arn: victim.User?.Arn ?? '',
        name: 'payroll-batch',
        uniqueId: victim.User?.UserId ?? '',
      },
      plan: { disableAccessKey: { mode: 'auto' } },
    };
    // Act
    const attempt = invoke(
      'disable-access-key',
      stepInput(madeUp, 'disableAccessKey', execution.executionArn),
    );
    // Assert
    await expect(attempt).rejects.toMatchObject({
      name: 'Cordon.NotValidated',
      message: expect.stringContaining('triage claimed no incident inc-00000000000000000001'),
    });
    expect(await keyStatuses('payroll-batch')).toEqual(['Active']);
    expect(await ledger().entries(madeUp.incidentId)).toEqual([]);
  });

  it("refuses a real incident pointed at another user, and records the refusal in the real incident's ledger", async () => {
    // Arrange
    const victim = await iam.send(new CreateUserCommand({ UserName: 'payroll-batch' }));
    const key = await iam.send(new CreateAccessKeyCommand({ UserName: 'payroll-batch' }));
    const { incident, execution } = await realIncident();
    const retargeted: Incident = {
      ...incident,
      principal: {
        kind: 'IAMUser',
        arn: victim.User?.Arn ?? '',
        name: 'payroll-batch',
        accessKeyId: key.AccessKey?.AccessKeyId ?? '',
        uniqueId: victim.User?.UserId ?? '',
      },
    };
    // Act
    const attempt = invoke(
      'disable-access-key',
      stepInput(retargeted, 'disableAccessKey', execution.executionArn),
    );
    // Assert
    await expect(attempt).rejects.toMatchObject({
      name: 'Cordon.NotValidated',
      message: expect.stringContaining('not the one triage validated'),
    });
    expect(await keyStatuses('payroll-batch')).toEqual(['Active']);
    const entries = await ledger().entries(incident.incidentId);
    expect(entries.at(-1)).toMatchObject({
      step: 'disableAccessKey',
      outcome: 'FAILED',
      summary: expect.stringContaining('refused to act'),
    });
  });

  it('refuses to run unattended a step triage planned to wait for a responder', async () => {
    // Arrange: quarantine was planned `approve`, and nobody approved it.
    const { user, incident, execution } = await realIncident();
    const unattended: Incident = {
      ...incident,
      plan: { ...incident.plan, quarantineUser: { mode: 'auto' } },
    };
    // Act
    const attempt = invoke(
      'quarantine-user',
      stepInput(unattended, 'quarantineUser', execution.executionArn),
    );
    // Assert
    await expect(attempt).rejects.toMatchObject({
      name: 'Cordon.NotValidated',
      message: expect.stringContaining(
        'step quarantineUser was handed mode auto, but triage planned it approve',
      ),
    });
    const attached = await iam.send(
      new ListAttachedUserPoliciesCommand({ UserName: user.userName }),
    );
    expect(attached.AttachedPolicies).toEqual([]);
  });

  it('refuses a real incident replayed under another execution', async () => {
    // Arrange
    const { incident, execution } = await realIncident();
    const elsewhere = execution.executionArn.replace(/:[^:]+$/, ':replayed-by-hand');
    // Act
    const attempt = invoke(
      'disable-access-key',
      stepInput(incident, 'disableAccessKey', elsewhere),
    );
    // Assert
    await expect(attempt).rejects.toMatchObject({
      name: 'Cordon.NotValidated',
      message: expect.stringContaining(`was claimed by execution ${execution.executionArn}`),
    });
  });

  it('acts on the incident exactly as triage validated it (the state machine retrying a step)', async () => {
    // Arrange: the key was disabled; someone turned it back on since.
    const { user, incident, execution } = await realIncident();
    const { UpdateAccessKeyCommand } = await import('@aws-sdk/client-iam');
    await iam.send(
      new UpdateAccessKeyCommand({
        UserName: user.userName,
        AccessKeyId: user.leakedKeyId,
        Status: 'Active',
      }),
    );
    // Act
    const result = await invoke(
      'disable-access-key',
      stepInput(incident, 'disableAccessKey', execution.executionArn),
    );
    // Assert
    expect(result).toMatchObject({ outcome: 'CONTAINED' });
  });
});

/**
 * A member of an attack sequence acts on one grant: the responders'
 * approval of the whole set, recorded for the parent incident and step
 * under the sequence's execution. The insider holds the sequence's
 * children (execution history) and any grant ever given (each change's
 * ledger entry keeps the approval it acted on).
 */
describe('a member of an attack sequence invoked directly', () => {
  const Sequence = z.object({
    incident: IncidentSchema,
    children: z.array(IncidentSchema),
  });

  /** A sequence naming the user; its responders decide `decision`. */
  async function sequence(decision: 'approve' | 'timeout', userName: string, findingId: string) {
    const user = await seedCompromisedUser(userName, iam);
    const event = attackSequenceFinding({ users: [user] }, { findingId, sequenceUid: findingId });
    const execution = onlyExecution(await harness.engine(decision).rehearse(event));
    const { incident, children } = Sequence.parse(execution.output);
    const [child] = children;
    if (!child) throw new Error('the sequence has no member');
    return { user, execution, parent: incident, child };
  }

  /** The approval a contained change acted on, as its ledger entry keeps it. */
  async function grantOf(incidentId: string) {
    const entries = await ledger().entries(incidentId);
    const contained = entries.find((e) => e.outcome === 'CONTAINED');
    return ApprovalSchema.parse(contained?.detail?.approval);
  }

  it("refuses a member of an unapproved sequence handed another sequence's grant", async () => {
    // Arrange: sequence A was approved (its grant is in the ledger); B's approval timed out.
    const a = await sequence('approve', 'build-bot', 'a'.repeat(32));
    const b = await sequence('timeout', 'ci-deployer', 'b'.repeat(32));
    const grant = await grantOf(a.child.incidentId);
    expect(grant).toMatchObject({ decision: 'APPROVED', step: SEQUENCE.step });
    // Act
    const attempt = invoke('disable-access-key', {
      incident: b.child,
      step: 'disableAccessKey',
      executionArn: b.execution.executionArn,
      approval: grant,
    });
    // Assert
    await expect(attempt).rejects.toMatchObject({
      name: 'Cordon.ApprovalMissing',
      message: expect.stringContaining(`not "${b.parent.incidentId}"`),
    });
    expect(await keyStatuses(b.user.userName)).toEqual(['Active', 'Active']);
  });

  it("refuses a member run unattended, or cut loose from its parent to take a single incident's grant", async () => {
    // Arrange
    const b = await sequence('timeout', 'ci-deployer', 'b'.repeat(32));
    const unattended: Incident = {
      ...b.child,
      plan: { ...b.child.plan, disableAccessKey: { mode: 'auto' } },
    };
    const { parent: _parent, ...orphan } = b.child;
    // Act
    const attempts = [
      invoke(
        'disable-access-key',
        stepInput(unattended, 'disableAccessKey', b.execution.executionArn),
      ),
      invoke('disable-access-key', stepInput(orphan, 'disableAccessKey', b.execution.executionArn)),
    ];
    // Assert
    await expect(attempts[0]).rejects.toMatchObject({
      name: 'Cordon.NotValidated',
      message: expect.stringContaining(
        'step disableAccessKey was handed mode auto, but triage planned it approve',
      ),
    });
    await expect(attempts[1]).rejects.toMatchObject({
      name: 'Cordon.NotValidated',
      message: expect.stringContaining('not the one triage validated'),
    });
    expect(await keyStatuses(b.user.userName)).toEqual(['Active', 'Active']);
  });
});

describe('triage invoked directly under an approved sequence', () => {
  it("claims no member the responders were not asked about, so the set's grant reaches none", async () => {
    // Arrange: the responders approved a set of one user in execution E.
    const user = await seedCompromisedUser('build-bot', iam);
    const victim = await seedCompromisedUser('payroll-batch', iam);
    const findingId = 'c'.repeat(32);
    const approved = attackSequenceFinding(
      { users: [user] },
      { findingId, sequenceUid: findingId },
    );
    const execution = onlyExecution(await harness.engine('approve').rehearse(approved));
    const { incident: parent } = z.object({ incident: IncidentSchema }).parse(execution.output);
    const claimsBefore = (await ledger().entries(parent.incidentId)).length;
    // An insider (lambda:InvokeFunction) re-runs triage under E with another user added.
    const widened = attackSequenceFinding(
      { users: [user, victim] },
      { findingId, sequenceUid: findingId },
    );
    const triage = triageHandler(harness.environment('triage'));

    // Act
    const attempt = triage(
      { event: widened, executionArn: execution.executionArn, playbook: 'attack-sequence' },
      lambdaContext('triage', 'direct-2'),
    );

    // Assert
    await expect(attempt).rejects.toMatchObject({
      name: 'Cordon.InvalidFinding',
      message: expect.stringContaining('nothing more is claimed'),
    });
    expect(await ledger().entries(parent.incidentId)).toHaveLength(claimsBefore);
    expect(await keyStatuses(victim.userName)).toEqual(['Active', 'Active']);
  });
});

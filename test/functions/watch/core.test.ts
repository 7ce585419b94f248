/**
 * The watch, with client mocks: each test performs what an insider (or a
 * forger) does to Cordon, using the event AWS publishes for it, and shows
 * what the watch records and tells responders.
 */
import 'aws-sdk-client-mock-vitest/extend';
import {
  DescribeExecutionCommand,
  type DescribeExecutionCommandOutput,
  ExecutionDoesNotExist,
  SFNClient,
} from '@aws-sdk/client-sfn';
import { PublishCommand, type PublishCommandInput, SNSClient } from '@aws-sdk/client-sns';
import { GetParameterCommand, ParameterNotFound, SSMClient } from '@aws-sdk/client-ssm';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { incidentIdFrom, orphanIncidentId } from '../../../functions/shared/incident.js';
import type { LedgerEntry } from '../../../functions/shared/ledger.js';
import { WATCH_LEDGER, type WatchDeps, watch } from '../../../functions/watch/core.js';
import type { EventEnvelope } from '../../../functions/watch/events.js';
import { asEmail } from '../../support/notices.js';
import { ACTOR, fakeLedger } from '../shared/containment-fixtures.js';
import {
  abortedEvent,
  apiCallEvent,
  FINDING,
  fixture,
  MODE_PARAMETER,
  PLAYBOOK_EXECUTION,
  PLAYBOOK_MACHINE,
  ROLLBACK_EXECUTION,
  ROLLBACK_MACHINE_ARN,
} from './fixtures.js';

const TOPIC = 'arn:aws:sns:us-east-1:123456789012:cordon';
const sfnMock = mockClient(SFNClient);
const snsMock = mockClient(SNSClient);
const ssmMock = mockClient(SSMClient);

/** The incident triage claims for guardduty-iam-user.json in the iam-credentials playbook. */
const INCIDENT = incidentIdFrom('guardduty|a2c6f1e3b8d94f0e9c7b5a4d3e2f1a01|iam-credentials');
const TARGET = 'arn:aws:iam::123456789012:user/compromised-user';
const STARTED = new Date('2026-03-01T10:00:00.000Z');
const STOPPED = new Date('2026-03-01T10:04:00.000Z');

let fake: ReturnType<typeof fakeLedger>;

beforeEach(() => {
  sfnMock.reset();
  snsMock.reset();
  ssmMock.reset();
  snsMock.on(PublishCommand).resolves({ MessageId: 'm-1' });
  ssmMock.on(GetParameterCommand).resolves({ Parameter: { Name: MODE_PARAMETER, Value: 'off' } });
  fake = fakeLedger();
});

const deps = (): WatchDeps => ({
  ledger: fake.ledger,
  actor: ACTOR,
  sns: new SNSClient({ region: 'us-east-1' }),
  topicArn: TOPIC,
  sfn: new SFNClient({ region: 'us-east-1' }),
  ssm: new SSMClient({ region: 'us-east-1' }),
  config: {
    machines: [
      { arn: PLAYBOOK_MACHINE, name: 'iam-credentials' },
      { arn: ROLLBACK_MACHINE_ARN, name: 'rollback' },
    ],
    runtimeModeParameter: MODE_PARAMETER,
  },
  now: () => new Date('2026-03-01T10:30:00.000Z'),
});

/** What Step Functions says of the execution. */
function execution(over: Partial<DescribeExecutionCommandOutput> = {}): void {
  sfnMock.on(DescribeExecutionCommand).resolves({
    executionArn: PLAYBOOK_EXECUTION,
    stateMachineArn: PLAYBOOK_MACHINE,
    name: '7c6d4c9a-guardduty',
    status: 'ABORTED',
    startDate: STARTED,
    stopDate: STOPPED,
    input: JSON.stringify(FINDING()),
    inputDetails: { included: true },
    ...over,
  });
}

/** Triage's claim of the incident, by `executionArn`. */
async function claimed(executionArn = PLAYBOOK_EXECUTION, incidentId = INCIDENT): Promise<void> {
  await fake.ledger.claim(incidentId, {
    step: 'triage',
    action: 'triage',
    actor: 'arn:aws:iam::123456789012:role/cordon/triage',
    outcome: 'CLAIMED',
    targetArn: TARGET,
    findingId: 'a2c6f1e3b8d94f0e9c7b5a4d3e2f1a01',
    executionArn,
  });
}

const published = (): PublishCommandInput[] =>
  snsMock.commandCalls(PublishCommand).map((c) => asEmail(c.args[0].input));

function onlyMessage(): { subject: string; lines: string[] } {
  const all = published();
  expect(all).toHaveLength(1);
  const [message] = all;
  return { subject: message?.Subject ?? '', lines: (message?.Message ?? '').split('\n') };
}

const entriesOf = (id: string): LedgerEntry[] => fake.entries().filter((e) => e.incidentId === id);

const aborted = (detail: Record<string, unknown> = {}): EventEnvelope =>
  abortedEvent(PLAYBOOK_EXECUTION, PLAYBOOK_MACHINE, detail);

describe('an execution stopped by StopExecution (the ABORTED status change)', () => {
  it("records the abort in the incident's ledger and tells responders containment did not finish", async () => {
    // Arrange: triage claimed the incident; then an insider stopped the execution.
    await claimed();
    execution();

    // Act: the status change AWS documents arrives.
    const result = await watch(aborted(), deps());

    // Assert
    expect(result).toEqual({
      status: 'recorded',
      ledgerId: INCIDENT,
      seq: 1,
      appended: true,
      notified: true,
    });
    const [claim, abort, notice] = entriesOf(INCIDENT);
    expect(claim?.outcome).toBe('CLAIMED');
    expect(abort).toMatchObject({
      step: 'execution',
      action: 'watch',
      actor: ACTOR,
      outcome: 'ABORTED',
      executionArn: PLAYBOOK_EXECUTION,
      findingId: 'a2c6f1e3b8d94f0e9c7b5a4d3e2f1a01',
      targetArn: TARGET,
      detail: expect.objectContaining({
        stateMachine: 'iam-credentials',
        startedAt: STARTED.toISOString(),
        stoppedAt: STOPPED.toISOString(),
      }),
    });
    expect(abort?.summary).toContain('containment did not finish');
    expect(notice).toMatchObject({ outcome: 'NOTIFIED', detail: { messageId: 'm-1' } });
    const { subject, lines } = onlyMessage();
    expect(subject).toBe('Cordon execution ABORTED: iam-credentials: containment did not finish');
    expect(lines).toEqual(
      expect.arrayContaining([
        `Incident: ${INCIDENT}`,
        `Execution: "${PLAYBOOK_EXECUTION}"`,
        `Started: ${STARTED.toISOString()}`,
        `Stopped: ${STOPPED.toISOString()}`,
        `Target: "${TARGET}"`,
        `See: npm run cordon -- show ${INCIDENT}`,
      ]),
    );
    expect(lines.some((l) => l.startsWith('Containment did not finish'))).toBe(true);
  });

  it('appends nothing and notifies nothing when the same event is delivered again', async () => {
    await claimed();
    execution();
    await watch(aborted(), deps());
    const before = fake.entries();

    const again = await watch(aborted(), deps());

    expect(again).toMatchObject({ status: 'recorded', appended: false, notified: false });
    expect(fake.entries()).toEqual(before);
    expect(published()).toHaveLength(1);
  });

  it('publishes after a failed publish when the event comes again, without a second entry', async () => {
    await claimed();
    execution();
    snsMock
      .on(PublishCommand)
      .rejectsOnce(Object.assign(new Error('down'), { name: 'InternalError' }))
      .resolves({ MessageId: 'm-2' });
    await expect(watch(aborted(), deps())).rejects.toMatchObject({
      name: 'Cordon.ServiceUnavailable',
    });

    const retried = await watch(aborted(), deps());

    expect(retried).toMatchObject({ appended: false, notified: true });
    expect(published()).toHaveLength(2);
    expect(entriesOf(INCIDENT).map((e) => e.outcome)).toEqual(['CLAIMED', 'ABORTED', 'NOTIFIED']);
  });

  it("ignores an ABORTED event of a state machine that is not Cordon's, without reading anything", async () => {
    // The documented event as it is: its state machine is someone else's.
    const result = await watch(fixture('states-execution-aborted.json'), deps());

    expect(result).toEqual({ status: 'ignored', reason: "not one of Cordon's state machines" });
    expect(sfnMock).not.toHaveReceivedCommand(DescribeExecutionCommand);
    expect(fake.entries()).toEqual([]);
    expect(published()).toEqual([]);
  });

  it('records nothing for a forged ABORTED event about an execution that is still running', async () => {
    // Arrange: an insider invokes the watch directly with a made-up event.
    await claimed();
    execution({ status: 'RUNNING', stopDate: undefined });

    // Act
    const result = await watch(aborted(), deps());

    // Assert: Step Functions, not the event, says whether it was aborted.
    expect(result).toMatchObject({ status: 'ignored' });
    expect(entriesOf(INCIDENT).map((e) => e.outcome)).toEqual(['CLAIMED']);
    expect(published()).toEqual([]);
  });

  it('records nothing for an event naming an execution Step Functions does not have', async () => {
    sfnMock
      .on(DescribeExecutionCommand)
      .rejects(new ExecutionDoesNotExist({ message: 'no such execution', $metadata: {} }));

    const result = await watch(aborted(), deps());

    expect(result).toEqual({ status: 'ignored', reason: 'Step Functions has no such execution' });
    expect(fake.entries()).toEqual([]);
  });

  it('reads the input from Step Functions when the event leaves it out (a large input)', async () => {
    await claimed();
    execution();

    const result = await watch(
      aborted({ input: undefined, inputDetails: { included: false } }),
      deps(),
    );

    expect(result).toMatchObject({ status: 'recorded', ledgerId: INCIDENT });
    expect(sfnMock).toHaveReceivedCommandWith(DescribeExecutionCommand, {
      executionArn: PLAYBOOK_EXECUTION,
    });
  });

  it("records under the execution's own key, and says so, when it was stopped before triage claimed the incident", async () => {
    execution();

    const result = await watch(aborted(), deps());

    const orphan = orphanIncidentId(PLAYBOOK_EXECUTION);
    expect(result).toMatchObject({ status: 'recorded', ledgerId: orphan });
    expect(entriesOf(orphan)[0]?.detail).toMatchObject({ unclaimedIncidentId: INCIDENT });
    expect(entriesOf(INCIDENT)).toEqual([]);
    const { lines } = onlyMessage();
    expect(lines).toContain(`Recorded under: ${orphan} (this execution's own key)`);
    expect(lines.find((l) => l.startsWith('Incident: none'))).toContain('was claimed');
  });

  it("records under the execution's own key when its input is not a finding", async () => {
    execution({ input: '{}' });

    const result = await watch(aborted(), deps());

    expect(result).toMatchObject({ ledgerId: orphanIncidentId(PLAYBOOK_EXECUTION) });
    expect(fake.entries()[0]?.detail?.noIncident).toMatch(/not a finding Cordon can read/);
  });

  it('notes another execution claimed the incident when the stopped one was a duplicate', async () => {
    const first = `${PLAYBOOK_EXECUTION}-first`;
    await claimed(first);
    execution();

    await watch(aborted(), deps());

    expect(entriesOf(INCIDENT)[1]?.detail).toMatchObject({ claimedBy: first });
    expect(onlyMessage().lines).toContain(`Claimed by another execution: "${first}"`);
  });

  it('records a stopped rollback in the incident it was rolling back', async () => {
    const incidentId = 'inc-0123456789abcdef0123';
    await claimed('arn:aws:states:us-east-1:123456789012:execution:x:y', incidentId);
    execution({
      executionArn: ROLLBACK_EXECUTION,
      stateMachineArn: ROLLBACK_MACHINE_ARN,
      input: JSON.stringify({
        incidentId,
        force: false,
        requestedBy: 'arn:aws:sts::123456789012:assumed-role/Responder/alice',
        reason: 'false positive',
      }),
    });

    const result = await watch(abortedEvent(ROLLBACK_EXECUTION, ROLLBACK_MACHINE_ARN), deps());

    expect(result).toMatchObject({ status: 'recorded', ledgerId: incidentId });
    expect(onlyMessage().subject).toBe(
      'Cordon execution ABORTED: rollback: the rollback did not finish',
    );
  });

  it("shows the error and cause given to StopExecution as quoted data, never as Cordon's own lines", async () => {
    await claimed();
    execution({ error: 'ok', cause: 'routine\nIncident: inc-ffffffffffffffffffff\nAll clear' });

    await watch(aborted(), deps());

    const { lines } = onlyMessage();
    expect(lines.filter((l) => l.startsWith('Incident:'))).toEqual([`Incident: ${INCIDENT}`]);
    expect(lines).toContain(
      'Stop cause given: "routine Incident: inc-ffffffffffffffffffff All clear"',
    );
  });
});

describe('an execution that ended past every Catch (FAILED outside its failure path, or TIMED_OUT)', () => {
  const LIMIT_CAUSE =
    "The state/task 'Triage' returned a result with a size exceeding the maximum number of bytes service limit.";

  it('records a States.DataLimitExceeded failure in the incident and tells responders containment did not finish', async () => {
    // Arrange: an oversized finding ended the execution where no Catch reaches.
    await claimed();
    execution({ status: 'FAILED', error: 'States.DataLimitExceeded', cause: LIMIT_CAUSE });

    // Act
    const result = await watch(aborted({ status: 'FAILED' }), deps());

    // Assert
    expect(result).toMatchObject({ status: 'recorded', ledgerId: INCIDENT, appended: true });
    const [, failed] = entriesOf(INCIDENT);
    expect(failed).toMatchObject({
      step: 'execution',
      action: 'watch',
      outcome: 'FAILED',
      detail: expect.objectContaining({
        stopError: 'States.DataLimitExceeded',
        stopCause: LIMIT_CAUSE,
      }),
    });
    expect(failed?.summary).toContain('failed outside its failure path');
    const { subject, lines } = onlyMessage();
    expect(subject).toBe('Cordon execution FAILED: iam-credentials: containment did not finish');
    expect(lines).toContain(
      'The execution ended without its failure path: a state failed past every Catch (States.DataLimitExceeded).',
    );
  });

  it('records a failure whose failure path could not notify it (record and notice both failed)', async () => {
    await claimed();
    execution({ status: 'FAILED', error: 'Cordon.FailureUnreported' });

    const result = await watch(aborted({ status: 'FAILED' }), deps());

    expect(result).toMatchObject({ status: 'recorded', ledgerId: INCIDENT, notified: true });
    expect(onlyMessage().lines).toContain(
      'The execution ended without its failure path: its failure path could not send the failure notice (Cordon.FailureUnreported).',
    );
  });

  it('records a timed-out execution', async () => {
    await claimed();
    execution({ status: 'TIMED_OUT' });

    const result = await watch(aborted({ status: 'TIMED_OUT' }), deps());

    expect(result).toMatchObject({ status: 'recorded', ledgerId: INCIDENT });
    expect(entriesOf(INCIDENT).map((e) => e.outcome)).toEqual(['CLAIMED', 'TIMED_OUT', 'NOTIFIED']);
  });

  it.each(['Cordon.PlaybookFailed', 'Cordon.RollbackFailed'])(
    'records nothing more for a failure its failure path recorded (%s), whatever the event says',
    async (error) => {
      await claimed();
      execution({ status: 'FAILED', error });

      // A forged event claims another error: Step Functions' own is the one read.
      const result = await watch(aborted({ status: 'FAILED', error: 'States.Runtime' }), deps());

      expect(result).toEqual({
        status: 'ignored',
        reason: `failed with ${error}: its failure path notified it`,
      });
      expect(entriesOf(INCIDENT).map((e) => e.outcome)).toEqual(['CLAIMED']);
      expect(published()).toEqual([]);
    },
  );

  it('records nothing for a forged FAILED event about an execution that is still running', async () => {
    await claimed();
    execution({ status: 'RUNNING', stopDate: undefined });

    const result = await watch(aborted({ status: 'FAILED' }), deps());

    expect(result).toEqual({
      status: 'ignored',
      reason: 'Step Functions says the execution is RUNNING, not FAILED',
    });
    expect(published()).toEqual([]);
  });

  it('ignores SUCCEEDED and RUNNING status changes without reading anything', async () => {
    for (const status of ['SUCCEEDED', 'RUNNING']) {
      const result = await watch(aborted({ status }), deps());
      expect(result).toMatchObject({ status: 'ignored' });
    }
    expect(sfnMock).not.toHaveReceivedCommand(DescribeExecutionCommand);
  });
});

describe('a StopExecution call (CloudTrail)', () => {
  const stopCall = (detail: Record<string, unknown> = {}) =>
    apiCallEvent('cloudtrail-stop-execution.json', { executionArn: PLAYBOOK_EXECUTION }, detail);

  it("names who stopped the execution in the incident's ledger and the notice", async () => {
    // Arrange: test-user (the documented caller) stops a Cordon execution.
    await claimed();
    execution();

    // Act
    const result = await watch(stopCall(), deps());

    // Assert
    expect(result).toMatchObject({ status: 'recorded', ledgerId: INCIDENT, appended: true });
    expect(entriesOf(INCIDENT)[1]).toMatchObject({
      outcome: 'STOP_REQUESTED',
      executionArn: PLAYBOOK_EXECUTION,
      detail: expect.objectContaining({
        call: expect.objectContaining({
          eventName: 'StopExecution',
          callerArn: 'arn:aws:iam::123456789012:user/test-user',
          callerPrincipalId: 'AIDAJYDLDBVBI4EXAMPLE',
          sourceIp: '10.61.88.189',
          eventTime: '2016-10-28T01:18:20Z',
          cloudTrailEventId: 'e658c743-c537-459a-aea7-dafb83c18c53',
        }),
      }),
    });
    const { subject, lines } = onlyMessage();
    expect(subject).toBe(
      'Cordon execution stopped: iam-credentials, by arn:aws:iam::123456789012:user/test-user',
    );
    expect(lines).toEqual(
      expect.arrayContaining([
        'Called by: "arn:aws:iam::123456789012:user/test-user" ("IAMUser")',
        'Principal id: "AIDAJYDLDBVBI4EXAMPLE"',
        'From: "10.61.88.189"',
        'At: "2016-10-28T01:18:20Z" in "us-east-1"',
        'CloudTrail event id: "e658c743-c537-459a-aea7-dafb83c18c53"',
        `Incident: ${INCIDENT}`,
      ]),
    );
  });

  it('records a call AWS refused as STOP_REFUSED: someone tried', async () => {
    await claimed();
    execution({ status: 'RUNNING', stopDate: undefined });

    await watch(
      stopCall({ errorCode: 'AccessDeniedException', errorMessage: 'not allowed' }),
      deps(),
    );

    expect(entriesOf(INCIDENT)[1]?.outcome).toBe('STOP_REFUSED');
    expect(onlyMessage().subject).toMatch(/^Cordon: refused StopExecution on iam-credentials/);
  });

  it('records nothing for a StopExecution said to succeed on an execution still running (forged)', async () => {
    await claimed();
    execution({ status: 'RUNNING', stopDate: undefined });

    const result = await watch(stopCall(), deps());

    expect(result).toMatchObject({ status: 'ignored' });
    expect(entriesOf(INCIDENT).map((e) => e.outcome)).toEqual(['CLAIMED']);
    expect(published()).toEqual([]);
  });

  it("ignores a StopExecution on an execution that is not one of Cordon's", async () => {
    // The documented call as it is: a state machine of someone else's.
    const result = await watch(fixture('cloudtrail-stop-execution.json'), deps());

    expect(result).toMatchObject({ status: 'ignored' });
    expect(sfnMock).not.toHaveReceivedCommand(DescribeExecutionCommand);
  });
});

describe('the runtime mode parameter (CloudTrail)', () => {
  it('tells responders who set the mode, and what it reads now ("off")', async () => {
    // Act: an assumed-role session overwrites /cordon/mode.
    const result = await watch(apiCallEvent('cloudtrail-ssm-put-parameter.json'), deps());

    // Assert
    expect(result).toMatchObject({ status: 'recorded', ledgerId: WATCH_LEDGER.runtimeMode });
    const [entry] = entriesOf(WATCH_LEDGER.runtimeMode);
    expect(entry).toMatchObject({
      step: 'runtime-mode',
      outcome: 'CHANGED',
      detail: expect.objectContaining({
        parameter: MODE_PARAMETER,
        nowReads: 'off',
        call: expect.objectContaining({
          callerArn: 'arn:aws:sts::123456789012:assumed-role/RoleToBeAssumed/MySessionName',
          callerRoleArn: 'arn:aws:iam::123456789012:role/RoleToBeAssumed',
          sourceIp: '203.0.113.17',
        }),
      }),
    });
    const { subject, lines } = onlyMessage();
    expect(subject).toMatch(/^Cordon runtime mode changed: PutParameter, by arn:aws:sts::/);
    expect(lines).toEqual(
      expect.arrayContaining([
        'Called by: "arn:aws:sts::123456789012:assumed-role/RoleToBeAssumed/MySessionName" ("AssumedRole")',
        'Role: "arn:aws:iam::123456789012:role/RoleToBeAssumed"',
        'Principal id: "AROAIDPPEZS35WEXAMPLE:AssumedRoleSessionName"',
        'From: "203.0.113.17"',
        'At: "2026-03-01T10:20:00Z" in "us-east-1"',
        'Now: it reads "off" (read at 2026-03-01T10:30:00.000Z)',
      ]),
    );
  });

  it('records DeleteParameters naming the mode among others, and that the mode cannot be read now', async () => {
    ssmMock
      .on(GetParameterCommand)
      .rejects(new ParameterNotFound({ message: 'gone', $metadata: {} }));

    await watch(apiCallEvent('cloudtrail-ssm-delete-parameters.json'), deps());

    const [entry] = entriesOf(WATCH_LEDGER.runtimeMode);
    expect(entry?.detail).toMatchObject({ unreadable: 'it does not exist (deleted)' });
    expect(onlyMessage().lines.find((l) => l.startsWith('Now:'))).toMatch(
      /cannot be read: it does not exist .* holds every automatic step for approval/,
    );
  });

  it('ignores a call on another parameter', async () => {
    const result = await watch(
      apiCallEvent('cloudtrail-ssm-put-parameter.json', { name: '/app/feature-flag' }),
      deps(),
    );

    expect(result).toMatchObject({ status: 'ignored' });
    expect(fake.entries()).toEqual([]);
  });

  it('notifies once, however often one CloudTrail record is delivered', async () => {
    const event = apiCallEvent('cloudtrail-ssm-put-parameter.json');

    await Promise.all([watch(event, deps()), watch(event, deps())]);
    await watch(event, deps());

    expect(entriesOf(WATCH_LEDGER.runtimeMode).filter((e) => e.outcome === 'CHANGED')).toHaveLength(
      1,
    );
  });
});

describe("Cordon's rules (CloudTrail)", () => {
  const RULE = 'Cordon-IamCredentialsGuardDutyRule';

  it('tells responders who disabled a rule', async () => {
    const result = await watch(apiCallEvent('cloudtrail-disable-rule.json'), deps());

    expect(result).toMatchObject({ status: 'recorded', ledgerId: WATCH_LEDGER.rules });
    expect(entriesOf(WATCH_LEDGER.rules)[0]).toMatchObject({
      step: 'rules',
      outcome: 'CHANGED',
      detail: expect.objectContaining({ rule: RULE }),
    });
    const { subject, lines } = onlyMessage();
    expect(subject).toMatch(
      new RegExp(`^Cordon rule changed: DisableRule ${RULE}, by arn:aws:sts::`),
    );
    expect(lines).toEqual(
      expect.arrayContaining([
        `Change: disabled rule "${RULE}"`,
        'Role: "arn:aws:iam::123456789012:role/RoleToBeAssumed"',
        'From: "203.0.113.17"',
      ]),
    );
  });

  it('reads PutRule with state DISABLED as disabling the rule', async () => {
    await watch(
      apiCallEvent('cloudtrail-put-rule.json', { name: RULE, state: 'DISABLED' }),
      deps(),
    );

    expect(onlyMessage().lines).toContain(
      `Change: disabled rule "${RULE}" (PutRule with state DISABLED)`,
    );
  });

  it('names the targets removed from a rule, and those put in their place', async () => {
    await watch(apiCallEvent('cloudtrail-remove-targets.json'), deps());
    await watch(apiCallEvent('cloudtrail-put-targets.json'), deps());

    const changes = published().map((p) =>
      (p.Message ?? '').split('\n').find((l) => l.startsWith('Change:')),
    );
    expect(changes).toEqual([
      `Change: removed target(s) "Target0" from rule "${RULE}"`,
      `Change: put target(s) "Target0" -> "arn:aws:sqs:us-east-1:123456789012:somewhere-else" on rule "${RULE}"`,
    ]);
  });
});

describe('events the watch refuses', () => {
  it('refuses a CloudTrail event of a watched kind without a record id: a real one has it', async () => {
    const forged = apiCallEvent('cloudtrail-disable-rule.json', {}, { eventID: undefined });

    await expect(watch(forged, deps())).rejects.toMatchObject({
      name: 'Cordon.InvalidTaskInput',
      message: expect.stringContaining('detail.eventID'),
    });
    expect(fake.entries()).toEqual([]);
  });

  it('records nothing for a read-only call', async () => {
    const result = await watch(apiCallEvent('cloudtrail-ssm-get-parameter.json'), deps());

    expect(result).toMatchObject({ status: 'ignored' });
    expect(fake.entries()).toEqual([]);
    expect(published()).toEqual([]);
  });
});

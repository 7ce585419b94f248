/**
 * Step Functions' 256 KiB payload quota, against findings at its edge: an
 * insider who can import or update Security Hub findings (a 240 KB import,
 * then Note and UserDefinedFields added by BatchUpdateFindings) can bring an
 * event close to it. Past the quota a state fails with
 * States.DataLimitExceeded, which no Catch catches, so nothing on the
 * failure path runs. The local engine has no quota of its own; the
 * rehearsal enforces it as Step Functions does (rehearsal/definitions.ts).
 *
 * Triage takes the event with its execution ARN and playbook (a few hundred
 * bytes more), and the state after triage holds only its decision. Its
 * error replaces the event rather than joining it, so an unreadable finding
 * at the largest size triage can take is still recorded and notified. The
 * last few hundred bytes below the quota cannot be triaged: those executions
 * fail at Triage, and the watch records and notifies them
 * (test/functions/watch/core.test.ts).
 *
 * BatchUpdateFindings is mocked (moto lacks it); everything else is moto.
 */
import { randomUUID } from 'node:crypto';
import { IAMClient, ListAccessKeysCommand } from '@aws-sdk/client-iam';
import { BatchUpdateFindingsCommand, SecurityHubClient } from '@aws-sdk/client-securityhub';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, describe, expect, it } from 'vitest';
import { type CompromisedUser, seedCompromisedUser } from '../../demo/scenario.js';
import { PAYLOAD_QUOTA_BYTES, payloadBytes } from '../../rehearsal/definitions.js';
import { MOTO_ACCOUNT_ID, MOTO_REGION, motoClientConfig, useMoto } from '../support/moto.js';
import { processedFindings, securityHubKeyFinding } from './events.js';
import { explain, onlyExecution, rehearsalHarness } from './harness.js';

const { endpoint } = useMoto();
const harness = rehearsalHarness();
const iam = new IAMClient(motoClientConfig(endpoint));

const hub = mockClient(SecurityHubClient);
afterEach(() => hub.reset());

/** What triage's payload adds to the event: its execution ARN and playbook. */
function triageOverhead(): number {
  const machine = harness.playbook('iam-credentials');
  const executionArn = `arn:aws:states:${MOTO_REGION}:${MOTO_ACCOUNT_ID}:execution:${machine.name}:rehearsal-${randomUUID()}`;
  const wrapped = { event: {}, executionArn, playbook: 'iam-credentials' };
  return payloadBytes(wrapped) - payloadBytes({});
}

/** `event`, its finding padded (UserDefinedFields, as BatchUpdateFindings sets them) to `bytes`. */
function paddedTo(event: Record<string, unknown>, bytes: number): Record<string, unknown> {
  const withPad = (pad: string) => {
    const detail = event.detail as { findings: Array<Record<string, unknown>> };
    const [finding, ...rest] = detail.findings;
    return {
      ...event,
      detail: { ...detail, findings: [{ ...finding, UserDefinedFields: { pad } }, ...rest] },
    };
  };
  const missing = bytes - payloadBytes(withPad(''));
  if (missing < 0) throw new Error(`the event is over ${bytes} bytes already`);
  const padded = withPad('x'.repeat(missing));
  expect(payloadBytes(padded)).toBe(bytes);
  return padded;
}

async function keyStatus(user: CompromisedUser): Promise<string | undefined> {
  const keys = await iam.send(new ListAccessKeysCommand({ UserName: user.userName }));
  return keys.AccessKeyMetadata?.find((k) => k.AccessKeyId === user.leakedKeyId)?.Status;
}

describe('a Security Hub finding at the edge of the payload quota', () => {
  it('is triaged and contained at the largest size triage can take', async () => {
    const user = await seedCompromisedUser();
    hub.on(BatchUpdateFindingsCommand).callsFake((input: unknown) => ({
      ProcessedFindings: processedFindings(input),
      UnprocessedFindings: [],
    }));
    const event = paddedTo(securityHubKeyFinding(user), PAYLOAD_QUOTA_BYTES - triageOverhead());

    const execution = onlyExecution(await harness.engine('approve').rehearse(event));

    expect(execution.status, explain(execution)).toBe('SUCCEEDED');
    expect(execution.states).toContain('Disable access key');
    expect(await keyStatus(user)).toBe('Inactive');
  });

  it('records and notifies an unreadable finding of that size: the error replaces the event', async () => {
    // An account id that is not one: triage cannot read the finding.
    const user = await seedCompromisedUser();
    const base = securityHubKeyFinding(user);
    const detail = base.detail as { findings: Array<Record<string, unknown>> };
    const unreadable = {
      ...base,
      detail: { findings: detail.findings.map((f) => ({ ...f, AwsAccountId: 'not-an-account' })) },
    };
    const event = paddedTo(unreadable, PAYLOAD_QUOTA_BYTES - triageOverhead());

    const execution = onlyExecution(await harness.engine('approve').rehearse(event));

    expect(execution.error?.Error, explain(execution)).toBe('Cordon.PlaybookFailed');
    expect(execution.states).toEqual([
      'Triage',
      'Record invalid finding',
      'Notify invalid finding',
      'Failed',
    ]);
    expect(execution.ledger.map((e) => `${e.step}:${e.outcome}`)).toEqual(['triage:FAILED']);
  });

  it('fails at Triage, acting on nothing, one byte past what triage can take', async () => {
    const user = await seedCompromisedUser();
    const event = paddedTo(securityHubKeyFinding(user), PAYLOAD_QUOTA_BYTES - triageOverhead() + 1);

    const execution = onlyExecution(await harness.engine('approve').rehearse(event));

    expect(execution.status).toBe('FAILED');
    expect(execution.error?.Error).toBe('States.DataLimitExceeded');
    expect(execution.states).toEqual(['Triage']);
    expect(execution.ledger).toEqual([]);
    expect(await keyStatus(user)).toBe('Active');
  });
});

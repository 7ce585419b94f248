import 'aws-sdk-client-mock-vitest/extend';
import { PublishCommand, type PublishCommandInput, SNSClient } from '@aws-sdk/client-sns';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import {
  type NotifyInput,
  NotifyInputSchema,
  notify,
  SUBJECT_MAX,
} from '../../../functions/notify/core.js';
import { requirePrincipal } from '../../../functions/shared/incident.js';
import { asEmail } from '../../support/notices.js';
import {
  ACTOR,
  awsError,
  EXECUTION_ARN,
  fakeLedger,
  incident,
} from '../shared/containment-fixtures.js';

const TOPIC = 'arn:aws:sns:us-east-1:123456789012:cordon';
const snsMock = mockClient(SNSClient);
const sns = new SNSClient({ region: 'us-east-1' });

const published = (): PublishCommandInput => {
  const call = snsMock.commandCalls(PublishCommand)[0];
  if (!call) throw new Error('nothing was published');
  return asEmail(call.args[0].input);
};

const input = (over: Partial<NotifyInput>): NotifyInput =>
  NotifyInputSchema.parse({ kind: 'SUMMARY', executionArn: EXECUTION_ARN, ...over });

describe('notify', () => {
  let fake: ReturnType<typeof fakeLedger>;
  beforeEach(() => {
    snsMock.reset();
    snsMock.on(PublishCommand).resolves({ MessageId: 'm-1' });
    fake = fakeLedger();
  });
  const deps = () => ({ sns, topicArn: TOPIC, ledger: fake.ledger, actor: ACTOR });

  it('publishes a readable summary with every step and records NOTIFIED', async () => {
    // Arrange
    const results = {
      disableAccessKey: {
        step: 'disableAccessKey',
        action: 'disable-access-key',
        outcome: 'CONTAINED' as const,
        mode: 'auto' as const,
        summary: 'disable access key AKIAIOSFODNN7EXAMPLE of user alice',
      },
    };
    // Act
    const out = await notify(input({ incident: incident(), results }), deps());
    // Assert
    expect(out).toEqual({ messageId: 'm-1' });
    const { Subject, Message, TopicArn } = published();
    expect(TopicArn).toBe(TOPIC);
    expect(Subject).toBe(
      'Cordon summary: HIGH in 123456789012: UnauthorizedAccess:IAMUser/InstanceCredentialExfiltration.O...',
    );
    expect(Message).toContain('Playbook: iam-credentials');
    expect(Message).toContain('Severity: HIGH (8)');
    expect(Message).toContain('Account / region: 123456789012 / "us-east-1"');
    expect(Message).toContain('Principal: IAMUser "arn:aws:iam::123456789012:user/alice"');
    expect(Message).toContain(
      '- disableAccessKey: CONTAINED [auto] disable access key AKIAIOSFODNN7EXAMPLE of user alice',
    );
    expect(Message).toContain(`Execution: ${EXECUTION_ARN}`);
    expect(fake.entries()).toEqual([
      expect.objectContaining({
        step: 'notify',
        action: 'notify',
        outcome: 'NOTIFIED',
        detail: { kind: 'SUMMARY', messageId: 'm-1' },
      }),
    ]);
  });

  it('leaves out the steps that do not apply to what the finding names', async () => {
    // Arrange: a user's finding; revoking role sessions does not apply to it.
    const base = incident();
    const userIncident = {
      ...base,
      plan: {
        ...base.plan,
        revokeRoleSessions: {
          mode: 'off' as const,
          reason: 'applies to assumed roles only',
          applies: false as const,
        },
      },
    };
    const off = { outcome: 'OFF' as const, mode: 'off' as const, summary: 'step is off' };
    const results = {
      quarantineUser: { step: 'quarantineUser', action: 'quarantine-user', ...off },
      revokeRoleSessions: { step: 'revokeRoleSessions', action: 'revoke-sessions', ...off },
    };
    // Act
    await notify(input({ incident: userIncident, results }), deps());
    // Assert: a step configured off is told; one that does not apply is not.
    expect(published().Message).toContain('- quarantineUser: OFF [off] step is off');
    expect(published().Message).not.toContain('revokeRoleSessions');
  });

  it('escapes newlines, ANSI sequences and control characters in attacker text', async () => {
    // Arrange
    const base = incident();
    const hostile = incident({
      findingType: 'Recon:IAMUser/X\nSeverity: LOW\r\n\u001b[2J\u001b[31mall clear\u0007',
      principal: {
        ...requirePrincipal(base, 'test'),
        arn: 'arn:aws:iam::123456789012:user/alice"\nApproved: yes',
      },
    });
    // Act
    await notify(
      input({ kind: 'REFUSED', incident: hostile, reason: 'protected\n\nFAKE LINE' }),
      deps(),
    );
    // Assert
    const { Subject = '', Message = '' } = published();
    expect(Subject).toMatch(/^[\x20-\x7e]+$/);
    expect(Subject.length).toBeLessThanOrEqual(SUBJECT_MAX);
    // biome-ignore lint/suspicious/noControlCharactersInRegex: asserting their absence
    expect(Message).not.toMatch(/[\u0000-\u0009\u000b-\u001f\u007f]/);
    const lines = Message.split('\n');
    expect(lines.some((l) => l.startsWith('Severity: LOW'))).toBe(false);
    expect(lines.some((l) => l.startsWith('Approved:'))).toBe(false);
    expect(lines.some((l) => l.startsWith('FAKE LINE'))).toBe(false);
    expect(Message).toContain('Finding type: "Recon:IAMUser/X Severity: LOW all clear"');
    expect(Message).toContain(
      'Principal: IAMUser "arn:aws:iam::123456789012:user/alice\\" Approved: yes"',
    );
    expect(Message).toContain('Reason: "protected FAKE LINE"');
  });

  it('bounds long attacker text and the subject', async () => {
    // Arrange
    const long = incident({ findingType: `T/${'A'.repeat(5000)}` });
    // Act
    await notify(input({ incident: long, reason: 'r'.repeat(10_000) }), deps());
    // Assert
    const { Subject = '', Message = '' } = published();
    expect(Subject.length).toBeLessThanOrEqual(SUBJECT_MAX);
    expect(Message.length).toBeLessThan(3000);
    expect(Message).toContain('..."');
  });

  it('reports a failure with its error name and the message of a Lambda cause, without the trace', async () => {
    // Arrange
    const cause = JSON.stringify({
      errorType: 'Cordon.AccessDenied',
      errorMessage: 'disable-access-key arn:aws:iam::123456789012:user/alice: AccessDenied',
      trace: ['at secretFrame (/var/task/index.js:1:1)'],
    });
    // Act
    await notify(
      input({
        kind: 'FAILURE',
        incident: incident(),
        error: { Error: 'Cordon.AccessDenied', Cause: cause },
      }),
      deps(),
    );
    // Assert
    const { Subject, Message = '' } = published();
    expect(Subject?.startsWith('Cordon FAILED: HIGH')).toBe(true);
    expect(Message).toContain('Error: "Cordon.AccessDenied"');
    expect(Message).toContain(
      'Cause: "disable-access-key arn:aws:iam::123456789012:user/alice: AccessDenied"',
    );
    expect(Message).not.toContain('secretFrame');
  });

  it('tells responders that an approval timed out and the step was not acted on', async () => {
    await notify(
      input({
        kind: 'APPROVAL_TIMEOUT',
        incident: incident(),
        results: {
          quarantineUser: {
            step: 'quarantineUser',
            action: 'quarantine-user',
            outcome: 'NOT_ACTED_ON',
            mode: 'approve',
            summary: 'approval timed out: not acted on',
          },
        },
      }),
      deps(),
    );

    const { Subject, Message = '' } = published();
    expect(
      Subject?.startsWith('Cordon did not act (approval timed out): HIGH in 123456789012: '),
    ).toBe(true);
    expect(Subject?.length).toBeLessThanOrEqual(100);
    expect(Message).toContain(
      '- quarantineUser: NOT_ACTED_ON [approve] approval timed out: not acted on',
    );
  });

  it('publishes without an incident and writes no ledger entry', async () => {
    // Act
    await notify(
      input({
        kind: 'FAILURE',
        error: { Error: 'Cordon.InvalidFinding', Cause: 'no detail.resource' },
      }),
      deps(),
    );
    // Assert
    expect(published().Subject).toBe('Cordon FAILED');
    expect(published().Message).toContain('Incident: none');
    expect(fake.entries()).toEqual([]);
  });

  it('surfaces SNS throttling as retryable Cordon.Throttled', async () => {
    // Arrange
    snsMock.on(PublishCommand).rejects(awsError('Throttling'));
    // Act
    const attempt = notify(input({ incident: incident() }), deps());
    // Assert
    await expect(attempt).rejects.toMatchObject({ name: 'Cordon.Throttled', retryable: true });
    expect(fake.entries()).toEqual([]);
  });

  it('refuses an input carrying a task token', () => {
    expect(
      NotifyInputSchema.safeParse({ kind: 'SUMMARY', executionArn: EXECUTION_ARN, taskToken: 't' })
        .success,
    ).toBe(false);
  });
});

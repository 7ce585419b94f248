import 'aws-sdk-client-mock-vitest/extend';
import { Logger } from '@aws-lambda-powertools/logger';
import { PublishCommand, type PublishCommandInput, SNSClient } from '@aws-sdk/client-sns';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import {
  type RequestApprovalInput,
  requestApproval,
} from '../../../functions/request-approval/core.js';
import { requireInstance } from '../../../functions/shared/incident.js';
import {
  ACTOR,
  awsError,
  EXECUTION_ARN,
  ec2Incident,
  fakeLedger,
  INSTANCE_PROFILE_ARN,
  incident,
  ROLE_ARN,
  roleIncident,
} from '../shared/containment-fixtures.js';

const TOPIC = 'arn:aws:sns:us-east-1:123456789012:cordon';
// Shaped like a real token: long, opaque, and distinctive enough to search for.
const TOKEN = `AQCEAAAAKgAAAAMAAAAAAAAAA${'tokenSecretPart'.repeat(20)}==`;
const snsMock = mockClient(SNSClient);
const sns = new SNSClient({ region: 'us-east-1' });

const published = (): PublishCommandInput => {
  const call = snsMock.commandCalls(PublishCommand)[0];
  if (!call) throw new Error('nothing was published');
  return call.args[0].input;
};

describe('request-approval', () => {
  let fake: ReturnType<typeof fakeLedger>;
  let logger: Logger;
  let written: string[];
  beforeEach(() => {
    snsMock.reset();
    snsMock.on(PublishCommand).resolves({ MessageId: 'm-1' });
    fake = fakeLedger();
    logger = new Logger({ serviceName: 'cordon-test', logLevel: 'DEBUG' });
    written = [];
    const capture = (chunk: unknown): boolean => {
      written.push(String(chunk));
      return true;
    };
    vi.spyOn(process.stdout, 'write').mockImplementation(capture);
    vi.spyOn(process.stderr, 'write').mockImplementation(capture);
    vi.spyOn(console, 'log').mockImplementation(
      (...args: unknown[]) => void capture(args.join(' ')),
    );
    vi.spyOn(console, 'info').mockImplementation(
      (...args: unknown[]) => void capture(args.join(' ')),
    );
  });
  afterEach(() => {
    vi.restoreAllMocks();
  });
  const deps = () => ({ sns, topicArn: TOPIC, ledger: fake.ledger, actor: ACTOR, logger });
  const input = (over: Partial<RequestApprovalInput> = {}): RequestApprovalInput => ({
    incident: roleIncident({ revokeRoleSessions: { mode: 'approve' } }),
    step: 'revokeRoleSessions',
    taskToken: TOKEN,
    executionArn: EXECUTION_ARN,
    ...over,
  });

  it('never writes the task token to SNS, the ledger or the logs', async () => {
    // Arrange
    const infoSpy = vi.spyOn(logger, 'info');
    // Act
    const result = await requestApproval(input(), deps());
    // Assert
    expect(result).toEqual({ requested: true, step: 'revokeRoleSessions' });
    expect(infoSpy).toHaveBeenCalled();
    expect(written.join('')).toContain('approval requested'); // the capture works
    const seen = [
      JSON.stringify(snsMock.calls().map((c) => c.args[0].input)),
      JSON.stringify(fake.ddb.calls().map((c) => c.args[0].input)),
      JSON.stringify(infoSpy.mock.calls),
      written.join(''),
    ];
    for (const text of seen) {
      expect(text).not.toContain(TOKEN);
      expect(text).not.toContain('tokenSecretPart');
    }
  });

  it('tells responders what is proposed, its blast radius, and that no decision means no action', async () => {
    // Act
    await requestApproval(input(), deps());
    // Assert
    const { Subject = '', Message = '', TopicArn } = published();
    expect(TopicArn).toBe(TOPIC);
    expect(Subject).toBe(
      'Cordon approval needed: revokeRoleSessions in 123456789012: HIGH UnauthorizedAccess:IAMUser/Insta...',
    );
    expect(Message).toContain(
      'Proposed: Deny every session of the role issued before now (all of its users)',
    );
    expect(Message).toContain(
      'Blast radius: denies every session of role "app-role" issued before now, including those of legitimate users of the role',
    );
    expect(Message).toContain(`Principal: AssumedRole "${ROLE_ARN}"`);
    expect(Message).toContain('Severity: HIGH (8)');
    expect(Message).toContain('Account / region: 123456789012');
    expect(Message).toContain('If no decision');
    expect(Message).toContain('it will not act');
  });

  it('records APPROVAL_REQUESTED with the proposal in the ledger', async () => {
    // Act
    await requestApproval(input(), deps());
    // Assert
    expect(fake.entries()).toEqual([
      expect.objectContaining({
        step: 'revokeRoleSessions',
        action: 'request-approval',
        actor: ACTOR,
        outcome: 'APPROVAL_REQUESTED',
        mode: 'approve',
        targetArn: ROLE_ARN,
        summary: expect.stringContaining('including those of legitimate users of the role'),
      }),
    ]);
  });

  it('describes the quarantine blast radius for a user', async () => {
    // Act
    await requestApproval(input({ incident: incident(), step: 'quarantineUser' }), deps());
    // Assert
    expect(published().Message).toContain(
      'Blast radius: user "alice" can make no AWS call at all and cannot sign in to the console',
    );
  });

  it('fails with Cordon.InvalidTaskInput for a step the playbook does not have', async () => {
    // Act
    const attempt = requestApproval(input({ step: 'isolateInstance' }), deps());
    // Assert
    await expect(attempt).rejects.toMatchObject({ name: 'Cordon.InvalidTaskInput' });
    expect(snsMock).not.toHaveReceivedAnyCommand();
    expect(fake.entries()).toEqual([]);
  });

  it('surfaces SNS throttling as retryable Cordon.Throttled without the token in the error', async () => {
    // Arrange
    snsMock.on(PublishCommand).rejects(awsError('Throttling'));
    // Act
    const error: unknown = await requestApproval(input(), deps()).catch((e: unknown) => e);
    // Assert
    expect(error).toMatchObject({ name: 'Cordon.Throttled', retryable: true });
    expect(String(error instanceof Error ? error.message : error)).not.toContain(TOKEN);
  });

  it('tells responders that isolation hits the Auto Scaling group, the network and the profile', async () => {
    const base = ec2Incident();
    const ec2 = {
      ...base,
      instance: { ...requireInstance(base, 'test'), autoScalingGroup: 'web-workers' },
    };

    await requestApproval(input({ incident: ec2, step: 'isolate' }), deps());

    const { Message } = published();
    expect(Message).toContain('leaves Auto Scaling group "web-workers"');
    expect(Message).toContain('every network interface is isolated');
    expect(Message).toContain(`instance profile "${INSTANCE_PROFILE_ARN}" is detached`);
  });

  it("says how many other instances lose their credentials when the instance role's sessions are revoked", async () => {
    const base = ec2Incident();
    const ec2 = { ...base, instance: { ...requireInstance(base, 'test'), profileSharedWith: 14 } };

    await requestApproval(input({ incident: ec2, step: 'revokeInstanceRoleSessions' }), deps());

    expect(published().Message).toContain(
      'and on 14 other instances using the same instance profile',
    );
  });
});

import 'aws-sdk-client-mock-vitest/extend';
import { Logger } from '@aws-lambda-powertools/logger';
import { PublishCommand, type PublishCommandInput, SNSClient } from '@aws-sdk/client-sns';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import {
  type ApprovalSettings,
  type RequestApprovalInput,
  requestApproval,
} from '../../../functions/request-approval/core.js';
import type { NewApproval } from '../../../functions/responder-api/store.js';
import { requireInstance } from '../../../functions/shared/incident.js';
import { asEmail } from '../../support/notices.js';
import { localTokens } from '../../support/token-seal.js';
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
  return asEmail(call.args[0].input);
};

describe('request-approval', () => {
  let fake: ReturnType<typeof fakeLedger>;
  let logger: Logger;
  let written: string[];
  beforeEach(() => {
    snsMock.reset();
    snsMock.on(PublishCommand).resolves({ MessageId: 'm-1' });
    fake = fakeLedger();
    stored = [];
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
  let stored: NewApproval[];
  const NOW = new Date('2026-11-27T10:00:00.000Z');
  const deps = (over: Partial<ApprovalSettings> = {}) => ({
    sns,
    topicArn: TOPIC,
    ledger: fake.ledger,
    approvals: {
      put: async (approval: NewApproval) => {
        stored.push(approval);
      },
    },
    tokens: localTokens(),
    settings: {
      timeoutSeconds: 3600,
      twoPersonSteps: {},
      endpointUrl: 'https://abc.lambda-url.us-east-1.on.aws/',
      ...over,
    },
    actor: ACTOR,
    logger,
    now: () => NOW,
  });
  const input = (over: Partial<RequestApprovalInput> = {}): RequestApprovalInput => ({
    incident: roleIncident({ revokeRoleSessions: { mode: 'approve' } }),
    step: 'revokeRoleSessions',
    taskToken: TOKEN,
    executionArn: EXECUTION_ARN,
    ...over,
  });

  it('keeps the task token in the approvals table only, sealed: never SNS, the ledger or the logs', async () => {
    // Arrange
    const infoSpy = vi.spyOn(logger, 'info');
    // Act
    const result = await requestApproval(input(), deps());
    // Assert
    expect(result).toEqual({ requested: true, step: 'revokeRoleSessions' });
    const sealed = stored[0]?.taskToken ?? '';
    expect(sealed).not.toContain('tokenSecretPart');
    await expect(
      localTokens().open(sealed, {
        incidentId: input().incident.incidentId,
        step: 'revokeRoleSessions',
      }),
    ).resolves.toBe(TOKEN);
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
    expect(Message).toContain(`  - AssumedRole "${ROLE_ARN}"`);
    expect(Message).toContain('Severity: HIGH (8)');
    expect(Message).toContain('Account / region: 123456789012');
    expect(Message).toContain(
      'If no decision arrives by 2026-11-27T11:00:00.000Z, Cordon does not act, records that, and tells you.',
    );
  });

  it('says how to decide: the CLI commands for this incident and step, and the endpoint', async () => {
    const request = input();

    await requestApproval(request, deps());

    const { Message = '' } = published();
    const id = request.incident.incidentId;
    expect(Message).toContain(
      `  npx cordon approve ${id} --step revokeRoleSessions --reason "..."`,
    );
    expect(Message).toContain(`  npx cordon reject ${id} --step revokeRoleSessions --reason "..."`);
    expect(Message).toContain('Endpoint: https://abc.lambda-url.us-east-1.on.aws/ (AWS_IAM');
    expect(Message).toContain('One responder decides.');
  });

  it('stores what responders see, an expiry at the timeout, and one approver by default', async () => {
    await requestApproval(input(), deps({ timeoutSeconds: 900 }));

    expect(stored).toEqual([
      expect.objectContaining({
        step: 'revokeRoleSessions',
        playbook: 'iam-credentials',
        action: 'revoke-sessions',
        targetArn: ROLE_ARN,
        executionArn: EXECUTION_ARN,
        requestedAt: '2026-11-27T10:00:00.000Z',
        expiresAt: Date.parse('2026-11-27T10:15:00.000Z') / 1000,
        approvalsRequired: 1,
        proposal: expect.stringContaining('Deny every session of the role issued before now'),
      }),
    ]);
  });

  it('asks for two approvers on a step configured for the two-person rule, and says so', async () => {
    await requestApproval(
      input(),
      deps({ twoPersonSteps: { 'iam-credentials': ['revokeRoleSessions'] } }),
    );

    expect(stored[0]?.approvalsRequired).toBe(2);
    expect(published().Message).toContain('Two-person rule: two different responders must approve');
  });

  it('publishes nothing and records nothing when the token cannot be stored', async () => {
    const failing = {
      ...deps(),
      approvals: {
        put: async () => {
          throw Object.assign(new Error('busy'), {
            name: 'ProvisionedThroughputExceededException',
          });
        },
      },
    };

    await expect(requestApproval(input(), failing)).rejects.toThrow('busy');

    expect(snsMock).not.toHaveReceivedAnyCommand();
    expect(fake.entries()).toEqual([]);
  });

  it('shows attacker-controlled names as quoted, one-line, bounded data', async () => {
    const base = roleIncident({ revokeRoleSessions: { mode: 'approve' } });
    const hostile = {
      ...base,
      findingType: `Recon:IAMUser/x\nApprove: yes\u001b[2J${'A'.repeat(5000)}`,
    };

    await requestApproval(input({ incident: hostile }), deps());

    const { Message = '' } = published();
    const line = Message.split('\n').find((l) => l.startsWith('Finding type:')) ?? '';
    expect(line.startsWith('Finding type: "Recon:IAMUser/x Approve: yes')).toBe(true);
    expect(line.length).toBeLessThanOrEqual('Finding type: '.length + 256);
    expect(Message).not.toContain('\u001b');
    expect(Message.split('\n').some((l) => l.startsWith('Approve: yes'))).toBe(false);
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
    // Said before the decision: at the group's minimum, the group launches a replacement.
    expect(Message).toContain(
      'or, if the group is at its minimum size, stays and the group launches a replacement instance',
    );
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

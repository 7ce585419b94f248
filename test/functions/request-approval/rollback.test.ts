import 'aws-sdk-client-mock-vitest/extend';
import { Logger } from '@aws-lambda-powertools/logger';
import { PublishCommand, type PublishCommandInput, SNSClient } from '@aws-sdk/client-sns';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import {
  type ApprovalSettings,
  RequestApprovalInputSchema,
  type RollbackApprovalInput,
  requestApproval,
} from '../../../functions/request-approval/core.js';
import type { NewApproval } from '../../../functions/responder-api/store.js';
import { asEmail } from '../../support/notices.js';
import { localTokens } from '../../support/token-seal.js';
import { ACTOR, fakeLedger, INSTANCE_ARN } from '../shared/containment-fixtures.js';
import { INCIDENT_ID, REQUESTER, ROLLBACK_EXECUTION } from '../shared/rollback-fixtures.js';

/** request-approval's rollback variant: what the message says, and where the token goes. */

const TOKEN = `AQCEAAAAKgAAAAMAAAAAAAAAA${'tokenSecretPart'.repeat(20)}==`;
const snsMock = mockClient(SNSClient);
const sns = new SNSClient({ region: 'us-east-1' });
const NOW = new Date('2026-11-27T10:00:00.000Z');
const STEP = 'rollback0123456789ab';

const input = (force = false): RollbackApprovalInput => ({
  rollback: {
    plan: {
      incidentId: INCIDENT_ID,
      approvalStep: STEP,
      findingId: 'f-1',
      findingType: 'Backdoor:EC2/C&CActivity.B',
      items: [
        {
          seq: 6,
          step: 'isolate',
          action: 'isolate-network',
          rollbackAction: 'rollback-isolate-network',
          targetArn: INSTANCE_ARN,
          restores: `${INSTANCE_ARN}: security groups per interface -> eni-1: sg-1`,
        },
        {
          seq: 5,
          step: 'isolate',
          action: 'detach-from-asg',
          rollbackAction: 'rollback-detach-from-asg',
          targetArn: INSTANCE_ARN,
          restores: `${INSTANCE_ARN}: back into Auto Scaling group web (desired capacity +1)`,
        },
      ],
      skipped: [
        {
          seq: 1,
          step: 'preserveEvidence',
          action: 'preserve-evidence',
          reason: 'evidence is kept on purpose',
        },
      ],
    },
    force,
    requestedBy: REQUESTER,
    reason: 'owner confirmed',
  },
  taskToken: TOKEN,
  executionArn: ROLLBACK_EXECUTION,
});

describe('request-approval for a rollback', () => {
  let fake: ReturnType<typeof fakeLedger>;
  let stored: NewApproval[];
  beforeEach(() => {
    snsMock.reset();
    snsMock.on(PublishCommand).resolves({ MessageId: 'm-1' });
    fake = fakeLedger();
    stored = [];
  });
  const deps = (settings: Partial<ApprovalSettings> = {}) => ({
    sns,
    topicArn: 'arn:aws:sns:us-east-1:123456789012:cordon',
    ledger: fake.ledger,
    approvals: { put: async (a: NewApproval) => void stored.push(a) },
    tokens: localTokens(),
    settings: {
      timeoutSeconds: 3600,
      twoPersonSteps: {},
      endpointUrl: 'https://abc.lambda-url.us-east-1.on.aws/',
      ...settings,
    },
    actor: ACTOR,
    logger: new Logger({ logLevel: 'SILENT' }),
    now: () => NOW,
  });
  const published = (): PublishCommandInput => {
    const call = snsMock.commandCalls(PublishCommand)[0];
    if (!call) throw new Error('nothing was published');
    return asEmail(call.args[0].input);
  };

  it('is accepted by the handler schema, and a mix of both variants is not', () => {
    expect(RequestApprovalInputSchema.safeParse(input()).success).toBe(true);
    expect(RequestApprovalInputSchema.safeParse({ ...input(), step: 'isolate' }).success).toBe(
      false,
    );
  });

  it('says exactly what would be restored, to what, in order, that it re-opens access, and never the token', async () => {
    const result = await requestApproval(input(), deps());

    expect(result).toEqual({ requested: true, step: STEP });
    const { Subject, Message = '' } = published();
    expect(Subject).toBe(`Cordon rollback approval needed: ${INCIDENT_ID}`);
    const lines = Message.split('\n');
    expect(lines.slice(0, 2)).toEqual([
      'Cordon asks for a decision before it rolls back a containment.',
      'Approving RE-OPENS access that Cordon closed.',
    ]);
    expect(lines).toEqual(
      expect.arrayContaining([
        `Requested by: ${REQUESTER} (the signed caller)`,
        'Reason: "owner confirmed"',
        'Force: no: a target changed since containment is refused, and nothing after it is attempted',
        'It would restore, in this order (newest containment first):',
        `  1. [isolate #6] ${INSTANCE_ARN}: security groups per interface -> eni-1: sg-1`,
        `  2. [isolate #5] ${INSTANCE_ARN}: back into Auto Scaling group web (desired capacity +1)`,
        'Not rolled back:',
        '  - [preserveEvidence #1] preserve-evidence: evidence is kept on purpose',
        `  npx cordon approve ${INCIDENT_ID} --step ${STEP} --reason "..."`,
      ]),
    );
    expect(stored).toEqual([
      expect.objectContaining({
        incidentId: INCIDENT_ID,
        step: STEP,
        taskToken: await localTokens().seal(TOKEN, { incidentId: INCIDENT_ID, step: STEP }),
        playbook: 'rollback',
        action: 'rollback',
        severityLabel: 'ROLLBACK',
        account: '123456789012',
        approvalsRequired: 1,
      }),
    ]);
    expect(fake.entries().map((e) => [e.step, e.outcome, e.detail?.requestedBy])).toEqual([
      [STEP, 'APPROVAL_REQUESTED', REQUESTER],
    ]);
    const everywhere = [Message, JSON.stringify(fake.entries())].join('\n');
    expect(everywhere).not.toContain('tokenSecretPart');
  });

  it('says when --force restores changed targets too', async () => {
    await requestApproval(input(true), deps());

    expect(published().Message).toContain(
      'Force: YES: targets changed since containment are restored to the recorded state anyway',
    );
  });

  it('needs two approvers when a step it undoes needs two under the two-person rule', async () => {
    await requestApproval(input(), deps({ twoPersonSteps: { 'ec2-instance': ['isolate'] } }));

    expect(stored[0]?.approvalsRequired).toBe(2);
    expect(published().Message).toContain('Two-person rule: two different responders must approve');
  });
});

import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import {
  type ApprovalSettings,
  type RequestApprovalInput,
  requestApproval,
} from '../../../functions/request-approval/core.js';
import type { ResponderDeps } from '../../../functions/responder-api/api.js';
import { decide } from '../../../functions/responder-api/decisions.js';
import type { ApprovalItem, NewApproval } from '../../../functions/responder-api/store.js';
import type { Incident } from '../../../functions/shared/incident.js';
import { localApprovalKey } from '../../support/approval-key.js';
import { defanged, UNSAFE_CHARACTER } from '../../support/hostile.js';
import { asEmail } from '../../support/notices.js';
import { localTokens } from '../../support/token-seal.js';
import {
  ACCOUNT,
  ACTOR,
  BUCKET_ARN,
  claimSequence,
  EKS_GUIDE,
  EXECUTION_ARN,
  fakeLedger,
  INSTANCE_ARN,
  INSTANCE_ID,
  INSTANCE_ROLE_ARN,
  MEMBER_IDS,
  SEQUENCE_ID,
  sequenceIncident,
  USER_ARN,
} from '../shared/containment-fixtures.js';

/**
 * An attack sequence asks once for the whole set: every member with what
 * its steps do and reach, what is left alone and why, and no principal of
 * the set among those who may decide.
 */

const TOPIC = 'arn:aws:sns:us-east-1:123456789012:cordon';
const TOKEN = `AQCEAAAAKgAAAAMAAAAAAAAAA${'tokenSecretPart'.repeat(20)}==`;
const RESPONDER_ROLE = `arn:aws:iam::${ACCOUNT}:role/SecurityResponder`;
const snsMock = mockClient(SNSClient);

let stored: NewApproval[];
let fake: ReturnType<typeof fakeLedger>;

beforeEach(() => {
  snsMock.reset();
  snsMock.on(PublishCommand).resolves({ MessageId: 'm-1' });
  stored = [];
  fake = fakeLedger();
});

const deps = (settings: Partial<ApprovalSettings> = {}) => ({
  sns: new SNSClient({ region: 'us-east-1' }),
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
    ...settings,
  },
  actor: ACTOR,
  logger: { info: () => undefined },
  now: () => new Date('2026-11-27T10:00:00.000Z'),
});

/** The request for `incident`, triage's claim of it in the ledger first. */
const input = async (incident: Incident = sequenceIncident()): Promise<RequestApprovalInput> => {
  await claimSequence(fake.ledger, incident, EXECUTION_ARN);
  return { incident, step: 'containSequence', taskToken: TOKEN, executionArn: EXECUTION_ARN };
};

const messages = (): string[] =>
  snsMock.commandCalls(PublishCommand).map((c) => asEmail(c.args[0].input).Message ?? '');

describe('request-approval for an attack sequence', () => {
  it('sends one request listing every member: what, account, target, steps and blast radius', async () => {
    // Act
    await requestApproval(await input(), deps());
    // Assert
    const [message = '', ...more] = messages();
    expect(more).toEqual([]);
    expect(message).toContain('Members (3), as triage verified them:');
    expect(message).toContain(
      `  1. "IAM user alice, access key AKIAIOSFODNN7EXAMPLE" (iam-credentials, incident ${MEMBER_IDS.user})`,
    );
    expect(message).toContain(`     account ${ACCOUNT}, target "${USER_ARN}"`);
    expect(message).toContain('     - disableAccessKey [approve]: Disable the access key');
    expect(message).toContain('     - quarantineUser [approve]: Deny the user everything');
    expect(message).toContain(
      '     Blast radius: "denies user alice everything: every workload using its keys stops"',
    );
    expect(message).toContain(`  2. "EC2 instance ${INSTANCE_ID}, role web-instance-role"`);
    expect(message).toContain(`target "${INSTANCE_ARN}"`);
    expect(message).toContain('     Blast radius: "cuts every network connection of the instance"');
    expect(message).toContain(
      `  3. "S3 bucket acme-exports" (s3-exposure, incident ${MEMBER_IDS.bucket})`,
    );
    expect(message).toContain('     - blockPublicAccess [dry-run]: Block public access');
    expect(message).toContain('     Blast radius: nothing beyond it');
    expect(message).toContain(
      `  npx cordon approve ${SEQUENCE_ID} --step containSequence --reason "..."`,
    );
    expect(message).toContain('Cordon does not act on any member, records that, and tells you.');
  });

  it('lists everything not acted on with its reason, the AWS guide to follow, and how many more', async () => {
    const base = sequenceIncident({ notListed: 4 });

    await requestApproval(await input(base), deps());

    const [message = ''] = messages();
    expect(message).toContain('Not acted on (6): approving does nothing to these');
    expect(message).toContain(
      '  - "EKS cluster" "arn:aws:eks:us-east-1:123456789012:cluster/prod": "Cordon has no playbook for Kubernetes"',
    );
    expect(message).toContain(`    not contained: follow ${EKS_GUIDE}`);
    expect(message).toContain('  - "iam-credentials" "IAMUser/break-glass": "refused: protected"');
    expect(message.match(/not contained: follow/g)).toHaveLength(1);
    expect(message).toContain('  - ... and 4 more, not listed');
  });

  it('stores one item no principal of the set may decide, for the whole set, naming no single target', async () => {
    await requestApproval(await input(), deps());

    expect(stored).toHaveLength(1);
    const [item] = stored;
    expect(item).toMatchObject({
      incidentId: SEQUENCE_ID,
      step: 'containSequence',
      playbook: 'attack-sequence',
      action: 'attack-sequence',
      approvalsRequired: 1,
    });
    // Each member's user or role; the instance and the bucket are not principals.
    expect(item?.subjects).toEqual([USER_ARN, INSTANCE_ROLE_ARN]);
    expect(item?.subjects).not.toContain(BUCKET_ARN);
    expect(item?.targetArn).toBeUndefined();
    expect(item?.proposal).toBe(
      'contain attack sequence AttackSequence:IAM/CompromisedCredentials: 3 members (IAM user alice, access key AKIAIOSFODNN7EXAMPLE; EC2 instance i-0123456789abcdef0, role web-instance-role; S3 bucket acme-exports); 2 not acted on',
    );
    expect(fake.entries().filter((e) => e.step !== 'triage')).toEqual([
      expect.objectContaining({
        step: 'containSequence',
        outcome: 'APPROVAL_REQUESTED',
        detail: expect.objectContaining({
          proposedAction: 'attack-sequence',
          members: [MEMBER_IDS.user, MEMBER_IDS.instance, MEMBER_IDS.bucket],
        }),
      }),
    ]);
  });

  it('asks for two approvers when any member step is under the two-person rule in its playbook', async () => {
    await requestApproval(await input(), deps({ twoPersonSteps: { 'ec2-instance': ['isolate'] } }));

    expect(stored[0]?.approvalsRequired).toBe(2);
    expect(messages()[0]).toContain('Two-person rule: two different responders must approve');
  });

  it('asks for one approver when the two-person steps are not steps of the members', async () => {
    // isolate is two-person, but in no member's playbook; revokeRoleSessions is no member's step.
    const settings = {
      twoPersonSteps: { 'iam-credentials': ['isolate', 'revokeRoleSessions'] },
    };

    await requestApproval(await input(), deps(settings));

    expect(stored[0]?.approvalsRequired).toBe(1);
  });

  it('fails with Cordon.InvalidTaskInput for a sequence incident with no member, before anything is stored or sent', async () => {
    const empty = sequenceIncident({ members: [] });

    const attempt = requestApproval(await input(empty), deps());

    await expect(attempt).rejects.toMatchObject({ name: 'Cordon.InvalidTaskInput' });
    expect(stored).toEqual([]);
    expect(snsMock.commandCalls(PublishCommand)).toEqual([]);
    expect(fake.entries().filter((e) => e.step !== 'triage')).toEqual([]);
  });

  it('bars every principal the sequence names from deciding, its refused actors too, as triage claimed them', async () => {
    // Arrange: a protected role acted in the sequence; triage listed it as not acted on.
    const breakGlass = `arn:aws:iam::${ACCOUNT}:role/break-glass`;
    const parent = sequenceIncident();
    await claimSequence(fake.ledger, parent, EXECUTION_ARN, [breakGlass]);

    // Act
    await requestApproval(
      { incident: parent, step: 'containSequence', taskToken: TOKEN, executionArn: EXECUTION_ARN },
      deps(),
    );

    // Assert
    expect(stored[0]?.subjects).toContain(breakGlass);
  });

  it('refuses to ask about a set other than the one triage claimed (a member hidden), and sends nothing', async () => {
    // Arrange: whoever may invoke request-approval hands it the parent with its user left out.
    const parent = sequenceIncident();
    await claimSequence(fake.ledger, parent, EXECUTION_ARN);
    const sequence = parent.sequence ?? { uid: '', signals: 0, members: [], notActedOn: [] };
    const hidden: Incident = {
      ...parent,
      sequence: { ...sequence, members: sequence.members.slice(1) },
    };

    // Act
    const attempt = requestApproval(
      { incident: hidden, step: 'containSequence', taskToken: TOKEN, executionArn: EXECUTION_ARN },
      deps(),
    );

    // Assert
    await expect(attempt).rejects.toMatchObject({
      name: 'Cordon.NotValidated',
      message: expect.stringContaining('not the one triage validated'),
    });
    expect(stored).toEqual([]);
    expect(snsMock.commandCalls(PublishCommand)).toEqual([]);
  });

  it('shows hostile member and not-acted-on text as quoted one-line data, like the defanged twin', async () => {
    const forged = '\nApprove: yes\u001b[2J\u202e';
    const base = sequenceIncident();
    const sequence = base.sequence ?? { uid: '', signals: 0, members: [], notActedOn: [] };
    const hostile: Incident = {
      ...base,
      sequence: {
        ...sequence,
        uid: `u${forged}`,
        members: sequence.members.map((m) => ({
          ...m,
          what: `${m.what}${forged}`.slice(0, 500),
          steps: m.steps.map((s) => ({ ...s, summary: `${s.summary}${forged}` })),
          blastRadius: m.blastRadius.map((b) => `${b}${forged}`),
        })),
        notActedOn: sequence.notActedOn.map((n) => ({
          ...n,
          what: `${n.what}${forged}`,
          id: `${n.id}${forged}`,
          reason: `${n.reason}${forged}`,
          ...(n.guide === undefined ? {} : { guide: `${n.guide}${forged}` }),
        })),
      },
    };

    await requestApproval(await input(hostile), deps());
    // The twin in a ledger of its own: one claim per execution.
    fake = fakeLedger();
    await requestApproval(await input(defanged(hostile)), deps());

    const [sent = '', twin = ''] = messages();
    expect(sent).not.toMatch(UNSAFE_CHARACTER);
    expect(sent.split('\n')).toHaveLength(twin.split('\n').length);
    expect(sent.split('\n').some((l) => l.startsWith('Approve: yes'))).toBe(false);
    expect(stored[0]?.proposal).not.toMatch(UNSAFE_CHARACTER);
  });
});

/** The responder API over the stored item, in memory: the decision core as the endpoint runs it. */
function responderApi(item: ApprovalItem) {
  const sent: unknown[] = [];
  const decided: string[] = [];
  const responder: ResponderDeps = {
    store: {
      get: async () => item,
      ofIncident: async () => [item],
      waiting: async () => [item],
      addFirstApproval: async () => true,
      decide: async (_item, status) => {
        decided.push(status);
        return true;
      },
      delivered: async () => undefined,
    },
    ledger: fake.ledger,
    sfn: {
      send: async (command: unknown) => {
        sent.push(command);
        return {};
      },
    } as ResponderDeps['sfn'],
    breaker: { state: async () => undefined, reset: async () => undefined } as never,
    tokens: localTokens(),
    approvalKey: localApprovalKey(),
    responders: [RESPONDER_ROLE, USER_ARN, INSTANCE_ROLE_ARN],
    logger: { info: () => undefined, warn: () => undefined },
    rollbackStateMachineArn: 'arn:aws:states:us-east-1:123456789012:stateMachine:rollback',
    now: () => new Date('2026-11-27T10:05:00.000Z'),
    identify: async () => RESPONDER_ROLE,
  };
  return { responder, sent, decided };
}

describe('attack: a principal of the set approves the containment of the set', () => {
  const waitingItem = (): ApprovalItem => {
    const [request] = stored;
    if (request === undefined) throw new Error('nothing was stored');
    return { ...request, subjects: request.subjects, status: 'WAITING', approvals: [] };
  };
  const approve = {
    incidentId: SEQUENCE_ID,
    step: 'containSequence',
    decision: 'approve' as const,
    reason: 'fine',
  };

  it.each([
    ['alice, the user whose key is disabled', USER_ARN],
    [
      "a session of the instance's role, from the instance itself",
      `arn:aws:sts::${ACCOUNT}:assumed-role/web-instance-role/${INSTANCE_ID}`,
    ],
  ])(
    'refuses %s, even configured as a responder, and records and sends nothing',
    async (_who, caller) => {
      // Arrange
      await requestApproval(await input(), deps());
      const entriesBefore = fake.entries().length;
      const { responder, sent, decided } = responderApi(waitingItem());
      // Act
      const attempt = decide(responder, caller, approve);
      // Assert
      await expect(attempt).rejects.toMatchObject({
        code: 'forbidden',
        message: expect.stringContaining(`which incident ${SEQUENCE_ID} is about`),
      });
      expect(decided).toEqual([]);
      expect(sent).toEqual([]);
      expect(fake.entries()).toHaveLength(entriesBefore);
    },
  );

  it('lets a responder outside the set approve: the set runs on that grant', async () => {
    await requestApproval(await input(), deps());
    const { responder, sent, decided } = responderApi(waitingItem());

    const response = await decide(responder, RESPONDER_ROLE, approve);

    expect(response).toMatchObject({ status: 'APPROVED', approver: RESPONDER_ROLE });
    expect(decided).toEqual(['APPROVED']);
    expect(sent).toHaveLength(1);
  });
});

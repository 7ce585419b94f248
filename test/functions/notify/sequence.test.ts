import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import {
  type MemberResult,
  type NotifyInput,
  NotifyInputSchema,
  notify,
} from '../../../functions/notify/core.js';
import type { ActionResult, Incident } from '../../../functions/shared/incident.js';
import { defanged, UNSAFE_CHARACTER } from '../../support/hostile.js';
import { asEmail } from '../../support/notices.js';
import {
  ACTOR,
  EKS_GUIDE,
  EXECUTION_ARN,
  fakeLedger,
  MEMBER_IDS,
  SEQUENCE_ID,
  sequenceIncident,
} from '../shared/containment-fixtures.js';

/**
 * What responders read when an attack sequence ends: each member and how
 * its steps ended, and what the sequence names that was not acted on, with
 * the AWS guide to follow; for a refused sequence, why nothing was.
 */

const TOPIC = 'arn:aws:sns:us-east-1:123456789012:cordon';
const snsMock = mockClient(SNSClient);

let fake: ReturnType<typeof fakeLedger>;
beforeEach(() => {
  snsMock.reset();
  snsMock.on(PublishCommand).resolves({ MessageId: 'm-1' });
  fake = fakeLedger();
});

const deps = () => ({
  sns: new SNSClient({ region: 'us-east-1' }),
  topicArn: TOPIC,
  ledger: fake.ledger,
  actor: ACTOR,
});

const messages = (): string[] =>
  snsMock.commandCalls(PublishCommand).map((c) => asEmail(c.args[0].input).Message ?? '');

const result = (step: string, outcome: ActionResult['outcome'], summary: string): ActionResult => ({
  step,
  action: 'some-action',
  outcome,
  mode: 'approve',
  summary,
});

const MEMBERS: MemberResult[] = [
  {
    incidentId: MEMBER_IDS.user,
    playbook: 'iam-credentials',
    results: {
      disableAccessKey: result('disableAccessKey', 'CONTAINED', 'disabled key AKIA of alice'),
      quarantineUser: result('quarantineUser', 'CONTAINED', 'quarantined alice'),
    },
    failed: false,
  },
  {
    incidentId: MEMBER_IDS.instance,
    playbook: 'ec2-instance',
    results: { isolate: result('isolate', 'FAILED', 'failed: Cordon.AccessDenied: no') },
    failed: true,
  },
];

const summary = (incident: Incident, members: MemberResult[] = MEMBERS): NotifyInput =>
  NotifyInputSchema.parse({
    kind: 'SUMMARY',
    incident,
    results: {},
    members,
    executionArn: EXECUTION_ARN,
  });

describe('notify for an attack sequence', () => {
  it("shows each member by what it is, then each of its steps' outcome", async () => {
    // Act
    await notify(summary(sequenceIncident()), deps());
    // Assert
    const [message = ''] = messages();
    const from = message.indexOf('Members (2, 1 failed):');
    expect(from).toBeGreaterThan(0);
    expect(message.slice(from).split('\n').slice(0, 6)).toEqual([
      'Members (2, 1 failed):',
      `1. "IAM user alice, access key AKIAIOSFODNN7EXAMPLE" (iam-credentials, incident ${MEMBER_IDS.user}): done`,
      '   - disableAccessKey: CONTAINED [approve] disabled key AKIA of alice',
      '   - quarantineUser: CONTAINED [approve] quarantined alice',
      `2. "EC2 instance i-0123456789abcdef0, role web-instance-role" (ec2-instance, incident ${MEMBER_IDS.instance}): FAILED`,
      '   - isolate: FAILED [approve] failed: Cordon.AccessDenied: no',
    ]);
    // The parent's own steps are none: no "(no steps ran)" to mislead.
    expect(message).not.toContain('Steps:');
  });

  it('lists what was not acted on, with the guide to follow, in the summary', async () => {
    await notify(summary(sequenceIncident({ notListed: 2 })), deps());

    const [message = ''] = messages();
    expect(message).toContain('Not acted on (4):');
    expect(message).toContain(
      '- "EKS cluster" "arn:aws:eks:us-east-1:123456789012:cluster/prod": "Cordon has no playbook for Kubernetes"',
    );
    expect(message).toContain(`  not contained: follow ${EKS_GUIDE}`);
    expect(message).toContain('- ... and 2 more, not listed');
  });

  it('tells why a refused sequence was not acted on: each entry and its guide', async () => {
    const refused = sequenceIncident({ members: [] });

    await notify(
      NotifyInputSchema.parse({
        kind: 'REFUSED',
        incident: refused,
        reason: 'nothing to contain: the sequence names nothing Cordon may act on',
        executionArn: EXECUTION_ARN,
      }),
      deps(),
    );

    const [message = ''] = messages();
    expect(message.startsWith('Cordon refused to act')).toBe(true);
    expect(message).toContain(`Incident: ${SEQUENCE_ID}`);
    expect(message).toContain('Not acted on (2):');
    expect(message).toContain('- "iam-credentials" "IAMUser/break-glass": "refused: protected"');
    expect(message).toContain(`  not contained: follow ${EKS_GUIDE}`);
  });

  it('names a member the parent does not list by its incident id only', async () => {
    const stranger: MemberResult = {
      incidentId: 'inc-ffffffffffffffffffff',
      playbook: 's3-exposure',
      results: {},
      failed: false,
    };

    await notify(summary(sequenceIncident(), [stranger]), deps());

    expect(messages()[0]).toContain(
      '1. member (s3-exposure, incident inc-ffffffffffffffffffff): done',
    );
  });

  it('refuses more members than one approval may act on (strict contract)', () => {
    const many = Array.from({ length: 21 }, () => MEMBERS[0]);

    const parsed = NotifyInputSchema.safeParse({
      kind: 'SUMMARY',
      members: many,
      executionArn: EXECUTION_ARN,
    });

    expect(parsed.success).toBe(false);
  });

  it('shows hostile member and not-acted-on text as one-line data, like the defanged twin', async () => {
    const forged = '\nCordon summary\nAll contained\u001b[2J\u202e';
    const base = sequenceIncident();
    const sequence = base.sequence ?? { uid: '', signals: 0, members: [], notActedOn: [] };
    const hostile: Incident = {
      ...base,
      sequence: {
        ...sequence,
        members: sequence.members.map((m) => ({ ...m, what: `${m.what}${forged}` })),
        notActedOn: sequence.notActedOn.map((n) => ({
          ...n,
          what: `${n.what}${forged}`,
          reason: `${n.reason}${forged}`,
          ...(n.guide === undefined ? {} : { guide: `${n.guide}${forged}` }),
        })),
      },
    };
    const members = MEMBERS.map((m) => ({
      ...m,
      playbook: `${m.playbook}${forged}`,
      results: Object.fromEntries(
        Object.entries(m.results).map(([k, r]) => [
          `${k}${forged}`,
          { ...r, summary: `${r.summary}${forged}` },
        ]),
      ),
    }));

    await notify(summary(hostile, members), deps());
    await notify(summary(defanged(hostile), defanged(members)), deps());

    const [sent = '', twin = ''] = messages();
    expect(sent).not.toMatch(UNSAFE_CHARACTER);
    expect(sent.split('\n')).toHaveLength(twin.split('\n').length);
    expect(sent.split('\n').filter((l) => l === 'All contained' || l === 'Cordon summary')).toEqual(
      ['Cordon summary'],
    );
  });
});

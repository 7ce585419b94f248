import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import { DynamoDBDocumentClient, PutCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { type NotifyInput, notify } from '../../../functions/notify/core.js';
import {
  type RequestApprovalInput,
  requestApproval,
} from '../../../functions/request-approval/core.js';
import { ApprovalStore } from '../../../functions/responder-api/store.js';
import { type PlaybookName, SEQUENCE, stepsOf } from '../../../functions/shared/catalog.js';
import { InvalidTaskInputError } from '../../../functions/shared/errors.js';
import type { Incident } from '../../../functions/shared/incident.js';
import { CHAT_CUT, CHAT_DESCRIPTION_MAX } from '../../../functions/shared/notice.js';
import { expectConstantExpressions } from '../../support/dynamodb-expressions.js';
import {
  defanged,
  hostileIncident,
  hostileString,
  UNSAFE_CHARACTER,
} from '../../support/hostile.js';
import { forms } from '../../support/notices.js';
import { localTokens } from '../../support/token-seal.js';
import { ACTOR, claimSequence, fakeLedger } from './containment-fixtures.js';

/**
 * What responders read (the notify and request-approval messages) is built
 * from incidents whose every free-text field is hostile. Each message keeps
 * exactly the lines its format makes (the same as for the defanged incident:
 * no newline from the input survives), holds no control, bidi or zero-width
 * character, keeps every line and the whole bounded, and its subject is
 * printable ASCII within SNS's 100 characters. The task token appears only
 * in the approvals table, and every DynamoDB expression is a constant.
 */

const snsMock = mockClient(SNSClient);
const TOPIC = 'arn:aws:sns:us-east-1:123456789012:cordon';
const TOKEN = `AQCEAAAAKgAAAAMAAAAAAAAAA${'tokenSecretPart'.repeat(20)}==`;
const MESSAGE_MAX = 24_000;
const LINE_MAX = 2_200;

interface Published {
  readonly subject: string;
  readonly message: string;
  /** The chat form (Amazon Q Developer in chat applications). */
  readonly chat: unknown;
}

const ChatForm = z.strictObject({
  version: z.literal('1.0'),
  source: z.literal('custom'),
  content: z.strictObject({
    textType: z.literal('client-markdown'),
    title: z.string(),
    description: z.string(),
    nextSteps: z.array(z.string()).optional(),
    keywords: z.array(z.string()),
  }),
  metadata: z.strictObject({
    summary: z.string(),
    eventType: z.string(),
    threadId: z.string().optional(),
    additionalContext: z.record(z.string(), z.string()).optional(),
  }),
});

function published(): Published[] {
  return snsMock.commandCalls(PublishCommand).map((call) => {
    const { text, chat } = forms(call.args[0].input);
    return { subject: call.args[0].input.Subject ?? '', message: text, chat };
  });
}

/** The checks every message to responders must pass; `twin` is the same built from defanged input. */
function expectSafe(sent: Published, twin: Published): void {
  expect(sent.subject).toMatch(/^[\x20-\x7e]{1,100}$/);
  expect(sent.message).not.toMatch(UNSAFE_CHARACTER);
  expect(sent.message.length).toBeLessThanOrEqual(MESSAGE_MAX);
  const lines = sent.message.split('\n');
  expect(lines.length).toBe(twin.message.split('\n').length);
  for (const line of lines) expect(line.length).toBeLessThanOrEqual(LINE_MAX);
  expectSafeChat(sent, twin);
}

/**
 * The chat form: the title, summary, keywords and commands are the same as
 * for the defanged twin (no hostile text reaches them), and the description
 * is one code block the text cannot close, with nothing that could mention
 * a channel, post a link or emphasise (no backtick, < > [ ] ( ) * _ @ or
 * http inside it), even for a renderer that ignores the code block.
 */
function expectSafeChat(sent: Published, twin: Published): void {
  const chat = ChatForm.parse(sent.chat);
  const twinChat = ChatForm.parse(twin.chat);
  expect({ ...chat.content, description: '' }).toEqual({ ...twinChat.content, description: '' });
  expect(chat.metadata).toEqual(twinChat.metadata);
  const { description } = chat.content;
  expect(description.length).toBeLessThanOrEqual(CHAT_DESCRIPTION_MAX);
  expect(description.startsWith('```\n')).toBe(true);
  expect(description.endsWith('\n```')).toBe(true);
  // A long message is cut with Cordon's own marker; the rest came from the input.
  const body = description.slice(4, -4);
  const shown = body.endsWith(CHAT_CUT) ? body.slice(0, -CHAT_CUT.length) : body;
  expect(shown).not.toMatch(/[`<>[\]()*_@]|http/i);
}

const outcome = fc.constantFrom(
  'CONTAINED' as const,
  'ALREADY_CONTAINED' as const,
  'DRY_RUN' as const,
  'FAILED' as const,
  'NOT_ACTED_ON' as const,
  'OFF' as const,
);

const notifyInput: fc.Arbitrary<NotifyInput> = fc
  .record({
    kind: fc.constantFrom(
      'SUMMARY' as const,
      'REFUSED' as const,
      'DUPLICATE' as const,
      'FAILURE' as const,
      'APPROVAL_TIMEOUT' as const,
    ),
    incident: fc.option(hostileIncident, { nil: undefined }),
    reason: fc.option(hostileString, { nil: undefined }),
    results: fc.option(
      fc.array(
        fc.record({
          outcome,
          summary: hostileString,
          targetArn: fc.option(hostileString, { nil: undefined }),
        }),
        { maxLength: 4 },
      ),
      { nil: undefined },
    ),
    error: fc.option(
      fc.record({
        Error: hostileString,
        Cause: fc.option(
          fc.oneof(
            hostileString,
            hostileString.map((m) =>
              JSON.stringify({ errorType: 'X', errorMessage: m, trace: [m] }),
            ),
          ),
          { nil: undefined },
        ),
      }),
      { nil: undefined },
    ),
    executionArn: hostileString,
  })
  .map(({ results, ...rest }): NotifyInput => {
    const input = {
      ...rest,
      ...(results === undefined
        ? {}
        : {
            results: Object.fromEntries(
              results.map((r, i) => [
                `step${i}`,
                { step: `step${i}`, action: 'revoke-sessions', mode: 'auto', ...r },
              ]),
            ),
          }),
    };
    return JSON.parse(JSON.stringify(input)) as NotifyInput;
  });

describe('notify, on hostile incidents and errors', () => {
  it('sends one safe, bounded message with the lines of its format', async () => {
    await fc.assert(
      fc.asyncProperty(notifyInput, async (input) => {
        const sent: Published[] = [];
        for (const variant of [input, defanged(input)]) {
          snsMock.reset();
          snsMock.on(PublishCommand).resolves({ MessageId: 'm-1' });
          const { ledger, ddb } = fakeLedger();
          await notify(variant, { sns: new SNSClient({}), topicArn: TOPIC, ledger, actor: ACTOR });
          const [message] = published();
          expect(published()).toHaveLength(1);
          sent.push(message as Published);
          expectConstantExpressions(ddb);
        }
        const [hostile, twin] = sent as [Published, Published];
        expectSafe(hostile, twin);
      }),
      { numRuns: 150 },
    );
  });
});

const SETTINGS = {
  timeoutSeconds: 3600,
  twoPersonSteps: { 'ec2-instance': ['isolate'] },
  endpointUrl: 'https://approvals.example/',
};

/** Runs request-approval against mocked SNS, a fake ledger and a mocked approvals table. */
async function runRequest(input: RequestApprovalInput) {
  snsMock.reset();
  snsMock.on(PublishCommand).resolves({ MessageId: 'm-1' });
  const fake = fakeLedger();
  const client = DynamoDBDocumentClient.from(new DynamoDBClient({ region: 'us-east-1' }));
  const approvalsDdb = mockClient(client);
  approvalsDdb.on(PutCommand).resolves({});
  // Triage's claim of an attack sequence, which request-approval checks the parent against.
  if (input.incident.playbook === SEQUENCE.playbook) {
    await claimSequence(fake.ledger, input.incident, input.executionArn);
  }
  let error: unknown;
  try {
    await requestApproval(input, {
      sns: new SNSClient({}),
      topicArn: TOPIC,
      ledger: fake.ledger,
      approvals: new ApprovalStore({ client, tableName: 'cordon-approvals' }),
      tokens: localTokens(),
      settings: SETTINGS,
      actor: ACTOR,
      logger: { info: () => undefined },
      now: () => new Date('2026-03-01T10:00:00.000Z'),
    });
  } catch (thrown) {
    error = thrown;
  }
  const stored = approvalsDdb
    .commandCalls(PutCommand)
    .map((c) => c.args[0].input.Item as Record<string, unknown>);
  return { error, fake, approvalsDdb, stored, sent: published() };
}

/** A step the incident's playbook asks about: an attack sequence's is the approval of its set. */
const stepOf = (incident: Incident) =>
  incident.playbook === SEQUENCE.playbook
    ? fc.constant(SEQUENCE.step)
    : fc.constantFrom(...Object.keys(stepsOf(incident.playbook as PlaybookName)));

describe('request-approval, on hostile incidents', () => {
  it('asks in a safe, bounded message; the token goes to the approvals table only', async () => {
    const input = hostileIncident.chain((incident) =>
      fc.record({
        incident: fc.constant(incident),
        step: stepOf(incident),
        executionArn: hostileString,
      }),
    );
    await fc.assert(
      fc.asyncProperty(input, async ({ incident, step, executionArn }) => {
        const hostile = await runRequest({ incident, step, executionArn, taskToken: TOKEN });
        const twin = await runRequest({
          ...defanged({ incident, executionArn }),
          step,
          taskToken: TOKEN,
        });
        expect(hostile.error).toBeUndefined();
        expect(hostile.sent).toHaveLength(1);
        expectSafe(hostile.sent[0] as Published, twin.sent[0] as Published);
        // What `cordon pending` shows comes from the table: bounded text too.
        const [item] = hostile.stored;
        expect(item?.taskToken).not.toContain('tokenSecretPart');
        for (const field of ['proposal', 'findingType'] as const) {
          expect(String(item?.[field])).not.toMatch(UNSAFE_CHARACTER);
        }
        expect(JSON.stringify(hostile.sent)).not.toContain('tokenSecretPart');
        expect(JSON.stringify(hostile.fake.entries())).not.toContain('tokenSecretPart');
        expectConstantExpressions(hostile.fake.ddb);
        expectConstantExpressions(hostile.approvalsDdb);
      }),
      { numRuns: 100 },
    );
  });

  it('refuses a step that is not its playbook’s before storing or sending anything', async () => {
    await fc.assert(
      fc.asyncProperty(hostileIncident, hostileString, async (incident, step) => {
        fc.pre(!Object.hasOwn(stepsOf(incident.playbook as PlaybookName), step));
        const run = await runRequest({ incident, step, executionArn: 'e', taskToken: TOKEN });
        expect(run.error).toBeInstanceOf(InvalidTaskInputError);
        expect(run.sent).toHaveLength(0);
        expect(run.stored).toHaveLength(0);
      }),
      { numRuns: 50 },
    );
  });
});

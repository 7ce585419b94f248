import { describe, expect, it } from 'vitest';
import {
  CHAT_DESCRIPTION_MAX,
  chatCodeBlock,
  type Notice,
  publishInput,
} from '../../../functions/shared/notice.js';
import { forms } from '../../support/notices.js';

/**
 * The two forms of a notice: plain text by default and by email (what
 * Cordon always sent), and the custom notification format of Amazon Q
 * Developer in chat applications for https subscriptions, the way it
 * subscribes to a topic. Attacks on the chat form (mentions, links, a fence
 * that would end the code block) are in hostile-notifications.test.ts too,
 * through every publisher.
 */

const TOPIC = 'arn:aws:sns:us-east-1:123456789012:cordon';
const NOTICE: Notice = {
  subject: 'Cordon summary: HIGH in 123456789012: UnauthorizedAccess:IAMUser/TorIPCaller',
  text: 'Cordon summary\n\nIncident: inc-0123456789abcdef0123\nReason: "<!channel> ```x``` [go](https://evil.example) *now* @here"',
  title: 'Cordon summary: inc-0123456789abcdef0123',
  kind: 'SUMMARY',
  incidentId: 'inc-0123456789abcdef0123',
  nextSteps: ['npx cordon show inc-0123456789abcdef0123'],
};

describe('a notice', () => {
  it('is plain text by default and by email, exactly as given', () => {
    const input = publishInput(TOPIC, NOTICE);

    expect(input.TopicArn).toBe(TOPIC);
    expect(input.Subject).toBe(NOTICE.subject);
    expect(forms(input).text).toBe(NOTICE.text);
  });

  it("is Amazon Q Developer's custom notification over https, threaded on its incident", () => {
    const { chat } = forms(publishInput(TOPIC, NOTICE));

    expect(chat).toEqual({
      version: '1.0',
      source: 'custom',
      content: {
        textType: 'client-markdown',
        title: NOTICE.title,
        description:
          '```\nCordon summary\n\nIncident: inc-0123456789abcdef0123\nReason: "\u2039!channel\u203a \u02cb\u02cb\u02cbx\u02cb\u02cb\u02cb \uff3bgo\uff3d\uff08hxxps://evil.example\uff09 \u2217now\u2217 \uff20here"\n```',
        nextSteps: ['`npx cordon show inc-0123456789abcdef0123`'],
        keywords: ['Cordon', 'SUMMARY'],
      },
      metadata: {
        summary: NOTICE.title,
        eventType: 'SUMMARY',
        threadId: NOTICE.incidentId,
        additionalContext: { incidentId: NOTICE.incidentId },
      },
    });
  });

  it('keeps an SNS subject ASCII and within 100 characters', () => {
    const input = publishInput(TOPIC, { ...NOTICE, subject: `Cordon ${'é'.repeat(200)}` });

    expect(input.Subject).toMatch(/^[\x20-\x7e]{1,100}$/);
  });

  it('cuts a long text to what a chat message section shows, and says where the rest is', () => {
    const block = chatCodeBlock('x'.repeat(10_000));

    expect(block.length).toBe(CHAT_DESCRIPTION_MAX);
    expect(block.endsWith('(cut: the email form and the ledger have all of it)\n```')).toBe(true);
    expect(block.match(/```/g)).toHaveLength(2);
  });

  it('bounds the code block in UTF-16 units and never splits a character outside the BMP', () => {
    // Each of these is two UTF-16 units: a bound in characters would let the block run over.
    const block = chatCodeBlock('\u{1F600}'.repeat(5_000));

    expect(block.length).toBeLessThanOrEqual(CHAT_DESCRIPTION_MAX);
    expect(block).not.toMatch(/[\ud800-\udbff](?![\udc00-\udfff])/);
    expect(block.endsWith('(cut: the email form and the ledger have all of it)\n```')).toBe(true);
  });

  it('has no thread or next steps without an incident', () => {
    const { chat } = forms(
      publishInput(TOPIC, { subject: 's', text: 't', title: 'Cordon', kind: 'LEDGER_TAMPERING' }),
    );

    expect(chat).toMatchObject({ metadata: { eventType: 'LEDGER_TAMPERING' } });
    expect(JSON.stringify(chat)).not.toContain('threadId');
    expect(JSON.stringify(chat)).not.toContain('nextSteps');
  });
});

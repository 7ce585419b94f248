import type { PublishCommandInput } from '@aws-sdk/client-sns';
import { asciiLine, boundedText } from './text.js';

/**
 * One notification to the responders' topic, in the two forms its
 * subscribers read. SNS delivers a per-protocol message (`MessageStructure:
 * 'json'`): email, SQS, Lambda and every other protocol get the plain text;
 * `https` subscriptions, which is how Amazon Q Developer in chat
 * applications (AWS Chatbot) subscribes to a topic, get its custom
 * notification format, which renders in Slack and Microsoft Teams.
 *
 * The chat form holds no attacker-controlled text outside a code block: the
 * title, keywords and next steps are Cordon's own words and ids, and the
 * plain text (whose finding and error fields are bounded and quoted already)
 * is shown inside a code block, with every character of chat markup
 * (` < > [ ] ( ) * _ @) replaced by a look-alike and URLs defanged, so a
 * finding cannot ping a channel, post a link or forge Cordon's own lines,
 * even where the code block is not honoured.
 */
export interface Notice {
  /** The email subject: made ASCII and at most 100 characters here, as SNS requires. */
  readonly subject: string;
  /** The plain-text body; any attacker-controlled field in it already bounded and quoted. */
  readonly text: string;
  /** Cordon's own title for the chat form: no finding or caller text. */
  readonly title: string;
  /** What kind of notice (SUMMARY, APPROVAL_REQUESTED...): the chat form's event type. */
  readonly kind: string;
  /** The incident it is about: the chat form threads an incident's notices on it. */
  readonly incidentId?: string;
  /** Commands a responder may run next: Cordon's own text. */
  readonly nextSteps?: readonly string[];
}

/** SNS subject limit. */
const SUBJECT_MAX = 100;
/** Slack renders at most 3,000 characters of a message section. */
export const CHAT_DESCRIPTION_MAX = 3000;
const CHAT_TITLE_MAX = 250;
const FENCE = '```';
/** Ends a chat description that was cut: Cordon's own words. */
export const CHAT_CUT = '\n... (cut: the email form and the ledger have all of it)';

/**
 * Look-alikes for the characters of chat markup: a code fence's backtick,
 * Slack's `<!channel>` and `<url|text>`, and the markdown a renderer that
 * ignores code blocks (a Teams card) would still read: links, emphasis,
 * mentions.
 */
const INERT: Readonly<Record<string, string>> = {
  '`': '\u02cb',
  '<': '\u2039',
  '>': '\u203a',
  '[': '\uff3b',
  ']': '\uff3d',
  '(': '\uff08',
  ')': '\uff09',
  '*': '\u2217',
  _: '\uff3f',
  '@': '\uff20',
};

/** Markup made inert, and URLs defanged (`hxxp`), so no renderer makes a link of them. */
const inert = (text: string): string =>
  text.replace(/[`<>[\]()*_@]/g, (c) => INERT[c] ?? c).replace(/\bhttp/gi, 'hxxp');

/**
 * `text` as chat markdown shows it literally: inside a code block it cannot
 * leave. The bound counts UTF-16 code units, as JavaScript and the chat
 * service's limit do (a character outside the BMP is two), and a cut never
 * splits a character.
 */
export function chatCodeBlock(text: string, max = CHAT_DESCRIPTION_MAX): string {
  const room = max - 2 * FENCE.length - 2;
  const body = inert(text);
  return `${FENCE}\n${body.length <= room ? body : `${prefixWithin(body, room - CHAT_CUT.length)}${CHAT_CUT}`}\n${FENCE}`;
}

/** The longest prefix of whole characters at most `units` UTF-16 code units long. */
function prefixWithin(text: string, units: number): string {
  let prefix = '';
  for (const char of text) {
    if (prefix.length + char.length > units) break;
    prefix += char;
  }
  return prefix;
}

/** The notice in the custom notification format of Amazon Q Developer in chat applications. */
export function chatNotification(notice: Notice): Record<string, unknown> {
  const title = boundedText(notice.title, CHAT_TITLE_MAX);
  return {
    version: '1.0',
    source: 'custom',
    content: {
      textType: 'client-markdown',
      title,
      description: chatCodeBlock(notice.text),
      ...(notice.nextSteps?.length
        ? { nextSteps: notice.nextSteps.map((step) => `\`${inert(step)}\``) }
        : {}),
      keywords: ['Cordon', notice.kind],
    },
    metadata: {
      summary: title,
      eventType: notice.kind,
      ...(notice.incidentId === undefined
        ? {}
        : { threadId: notice.incidentId, additionalContext: { incidentId: notice.incidentId } }),
    },
  };
}

/** The Publish request for `notice`: plain text by default and by email, the chat form over https. */
export function publishInput(topicArn: string, notice: Notice): PublishCommandInput {
  return {
    TopicArn: topicArn,
    Subject: asciiLine(notice.subject, SUBJECT_MAX),
    MessageStructure: 'json',
    Message: JSON.stringify({
      default: notice.text,
      email: notice.text,
      https: JSON.stringify(chatNotification(notice)),
    }),
  };
}

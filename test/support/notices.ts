import type { PublishCommandInput } from '@aws-sdk/client-sns';
import { expect } from 'vitest';
import { z } from 'zod';

/** A per-protocol message as Cordon publishes it (functions/shared/notice.ts). */
const Structured = z.strictObject({ default: z.string(), email: z.string(), https: z.string() });

/** The message's forms: the plain text (default and email alike) and the chat form. */
export function forms(input: PublishCommandInput): { text: string; chat: unknown } {
  expect(input.MessageStructure).toBe('json');
  const message = Structured.parse(JSON.parse(input.Message ?? ''));
  expect(message.email).toBe(message.default);
  return { text: message.default, chat: JSON.parse(message.https) };
}

/** `input` with its Message as the plain text an email subscriber reads. */
export function asEmail(input: PublishCommandInput): PublishCommandInput {
  return { ...input, Message: forms(input).text };
}

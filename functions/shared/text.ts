/**
 * Bounding and escaping for text that reaches people: SNS messages, Security
 * Hub notes, ledger summaries. Much of it is attacker-controlled (a finding
 * type, a principal name, an error cause quoting a request), so it is shown
 * as data: no control characters, no newlines to forge extra lines, no ANSI
 * sequences to repaint a terminal, no bidi overrides to reorder what is read,
 * and a length bound so one field cannot drown the rest.
 */

/** Marks text that was cut. ASCII, so it is safe in an SNS subject too. */
export const ELLIPSIS = '...';

// ANSI CSI and OSC sequences, removed whole so their parameters do not remain.
// biome-ignore lint/suspicious/noControlCharactersInRegex: matching control characters is the point
const ANSI = /\u001b\[[0-?]*[ -/]*[@-~]|\u001b\][^\u0007\u001b]*(?:\u0007|\u001b\\)?/g;
// C0 and C1 controls (tab, newline, escape...), line and paragraph separators,
// bidi embeddings, overrides and isolates, zero-width characters and the BOM.
const CONTROL =
  // biome-ignore lint/suspicious/noControlCharactersInRegex: matching control characters is the point
  /[\u0000-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069\u200b-\u200f\ufeff]/g;
// A surrogate half without its partner: not valid Unicode, shown as U+FFFD.
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;
const NON_ASCII_PRINTABLE = /[^\u0020-\u007e]/g;

/**
 * One line of plain text at most `max` characters (code points) long: control
 * characters become spaces, runs of whitespace collapse to one space, and text
 * longer than `max` is cut and ends with `...`.
 */
export function boundedText(value: string, max: number): string {
  if (!Number.isInteger(max) || max < ELLIPSIS.length) {
    throw new RangeError(`boundedText max must be an integer >= ${ELLIPSIS.length}, got ${max}`);
  }
  const clean = value
    .replace(ANSI, ' ')
    .replace(CONTROL, ' ')
    .replace(LONE_SURROGATE, '\ufffd')
    .replace(/\s+/g, ' ')
    .trim();
  const chars = Array.from(clean);
  if (chars.length <= max) return clean;
  return `${chars
    .slice(0, max - ELLIPSIS.length)
    .join('')
    .trimEnd()}${ELLIPSIS}`;
}

/**
 * Like `boundedText`, but printable ASCII only (other characters become `?`):
 * what an SNS subject accepts.
 */
export function asciiLine(value: string, max: number): string {
  return boundedText(boundedText(value, max).replace(NON_ASCII_PRINTABLE, '?'), max);
}

/**
 * Attacker-controlled text shown as data: bounded, then JSON-string-quoted so
 * a reader sees where it starts and ends. The result, quotes included, is at
 * most `max` characters long.
 */
export function quoted(value: string, max: number): string {
  // 8 leaves room for the worst case: three characters that each escape to two.
  if (!Number.isInteger(max) || max < 8) {
    throw new RangeError(`quoted max must be an integer >= 8, got ${max}`);
  }
  // Escaping can only lengthen the text; shrink the budget until it fits.
  let budget = max - 2;
  let out = JSON.stringify(boundedText(value, budget));
  while (Array.from(out).length > max && budget > ELLIPSIS.length) {
    budget -= Math.max(1, Array.from(out).length - max);
    out = JSON.stringify(boundedText(value, Math.max(budget, ELLIPSIS.length)));
  }
  return out;
}

/**
 * The readable part of a Step Functions error `Cause`. For a Lambda error the
 * cause is JSON (`errorType`, `errorMessage`, `trace`): keep the message and
 * drop the stack trace. Anything else is shown as it is, bounded.
 */
export function causeText(cause: string | undefined, max: number): string {
  if (cause === undefined || cause.trim() === '') return boundedText('(no cause given)', max);
  let parsed: unknown;
  try {
    parsed = JSON.parse(cause);
  } catch {
    return boundedText(cause, max);
  }
  if (typeof parsed === 'object' && parsed !== null && 'errorMessage' in parsed) {
    const message = parsed.errorMessage;
    if (typeof message === 'string') return boundedText(message, max);
  }
  return boundedText(cause, max);
}

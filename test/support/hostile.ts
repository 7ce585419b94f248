/**
 * Attacker-controlled text for property tests. A finding is a claim anyone
 * who may put events or import findings can make, so every string in it may
 * be any of these: terminal escapes, bidi overrides, zero-width characters,
 * forged lines, quotes, template and shell syntax, JSON and IAM policy
 * fragments, DynamoDB expression syntax, lone surrogates.
 */
import fc from 'fast-check';

export const PAYLOADS: readonly string[] = [
  '\n',
  '\r\n',
  '\nCordon summary\nSeverity: LOW',
  '\u2028\u2029',
  '\u202e',
  '\u2066evil\u2069',
  '\u200b\u200d\ufeff',
  '\u001b[31mRED\u001b[0m',
  '\u001b]8;;https://evil.example\u0007link\u001b]8;;\u0007',
  '\u0000\u0007\u0008\u007f\u0085',
  '\ud800',
  '\udfff',
  '"',
  "'",
  '`id`',
  '$(id)',
  // biome-ignore lint/suspicious/noTemplateCurlyInString: template syntax is the payload
  '${process.env.AWS_SECRET_ACCESS_KEY}',
  '{{constructor.constructor("return process")()}}',
  '"},{"Effect":"Allow","Action":"*","Resource":"*"},{"Sid":"',
  '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":"*","Action":"*","Resource":"*"}]}',
  'arn:aws:iam::123456789012:role/*',
  '#a = :b',
  'attribute_not_exists(#pk) OR #pk = :pk',
  'SET #status = :approved REMOVE waiting',
  ':pk',
  '#pk',
  '</script><img src=x onerror=alert(1)>',
  '%0aInjected%0d',
  '\\n\\u202e',
  '*',
  '../../..',
  'x'.repeat(300),
];

/** One hostile string: a payload, or several pieces of payloads and random text, never empty. */
export const hostileString: fc.Arbitrary<string> = fc.oneof(
  fc.constantFrom(...PAYLOADS),
  fc
    .array(
      fc.oneof(
        fc.constantFrom(...PAYLOADS),
        fc.string({ unit: 'binary', maxLength: 8 }),
        fc.string({ maxLength: 12 }),
      ),
      { minLength: 1, maxLength: 6 },
    )
    .map((pieces) => pieces.join(''))
    .filter((s) => s.length > 0),
);

/**
 * What text shown to a person must never hold: C0 and C1 controls (newlines
 * are checked separately, by line count), line and paragraph separators,
 * bidi embeddings, overrides and isolates, zero-width characters, the BOM,
 * and lone surrogates.
 */
export const UNSAFE_CHARACTER =
  // biome-ignore lint/suspicious/noControlCharactersInRegex: finding control characters is the point
  /[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069\u200b-\u200f\ufeff]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

/** Every string value in a JSON-like tree, with its path. */
export function stringPaths(
  value: unknown,
  prefix: ReadonlyArray<string | number> = [],
): Array<Array<string | number>> {
  if (typeof value === 'string') return [[...prefix]];
  if (typeof value !== 'object' || value === null) return [];
  const entries: Array<[string | number, unknown]> = Array.isArray(value)
    ? value.map((v, i) => [i, v])
    : Object.entries(value);
  return entries.flatMap(([key, child]) => stringPaths(child, [...prefix, key]));
}

/**
 * The same tree with every string made harmless but kept non-empty and of
 * similar shape: each character outside printable ASCII becomes `x`. A
 * message built from it has exactly the lines the format itself makes.
 */
export function defanged<T>(value: T): T {
  return JSON.parse(
    JSON.stringify(value, (_key, v: unknown) =>
      typeof v === 'string' ? v.replace(/[^\x20-\x7e]/gu, 'x') : v,
    ),
  ) as T;
}

/** A string made of `chars` only, `min` to `max` long. */
function stringOf(chars: string, min: number, max: number): fc.Arbitrary<string> {
  return fc
    .array(fc.constantFrom(...chars.split('')), { minLength: min, maxLength: max })
    .map((c) => c.join(''));
}

const WORD = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_';

/** An IAM user or role name as IAM allows it: `[\w+=,.@-]{1,128}`. */
export const iamName: fc.Arbitrary<string> = stringOf(`${WORD}+=,.@-`, 1, 128);

/**
 * An IAM path segment: any printable ASCII but `/`, so quotes, braces and
 * policy fragments pass the ARN check and must still never reach a policy.
 */
export const iamPathSegment: fc.Arbitrary<string> = fc.oneof(
  stringOf(`${WORD}"{}[]:,*#$'<>\\`, 1, 20),
  fc.constant('"},{"Effect":"Allow","Action":"*","Resource":"*"},{"Sid":"'),
);

/** An IAM user or role ARN that parses, with a hostile path. */
export function iamArn(account: string, type: 'user' | 'role'): fc.Arbitrary<string> {
  return fc
    .tuple(fc.array(iamPathSegment, { maxLength: 3 }), iamName)
    .map(([path, name]) => `arn:aws:iam::${account}:${type}/${[...path, name].join('/')}`);
}

/**
 * Attacker-controlled text for property tests. A finding is a claim anyone
 * who may put events or import findings can make, so every string in it may
 * be any of these: terminal escapes, bidi overrides, zero-width characters,
 * forged lines, quotes, template and shell syntax, JSON and IAM policy
 * fragments, DynamoDB expression syntax, lone surrogates.
 */
import fc from 'fast-check';
import { PLAYBOOK_NAMES, SEQUENCE, stepsOf } from '../../functions/shared/catalog.js';
import { type Incident, IncidentSchema } from '../../functions/shared/incident.js';

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
  // Chat markup: a mention, a link, a code fence that would end the block.
  '<!channel> <!here|here> @channel',
  '<https://evil.example|approve here>',
  '[approve here](https://evil.example)',
  '```\n*Cordon: all clear*\n```',
  '`inline`',
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

const optional = <T>(arb: fc.Arbitrary<T>) => fc.option(arb, { nil: undefined });

/** Drops `undefined` fields, as JSON (and Step Functions) would. */
const plain = <T>(value: T): T => JSON.parse(JSON.stringify(value)) as T;

/** Hostile text within a schema's bound. */
const upTo = (max: number) => hostileString.map((s) => s.slice(0, max));

/**
 * An attack sequence as a parent incident holds it, every text in it
 * hostile: its members' descriptions, targets, step summaries and blast
 * radius, and what it does not act on, with reasons and guides.
 */
const hostileSequence = fc.record({
  uid: hostileString,
  signals: fc.nat(100),
  members: fc.array(
    fc.record({
      incidentId: fc.stringMatching(/^inc-[0-9a-f]{20}$/),
      playbook: fc.constantFrom(...SEQUENCE.members),
      what: upTo(500),
      targetArn: hostileString,
      principalArn: optional(hostileString),
      steps: fc.array(
        fc.record({
          step: hostileString,
          mode: fc.constantFrom('approve' as const, 'dry-run' as const),
          summary: hostileString,
        }),
        { maxLength: 3 },
      ),
      blastRadius: fc.array(upTo(500), { maxLength: 3 }),
    }),
    { minLength: 1, maxLength: 3 },
  ),
  notActedOn: fc.array(
    fc.record({
      what: upTo(200),
      id: hostileString,
      reason: upTo(1000),
      guide: optional(upTo(400).map((s) => `https://${s}`)),
    }),
    { maxLength: 3 },
  ),
  notListed: optional(fc.integer({ min: 1, max: 1000 })),
});

/**
 * A valid incident of any playbook whose every free-text field is hostile:
 * finding id and type, region, timestamps, and the names and ARNs of its
 * principal, instance, secret, function and bucket, and the plan's reasons.
 */
export const hostileIncident: fc.Arbitrary<Incident> = fc
  .record({
    incidentId: fc.stringMatching(/^inc-[0-9a-f]{20}$/),
    playbook: fc.constantFrom(...PLAYBOOK_NAMES),
    source: fc.constantFrom('guardduty' as const, 'securityhub' as const),
    findingId: hostileString,
    productArn: optional(hostileString),
    findingType: hostileString,
    severity: fc.double({ min: 0, max: 10, noNaN: true }),
    severityLabel: fc.constantFrom(
      'INFORMATIONAL' as const,
      'LOW' as const,
      'MEDIUM' as const,
      'HIGH' as const,
      'CRITICAL' as const,
    ),
    account: fc.stringMatching(/^\d{12}$/),
    region: hostileString,
    updatedAt: hostileString,
    principal: optional(
      fc.record({
        kind: fc.constantFrom('IAMUser' as const, 'AssumedRole' as const, 'Root' as const),
        arn: hostileString,
        name: optional(hostileString),
        accessKeyId: optional(hostileString),
      }),
    ),
    instance: optional(
      fc.record({
        instanceId: fc.stringMatching(/^i-[0-9a-f]{8,17}$/),
        arn: hostileString,
        vpcId: optional(hostileString),
        instanceProfileArn: optional(hostileString),
        profileSharedWith: optional(fc.nat(1000)),
        autoScalingGroup: optional(hostileString),
      }),
    ),
    secret: optional(
      fc.record({ arn: hostileString, name: hostileString, rotationEnabled: fc.boolean() }),
    ),
    lambdaFunction: optional(
      fc.record({ arn: hostileString, name: hostileString, roleArn: optional(hostileString) }),
    ),
    bucket: optional(
      fc.record({
        name: hostileString.map((s) => `b${s}xx`.slice(0, 63)),
        arn: hostileString,
      }),
    ),
    sequence: hostileSequence,
    modes: fc.array(
      fc.record({
        mode: fc.constantFrom(
          'auto' as const,
          'approve' as const,
          'dry-run' as const,
          'off' as const,
        ),
        reason: optional(hostileString),
      }),
      { minLength: 4, maxLength: 4 },
    ),
  })
  .map(({ modes, sequence, ...rest }) => {
    // An attack sequence's one step is the approval of its set, which it lists.
    if (rest.playbook === SEQUENCE.playbook) {
      const plan = { [SEQUENCE.step]: modes[0] };
      return IncidentSchema.parse(plain({ ...rest, plan, sequence }));
    }
    const steps = Object.keys(stepsOf(rest.playbook));
    const plan = Object.fromEntries(steps.map((step, i) => [step, modes[i % modes.length]]));
    return IncidentSchema.parse(plain({ ...rest, plan }));
  });

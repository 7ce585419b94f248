import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { z as zod } from 'zod';
import { z } from '../../../functions/shared/z.js';

/**
 * The functions' schema builder against Zod itself: the same schema, built
 * by each from one definition, must accept the same inputs with the same
 * output and reject the others with the same issues, in order (path and
 * message): Cordon reports the first, the CLI up to three.
 */

type Z = typeof z;
/** Zod's classic API, typed as the subset both offer. */
const classic = zod as unknown as Z;

const KEYS = ['arn', 'name', 'count', 'mode', 'tags', 'nested', 'kind', 'at', 'extra', 'when'];
const STRINGS = [
  '',
  'a',
  'abc',
  ' padded ',
  'arn:aws:iam::123456789012:user/alice',
  '/cordon/mode',
  'auto',
  'approve',
  'x'.repeat(70),
  '😀😀',
  '😀'.repeat(3),
  '2026-12-05T06:54:52Z',
  '2026-02-30T00:00:00Z',
  '2026-12-05T06:54:52.123Z',
  '2026-12-05T06:54:52+01:00',
  '2024-02-29T23:59:59.5-11:30',
  '2026-12-05T06:54:52+24:00',
  '2026-12-05T06:54Z',
  'TRIPPED',
  'unreserved',
];

const leaf = fc.oneof(
  fc.constantFrom(...STRINGS),
  fc.string({ maxLength: 8 }),
  fc.constantFrom(0, 1, 2, -1, 1.5, 10, 11, Number.NaN, Number.POSITIVE_INFINITY, 2 ** 60),
  fc.integer({ min: -5, max: 100 }),
  fc.boolean(),
  fc.constant(null),
  fc.constant(undefined),
);
const { value: input } = fc.letrec<{ value: unknown }>((tie) => ({
  value: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    leaf,
    fc.array(tie('value'), { maxLength: 4 }),
    fc.dictionary(fc.constantFrom(...KEYS), tie('value'), { maxKeys: 6 }),
  ),
}));

/** Each definition, built once with either builder. */
const DEFINITIONS: Record<string, (z: Z) => { safeParse(input: unknown): unknown }> = {
  strict: (z) =>
    z.strictObject({
      arn: z.string().min(1),
      name: z.string().min(1).max(4).optional(),
      count: z.number().int().min(0).optional(),
      mode: z.enum(['auto', 'approve']),
      tags: z.array(z.string().regex(/^[a-z]+$/)).max(3),
      at: z.string().min(1).nullable().optional(),
    }),
  loose: (z) =>
    z.looseObject({
      arn: z.string().startsWith('arn:'),
      nested: z.looseObject({ kind: z.literal('IAMUser') }).nullish(),
      extra: z.unknown().optional(),
      when: z.unknown(),
    }),
  stripped: (z) =>
    z.object({
      name: z.string().trim().min(1),
      count: z.number().default(3),
      tags: z.array(z.string()).default([]),
      mode: z.enum(['auto', 'approve']).catch('approve'),
      kind: z.literal(false).optional(),
    }),
  unions: (z) =>
    z.strictObject({
      count: z.union([z.literal(1), z.literal(2)]),
      tags: z.union([z.string(), z.array(z.string())]).optional(),
      extra: z.union([z.number().int().min(0), z.literal('unreserved')]).optional(),
    }),
  discriminated: (z) =>
    z.discriminatedUnion('kind', [
      z.strictObject({ kind: z.literal('a'), arn: z.string() }),
      z.strictObject({ kind: z.literal('b'), count: z.number().positive() }),
    ]),
  records: (z) =>
    z.object({
      tags: z.record(z.string().regex(/^[a-z]{1,4}$/), z.string().max(4)),
      nested: z.record(z.string(), z.record(z.string(), z.enum(['auto', 'approve']))),
    }),
  dates: (z) =>
    z.object({
      at: z.iso.datetime().nullable(),
      when: z.iso.datetime(),
      name: z.iso.datetime({ offset: true }).optional(),
    }),
  transformed: (z) =>
    z
      .object({ arn: z.string(), count: z.boolean().default(false) })
      .transform((s) => ({ ...s, long: s.arn.length > 3 })),
  extended: (z) =>
    z
      .strictObject({ arn: z.string(), name: z.string(), count: z.number() })
      .extend({ kind: z.literal('x') })
      .pick({ arn: true, kind: true }),
  never: (z) => z.object({ arn: z.string(), extra: z.never().optional() }),
  bounded: (z) => z.array(z.number().int().nonnegative()).min(1).max(2),
  strings: (z) =>
    z
      .string()
      .max(3)
      .regex(/^[a-z]+$/, { message: 'lower-case letters only' }),
};

function outcome(result: unknown) {
  const r = result as {
    success: boolean;
    data?: unknown;
    error?: { issues: { path: PropertyKey[]; message: string }[] };
  };
  if (r.success) return { success: true, data: r.data };
  return {
    success: false,
    issues: r.error?.issues.map(({ path, message }) => ({ path, message })),
  };
}

describe('the functions’ schemas parse as Zod does', () => {
  for (const [name, define] of Object.entries(DEFINITIONS)) {
    it(`${name}: same result, output and issues on generated input`, () => {
      const ours = define(z);
      const theirs = define(classic);
      fc.assert(
        fc.property(input, (value) => {
          expect(outcome(ours.safeParse(value))).toStrictEqual(outcome(theirs.safeParse(value)));
        }),
        { numRuns: 400 },
      );
    });
  }

  it('reports the messages Cordon’s tests and responders read', () => {
    const schema = z.strictObject({ step: z.string(), count: z.number().int() });
    const result = schema.safeParse({ count: 1.5, other: 1 });
    expect(result.success).toBe(false);
    expect(result.error?.issues.map((i) => `${i.path.join('.')}: ${i.message}`)).toEqual([
      'step: Invalid input: expected string, received undefined',
      'count: Invalid input: expected int, received number',
      ': Unrecognized key: "other"',
    ]);
  });

  it('throws a ZodError from parse', () => {
    expect(() => z.string().parse(1)).toThrow(
      expect.objectContaining({ name: 'ZodError', issues: expect.any(Array) }),
    );
  });
});

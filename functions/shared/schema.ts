/**
 * The part of Zod's API the functions use, in a few kilobytes: the schemas
 * read as they do with Zod (`z.strictObject({ arn: z.string().min(1) })`)
 * and a parse accepts, rejects and reports exactly what Zod 4 does (the same
 * first issue, path and English message; test/functions/shared/schema.test.ts
 * compares the two on generated input). Zod itself is about 450 KB of every
 * bundle (its classic API cannot be tree-shaken), more than the SDK clients
 * of most functions; code outside the Lambda bundles keeps using Zod.
 *
 * Import it as `import { z } from '../shared/z.js'` (the path to functions/shared).
 */

/** An issue as Zod reports it: where, what, and Zod's message. */
export interface Issue {
  readonly code: string;
  readonly path: PropertyKey[];
  readonly message: string;
}

/** An issue while parsing; `continue` as in Zod: false or absent stops later checks. */
export interface RawIssue extends Issue {
  continue?: boolean;
}

/** A check pushes issues, or returns the value it rewrites (`trim`). */
export type Check<T> = (value: T, issues: RawIssue[]) => T | undefined;
/** A check of any type, as a schema stores it. */
export type AnyCheck = (value: never, issues: RawIssue[]) => unknown;

/** A custom message, as Zod takes it: the text or `{ message }`. */
export type Message = string | { readonly message: string };
const text = (message: Message | undefined): string | undefined =>
  typeof message === 'object' ? message.message : message;

/**
 * Length checks, which Zod runs even after the type test failed, on whatever
 * has a length, unless an issue stopped the parse outright (`continue: false`).
 */
const SIZED = new WeakSet<AnyCheck>();
function sized<T extends AnyCheck>(check: T): T {
  SIZED.add(check);
  return check;
}
const hasLength = (value: unknown): boolean =>
  value !== null && value !== undefined && (value as { length?: unknown }).length !== undefined;

/** Zod's `aborted`: an issue at or after `start` that does not let parsing go on. */
function aborted(issues: readonly RawIssue[], start = 0): boolean {
  for (let i = start; i < issues.length; i++) if (issues[i]?.continue !== true) return true;
  return false;
}

function prefix(key: PropertyKey, issues: RawIssue[]): RawIssue[] {
  for (const issue of issues) issue.path.unshift(key);
  return issues;
}

const quote = (value: unknown): string => (typeof value === 'string' ? `"${value}"` : `${value}`);

/** Zod's `parsedType` as its English locale names it. */
function received(input: unknown): string {
  if (typeof input === 'number') return Number.isFinite(input) ? 'number' : String(input);
  if (typeof input !== 'object') return typeof input;
  if (input === null) return 'null';
  if (Array.isArray(input)) return 'array';
  const proto: unknown = Object.getPrototypeOf(input);
  const ctor: unknown = 'constructor' in input ? input.constructor : undefined;
  return proto !== Object.prototype && typeof ctor === 'function' && ctor.name
    ? ctor.name
    : 'object';
}

function invalidType(expected: string, input: unknown, cont?: false): RawIssue {
  return {
    code: 'invalid_type',
    path: [],
    message: `Invalid input: expected ${expected}, received ${received(input)}`,
    ...(cont === false ? { continue: false } : {}),
  };
}

function invalidValue(values: readonly unknown[]): RawIssue {
  return {
    code: 'invalid_value',
    path: [],
    message:
      values.length === 1
        ? `Invalid input: expected ${quote(values[0])}`
        : `Invalid option: expected one of ${values.map(quote).join('|')}`,
  };
}

/** Too small or too big: `n` against `limit`, measured as Zod's English locale words it. */
function bound(
  code: 'too_small' | 'too_big',
  origin: string,
  relation: string,
  limit: number,
  message?: string,
): RawIssue {
  const unit = origin === 'string' ? ' characters' : origin === 'array' ? ' items' : '';
  const size = unit ? `to have ${relation}${limit}${unit}` : `to be ${relation}${limit}`;
  return {
    code,
    path: [],
    message: message ?? `Too ${code === 'too_small' ? 'small' : 'big'}: expected ${origin} ${size}`,
    continue: true,
  };
}

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/** Zod's `isPlainObject`, which a record requires. */
function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (!isObject(value)) return false;
  const ctor: unknown = value.constructor;
  if (typeof ctor !== 'function') return true;
  const proto: unknown = ctor.prototype;
  return isObject(proto) && Object.hasOwn(proto, 'isPrototypeOf');
}

/** Length in code points, as Zod measures a string; any other value's `length`. */
const lengthOf = (value: unknown): number =>
  typeof value === 'string' && /[\ud800-\udbff]/.test(value)
    ? [...value].length
    : (value as { length: number }).length;

/** What a length check says it measured, as Zod names it. */
const originOf = (value: unknown): string =>
  Array.isArray(value) ? 'array' : typeof value === 'string' ? 'string' : 'unknown';

export class ZodError extends Error {
  override readonly name = 'ZodError';
  readonly issues: Issue[];
  constructor(issues: readonly RawIssue[]) {
    const clean = issues.map(({ code, path, message }) => ({ code, path, message }));
    super(JSON.stringify(clean, undefined, 2));
    this.issues = clean;
  }
}

export type SafeParseResult<T> =
  | { readonly success: true; readonly data: T; readonly error?: undefined }
  | { readonly success: false; readonly data?: undefined; readonly error: ZodError };

export abstract class ZodType<Output = unknown> {
  declare readonly _output: Output;
  /** How an absent object key is read (Zod's optin/optout). */
  optin: 'optional' | 'defaulted' | undefined;
  optout: 'optional' | undefined;
  description: string | undefined;
  protected checks: readonly AnyCheck[] = [];

  /** The type test and the parse of the parts; the checks run after it. */
  protected abstract parseType(input: unknown, issues: RawIssue[]): unknown;

  run(input: unknown, issues: RawIssue[]): unknown {
    const start = issues.length;
    let result = this.parseType(input, issues);
    let stopped = aborted(issues, start);
    for (const check of this.checks as readonly Check<unknown>[]) {
      if (SIZED.has(check)) {
        const halted = issues.slice(start).some((i) => i.continue === false);
        if (halted || !hasLength(result)) continue;
      } else if (stopped) continue;
      const before = issues.length;
      const rewritten = check(result, issues);
      if (rewritten !== undefined) result = rewritten;
      stopped ||= aborted(issues, before);
    }
    return result;
  }

  safeParse(input: unknown): SafeParseResult<this['_output']> {
    const issues: RawIssue[] = [];
    const data = this.run(input, issues) as this['_output'];
    return issues.length === 0
      ? { success: true, data }
      : { success: false, error: new ZodError(issues) };
  }

  parse(input: unknown): this['_output'] {
    const result = this.safeParse(input);
    if (!result.success) throw result.error;
    return result.data;
  }

  /** A copy with `check` added. */
  protected with(check: AnyCheck): this {
    const copy = Object.create(Object.getPrototypeOf(this)) as this;
    Object.assign(copy, this, { checks: [...this.checks, check] });
    return copy;
  }

  optional(): ZodOptional<this> {
    return new ZodOptional(this);
  }
  nullable(): ZodNullable<this> {
    return new ZodNullable(this);
  }
  nullish(): ZodOptional<ZodNullable<this>> {
    return this.nullable().optional();
  }
  default(value: Exclude<Output, undefined>): ZodDefault<this> {
    return new ZodDefault(this, value);
  }
  catch(value: Output): ZodCatch<this> {
    return new ZodCatch(this, value);
  }
  transform<T>(fn: (value: Output) => T): ZodPipe<T> {
    return new ZodPipe(this, fn);
  }
  describe(description: string): this {
    const copy = Object.create(Object.getPrototypeOf(this)) as this;
    Object.assign(copy, this, { description });
    return copy;
  }
}

export type output<T extends { readonly _output: unknown }> = T['_output'];
export type { output as infer };

function format(message: string): RawIssue {
  return { code: 'invalid_format', path: [], message, continue: true };
}

export class ZodString extends ZodType<string> {
  protected parseType(input: unknown, issues: RawIssue[]): unknown {
    if (typeof input !== 'string') issues.push(invalidType('string', input));
    return input;
  }
  min(n: number, message?: Message): this {
    return this.with(
      sized((v: unknown, issues: RawIssue[]) => {
        if (lengthOf(v) < n) issues.push(bound('too_small', originOf(v), '>=', n, text(message)));
      }),
    );
  }
  max(n: number, message?: Message): this {
    return this.with(
      sized((v: unknown, issues: RawIssue[]) => {
        if (lengthOf(v) > n) issues.push(bound('too_big', originOf(v), '<=', n, text(message)));
      }),
    );
  }
  regex(pattern: RegExp, message?: Message): this {
    return this.with((v: string, issues) => {
      pattern.lastIndex = 0;
      if (!pattern.test(v)) {
        issues.push(format(text(message) ?? `Invalid string: must match pattern ${pattern}`));
      }
    });
  }
  startsWith(start: string, message?: Message): this {
    return this.with((v: string, issues) => {
      if (!v.startsWith(start)) {
        issues.push(format(text(message) ?? `Invalid string: must start with "${start}"`));
      }
    });
  }
  /** Trims the value, before the checks that follow. */
  trim(): this {
    return this.with((v: string) => v.trim());
  }
}

export class ZodNumber extends ZodType<number> {
  protected parseType(input: unknown, issues: RawIssue[]): unknown {
    if (typeof input !== 'number' || !Number.isFinite(input)) {
      issues.push(invalidType('number', input));
    }
    return input;
  }
  /** A safe integer, as Zod's `int()`. */
  int(): this {
    return this.with((v: number, issues) => {
      if (!Number.isInteger(v)) issues.push(invalidType('int', v, false));
      else if (v > Number.MAX_SAFE_INTEGER) {
        issues.push(bound('too_big', 'int', '<=', Number.MAX_SAFE_INTEGER));
      } else if (v < Number.MIN_SAFE_INTEGER) {
        issues.push(bound('too_small', 'int', '>=', Number.MIN_SAFE_INTEGER));
      }
    });
  }
  min(n: number): this {
    return this.with((v: number, issues) => {
      if (v < n) issues.push(bound('too_small', 'number', '>=', n));
    });
  }
  max(n: number): this {
    return this.with((v: number, issues) => {
      if (v > n) issues.push(bound('too_big', 'number', '<=', n));
    });
  }
  positive(): this {
    return this.with((v: number, issues) => {
      if (v <= 0) issues.push(bound('too_small', 'number', '>', 0));
    });
  }
  nonnegative(): this {
    return this.min(0);
  }
}

/** A schema that tests the type only: boolean, null, unknown, never. */
export class ZodPrimitive<T> extends ZodType<T> {
  constructor(
    private readonly expected: string,
    private readonly accepts: (input: unknown) => boolean,
  ) {
    super();
  }
  protected parseType(input: unknown, issues: RawIssue[]): unknown {
    if (!this.accepts(input)) issues.push(invalidType(this.expected, input));
    return input;
  }
}

export class ZodValues<T> extends ZodType<T> {
  readonly values: readonly T[];
  constructor(values: readonly T[]) {
    super();
    this.values = values;
  }
  protected parseType(input: unknown, issues: RawIssue[]): unknown {
    if (!this.values.includes(input as T)) issues.push(invalidValue(this.values));
    return input;
  }
}

export class ZodArray<E extends ZodType> extends ZodType<output<E>[]> {
  constructor(private readonly element: E) {
    super();
  }
  /** The upper bounds, which Zod checks before it reads the elements (its `capSize`). */
  private caps: readonly { max: number; check: AnyCheck }[] = [];
  protected parseType(input: unknown, issues: RawIssue[]): unknown {
    if (!Array.isArray(input)) {
      issues.push(invalidType('array', input));
      return input;
    }
    const cap = this.caps.find((c) => input.length > c.max);
    if (cap) {
      const start = issues.length;
      (cap.check as Check<unknown>)(input, issues);
      for (const issue of issues.slice(start)) issue.continue = false;
      return input;
    }
    return input.map((item, i) => {
      const own: RawIssue[] = [];
      const value = this.element.run(item, own);
      issues.push(...prefix(i, own));
      return value;
    });
  }
  min(n: number): this {
    return this.with(
      sized((v: unknown, issues: RawIssue[]) => {
        if (lengthOf(v) < n) issues.push(bound('too_small', originOf(v), '>=', n));
      }),
    );
  }
  max(n: number): this {
    const check = sized((v: unknown, issues: RawIssue[]) => {
      if (lengthOf(v) > n) issues.push(bound('too_big', originOf(v), '<=', n));
    });
    const copy = this.with(check);
    copy.caps = [...this.caps, { max: n, check }];
    return copy;
  }
}

export type Shape = Readonly<Record<string, ZodType>>;
export type Flatten<T> = { [K in keyof T]: T[K] } & {};
export type OptionalKeys<S extends Shape> = {
  [K in keyof S]: S[K] extends ZodOptional<ZodType> ? K : never;
}[keyof S];
export type ObjectOutput<S extends Shape> = Flatten<
  { [K in Exclude<keyof S, OptionalKeys<S>>]: output<S[K]> } & {
    [K in OptionalKeys<S>]?: output<S[K]>;
  }
>;
export type Mode = 'strip' | 'strict' | 'loose';

export class ZodObject<S extends Shape, Out = ObjectOutput<S>> extends ZodType<Out> {
  constructor(
    readonly shape: S,
    private readonly mode: Mode,
  ) {
    super();
  }
  protected parseType(input: unknown, issues: RawIssue[]): unknown {
    if (!isObject(input)) {
      issues.push(invalidType('object', input));
      return input;
    }
    const out: Record<string, unknown> = {};
    for (const [key, schema] of Object.entries(this.shape)) {
      if (key === '__proto__') continue;
      const own: RawIssue[] = [];
      const value = schema.run(input[key], own);
      property(schema, key, key in input, value, own, out, issues);
    }
    if (this.mode === 'strip') return out;
    const unrecognized: string[] = [];
    for (const key in input) {
      if (Object.hasOwn(this.shape, key)) continue;
      if (this.mode === 'strict') unrecognized.push(key);
      else if (key !== '__proto__') out[key] = input[key];
    }
    if (unrecognized.length > 0) {
      issues.push({
        code: 'unrecognized_keys',
        path: [],
        message: `Unrecognized key${unrecognized.length > 1 ? 's' : ''}: ${unrecognized.map(quote).join(', ')}`,
        continue: true,
      });
    }
    return out;
  }
  /** The same object, letting unknown keys through. */
  loose(): ZodObject<S, ObjectOutput<S> & Record<string, unknown>> {
    return new ZodObject(this.shape, 'loose');
  }
  extend<T extends Shape>(shape: T): ZodObject<Flatten<Omit<S, keyof T> & T>> {
    return new ZodObject({ ...this.shape, ...shape } as Flatten<Omit<S, keyof T> & T>, this.mode);
  }
  pick<K extends keyof S & string>(
    mask: Readonly<Record<K, true>>,
  ): ZodObject<Flatten<Pick<S, K>>> {
    const shape = Object.fromEntries(Object.keys(mask).map((k) => [k, this.shape[k]]));
    return new ZodObject(shape as Flatten<Pick<S, K>>, this.mode);
  }
}

/** Zod's `handlePropertyResult`: what an object makes of one key's parse. */
function property(
  schema: ZodType,
  key: string,
  present: boolean,
  value: unknown,
  own: RawIssue[],
  out: Record<string, unknown>,
  issues: RawIssue[],
): void {
  const { optin, optout } = schema;
  if (!present && optout === 'optional' && optin === 'optional') return;
  if (own.length > 0) {
    if (optin !== undefined && optout === 'optional' && !present) return;
    issues.push(...prefix(key, own));
  }
  if (!present && optin === undefined) {
    if (own.length === 0) issues.push({ ...invalidType('nonoptional', undefined), path: [key] });
    return;
  }
  if (value !== undefined) out[key] = value;
  else if (present || (optin === 'defaulted' && optout !== 'optional')) out[key] = undefined;
}

export class ZodRecord<K extends ZodType<string>, V extends ZodType> extends ZodType<
  Record<output<K>, output<V>>
> {
  constructor(
    private readonly key: K,
    private readonly value: V,
  ) {
    super();
  }
  protected parseType(input: unknown, issues: RawIssue[]): unknown {
    if (!isPlainObject(input)) {
      issues.push(invalidType('record', input));
      return input;
    }
    const out: Record<string, unknown> = {};
    for (const key of Object.keys(input)) {
      if (key === '__proto__') continue;
      if (!this.key.safeParse(key).success) {
        issues.push({ code: 'invalid_key', path: [key], message: 'Invalid key in record' });
        continue;
      }
      const own: RawIssue[] = [];
      out[key] = this.value.run(input[key], own);
      issues.push(...prefix(key, own));
    }
    return out;
  }
}

export type Options = readonly [ZodType, ...ZodType[]];

export class ZodUnion<O extends Options> extends ZodType<output<O[number]>> {
  constructor(private readonly options: O) {
    super();
  }
  protected parseType(input: unknown, issues: RawIssue[]): unknown {
    if (this.options.length === 1) return this.options[0].run(input, issues);
    const results: { value: unknown; issues: RawIssue[] }[] = [];
    for (const option of this.options) {
      const own: RawIssue[] = [];
      const value = option.run(input, own);
      if (own.length === 0) return value;
      results.push({ value, issues: own });
    }
    const [only, ...others] = results.filter((r) => !aborted(r.issues));
    if (only && others.length === 0) {
      issues.push(...only.issues);
      return only.value;
    }
    issues.push({ code: 'invalid_union', path: [], message: 'Invalid input' });
    return input;
  }
}

export class ZodDiscriminatedUnion<O extends readonly ZodObject<Shape>[]> extends ZodType<
  output<O[number]>
> {
  private readonly byValue = new Map<unknown, ZodType>();
  constructor(
    private readonly discriminator: string,
    options: O,
  ) {
    super();
    for (const option of options) {
      const tag = option.shape[discriminator];
      if (!(tag instanceof ZodValues)) throw new Error(`no literal ${discriminator} in an option`);
      for (const value of tag.values) this.byValue.set(value, option);
    }
  }
  protected parseType(input: unknown, issues: RawIssue[]): unknown {
    if (!isObject(input)) {
      issues.push(invalidType('object', input));
      return input;
    }
    const option = this.byValue.get(input[this.discriminator]);
    if (option) return option.run(input, issues);
    const expected = [...this.byValue.keys()].map((o) => `'${o}'`).join(' | ');
    issues.push({
      code: 'invalid_union',
      path: [this.discriminator],
      message: `Invalid discriminator value. Expected ${expected}`,
    });
    return input;
  }
}

/** A wrapper: how it reads an absent key, and what it does around its inner schema. */
export abstract class ZodWrapper<Inner extends ZodType, Output> extends ZodType<Output> {
  constructor(protected readonly inner: Inner) {
    super();
    this.optin = inner.optin;
    this.optout = inner.optout;
  }
}

export class ZodOptional<Inner extends ZodType> extends ZodWrapper<
  Inner,
  output<Inner> | undefined
> {
  constructor(inner: Inner) {
    super(inner);
    this.optin = inner.optin === 'defaulted' ? 'defaulted' : 'optional';
    this.optout = 'optional';
  }
  protected parseType(input: unknown, issues: RawIssue[]): unknown {
    if (input !== undefined) return this.inner.run(input, issues);
    if (this.inner.optin !== 'defaulted') return input;
    const own: RawIssue[] = [];
    const value = this.inner.run(input, own);
    return own.length > 0 ? undefined : value;
  }
}

export class ZodNullable<Inner extends ZodType> extends ZodWrapper<Inner, output<Inner> | null> {
  protected parseType(input: unknown, issues: RawIssue[]): unknown {
    return input === null ? input : this.inner.run(input, issues);
  }
}

/** A default as Zod hands it out: a shallow copy, so no parse shares it with another. */
const fresh = (value: unknown): unknown =>
  Array.isArray(value) ? [...value] : isPlainObject(value) ? { ...value } : value;

export class ZodDefault<Inner extends ZodType> extends ZodWrapper<
  Inner,
  Exclude<output<Inner>, undefined>
> {
  constructor(
    inner: Inner,
    private readonly fallback: unknown,
  ) {
    super(inner);
    this.optin = 'defaulted';
    this.optout = undefined;
  }
  protected parseType(input: unknown, issues: RawIssue[]): unknown {
    if (input === undefined) return fresh(this.fallback);
    const value = this.inner.run(input, issues);
    return value === undefined ? fresh(this.fallback) : value;
  }
}

export class ZodCatch<Inner extends ZodType> extends ZodWrapper<Inner, output<Inner>> {
  constructor(
    inner: Inner,
    private readonly fallback: unknown,
  ) {
    super(inner);
    this.optin = inner.optin === 'defaulted' ? 'defaulted' : 'optional';
  }
  protected parseType(input: unknown): unknown {
    const own: RawIssue[] = [];
    const value = this.inner.run(input, own);
    return own.length > 0 ? this.fallback : value;
  }
}

export class ZodPipe<Output> extends ZodWrapper<ZodType, Output> {
  constructor(
    inner: ZodType,
    private readonly fn: (value: never) => Output,
  ) {
    super(inner);
    this.optout = undefined;
  }
  protected parseType(input: unknown, issues: RawIssue[]): unknown {
    const start = issues.length;
    const value = this.inner.run(input, issues);
    if (issues.slice(start).some((i) => i.code !== 'unrecognized_keys')) return value;
    return (this.fn as (value: unknown) => Output)(value);
  }
}

export function string(): ZodString {
  return new ZodString();
}
export function number(): ZodNumber {
  return new ZodNumber();
}
export function boolean(): ZodType<boolean> {
  return new ZodPrimitive<boolean>('boolean', (v) => typeof v === 'boolean');
}
function _null(): ZodType<null> {
  return new ZodPrimitive<null>('null', (v) => v === null);
}

export { _null as null };
export function unknown(): ZodType<unknown> {
  return new ZodPrimitive<unknown>('unknown', () => true);
}
export function never(): ZodType<never> {
  return new ZodPrimitive<never>('never', () => false);
}
export function literal<const T extends string | number | boolean>(value: T): ZodValues<T> {
  return new ZodValues([value]);
}
function _enum<const T extends readonly string[]>(values: T): ZodValues<T[number]> {
  return new ZodValues(values);
}

export { _enum as enum };
export function array<E extends ZodType>(element: E): ZodArray<E> {
  return new ZodArray(element);
}
/** Unknown keys are dropped. */
export function object<S extends Shape>(shape: S): ZodObject<S> {
  return new ZodObject(shape, 'strip');
}
/** Unknown keys are refused: our own contracts. */
export function strictObject<S extends Shape>(shape: S): ZodObject<S> {
  return new ZodObject(shape, 'strict');
}
/** Unknown keys pass through: AWS's events, which gain fields over time. */
export function looseObject<S extends Shape>(
  shape: S,
): ZodObject<S, ObjectOutput<S> & Record<string, unknown>> {
  return new ZodObject(shape, 'loose');
}
export function record<K extends ZodType<string>, V extends ZodType>(
  key: K,
  value: V,
): ZodRecord<K, V> {
  return new ZodRecord(key, value);
}
export function union<const O extends Options>(options: O): ZodUnion<O> {
  return new ZodUnion(options);
}
export function discriminatedUnion<const O extends readonly ZodObject<Shape>[]>(
  discriminator: string,
  options: O,
): ZodDiscriminatedUnion<O> {
  return new ZodDiscriminatedUnion(discriminator, options);
}

/** RFC 3339 dates that exist (leap years too), as Zod's ISO patterns spell them. */
const DATE =
  '(?:(?:\\d\\d[2468][048]|\\d\\d[13579][26]|\\d\\d0[48]|[02468][048]00|[13579][26]00)-02-29|\\d{4}-(?:(?:0[13578]|1[02])-(?:0[1-9]|[12]\\d|3[01])|(?:0[469]|11)-(?:0[1-9]|[12]\\d|30)|(?:02)-(?:0[1-9]|1\\d|2[0-8])))';

export const iso = {
  /** An RFC 3339 date-time with seconds, in UTC (`Z`) or, with `offset`, at any offset: Zod's `z.iso.datetime()`. */
  datetime(options?: { readonly offset?: boolean }): ZodString {
    const zone = options?.offset ? '(?:Z|([+-](?:[01]\\d|2[0-3]):[0-5]\\d))' : '(?:Z)';
    const pattern = new RegExp(
      `^${DATE}T(?:(?:[01]\\d|2[0-3]):[0-5]\\d:[0-5]\\d(?:\\.\\d+)?${zone})$`,
    );
    return string().regex(pattern, 'Invalid ISO datetime');
  },
};

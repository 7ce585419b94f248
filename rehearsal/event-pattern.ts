/**
 * EventBridge content filtering, locally: does an event match a rule's event
 * pattern? `cordon rehearse` uses this to pick the playbooks an event would
 * start, from the same patterns the stack deploys.
 *
 * Supported: exact values (string, number, boolean, null), nested objects,
 * `prefix` / `suffix` (optionally `{ 'equals-ignore-case': ... }`),
 * `anything-but` (value, list, `prefix`, `suffix`, `equals-ignore-case`,
 * `wildcard`), `numeric`, `exists`, `equals-ignore-case`, `wildcard`, `$or`.
 * Anything else (`cidr`, typos, a leaf that is not an array) is an
 * EventPatternError: a pattern we cannot evaluate must never quietly match or
 * not match. The whole pattern is validated before any event is looked at, so
 * the outcome never depends on which branch an event happens to reach.
 *
 * Semantics, as EventBridge applies them:
 * - Every key in a pattern object must match (AND); within a leaf array, any
 *   one entry may match (OR).
 * - The event is read as a set of leaf values per path. Arrays are flattened:
 *   an event array field matches if ANY element matches. Objects are not leaf
 *   values (so `exists: true` does not match a field holding an object, and an
 *   empty array holds no value, so it counts as missing).
 * - PER FIELD, NOT PER ELEMENT: for an array of objects, each key of a nested
 *   pattern is matched independently against the values of that key in all the
 *   elements. `{ findings: { A: ['x'], B: ['y'] } }` matches
 *   `{ findings: [{ A: 'x', B: 'n' }, { A: 'n', B: 'y' }] }` even though no
 *   single finding has both. This is the permissive reading (a superset of
 *   "same element" matching), which is the safe side for a router: triage
 *   re-checks each finding on its own and must not rely on the rule for that.
 * - A missing field matches nothing except `exists: false`; in particular
 *   `anything-but` does not match a missing field. A field that is present
 *   with the value null is present (`exists: true`, `[null]` match it).
 * - `numeric` matches JSON numbers only, never numeric strings; an exact
 *   number matches the equal number; an exact string never matches a number.
 * - `prefix`, `suffix`, `equals-ignore-case` and `wildcard` match strings only.
 * - `anything-but` matches any present leaf value the inner condition does not
 *   match (so `{ 'anything-but': { prefix: 'us-' } }` matches a number).
 */

export class EventPatternError extends Error {
  override name = 'EventPatternError';
}

type Leaf = null | boolean | number | string;

/** Matches one present leaf value. */
type ValueTest = (value: Leaf) => boolean;

/** One entry of a leaf array: tests the field's leaf values (empty = missing). */
type FieldTest = (values: readonly Leaf[]) => boolean;

/** A compiled pattern object: tests a set of event nodes (per field). */
type NodeTest = (nodes: readonly unknown[]) => boolean;

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function describe(value: unknown): string {
  return JSON.stringify(value) ?? String(value);
}

function fail(path: string, message: string): never {
  throw new EventPatternError(`invalid event pattern at ${path || '<root>'}: ${message}`);
}

function isScalar(value: unknown): value is Leaf {
  return (
    value === null ||
    typeof value === 'string' ||
    typeof value === 'boolean' ||
    (typeof value === 'number' && Number.isFinite(value))
  );
}

// ---------------------------------------------------------------- event side

/** The values of `key` in every object among `nodes` (arrays looked through). */
function childValues(nodes: readonly unknown[], key: string): unknown[] {
  const out: unknown[] = [];
  const visit = (node: unknown): void => {
    if (Array.isArray(node)) {
      for (const element of node) visit(element);
    } else if (isRecord(node) && Object.hasOwn(node, key)) {
      out.push(node[key]);
    }
  };
  for (const node of nodes) visit(node);
  return out;
}

/** The leaf (non-object, non-array) values among `values`, arrays flattened. */
function leafValues(values: readonly unknown[]): Leaf[] {
  const out: Leaf[] = [];
  const visit = (value: unknown): void => {
    if (Array.isArray(value)) {
      for (const element of value) visit(element);
    } else if (isScalar(value)) {
      out.push(value);
    }
  };
  for (const value of values) visit(value);
  return out;
}

// -------------------------------------------------------------- pattern side

function compileObject(pattern: Record<string, unknown>, path: string): NodeTest {
  const tests: NodeTest[] = [];
  for (const [key, spec] of Object.entries(pattern)) {
    const at = path ? `${path}.${key}` : key;
    if (key === '$or') {
      tests.push(compileOr(spec, at));
    } else if (Array.isArray(spec)) {
      const fieldTest = compileLeafArray(spec, at);
      tests.push((nodes) => fieldTest(leafValues(childValues(nodes, key))));
    } else if (isRecord(spec)) {
      const nested = compileObject(spec, at);
      tests.push((nodes) => nested(childValues(nodes, key)));
    } else {
      fail(at, `expected an array of values or a nested object, got ${describe(spec)}`);
    }
  }
  return (nodes) => tests.every((test) => test(nodes));
}

function compileOr(spec: unknown, path: string): NodeTest {
  if (!Array.isArray(spec) || spec.length < 2) {
    fail(path, '$or needs an array of at least two pattern objects');
  }
  const alternatives = spec.map((alternative, index) => {
    if (!isRecord(alternative)) {
      fail(`${path}[${index}]`, `expected a pattern object, got ${describe(alternative)}`);
    }
    return compileObject(alternative, `${path}[${index}]`);
  });
  return (nodes) => alternatives.some((alternative) => alternative(nodes));
}

function compileLeafArray(spec: readonly unknown[], path: string): FieldTest {
  if (spec.length === 0) fail(path, 'an empty array matches nothing');
  const tests = spec.map((entry, index) => compileLeafEntry(entry, `${path}[${index}]`));
  return (values) => tests.some((test) => test(values));
}

function anyValue(test: ValueTest): FieldTest {
  return (values) => values.some(test);
}

function compileLeafEntry(entry: unknown, path: string): FieldTest {
  if (isScalar(entry)) return anyValue(exact(entry));
  if (!isRecord(entry))
    fail(path, `expected a value or an operator object, got ${describe(entry)}`);
  const keys = Object.keys(entry);
  const [operator] = keys;
  if (keys.length !== 1 || operator === undefined) {
    fail(path, `an operator object has exactly one key, got ${describe(entry)}`);
  }
  const operand = entry[operator];
  const at = `${path}.${operator}`;
  switch (operator) {
    case 'exists':
      if (typeof operand !== 'boolean') fail(at, 'exists takes true or false');
      return operand ? (values) => values.length > 0 : (values) => values.length === 0;
    case 'anything-but': {
      const inner = compileAnythingBut(operand, at);
      return anyValue((value) => !inner(value));
    }
    default:
      return anyValue(compileStringOperator(operator, operand, path, 'value'));
  }
}

function exact(expected: Leaf): ValueTest {
  return (value) => value === expected;
}

/**
 * The operators that test strings: prefix, suffix, equals-ignore-case,
 * wildcard. `context` says where they appear, for the error message.
 */
function compileStringOperator(
  operator: string,
  operand: unknown,
  path: string,
  context: 'value' | 'anything-but',
): ValueTest {
  const at = `${path}.${operator}`;
  switch (operator) {
    case 'prefix':
    case 'suffix': {
      const compare = operator === 'prefix' ? startsWith : endsWith;
      if (typeof operand === 'string') {
        return (value) => typeof value === 'string' && compare(value, operand);
      }
      if (isRecord(operand)) {
        const keys = Object.keys(operand);
        const ignoreCase = operand['equals-ignore-case'];
        if (keys.length === 1 && typeof ignoreCase === 'string') {
          const lowered = ignoreCase.toLowerCase();
          return (value) => typeof value === 'string' && compare(value.toLowerCase(), lowered);
        }
      }
      return fail(at, `${operator} takes a string or { "equals-ignore-case": string }`);
    }
    case 'equals-ignore-case': {
      const expected = stringList(operand, at, context === 'anything-but').map((s) =>
        s.toLowerCase(),
      );
      return (value) => typeof value === 'string' && expected.includes(value.toLowerCase());
    }
    case 'wildcard': {
      const patterns = stringList(operand, at, context === 'anything-but').map((p) =>
        wildcardRegExp(p, at),
      );
      return (value) => typeof value === 'string' && patterns.some((re) => re.test(value));
    }
    case 'numeric':
      if (context === 'value') return compileNumeric(operand, at);
      break;
    case 'exists':
    case 'anything-but':
    case '$or':
      break;
    default:
      return fail(at, `unsupported operator "${operator}"`);
  }
  return fail(at, `operator "${operator}" is not allowed inside ${context}`);
}

function startsWith(value: string, prefix: string): boolean {
  return value.startsWith(prefix);
}

function endsWith(value: string, suffix: string): boolean {
  return value.endsWith(suffix);
}

function stringList(operand: unknown, path: string, allowList: boolean): string[] {
  if (typeof operand === 'string') return [operand];
  if (
    allowList &&
    Array.isArray(operand) &&
    operand.length > 0 &&
    operand.every((s) => typeof s === 'string')
  ) {
    return operand;
  }
  return fail(path, allowList ? 'expected a string or a list of strings' : 'expected a string');
}

/** `*` is any run of characters (including none); `\*` and `\\` are literal. */
function wildcardRegExp(pattern: string, path: string): RegExp {
  let source = '';
  for (let i = 0; i < pattern.length; i += 1) {
    const char = pattern[i];
    if (char === '\\') {
      const next = pattern[i + 1];
      if (next !== '*' && next !== '\\') {
        fail(path, `wildcard ${describe(pattern)}: "\\" may only escape "*" or "\\"`);
      }
      source += `\\${next}`;
      i += 1;
    } else if (char === '*') {
      if (pattern[i + 1] === '*') fail(path, `wildcard ${describe(pattern)}: consecutive "*"`);
      source += '[\\s\\S]*';
    } else if (char !== undefined) {
      source += char.replace(/[.+?^${}()|[\]\\/]/g, '\\$&');
    }
  }
  return new RegExp(`^${source}$`, 'u');
}

function compileAnythingBut(operand: unknown, path: string): ValueTest {
  if (typeof operand === 'string' || (typeof operand === 'number' && Number.isFinite(operand))) {
    return exact(operand);
  }
  if (Array.isArray(operand)) {
    if (operand.length === 0) fail(path, 'anything-but needs at least one value');
    const excluded = operand.map((value, index) => {
      if (typeof value === 'string' || (typeof value === 'number' && Number.isFinite(value))) {
        return value;
      }
      return fail(
        `${path}[${index}]`,
        `anything-but lists strings or numbers, got ${describe(value)}`,
      );
    });
    return (value) =>
      (typeof value === 'string' || typeof value === 'number') && excluded.includes(value);
  }
  if (isRecord(operand)) {
    const keys = Object.keys(operand);
    const [operator] = keys;
    if (keys.length !== 1 || operator === undefined) {
      fail(path, `anything-but takes one operator, got ${describe(operand)}`);
    }
    return compileStringOperator(operator, operand[operator], path, 'anything-but');
  }
  return fail(
    path,
    `anything-but takes a string, a number, a list or an operator, got ${describe(operand)}`,
  );
}

const LOWER = new Set(['>', '>=']);
const UPPER = new Set(['<', '<=']);

function compileNumeric(operand: unknown, path: string): ValueTest {
  if (!Array.isArray(operand) || (operand.length !== 2 && operand.length !== 4)) {
    fail(path, 'numeric takes [op, n] or [lower-op, n, upper-op, m]');
  }
  const comparisons: Array<(n: number) => boolean> = [];
  const ops: string[] = [];
  for (let i = 0; i < operand.length; i += 2) {
    const op: unknown = operand[i];
    const bound: unknown = operand[i + 1];
    if (typeof bound !== 'number' || !Number.isFinite(bound)) {
      fail(`${path}[${i + 1}]`, `expected a number, got ${describe(bound)}`);
    }
    if (typeof op !== 'string') fail(`${path}[${i}]`, `expected an operator, got ${describe(op)}`);
    ops.push(op);
    comparisons.push(numericComparison(op, bound, `${path}[${i}]`));
  }
  const [first, second] = ops;
  if (ops.length === 2) {
    const lowerThenUpper =
      first !== undefined && second !== undefined && LOWER.has(first) && UPPER.has(second);
    if (!lowerThenUpper) {
      fail(
        path,
        `a range is a lower bound (> or >=) then an upper bound (< or <=), got ${describe(operand)}`,
      );
    }
  }
  return (value) => typeof value === 'number' && comparisons.every((compare) => compare(value));
}

function numericComparison(op: string, bound: number, path: string): (n: number) => boolean {
  switch (op) {
    case '=':
      return (n) => n === bound;
    case '<':
      return (n) => n < bound;
    case '<=':
      return (n) => n <= bound;
    case '>':
      return (n) => n > bound;
    case '>=':
      return (n) => n >= bound;
    default:
      return fail(path, `unsupported numeric operator "${op}"`);
  }
}

// -------------------------------------------------------------------- public

/**
 * Validate `pattern` once and return a matcher for events. Throws
 * EventPatternError naming the place and the problem if the pattern is not a
 * valid EventBridge pattern this module can evaluate.
 */
export function compileEventPattern(pattern: unknown): (event: unknown) => boolean {
  if (!isRecord(pattern)) fail('', `a pattern is a JSON object, got ${describe(pattern)}`);
  const test = compileObject(pattern, '');
  return (event) => test([event]);
}

/** Does `event` match the EventBridge event `pattern`? See the module comment. */
export function matchesEventPattern(pattern: unknown, event: unknown): boolean {
  return compileEventPattern(pattern)(event);
}

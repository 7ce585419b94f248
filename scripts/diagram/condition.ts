import { DiagramError } from './errors.js';

/**
 * A Choice rule's condition as one compact line of text, for an edge label:
 * `decision = 'PROCEED'`, `incident.plan.isolate.mode in ('auto', 'dry-run')`.
 * Paths lose their leading `$.`. Two simplifications keep labels short, and
 * both keep the meaning: an `IsPresent` guard next to a comparison on the same
 * path is left out (the comparison implies it), and an `Or` of equalities on
 * one path reads as `in (...)`. Any operator not listed here is an error.
 */

type Value = { readonly literal: string | number | boolean } | { readonly path: string };

type Condition =
  | { readonly kind: 'compare'; readonly path: string; readonly op: string; readonly value: Value }
  | { readonly kind: 'test'; readonly path: string; readonly text: string }
  | { readonly kind: 'present'; readonly path: string }
  | { readonly kind: 'in'; readonly path: string; readonly values: readonly Value[] }
  | { readonly kind: 'and' | 'or'; readonly of: readonly Condition[] }
  | { readonly kind: 'not'; readonly of: Condition };

const COMPARISONS: Readonly<Record<string, string>> = {
  Equals: '=',
  LessThan: '<',
  GreaterThan: '>',
  LessThanEquals: '<=',
  GreaterThanEquals: '>=',
};
const KINDS = ['String', 'Numeric', 'Boolean', 'Timestamp'] as const;

const TESTS: Readonly<Record<string, readonly [string, string]>> = {
  IsNull: ['is null', 'is not null'],
  IsString: ['is a string', 'is not a string'],
  IsNumeric: ['is a number', 'is not a number'],
  IsBoolean: ['is a boolean', 'is not a boolean'],
  IsTimestamp: ['is a timestamp', 'is not a timestamp'],
};

/** Keys of a rule that route rather than test. */
const ROUTING = new Set(['Next', 'Comment']);

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function fail(where: string, why: string): never {
  throw new DiagramError(`${where}: ${why}`);
}

function shortPath(path: string): string {
  return path.startsWith('$.') ? path.slice(2) : path;
}

function operator(key: string): { op: string; isPath: boolean } | undefined {
  if (key === 'StringMatches') return { op: 'matches', isPath: false };
  const isPath = key.endsWith('Path');
  const base = isPath ? key.slice(0, -'Path'.length) : key;
  const kind = KINDS.find((k) => base.startsWith(k));
  const op = kind === undefined ? undefined : COMPARISONS[base.slice(kind.length)];
  return op === undefined ? undefined : { op, isPath };
}

function parse(rule: unknown, where: string): Condition {
  if (!isRecord(rule)) fail(where, 'a choice rule must be an object');
  const keys = Object.keys(rule).filter((k) => !ROUTING.has(k));
  const logical = keys.filter((k) => k === 'And' || k === 'Or' || k === 'Not');
  if (logical.length > 0) {
    if (keys.length !== 1) fail(where, `a rule with ${logical[0]} may hold nothing else`);
    const [key] = logical;
    const operands = rule[key as string];
    if (key === 'Not') return { kind: 'not', of: parse(operands, where) };
    if (!Array.isArray(operands) || operands.length === 0) {
      fail(where, `${key} needs a non-empty list of rules`);
    }
    return {
      kind: key === 'And' ? 'and' : 'or',
      of: operands.map((o: unknown) => parse(o, where)),
    };
  }
  const variable = rule.Variable;
  if (typeof variable !== 'string') fail(where, 'a comparison needs a Variable');
  const tests = keys.filter((k) => k !== 'Variable');
  if (tests.length !== 1) fail(where, `expected one operator, got ${tests.join(', ') || 'none'}`);
  const [key] = tests as [string];
  const operand = rule[key];
  const path = shortPath(variable);
  if (key === 'IsPresent') {
    if (typeof operand !== 'boolean') fail(where, 'IsPresent takes true or false');
    return operand ? { kind: 'present', path } : { kind: 'test', path, text: 'is absent' };
  }
  const test = TESTS[key];
  if (test !== undefined) {
    if (typeof operand !== 'boolean') fail(where, `${key} takes true or false`);
    return { kind: 'test', path, text: operand ? test[0] : test[1] };
  }
  const compare = operator(key);
  if (compare === undefined) fail(where, `operator ${key} is not one the diagram can draw`);
  if (compare.isPath) {
    if (typeof operand !== 'string') fail(where, `${key} takes a path`);
    return { kind: 'compare', path, op: compare.op, value: { path: shortPath(operand) } };
  }
  if (typeof operand !== 'string' && typeof operand !== 'number' && typeof operand !== 'boolean') {
    fail(where, `${key} takes a string, number or boolean`);
  }
  return { kind: 'compare', path, op: compare.op, value: { literal: operand } };
}

function simplify(condition: Condition): Condition {
  switch (condition.kind) {
    case 'not':
      return { kind: 'not', of: simplify(condition.of) };
    case 'and': {
      const of = condition.of.map(simplify);
      const compared = new Set(of.flatMap((c) => (c.kind === 'compare' ? [c.path] : [])));
      const kept = of.filter((c) => !(c.kind === 'present' && compared.has(c.path)));
      return kept.length === 1 && kept[0] ? kept[0] : { kind: 'and', of: kept };
    }
    case 'or': {
      const of = condition.of.map(simplify);
      const first = of[0];
      const sameEquality =
        first?.kind === 'compare' &&
        of.every((c) => c.kind === 'compare' && c.op === '=' && c.path === first.path);
      if (sameEquality && of.length > 1) {
        return {
          kind: 'in',
          path: first.path,
          values: of.flatMap((c) => (c.kind === 'compare' ? [c.value] : [])),
        };
      }
      return { kind: 'or', of };
    }
    default:
      return condition;
  }
}

function valueText(value: Value): string {
  if ('path' in value) return value.path;
  return typeof value.literal === 'string' ? `'${value.literal}'` : String(value.literal);
}

function render(condition: Condition, nested: boolean): string {
  switch (condition.kind) {
    case 'compare':
      return `${condition.path} ${condition.op} ${valueText(condition.value)}`;
    case 'test':
      return `${condition.path} ${condition.text}`;
    case 'present':
      return `${condition.path} is present`;
    case 'in':
      return `${condition.path} in (${condition.values.map(valueText).join(', ')})`;
    case 'not':
      return `not (${render(condition.of, false)})`;
    case 'and':
    case 'or': {
      const text = condition.of.map((c) => render(c, true)).join(` ${condition.kind} `);
      return nested ? `(${text})` : text;
    }
  }
}

/** The condition of one Choice rule as compact text; throws DiagramError on what it cannot read. */
export function conditionText(rule: unknown, where: string): string {
  return render(simplify(parse(rule, where)), false);
}

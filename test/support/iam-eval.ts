/**
 * A small IAM evaluator for identity policies, for tests that perform an
 * attack against the synthesized roles: "may revoke-sessions put a policy on
 * Cordon's own role?" is answered from the very statements CloudFormation
 * would deploy (their intrinsics resolved, ./resolve.ts), the way IAM
 * decides: an explicit Deny wins, then any Allow, else the implicit deny.
 *
 * It knows the condition operators Cordon's policies use (the String, Arn,
 * Bool and Null families, `...IfExists`, `ForAllValues:` and `ForAnyValue:`)
 * and fails loudly on anything else, and on `NotAction`, `NotResource` and
 * policy variables, rather than guess. It is no simulator: it evaluates one
 * request context the test writes, with the keys the test says AWS sets.
 */

export type Decision = 'allowed' | 'explicitDeny' | 'implicitDeny';

export interface IamRequest {
  /** `service:Action`. */
  readonly action: string;
  readonly resource: string;
  /** Condition keys AWS would set for the request; absent keys are left out. */
  readonly context?: Readonly<Record<string, string | readonly string[]>>;
}

export interface EvaluatedStatement {
  readonly Effect: 'Allow' | 'Deny';
  readonly Action?: unknown;
  readonly NotAction?: unknown;
  readonly Resource?: unknown;
  readonly NotResource?: unknown;
  readonly Condition?: unknown;
}

const list = (value: unknown): string[] => {
  if (value === undefined) return [];
  const values = Array.isArray(value) ? value : [value];
  return values.map((v) => {
    if (typeof v === 'string') return v;
    if (typeof v === 'boolean' || typeof v === 'number') return String(v);
    throw new Error(`not a policy value: ${JSON.stringify(v)}`);
  });
};

/** A glob (`*`, `?`) as a regular expression. */
function glob(pattern: string, ignoreCase: boolean): RegExp {
  if (pattern.includes('${')) throw new Error(`policy variables are not evaluated: ${pattern}`);
  const body = pattern
    .split('')
    .map((c) => (c === '*' ? '.*' : c === '?' ? '.' : c.replace(/[.+^${}()|[\]\\]/g, '\\$&')))
    .join('');
  return new RegExp(`^${body}$`, ignoreCase ? 'is' : 's');
}

type Matcher = (actual: string, expected: string) => boolean;

const MATCHERS: Record<string, { match: Matcher; negated: boolean }> = {
  StringEquals: { match: (a, e) => a === e, negated: false },
  StringNotEquals: { match: (a, e) => a === e, negated: true },
  StringEqualsIgnoreCase: { match: (a, e) => a.toLowerCase() === e.toLowerCase(), negated: false },
  StringNotEqualsIgnoreCase: {
    match: (a, e) => a.toLowerCase() === e.toLowerCase(),
    negated: true,
  },
  StringLike: { match: (a, e) => glob(e, false).test(a), negated: false },
  StringNotLike: { match: (a, e) => glob(e, false).test(a), negated: true },
  ArnEquals: { match: (a, e) => a === e, negated: false },
  ArnNotEquals: { match: (a, e) => a === e, negated: true },
  ArnLike: { match: (a, e) => glob(e, false).test(a), negated: false },
  ArnNotLike: { match: (a, e) => glob(e, false).test(a), negated: true },
  Bool: { match: (a, e) => a.toLowerCase() === e.toLowerCase(), negated: false },
};

/** One operator over one key, as IAM evaluates it. */
function conditionHolds(operator: string, key: string, expected: string[], request: IamRequest) {
  const context = Object.fromEntries(
    Object.entries(request.context ?? {}).map(([k, v]) => [k.toLowerCase(), list(v)]),
  );
  const actual = context[key.toLowerCase()];
  if (operator === 'Null') {
    const [wanted] = expected;
    return (actual === undefined) === (wanted === 'true');
  }
  const [, set, name = '', ifExists] =
    /^(?:(ForAllValues|ForAnyValue):)?([A-Za-z]+?)(IfExists)?$/.exec(operator) ?? [];
  const matcher = MATCHERS[name];
  if (!matcher) throw new Error(`condition operator ${operator} is not evaluated here`);
  const one = (value: string) => {
    const hit = expected.some((e) => matcher.match(value, e));
    return matcher.negated ? !hit : hit;
  };
  if (set === 'ForAllValues') return (actual ?? []).every(one);
  if (set === 'ForAnyValue') return (actual ?? []).some(one);
  if (actual === undefined) return ifExists !== undefined || matcher.negated;
  // A single-valued operator on a multivalued key: any value decides, as in IAM.
  return matcher.negated ? actual.every(one) : actual.some(one);
}

function applies(statement: EvaluatedStatement, request: IamRequest): boolean {
  if (statement.NotAction !== undefined || statement.NotResource !== undefined) {
    throw new Error('NotAction and NotResource are not evaluated here');
  }
  const actions = list(statement.Action);
  if (!actions.some((a) => glob(a, true).test(request.action))) return false;
  if (!list(statement.Resource).some((r) => glob(r, false).test(request.resource))) return false;
  const condition = (statement.Condition ?? {}) as Record<string, Record<string, unknown>>;
  return Object.entries(condition).every(([operator, keys]) =>
    Object.entries(keys).every(([key, values]) =>
      conditionHolds(operator, key, list(values), request),
    ),
  );
}

/** IAM's decision for `request` under `statements` (one principal's identity policies). */
export function evaluate(statements: readonly EvaluatedStatement[], request: IamRequest): Decision {
  const matching = statements.filter((s) => applies(s, request));
  if (matching.some((s) => s.Effect === 'Deny')) return 'explicitDeny';
  return matching.some((s) => s.Effect === 'Allow') ? 'allowed' : 'implicitDeny';
}

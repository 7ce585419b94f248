import type { Arns, Conditions, Statement } from '../functions/shared/iam.js';

/**
 * Organization-wide, a member account's spoke role acts in every region the
 * hub acts in, and in no other: a role declaration (functions/shared/iam.ts)
 * names one ARN per regional resource, so it is read once per region and the
 * readings are joined, statement by statement. Each region's ARN is named
 * exactly: no `*` in the region, which would reach regions nobody configured.
 * The declarations themselves stay as they are, one region at a time.
 */

/**
 * Condition operators whose values are alternatives: a request matches when
 * it matches any one of them, so the union of two regions' values allows
 * exactly what either region's statement allows. A negated operator
 * (`StringNotEquals`, `ArnNotLike`...) would mean the opposite once joined,
 * so a declaration whose value under one of those differs by region fails.
 */
const ANY_OF = new Set(['ArnEquals', 'ArnLike', 'StringEquals', 'StringLike']);

/**
 * One statement list for all of `regions`: `statementsIn` read with each
 * region's ARNs, joined. Statements that name no regional resource come out
 * as they went in; one that does lists each region's ARN, in the order of
 * `regions`. Fails when the readings do not line up (a declaration that
 * adds or drops a statement by region), since joining them would guess.
 */
export function acrossRegions(
  regions: readonly string[],
  arnsIn: (region: string) => Arns,
  statementsIn: (arns: Arns) => readonly Statement[],
): Statement[] {
  const [first, ...rest] = regions.map((region) => statementsIn(arnsIn(region)));
  if (first === undefined) throw new Error('acrossRegions needs at least one region');
  for (const reading of rest) {
    if (reading.length !== first.length) {
      throw new Error(
        `a role declaration gives ${first.length} statements in one region and ${reading.length} in another`,
      );
    }
  }
  return first.map((statement, i) => {
    const all = [statement, ...rest.map((reading) => reading[i] as Statement)];
    return join(all);
  });
}

function join(statements: readonly Statement[]): Statement {
  const [first] = statements;
  if (first === undefined) throw new Error('no statement to join');
  for (const other of statements) {
    if (
      other.effect !== first.effect ||
      JSON.stringify(other.actions) !== JSON.stringify(first.actions)
    ) {
      throw new Error(
        `a role declaration's statement changes its effect or actions by region: ${first.actions.join(', ')}`,
      );
    }
  }
  const resources = unique(statements.flatMap((s) => s.resources));
  const conditions = joinConditions(statements.map((s) => s.conditions));
  return {
    ...first,
    resources,
    ...(conditions === undefined ? {} : { conditions }),
  };
}

function joinConditions(all: readonly (Conditions | undefined)[]): Conditions | undefined {
  const [first] = all;
  if (all.every((c) => JSON.stringify(c) === JSON.stringify(first))) return first;
  if (first === undefined || all.some((c) => c === undefined)) {
    throw new Error('a role declaration gives a condition in one region and none in another');
  }
  const operators = Object.keys(first);
  const sameKeys = (c: object | undefined) =>
    JSON.stringify(Object.keys(c ?? {}).sort()) === JSON.stringify([...operators].sort());
  if (!all.every(sameKeys)) {
    throw new Error('a role declaration gives different condition operators by region');
  }
  return Object.fromEntries(
    operators.map((operator) => {
      const blocks = all.map((c) => c?.[operator] ?? {});
      const [block] = blocks;
      if (blocks.every((b) => JSON.stringify(b) === JSON.stringify(block))) {
        return [operator, block ?? {}];
      }
      if (!ANY_OF.has(operator)) {
        throw new Error(
          `a role declaration's ${operator} condition names a region: joining regions would widen it`,
        );
      }
      const keys = Object.keys(block ?? {});
      if (
        !blocks.every(
          (b) => JSON.stringify(Object.keys(b).sort()) === JSON.stringify([...keys].sort()),
        )
      ) {
        throw new Error(`a role declaration gives different ${operator} keys by region`);
      }
      return [
        operator,
        Object.fromEntries(
          keys.map((key) => {
            const values = unique(blocks.flatMap((b) => valuesOf(b[key])));
            return [key, values.length === 1 ? values[0] : values];
          }),
        ),
      ];
    }),
  );
}

function valuesOf(value: unknown): unknown[] {
  return Array.isArray(value) ? value : [value];
}

function unique<T>(values: readonly T[]): T[] {
  const seen = new Set<string>();
  return values.filter((value) => {
    const key = JSON.stringify(value);
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

import { CORDON_ROLE_PATH } from '../../shared/runtime-config.js';

/**
 * Protected-principal patterns: `*` matches any run of characters (including
 * `/`), `?` exactly one; everything else is literal. Matching ignores case
 * because IAM names are unique regardless of case, so `*break-glass*` must
 * also protect `Break-Glass`; erring this way only protects more.
 */
export function globToRegExp(pattern: string): RegExp {
  const body = [...pattern]
    .map((ch) => {
      if (ch === '*') return '.*';
      if (ch === '?') return '.';
      return ch.replace(/[.+^${}()|[\]\\/-]/g, '\\$&');
    })
    .join('');
  return new RegExp(`^${body}$`, 'is');
}

/** The pattern that protected `arn`, or undefined. Cordon's own path is always protected. */
export function protectingPattern(
  arn: string,
  patterns: ReadonlyArray<string>,
): string | undefined {
  if (arn.toLowerCase().includes(CORDON_ROLE_PATH)) return `path ${CORDON_ROLE_PATH}`;
  return patterns.find((pattern) => globToRegExp(pattern).test(arn));
}

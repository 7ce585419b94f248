/**
 * Configured ARN patterns: `*` matches any run of characters (including
 * `/`), `?` exactly one; everything else is literal. A pattern is
 * configuration, never something a finding or a tag can add to.
 */
export function globToRegExp(pattern: string, options: { readonly ignoreCase: boolean }): RegExp {
  const body = [...pattern]
    .map((ch) => {
      if (ch === '*') return '.*';
      if (ch === '?') return '.';
      return ch.replace(/[.+^${}()|[\]\\/-]/g, '\\$&');
    })
    .join('');
  return new RegExp(`^${body}$`, options.ignoreCase ? 'is' : 's');
}

/**
 * The protected-principal pattern that matches `arn`, or undefined. Matching
 * ignores case because IAM names are unique regardless of case, so
 * `*break-glass*` must also protect `Break-Glass`; erring this way only
 * protects more.
 */
export function protectingPattern(
  arn: string,
  patterns: ReadonlyArray<string>,
): string | undefined {
  return patterns.find((pattern) => globToRegExp(pattern, { ignoreCase: true }).test(arn));
}

import type { z } from './z.js';

/**
 * How every parse failure is told: the first issue, at a path a person reads
 * (`detail.findings[0].Id`, or `(root)`), with zod's message. Values are
 * never echoed: much of what Cordon parses is untrusted and may be huge.
 */

/** A path as people read it: `a.b[0].c`; the empty path is `(root)`. */
export function formatPath(path: ReadonlyArray<PropertyKey>): string {
  if (path.length === 0) return '(root)';
  return path
    .map((key, i) => (typeof key === 'number' ? `[${key}]` : `${i === 0 ? '' : '.'}${String(key)}`))
    .join('');
}

export interface Issue {
  /** Where, relative to the parsed value. */
  readonly path: ReadonlyArray<PropertyKey>;
  /** `prefix` and `path`, formatted. */
  readonly where: string;
  readonly message: string;
}

/** The first issue of a failed parse; `prefix` says where the parsed value sits. */
export function firstIssue(error: z.ZodError, prefix: ReadonlyArray<PropertyKey> = []): Issue {
  const issue = error.issues[0];
  const path = issue?.path ?? [];
  return {
    path,
    where: formatPath([...prefix, ...path]),
    message: issue?.message ?? 'invalid',
  };
}

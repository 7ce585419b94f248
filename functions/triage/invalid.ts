import type { z } from 'zod';
import { InvalidFindingError } from '../shared/errors.js';

/**
 * Turns the first Zod issue into a one-line InvalidFindingError naming the
 * path: "GuardDuty finding is missing detail.resource". Values are never
 * echoed: the input is untrusted and may be huge.
 */
export function invalidFinding(
  what: string,
  root: unknown,
  error: z.ZodError,
  /** Where `root` sits in the event, when it is a part of it. */
  prefix: ReadonlyArray<PropertyKey> = [],
): InvalidFindingError {
  const issue = error.issues[0];
  if (issue === undefined) return new InvalidFindingError(`${what} is invalid`);
  const path = formatPath([...prefix, ...issue.path]);
  if (!isPresent(root, issue.path)) {
    return new InvalidFindingError(`${what} is missing ${path}`);
  }
  return new InvalidFindingError(`${what} has an invalid ${path}: ${issue.message}`);
}

export function formatPath(path: ReadonlyArray<PropertyKey>): string {
  if (path.length === 0) return '(root)';
  return path
    .map((key, i) => (typeof key === 'number' ? `[${key}]` : `${i === 0 ? '' : '.'}${String(key)}`))
    .join('');
}

function isPresent(root: unknown, path: ReadonlyArray<PropertyKey>): boolean {
  let node: unknown = root;
  for (const key of path) {
    if (typeof node !== 'object' || node === null) return false;
    const record = node as Record<PropertyKey, unknown>;
    if (!Object.hasOwn(record, key)) return false;
    node = record[key];
  }
  return node !== undefined && node !== null;
}

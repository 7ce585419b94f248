import { InvalidFindingError } from '../../shared/errors.js';
import { firstIssue } from '../../shared/validation.js';
import type { z } from '../../shared/z.js';

export { formatPath } from '../../shared/validation.js';

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
  if (error.issues.length === 0) return new InvalidFindingError(`${what} is invalid`);
  const { path, where, message } = firstIssue(error, prefix);
  if (!isPresent(root, path)) return new InvalidFindingError(`${what} is missing ${where}`);
  return new InvalidFindingError(`${what} has an invalid ${where}: ${message}`);
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

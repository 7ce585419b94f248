import { z } from './z.js';

const PolicyDocumentSchema = z.object({ Statement: z.array(z.unknown()) });

/**
 * The statements of a stored IAM policy document, or undefined when it is
 * not a policy document. IAM returns documents URL-encoded; emulators
 * sometimes do not, so both are read.
 */
export function policyStatements(document: string): unknown[] | undefined {
  let text = document;
  try {
    text = decodeURIComponent(document);
  } catch {
    // Not URL-encoded: parse it as it is.
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return undefined;
  }
  const policy = PolicyDocumentSchema.safeParse(json);
  return policy.success ? policy.data.Statement : undefined;
}

import {
  type ApprovalKey,
  type ApprovalVerifier,
  isResponder,
  principalsAmong,
} from './approval-record.js';
import { sha256Hex } from './hash.js';
import { samePrincipal } from './iam-arn.js';
import type { LedgerEntry } from './ledger.js';
import { z } from './z.js';

/**
 * Dismissals. A responder who judges a finding a false positive dismisses
 * its incident (`cordon dismiss`): later emissions of the finding are
 * recorded and notified, never acted on. The ledger entry alone would not
 * do: every Cordon function may append to the ledger, so a compromised one
 * could write a dismissal that silences a real finding. So the entry
 * carries a record only the responder API can make: MAC'd with the
 * approval key, whose GenerateMac its key policy denies to every other
 * principal; triage verifies it (VerifyMac) before it suppresses anything.
 */

/** Ledger step and outcome of a dismissal. */
export const DISMISS_STEP = 'dismiss';
export const DISMISSED = 'DISMISSED';

/**
 * What the responder API MACs. `kind` keeps it apart from approval records
 * MAC'd with the same key: each schema is strict and names its own kinds,
 * so neither record's text parses as the other.
 */
export const DismissalRecordSchema = z.strictObject({
  kind: z.literal('dismissal'),
  incidentId: z.string().min(1),
  /** The proven caller who dismissed it. */
  dismissedBy: z.string().min(1),
  /** SHA-256 of the reason, which the entry holds: it keeps the record under KMS's 4096 bytes. */
  reasonSha256: z.string().regex(/^[0-9a-f]{64}$/),
  decidedAt: z.string().min(1),
});
export type DismissalRecord = z.infer<typeof DismissalRecordSchema>;

export const SignedDismissalSchema = z.strictObject({
  record: z.string().min(1).max(4096),
  mac: z.string().min(1).max(256),
});
export type SignedDismissal = z.infer<typeof SignedDismissalSchema>;

/** The record for `dismissedBy` dismissing `incidentId` for `reason`, MAC'd. */
export async function signDismissal(
  key: Pick<ApprovalKey, 'mac'>,
  fields: { incidentId: string; dismissedBy: string; reason: string; decidedAt: string },
): Promise<SignedDismissal> {
  const record: DismissalRecord = {
    kind: 'dismissal',
    incidentId: fields.incidentId,
    dismissedBy: fields.dismissedBy,
    reasonSha256: sha256Hex(fields.reason),
    decidedAt: fields.decidedAt,
  };
  const text = JSON.stringify(DismissalRecordSchema.parse(record));
  return { record: text, mac: await key.mac(text) };
}

export type DismissalCheck =
  | { readonly valid: true; readonly record: DismissalRecord }
  | { readonly valid: false; readonly reason: string };

/**
 * Verifies a dismissal entry's record (anything: it came from the ledger)
 * against the key, then what it claims: this incident, a configured
 * responder, not a principal the incident is about. Throws only for a
 * KMS failure, so a throttled VerifyMac is retried, not taken for a forgery.
 */
export async function checkDismissal(
  signed: unknown,
  expected: { readonly incidentId: string; readonly subjects: readonly string[] },
  verifier: Pick<ApprovalVerifier, 'key' | 'responders'>,
): Promise<DismissalCheck> {
  const refuse = (reason: string): DismissalCheck => ({ valid: false, reason });
  const parsed = SignedDismissalSchema.safeParse(signed);
  if (!parsed.success) return refuse('it carries no dismissal record from the responder API');
  if (!(await verifier.key.verify(parsed.data.record, parsed.data.mac))) {
    return refuse('its dismissal record does not verify: the responder API did not produce it');
  }
  let json: unknown;
  try {
    json = JSON.parse(parsed.data.record);
  } catch {
    return refuse('its dismissal record is not JSON');
  }
  const record = DismissalRecordSchema.safeParse(json);
  if (!record.success) return refuse('its record is not a dismissal record');
  const r = record.data;
  if (r.incidentId !== expected.incidentId) {
    return refuse(`its dismissal record is for incident ${r.incidentId}`);
  }
  if (!isResponder(r.dismissedBy, verifier.responders)) {
    return refuse(`${r.dismissedBy} dismissed it, and is not a configured responder`);
  }
  if (expected.subjects.some((s) => samePrincipal(r.dismissedBy, s))) {
    return refuse(`${r.dismissedBy} dismissed it, and the incident is about that principal`);
  }
  return { valid: true, record: r };
}

/**
 * The IAM principals an incident is about, from its ledger: what triage
 * recorded of each emission (`detail.subjects`), and every IAM user or
 * role an entry targets. Nobody among them may dismiss it.
 */
export function subjectsOf(entries: readonly LedgerEntry[]): string[] {
  const recorded = entries.flatMap((e) => {
    const subjects = z.array(z.string()).safeParse(e.detail?.subjects);
    return subjects.success ? subjects.data : [];
  });
  return principalsAmong([...recorded, ...entries.map((e) => e.targetArn)]);
}

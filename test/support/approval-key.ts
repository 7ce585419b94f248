import { createHmac, timingSafeEqual } from 'node:crypto';
import {
  type ApprovalKey,
  type ApprovalRecord,
  type ApprovalVerifier,
  canonicalRecord,
  type SignedApproval,
  signApproval,
} from '../../functions/shared/approval-record.js';

/**
 * A local stand-in for the approval records' KMS HMAC key, for unit tests:
 * the same contract (a base64 MAC over the message's UTF-8 bytes), another
 * secret gives another key.
 */
export function localApprovalKey(secret = 'cordon-test-approval-key'): ApprovalKey {
  const mac = (message: string) =>
    createHmac('sha256', secret).update(message, 'utf8').digest('base64');
  return {
    mac: async (message) => mac(message),
    verify: async (message, given) => {
      const expected = Buffer.from(mac(message), 'base64');
      const actual = Buffer.from(given, 'base64');
      return expected.length === actual.length && timingSafeEqual(expected, actual);
    },
  };
}

/** The local key's record, synchronously: for fixtures built without `await`. */
export function signedRecordSync(
  record: ApprovalRecord,
  secret = 'cordon-test-approval-key',
): SignedApproval {
  const text = canonicalRecord(record);
  return { record: text, mac: createHmac('sha256', secret).update(text, 'utf8').digest('base64') };
}

/** A verifier over the local key, with these responders and two-person steps. */
export function localVerifier(
  responders: readonly string[],
  twoPersonSteps: Record<string, string[]> = {},
  key = localApprovalKey(),
): ApprovalVerifier {
  return { key, responders, twoPersonSteps };
}

/** A record MAC'd by the local key (or `key`), as the responder API would send it. */
export function signedRecord(
  record: ApprovalRecord,
  key: Pick<ApprovalKey, 'mac'> = localApprovalKey(),
): Promise<SignedApproval> {
  return signApproval(key, record);
}

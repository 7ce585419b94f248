/**
 * Ledger MACs for tests: an in-process HMAC standing in for the KMS key in
 * unit tests, and the real thing in moto (an HMAC_256 key under a fixed
 * alias) for handlers that boot from an environment.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import type { LedgerMac } from '../../functions/shared/ledger-mac.js';
import { ensureKey } from '../../rehearsal/resources.js';

/** The alias of the ledger key tests create in moto. */
export const TEST_LEDGER_KEY = 'alias/cordon-ledger';

const TEST_SECRET = 'cordon-test-ledger-key';

/** The fake key's MAC of a hash, base64 (for entries a test builds by hand). */
export function fakeMacOf(hash: string, secret = TEST_SECRET): string {
  return createHmac('sha256', secret).update(hash, 'utf8').digest('base64');
}

/** An HMAC-SHA-256 ledger MAC with a local secret: another secret is another key. */
export function fakeLedgerMac(secret = TEST_SECRET): LedgerMac {
  const mac = (hash: string) => createHmac('sha256', secret).update(hash, 'utf8').digest();
  return {
    generate: async (hash) => mac(hash).toString('base64'),
    verify: async (hash, given) => {
      const expected = mac(hash);
      const actual = Buffer.from(given, 'base64');
      return actual.length === expected.length && timingSafeEqual(actual, expected);
    },
  };
}

/** Creates the test ledger key in moto unless it exists (a reset wipes it); its alias. */
export async function ensureLedgerKey(): Promise<string> {
  await ensureKey({ alias: TEST_LEDGER_KEY, spec: 'HMAC_256', usage: 'GENERATE_VERIFY_MAC' });
  return TEST_LEDGER_KEY;
}

import {
  GenerateMacCommand,
  KMSClient,
  KMSInvalidMacException,
  VerifyMacCommand,
} from '@aws-sdk/client-kms';
import { clientOptions } from './aws.js';

/**
 * The key that makes the ledger's hash chain a keyed one. A hash chain alone
 * proves nothing against a writer: anyone who may PutItem can rewrite an
 * entry and re-hash every entry after it. Each entry therefore also carries
 * a MAC over its hash (which covers the previous entry's hash, so the MACs
 * chain too), from a KMS HMAC key whose policy lets only Cordon's function
 * roles generate MACs. Verifying needs kms:VerifyMac only, which forges
 * nothing.
 */
export interface LedgerMac {
  /** The MAC of an entry's hash, base64. */
  generate(hash: string): Promise<string>;
  /** Whether `mac` is the key's MAC of `hash`. */
  verify(hash: string, mac: string): Promise<boolean>;
}

/** HMAC_SHA_256: the algorithm of the ledger's HMAC_256 key. */
export const LEDGER_MAC_ALGORITHM = 'HMAC_SHA_256';

/** The stack output naming the ledger key, for `cordon ledger verify`. */
export const LEDGER_KEY_OUTPUT = 'LedgerKeyArn';

/** The ledger MAC over KMS GenerateMac and VerifyMac. */
export class KmsLedgerMac implements LedgerMac {
  constructor(
    private readonly keyId: string,
    private readonly kms: KMSClient = new KMSClient(clientOptions),
  ) {}

  async generate(hash: string): Promise<string> {
    const out = await this.kms.send(
      new GenerateMacCommand({
        KeyId: this.keyId,
        MacAlgorithm: LEDGER_MAC_ALGORITHM,
        Message: Buffer.from(hash, 'utf8'),
      }),
    );
    if (!out.Mac) throw new Error(`KMS GenerateMac with ${this.keyId} returned no MAC`);
    return Buffer.from(out.Mac).toString('base64');
  }

  async verify(hash: string, mac: string): Promise<boolean> {
    try {
      const out = await this.kms.send(
        new VerifyMacCommand({
          KeyId: this.keyId,
          MacAlgorithm: LEDGER_MAC_ALGORITHM,
          Message: Buffer.from(hash, 'utf8'),
          Mac: Buffer.from(mac, 'base64'),
        }),
      );
      return out.MacValid === true;
    } catch (error) {
      // A MAC that does not verify is an answer, not a failure; anything else
      // (no permission, no key) is a failure the caller must not read as "valid".
      if (error instanceof KMSInvalidMacException) return false;
      throw error;
    }
  }

  /** Releases the client's sockets (the CLI, which exits after). */
  destroy(): void {
    this.kms.destroy();
  }
}

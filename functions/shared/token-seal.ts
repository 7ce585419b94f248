import { EncryptCommand, KMSClient } from '@aws-sdk/client-kms';
import { clientOptions } from './aws.js';
import { classifyAwsError } from './errors.js';
import { encryptionContext, type TokenContext } from './token-context.js';

/**
 * Task tokens at rest. request-approval stores a waiting step's token in the
 * approvals table encrypted with a KMS key whose policy denies `kms:Decrypt`
 * to every principal but the responder API's role, under an encryption
 * context naming the incident and step: a copy of the item (a backup, a
 * leaked read) holds no usable token, and a ciphertext moved to another
 * step's item does not decrypt there. Opening lives with the responder API
 * (responder-api/token-opener.ts), so no other function imports the call.
 */

export type { TokenContext } from './token-context.js';

export interface TokenSeal {
  /** The token encrypted for `context`, base64. */
  seal(token: string, context: TokenContext): Promise<string>;
}

/** Sealing with the KMS key `keyId` (Encrypt only). */
export function kmsTokenSeal(keyId: string, kms = new KMSClient(clientOptions)): TokenSeal {
  return {
    async seal(token, context) {
      try {
        const out = await kms.send(
          new EncryptCommand({
            KeyId: keyId,
            Plaintext: Buffer.from(token, 'utf8'),
            EncryptionContext: encryptionContext(context),
          }),
        );
        if (!out.CiphertextBlob) throw new Error('Encrypt returned no ciphertext');
        return Buffer.from(out.CiphertextBlob).toString('base64');
      } catch (error) {
        throw classifyAwsError(error, 'seal task token');
      }
    },
  };
}

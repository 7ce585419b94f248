import { DecryptCommand, KMSClient } from '@aws-sdk/client-kms';
import { clientOptions } from '../shared/aws.js';
import { classifyAwsError } from '../shared/errors.js';
import { encryptionContext, type TokenContext } from '../shared/token-context.js';

/**
 * Opening a sealed task token (shared/token-seal.ts): the responder API's
 * half of the token key, whose policy denies Decrypt to every other principal.
 */
export interface TokenOpener {
  open(sealed: string, context: TokenContext): Promise<string>;
}

export function kmsTokenOpener(keyId: string, kms = new KMSClient(clientOptions)): TokenOpener {
  return {
    async open(sealed, context) {
      try {
        const out = await kms.send(
          new DecryptCommand({
            KeyId: keyId,
            CiphertextBlob: Buffer.from(sealed, 'base64'),
            EncryptionContext: encryptionContext(context),
          }),
        );
        if (!out.Plaintext) throw new Error('Decrypt returned no plaintext');
        return Buffer.from(out.Plaintext).toString('utf8');
      } catch (error) {
        throw classifyAwsError(error, 'open task token');
      }
    },
  };
}

import { GenerateMacCommand, KMSClient } from '@aws-sdk/client-kms';
import { APPROVAL_MAC_ALGORITHM, type ApprovalKey } from '../shared/approval-record.js';
import { clientOptions } from '../shared/aws.js';
import { classifyAwsError } from '../shared/errors.js';

/**
 * MACs with the KMS HMAC key `keyId`: the responder API's half of the
 * approval key. Its key policy denies GenerateMac to every other principal,
 * so a record that verifies was made here, after an approval was proven.
 */
export function kmsApprovalSigner(
  keyId: string,
  kms = new KMSClient(clientOptions),
): Pick<ApprovalKey, 'mac'> {
  return {
    async mac(message) {
      try {
        const out = await kms.send(
          new GenerateMacCommand({
            KeyId: keyId,
            MacAlgorithm: APPROVAL_MAC_ALGORITHM,
            Message: Buffer.from(message, 'utf8'),
          }),
        );
        if (!out.Mac) throw new Error('GenerateMac returned no MAC');
        return Buffer.from(out.Mac).toString('base64');
      } catch (error) {
        throw classifyAwsError(error, 'approval record mac');
      }
    },
  };
}

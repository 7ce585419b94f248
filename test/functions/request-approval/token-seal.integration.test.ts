/**
 * Sealing task tokens with a real KMS key (moto): what request-approval
 * stores holds no token in clear, opens for the step it was sealed for, and
 * not for another (the encryption context). Who may decrypt is the key
 * policy's business: test/infra/token-key.test.ts evaluates it.
 */
import { CreateKeyCommand, KMSClient } from '@aws-sdk/client-kms';
import { beforeEach, describe, expect, it } from 'vitest';
import { kmsTokenOpener } from '../../../functions/responder-api/token-opener.js';
import { kmsTokenSeal } from '../../../functions/shared/token-seal.js';
import { motoClientConfig, useMoto } from '../../support/moto.js';

const { endpoint } = useMoto();
const TOKEN = `AQCEAAAAKgAAAAMAAAAAAAAAA${'tokenSecretPart'.repeat(20)}==`;
const STEP = { incidentId: 'inc-0123456789abcdef0123', step: 'quarantineUser' };

let keyId: string;
let kms: KMSClient;

beforeEach(async () => {
  kms = new KMSClient(motoClientConfig(endpoint));
  const created = await kms.send(new CreateKeyCommand({ Description: 'token key' }));
  keyId = created.KeyMetadata?.KeyId ?? '';
});

describe('task token sealing', () => {
  it('stores ciphertext that holds no token in clear and opens for its own step', async () => {
    // Act
    const sealed = await kmsTokenSeal(keyId, kms).seal(TOKEN, STEP);
    // Assert
    expect(sealed).not.toContain('tokenSecretPart');
    expect(Buffer.from(sealed, 'base64').toString('latin1')).not.toContain('tokenSecretPart');
    await expect(kmsTokenOpener(keyId, kms).open(sealed, STEP)).resolves.toBe(TOKEN);
  });

  it.each([
    ['another step', { ...STEP, step: 'revokeUserSessions' }],
    ['another incident', { ...STEP, incidentId: 'inc-ffffffffffffffffffff' }],
  ])('does not open a token moved to %s', async (_what, elsewhere) => {
    // Arrange
    const sealed = await kmsTokenSeal(keyId, kms).seal(TOKEN, STEP);
    // Act
    const opened = kmsTokenOpener(keyId, kms).open(sealed, elsewhere);
    // Assert
    await expect(opened).rejects.toMatchObject({ name: expect.stringMatching(/^Cordon\./) });
  });
});

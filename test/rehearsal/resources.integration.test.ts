/**
 * The rehearsal creates the template's KMS keys where the SDK points (moto),
 * each of the template's spec and usage, named by an alias that the functions'
 * environment uses and that a reset does not change.
 */
import { DescribeKeyCommand, GenerateMacCommand, KMSClient } from '@aws-sdk/client-kms';
import { describe, expect, it } from 'vitest';
import { clientOptions } from '../../functions/shared/aws.js';
import { ensureResources, localResources } from '../../rehearsal/resources.js';
import { resetMoto } from '../../scripts/moto.js';
import { useMoto } from '../support/moto.js';

const { endpoint } = useMoto();

const template = {
  Resources: {
    Stamp: {
      Type: 'AWS::KMS::Key',
      Properties: { KeySpec: 'HMAC_256', KeyUsage: 'GENERATE_VERIFY_MAC' },
    },
    Data: { Type: 'AWS::KMS::Key', Properties: { KeyPolicy: {} } },
    Other: { Type: 'AWS::SNS::Topic', Properties: {} },
  },
};
const names = { tables: {}, topicName: 'rehearsal-topic' };

describe('the rehearsal', () => {
  it('creates each KMS key of the template, of its spec and usage, under an alias', async () => {
    // Arrange
    const resources = localResources(template, names);
    const kms = new KMSClient(clientOptions);
    // Act
    await ensureResources(resources);
    // Assert
    expect([...resources.keys.keys()]).toEqual(['Stamp', 'Data']);
    const stamp = await kms.send(new DescribeKeyCommand({ KeyId: 'alias/rehearsal-Stamp' }));
    expect(stamp.KeyMetadata).toMatchObject({
      KeySpec: 'HMAC_256',
      KeyUsage: 'GENERATE_VERIFY_MAC',
    });
    const data = await kms.send(new DescribeKeyCommand({ KeyId: 'alias/rehearsal-Data' }));
    expect(data.KeyMetadata).toMatchObject({
      KeySpec: 'SYMMETRIC_DEFAULT',
      KeyUsage: 'ENCRYPT_DECRYPT',
    });
  });

  it('keeps an existing key, and creates it again under the same alias after a reset', async () => {
    // Arrange
    const resources = localResources(template, names);
    const kms = new KMSClient(clientOptions);
    await ensureResources(resources);
    const first = await kms.send(new DescribeKeyCommand({ KeyId: 'alias/rehearsal-Stamp' }));
    await ensureResources(resources);
    const kept = await kms.send(new DescribeKeyCommand({ KeyId: 'alias/rehearsal-Stamp' }));
    // Act
    await resetMoto(endpoint);
    await ensureResources(resources);
    // Assert
    expect(kept.KeyMetadata?.KeyId).toBe(first.KeyMetadata?.KeyId);
    const mac = await kms.send(
      new GenerateMacCommand({
        KeyId: 'alias/rehearsal-Stamp',
        MacAlgorithm: 'HMAC_SHA_256',
        Message: new TextEncoder().encode('entry'),
      }),
    );
    expect(mac.Mac?.length).toBe(32);
  });
});

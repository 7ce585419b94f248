import 'aws-sdk-client-mock-vitest/extend';
import {
  DeleteResourcePolicyCommand,
  DescribeSecretCommand,
  GetResourcePolicyCommand,
  PutResourcePolicyCommand,
  SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { rollbackSecretLock } from '../../../../functions/actions/lock-secret/rollback.js';
import { APPROVALS, fakeLedger, SECRET_ARN } from '../../shared/containment-fixtures.js';
import { containedThenApproved, ROLLBACK_ACTOR } from '../../shared/rollback-fixtures.js';

const smMock = mockClient(SecretsManagerClient);
const secrets = new SecretsManagerClient({ region: 'us-east-1' });

const OWNER =
  '{"Version":"2012-10-17","Statement":[{"Sid":"AppReads","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::123456789012:role/app"},"Action":"secretsmanager:GetSecretValue","Resource":"*"}]}';
const LOCKED =
  '{"Version":"2012-10-17","Statement":[{"Sid":"CordonLockSecret","Effect":"Deny","Principal":"*","Action":"secretsmanager:GetSecretValue","Resource":"*"}]}';

const locked = (before: string | null) => ({
  step: 'lockSecret',
  action: 'lock-secret',
  targetArn: SECRET_ARN,
  before: { policy: before, locked: false },
  after: { policy: LOCKED, locked: true },
});

function policyIs(policy: string | undefined) {
  smMock.on(DescribeSecretCommand).resolves({ ARN: SECRET_ARN });
  smMock.on(GetResourcePolicyCommand).resolves({ ResourcePolicy: policy });
  smMock.on(PutResourcePolicyCommand).resolves({});
  smMock.on(DeleteResourcePolicyCommand).resolves({});
}

describe('rollback-lock-secret', () => {
  let fake: ReturnType<typeof fakeLedger>;
  beforeEach(() => {
    smMock.reset();
    fake = fakeLedger();
  });
  const deps = () => ({
    secrets,
    ledger: fake.ledger,
    actor: ROLLBACK_ACTOR,
    approvals: APPROVALS,
  });

  it('puts back the exact policy from before the lock (reformatted by AWS is not drift)', async () => {
    policyIs(JSON.stringify(JSON.parse(LOCKED), null, 2));
    const input = await containedThenApproved(fake, 'rollback-lock-secret', locked(OWNER));

    const result = await rollbackSecretLock(input, deps());

    expect(result.outcome).toBe('ROLLED_BACK');
    expect(smMock).toHaveReceivedCommandWith(PutResourcePolicyCommand, {
      SecretId: SECRET_ARN,
      ResourcePolicy: OWNER,
      BlockPublicPolicy: true,
    });
    expect(smMock).not.toHaveReceivedCommand(DeleteResourcePolicyCommand);
  });

  it('fails with Cordon.PublicSecretPolicy, leaving the lock, when the policy to put back is public', async () => {
    policyIs(LOCKED);
    smMock.on(PutResourcePolicyCommand).rejects(
      Object.assign(new Error('This resource policy contains a public statement.'), {
        name: 'PublicPolicyException',
        $metadata: { httpStatusCode: 400 },
      }),
    );
    const input = await containedThenApproved(fake, 'rollback-lock-secret', locked(OWNER));

    const attempt = rollbackSecretLock(input, deps());

    await expect(attempt).rejects.toMatchObject({
      name: 'Cordon.PublicSecretPolicy',
      message: expect.stringContaining('the secret stays locked'),
    });
    expect(fake.entries().at(-1)).toMatchObject({ outcome: 'FAILED' });
  });

  it('deletes the policy when the secret had none', async () => {
    policyIs(LOCKED);
    const input = await containedThenApproved(fake, 'rollback-lock-secret', locked(null));

    expect((await rollbackSecretLock(input, deps())).outcome).toBe('ROLLED_BACK');
    expect(smMock).toHaveReceivedCommandWith(DeleteResourcePolicyCommand, { SecretId: SECRET_ARN });
    expect(smMock).not.toHaveReceivedCommand(PutResourcePolicyCommand);
  });

  it('refuses when the policy changed since the lock, and changes nothing', async () => {
    policyIs('{"Version":"2012-10-17","Statement":[]}');
    const input = await containedThenApproved(fake, 'rollback-lock-secret', locked(OWNER));

    const result = await rollbackSecretLock(input, deps());

    expect(result.outcome).toBe('ROLLBACK_REFUSED');
    expect(result.summary).toContain('its resource policy was changed since the lock');
    expect(smMock).not.toHaveReceivedCommand(PutResourcePolicyCommand);
  });

  it('refuses a secret ARN of another account without reading anything', async () => {
    policyIs(LOCKED);
    const input = await containedThenApproved(fake, 'rollback-lock-secret', {
      ...locked(null),
      targetArn: SECRET_ARN.replace('123456789012', '999999999999'),
    });

    await expect(rollbackSecretLock(input, deps())).rejects.toMatchObject({
      name: 'Cordon.InvalidTaskInput',
    });
    expect(smMock).not.toHaveReceivedCommand(GetResourcePolicyCommand);
  });
});

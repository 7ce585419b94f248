import 'aws-sdk-client-mock-vitest/extend';
import {
  DescribeSecretCommand,
  GetResourcePolicyCommand,
  GetSecretValueCommand,
  PutResourcePolicyCommand,
  SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import {
  BreakGlassSchema,
  lockSecret,
} from '../../../../functions/actions/lock-secret/containment.js';
import { LOCK_SID } from '../../../../functions/actions/lock-secret/state.js';
import { INTENT } from '../../../../functions/shared/intents.js';
import {
  ACCOUNT,
  ACTOR,
  APPROVALS,
  actionInput,
  approved,
  awsError,
  fakeLedger,
  SECRET_ARN,
  SECRET_NAME,
  secretIncident,
} from '../../shared/containment-fixtures.js';

const STEP = 'lockSecret';
const BREAK_GLASS = [
  `arn:aws:iam::${ACCOUNT}:role/BreakGlass*`,
  `arn:aws:iam::${ACCOUNT}:role/security/incident-responder`,
];
const MANUAL_ROTATION =
  'manual rotation required: rotating the value does not change the credential at its back end; rotate it there too';
const OWNER_STATEMENT = {
  Sid: 'AppReads',
  Effect: 'Allow',
  Principal: { AWS: `arn:aws:iam::${ACCOUNT}:role/payments-app` },
  Action: 'secretsmanager:GetSecretValue',
  Resource: '*',
};
const secretsMock = mockClient(SecretsManagerClient);
const secrets = new SecretsManagerClient({ region: 'us-east-1' });

interface World {
  exists: boolean;
  deletedDate?: Date;
  policy: string | undefined;
}

/** Secrets Manager holding one secret and, maybe, its resource policy. */
function secretsWith(world: World): World {
  secretsMock.on(DescribeSecretCommand).callsFake(() => {
    if (!world.exists) throw awsError('ResourceNotFoundException');
    return { ARN: SECRET_ARN, Name: SECRET_NAME, DeletedDate: world.deletedDate };
  });
  secretsMock.on(GetResourcePolicyCommand).callsFake(() => {
    if (!world.exists) throw awsError('ResourceNotFoundException');
    return { ARN: SECRET_ARN, Name: SECRET_NAME, ResourcePolicy: world.policy };
  });
  secretsMock.on(PutResourcePolicyCommand).callsFake((input: { ResourcePolicy: string }) => {
    world.policy = input.ResourcePolicy;
    return { ARN: SECRET_ARN, Name: SECRET_NAME };
  });
  return world;
}

const cordonStatement = (breakGlass: readonly string[]) => ({
  Sid: LOCK_SID,
  Effect: 'Deny',
  Principal: '*',
  Action: 'secretsmanager:GetSecretValue',
  Resource: '*',
  ...(breakGlass.length > 0
    ? { Condition: { StringNotLike: { 'aws:PrincipalArn': [...breakGlass] } } }
    : {}),
});

/** The statements of the policy PutResourcePolicy was last given. */
function putStatements(): unknown {
  const calls = secretsMock.commandCalls(PutResourcePolicyCommand);
  const policy = calls.at(-1)?.args[0].input.ResourcePolicy;
  return policy === undefined ? undefined : JSON.parse(policy).Statement;
}

describe('lock-secret', () => {
  let fake: ReturnType<typeof fakeLedger>;
  beforeEach(() => {
    secretsMock.reset();
    fake = fakeLedger();
  });
  const deps = (breakGlass: readonly string[] = BREAK_GLASS) => ({
    secrets,
    breakGlass,
    ledger: fake.ledger,
    actor: ACTOR,
    approvals: APPROVALS,
  });
  const input = (mode: 'auto' | 'dry-run' | 'approve' = 'auto') =>
    actionInput(STEP, { incident: secretIncident({}, { rotationEnabled: false }), mode });

  it('denies GetSecretValue to all but break-glass and says manual rotation is required', async () => {
    // Arrange
    secretsWith({ exists: true, policy: undefined });
    // Act
    const result = await lockSecret(input(), deps());
    // Assert
    expect(result).toEqual({
      step: STEP,
      action: 'lock-secret',
      outcome: 'CONTAINED',
      mode: 'auto',
      targetArn: SECRET_ARN,
      summary: `lock secret ${SECRET_NAME}: deny secretsmanager:GetSecretValue to every principal except 2 break-glass principal pattern(s), keeping its other policy statements; ${MANUAL_ROTATION}`,
    });
    expect(secretsMock).toHaveReceivedCommandWith(PutResourcePolicyCommand, {
      SecretId: SECRET_ARN,
      BlockPublicPolicy: true,
    });
    expect(putStatements()).toEqual([cordonStatement(BREAK_GLASS)]);
  });

  it("fails with Cordon.PublicSecretPolicy, changing nothing, when the secret's policy is public", async () => {
    // Arrange: someone made the secret readable by everyone; Secrets Manager
    // refuses any policy keeping that statement when BlockPublicPolicy is set.
    const open = JSON.stringify({
      Version: '2012-10-17',
      Statement: [{ ...OWNER_STATEMENT, Principal: '*' }],
    });
    const world = secretsWith({ exists: true, policy: open });
    secretsMock.on(PutResourcePolicyCommand).rejects(
      Object.assign(new Error('This resource policy contains a public statement.'), {
        name: 'PublicPolicyException',
        $metadata: { httpStatusCode: 400 },
      }),
    );
    // Act
    const attempt = lockSecret(input(), deps());
    // Assert
    await expect(attempt).rejects.toMatchObject({
      name: 'Cordon.PublicSecretPolicy',
      retryable: false,
      message: expect.stringMatching(
        /already allows broad \(public\) access.*Nothing was changed: the secret is NOT locked/,
      ),
    });
    expect(world.policy).toBe(open);
    expect(fake.entries().map((e) => e.outcome)).toEqual([INTENT, 'FAILED']);
    expect(fake.entries()[1]?.summary).toContain('Remove or narrow the public statement');
  });

  it('keeps every existing statement and records the exact before-policy', async () => {
    // Arrange
    const before = `{\n  "Version" : "2012-10-17",\n  "Statement" : [ ${JSON.stringify(OWNER_STATEMENT)} ]\n}`;
    secretsWith({ exists: true, policy: before });
    // Act
    await lockSecret(input(), deps());
    // Assert
    expect(putStatements()).toEqual([OWNER_STATEMENT, cordonStatement(BREAK_GLASS)]);
    expect(fake.entries()).toEqual([
      expect.objectContaining({ outcome: INTENT, before: { policy: before, locked: false } }),
      expect.objectContaining({
        outcome: 'CONTAINED',
        before: { policy: before, locked: false },
        after: { policy: expect.stringContaining(LOCK_SID), locked: true },
      }),
    ]);
  });

  it('keeps a policy whose Statement is a single object', async () => {
    // Arrange
    secretsWith({
      exists: true,
      policy: JSON.stringify({ Version: '2012-10-17', Statement: OWNER_STATEMENT }),
    });
    // Act
    await lockSecret(input(), deps());
    // Assert
    expect(putStatements()).toEqual([OWNER_STATEMENT, cordonStatement(BREAK_GLASS)]);
  });

  it('replaces its own outdated statement instead of adding a second one', async () => {
    // Arrange
    const outdated = cordonStatement([`arn:aws:iam::${ACCOUNT}:role/OldBreakGlass`]);
    secretsWith({
      exists: true,
      policy: JSON.stringify({ Version: '2012-10-17', Statement: [outdated, OWNER_STATEMENT] }),
    });
    // Act
    const result = await lockSecret(input(), deps());
    // Assert
    expect(result.outcome).toBe('CONTAINED');
    expect(putStatements()).toEqual([OWNER_STATEMENT, cordonStatement(BREAK_GLASS)]);
  });

  it('denies every reader, with no condition, when no break-glass principal is configured', async () => {
    // Arrange
    secretsWith({ exists: true, policy: undefined });
    // Act
    const result = await lockSecret(input(), deps([]));
    // Assert
    expect(putStatements()).toEqual([
      {
        Sid: LOCK_SID,
        Effect: 'Deny',
        Principal: '*',
        Action: 'secretsmanager:GetSecretValue',
        Resource: '*',
      },
    ]);
    expect(result.summary).toContain('(no break-glass principals are configured)');
  });

  it('returns ALREADY_CONTAINED when its statement holds exactly the current break-glass principals', async () => {
    // Arrange: the same statement as IAM may store it, lists reordered and a one-element list
    const stored = {
      ...cordonStatement([...BREAK_GLASS].reverse()),
      Principal: { AWS: '*' },
      Action: ['secretsmanager:GetSecretValue'],
    };
    secretsWith({
      exists: true,
      policy: JSON.stringify({ Version: '2012-10-17', Statement: [OWNER_STATEMENT, stored] }),
    });
    // Act
    const result = await lockSecret(input(), deps());
    // Assert
    expect(result.outcome).toBe('ALREADY_CONTAINED');
    expect(secretsMock).not.toHaveReceivedCommand(PutResourcePolicyCommand);
  });

  it('locks again when a lock without conditions meets configured break-glass principals', async () => {
    // Arrange
    secretsWith({
      exists: true,
      policy: JSON.stringify({ Version: '2012-10-17', Statement: [cordonStatement([])] }),
    });
    // Act
    const result = await lockSecret(input(), deps());
    // Assert
    expect(result.outcome).toBe('CONTAINED');
    expect(putStatements()).toEqual([cordonStatement(BREAK_GLASS)]);
  });

  it('does not take a Cordon-named statement with an added NotPrincipal as its lock', async () => {
    // Arrange
    const tampered = { ...cordonStatement(BREAK_GLASS), NotPrincipal: { AWS: '*' } };
    secretsWith({
      exists: true,
      policy: JSON.stringify({ Version: '2012-10-17', Statement: [tampered] }),
    });
    // Act
    const result = await lockSecret(input(), deps());
    // Assert
    expect(result.outcome).toBe('CONTAINED');
    expect(putStatements()).toEqual([cordonStatement(BREAK_GLASS)]);
  });

  it('never sends GetSecretValue: only DescribeSecret, GetResourcePolicy and PutResourcePolicy', async () => {
    // Arrange
    secretsWith({ exists: true, policy: undefined });
    // Act
    await lockSecret(input(), deps());
    // Assert
    const sent = new Set(secretsMock.calls().map((call) => call.args[0].constructor.name));
    expect([...sent].sort()).toEqual([
      'DescribeSecretCommand',
      'GetResourcePolicyCommand',
      'PutResourcePolicyCommand',
    ]);
    expect(secretsMock).not.toHaveReceivedCommand(GetSecretValueCommand);
  });

  it('fails with Cordon.UnreadablePolicy and changes nothing when the policy is not JSON', async () => {
    // Arrange
    secretsWith({ exists: true, policy: 'not a policy' });
    // Act
    const attempt = lockSecret(input(), deps());
    // Assert
    await expect(attempt).rejects.toMatchObject({ name: 'Cordon.UnreadablePolicy' });
    expect(secretsMock).not.toHaveReceivedCommand(PutResourcePolicyCommand);
    expect(fake.entries().map((e) => e.outcome)).toEqual(['FAILED']);
  });

  it('records DRY_RUN, still saying manual rotation is required, and makes no PutResourcePolicy call', async () => {
    // Arrange
    secretsWith({ exists: true, policy: undefined });
    // Act
    const result = await lockSecret(input('dry-run'), deps());
    // Assert
    expect(result.outcome).toBe('DRY_RUN');
    expect(result.summary).toMatch(/^would lock secret /);
    expect(result.summary).toContain(MANUAL_ROTATION);
    expect(secretsMock).not.toHaveReceivedCommand(PutResourcePolicyCommand);
  });

  it('fails with Cordon.ApprovalMissing and makes no AWS call in approve mode without an approval', async () => {
    // Arrange
    secretsWith({ exists: true, policy: undefined });
    // Act
    const attempt = lockSecret(input('approve'), deps());
    // Assert
    await expect(attempt).rejects.toMatchObject({ name: 'Cordon.ApprovalMissing' });
    expect(secretsMock).not.toHaveReceivedAnyCommand();
  });

  it('acts in approve mode with an approval for its step', async () => {
    // Arrange
    secretsWith({ exists: true, policy: undefined });
    // Act
    const result = await lockSecret(
      actionInput(STEP, { incident: secretIncident(), approval: approved(STEP) }),
      deps(),
    );
    // Assert
    expect(result).toMatchObject({ outcome: 'CONTAINED', mode: 'approve' });
  });

  it('returns TARGET_NOT_FOUND when the secret does not exist', async () => {
    // Arrange
    secretsWith({ exists: false, policy: undefined });
    // Act
    const result = await lockSecret(input(), deps());
    // Assert
    expect(result.outcome).toBe('TARGET_NOT_FOUND');
    expect(secretsMock).not.toHaveReceivedCommand(PutResourcePolicyCommand);
  });

  it('returns TARGET_NOT_FOUND when the secret is scheduled for deletion', async () => {
    // Arrange
    secretsWith({ exists: true, deletedDate: new Date('2026-03-01T10:05:00Z'), policy: undefined });
    // Act
    const result = await lockSecret(input(), deps());
    // Assert
    expect(result.outcome).toBe('TARGET_NOT_FOUND');
    expect(secretsMock).not.toHaveReceivedCommand(PutResourcePolicyCommand);
  });

  it('surfaces throttling as retryable Cordon.Throttled without a ledger entry', async () => {
    // Arrange
    secretsWith({ exists: true, policy: undefined });
    secretsMock.on(GetResourcePolicyCommand).rejects(awsError('ThrottlingException'));
    // Act
    const attempt = lockSecret(input(), deps());
    // Assert
    await expect(attempt).rejects.toMatchObject({ name: 'Cordon.Throttled', retryable: true });
    expect(fake.entries()).toEqual([]);
  });

  it('records AccessDeniedException as a FAILED ledger entry with the before-policy and throws Cordon.AccessDenied', async () => {
    // Arrange
    const before = JSON.stringify({ Version: '2012-10-17', Statement: [OWNER_STATEMENT] });
    secretsWith({ exists: true, policy: before });
    secretsMock.on(PutResourcePolicyCommand).rejects(awsError('AccessDeniedException'));
    // Act
    const attempt = lockSecret(input(), deps());
    // Assert
    await expect(attempt).rejects.toMatchObject({ name: 'Cordon.AccessDenied', retryable: false });
    expect(fake.entries()).toEqual([
      expect.objectContaining({
        outcome: INTENT,
        targetArn: SECRET_ARN,
        before: { policy: before, locked: false },
      }),
      expect.objectContaining({
        outcome: 'FAILED',
        targetArn: SECRET_ARN,
        before: { policy: before, locked: false },
      }),
    ]);
  });
});

describe('break-glass configuration', () => {
  it('accepts IAM role and user ARN patterns', () => {
    // Act
    const parsed = BreakGlassSchema.safeParse([...BREAK_GLASS, `arn:aws:iam::${ACCOUNT}:user/a?`]);
    // Assert
    expect(parsed.success).toBe(true);
  });

  it.each([['*'], ['arn:aws:iam::*:*'], ['arn:aws:iam::123456789012:role/with space'], [42]])(
    'fails when a pattern is %j',
    (pattern) => {
      // Act
      const parsed = BreakGlassSchema.safeParse([pattern]);
      // Assert
      expect(parsed.success).toBe(false);
    },
  );
});

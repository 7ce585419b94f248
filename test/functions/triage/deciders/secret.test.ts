import 'aws-sdk-client-mock-vitest/extend';
import { DescribeSecretCommand } from '@aws-sdk/client-secrets-manager';
import { PutCommand } from '@aws-sdk/lib-dynamodb';
import { describe, expect, it } from 'vitest';
import { TriageResultSchema } from '../../../../functions/shared/incident.js';
import {
  ACCOUNT,
  ASFF_RESOURCE,
  awsError,
  ddbMock,
  fixture,
  SECRET_ARN,
  SECRET_NAME,
  secretExists,
  secretsMock,
  setup,
  userExists,
  withValue,
} from '../helpers.js';
import { runTriage } from '../run.js';

const PLAYBOOK = { playbook: 'secret-exposure' } as const;
const SECRET_PATH = [
  'detail',
  'service',
  'action',
  'awsApiCallAction',
  'affectedResources',
  'AWS::SecretsManager::Secret',
] as const;

describe('triage: secret-exposure', () => {
  it('locks, and does not rotate, a verified secret without rotation', async () => {
    const deps = setup();
    secretExists({ rotationEnabled: false });

    const result = await runTriage(fixture('securityhub-secret'), deps, PLAYBOOK);

    expect(TriageResultSchema.parse(result)).toEqual(result);
    expect(result).toMatchObject({ decision: 'PROCEED', reason: 'claimed' });
    expect(result.incident.secret).toEqual({
      arn: SECRET_ARN,
      name: SECRET_NAME,
      rotationEnabled: false,
      exposedVersionId: 'b2b2b2b2-0000-4000-8000-000000000002',
    });
    expect(result.incident.plan).toEqual({
      rotateSecret: { mode: 'off', reason: 'rotation is not configured', applies: false },
      lockSecret: { mode: 'approve' },
    });
    expect(secretsMock).toHaveReceivedCommandWith(DescribeSecretCommand, { SecretId: SECRET_ARN });
  });

  it('rotates a secret with rotation configured, with the lock as a fallback a responder decides on', async () => {
    const deps = setup({
      modes: { 'secret-exposure': { rotateSecret: 'auto', lockSecret: 'auto' } },
    });
    secretExists({ rotationEnabled: true });

    const result = await runTriage(fixture('securityhub-secret'), deps, PLAYBOOK);

    expect(result.incident.secret?.rotationEnabled).toBe(true);
    expect(result.incident.plan).toEqual({
      rotateSecret: { mode: 'auto' },
      // Configured auto, yet a fallback never runs unattended.
      lockSecret: {
        mode: 'approve',
        reason:
          'rotation is configured: only if the rotation does not finish, a responder decides whether to lock it instead',
        fallback: true,
      },
    });
  });

  it('records the version AWSCURRENT at triage as the exposed one, from DescribeSecret', async () => {
    const deps = setup();
    secretExists({
      rotationEnabled: true,
      versions: { old: ['AWSPREVIOUS'], now: ['AWSCURRENT', 'AWSPENDING'], next: ['AWSPENDING'] },
    });

    const result = await runTriage(fixture('securityhub-secret'), deps, PLAYBOOK);

    expect(result.incident.secret?.exposedVersionId).toBe('now');
  });

  it('records no exposed version for a secret that has no AWSCURRENT version', async () => {
    const deps = setup();
    secretExists({ rotationEnabled: true, versions: {} });

    const result = await runTriage(fixture('securityhub-secret'), deps, PLAYBOOK);

    expect(result.incident.secret?.exposedVersionId).toBeNull();
  });

  it('leaves the lock off when configuration turns it off, fallback or not', async () => {
    const deps = setup({ modes: { 'secret-exposure': { lockSecret: 'off' } } });
    secretExists({ rotationEnabled: true });

    const result = await runTriage(fixture('securityhub-secret'), deps, PLAYBOOK);

    expect(result.incident.plan.lockSecret).toEqual({ mode: 'off' });
  });

  it('never reads the secret value', async () => {
    const deps = setup();
    secretExists();

    await runTriage(fixture('securityhub-secret'), deps, PLAYBOOK);

    const calls = secretsMock.calls().map((call) => call.args[0].constructor.name);
    expect(calls).toEqual(['DescribeSecretCommand']);
  });

  it('resolves a secret GuardDuty names without an ARN, taking the ARN from Secrets Manager', async () => {
    const deps = setup();
    secretExists();
    const event = withValue(fixture('guardduty-secret-access'), SECRET_PATH, SECRET_NAME);

    const result = await runTriage(event, deps, PLAYBOOK);

    expect(secretsMock).toHaveReceivedCommandWith(DescribeSecretCommand, {
      SecretId: SECRET_NAME,
    });
    expect(result).toMatchObject({
      decision: 'PROCEED',
      incident: { secret: { arn: SECRET_ARN } },
    });
  });
});

describe('triage: one access key finding, two playbooks', () => {
  it('makes one incident per playbook, with different ids and claim keys', async () => {
    const deps = setup();
    userExists();
    secretExists();
    const event = fixture('guardduty-secret-access');

    const key = await runTriage(event, deps, { playbook: 'iam-credentials' });
    const secret = await runTriage(event, deps, PLAYBOOK);

    expect(key).toMatchObject({ decision: 'PROCEED', incident: { playbook: 'iam-credentials' } });
    expect(secret).toMatchObject({
      decision: 'PROCEED',
      incident: { playbook: 'secret-exposure' },
    });
    expect(key.incident.findingId).toBe(secret.incident.findingId);
    expect(key.incident.incidentId).not.toBe(secret.incident.incidentId);
    const claimKeys = ddbMock
      .commandCalls(PutCommand)
      .map((call) => call.args[0].input.Item?.incidentId);
    expect(claimKeys).toEqual([key.incident.incidentId, secret.incident.incidentId]);
    expect(secret.incident.principal).toBeUndefined();
  });

  it('refuses as invalid, claiming nothing, a finding that touched no secret', async () => {
    const deps = setup();

    const attempt = runTriage(fixture('guardduty-iam-user'), deps, PLAYBOOK);

    await expect(attempt).rejects.toMatchObject({ name: 'Cordon.InvalidFinding' });
    expect(ddbMock).not.toHaveReceivedCommand(PutCommand);
  });
});

describe('triage: secret verification', () => {
  it('refuses a secret that does not exist', async () => {
    const deps = setup();
    secretsMock.on(DescribeSecretCommand).rejects(awsError('ResourceNotFoundException', 400));

    const result = await runTriage(fixture('securityhub-secret'), deps, PLAYBOOK);

    expect(result.decision).toBe('REFUSED');
    expect(result.reason).toBe('secret: secret prod/payments/db-password does not exist');
    expect(Object.values(result.incident.plan).every((p) => p.mode === 'off')).toBe(true);
  });

  it('refuses a secret scheduled for deletion', async () => {
    const deps = setup();
    secretExists({ deletedDate: new Date('2024-05-20T00:00:00Z') });

    const result = await runTriage(fixture('securityhub-secret'), deps, PLAYBOOK);

    expect(result).toMatchObject({
      decision: 'REFUSED',
      reason: 'secret: secret prod/payments/db-password is scheduled for deletion',
    });
  });

  it('locks a secret tagged exempt (secretsmanager:TagResource) only with a responder', async () => {
    const deps = setup({ modes: { 'secret-exposure': { lockSecret: 'auto' } } });
    secretExists({ tags: [{ Key: 'cordon:exempt', Value: 'true' }] });

    const result = await runTriage(fixture('securityhub-secret'), deps, PLAYBOOK);

    expect(result.decision).toBe('PROCEED');
    expect(result.incident.plan.lockSecret).toEqual({
      mode: 'approve',
      reason: `exempt: ${SECRET_ARN} is tagged cordon:exempt=true`,
    });
  });

  it('refuses a secret whose ARN matches a protected pattern', async () => {
    const deps = setup({ protectedPrincipalPatterns: ['arn:aws:secretsmanager:*:secret:prod/*'] });
    secretExists();

    const result = await runTriage(fixture('securityhub-secret'), deps, PLAYBOOK);

    expect(result.decision).toBe('REFUSED');
    expect(result.reason).toMatch(/^protected: /);
  });

  it('refuses a secret ARN in another account without asking Secrets Manager', async () => {
    const deps = setup();
    const other = 'arn:aws:secretsmanager:us-east-1:210987654321:secret:shared/key-AbCdEf';
    const event = withValue(fixture('securityhub-secret'), [...ASFF_RESOURCE, 'Id'], other);

    const result = await runTriage(event, deps, PLAYBOOK);

    expect(result.reason).toBe(
      `account: the secret ${other} is in account 210987654321, not the finding's account ${ACCOUNT}`,
    );
    expect(secretsMock).not.toHaveReceivedAnyCommand();
  });

  it('refuses when Secrets Manager has another secret under the claimed id', async () => {
    const deps = setup();
    const partial = `arn:aws:secretsmanager:us-east-1:${ACCOUNT}:secret:prod/payments/db-password`;
    secretsMock.on(DescribeSecretCommand).resolves({ ARN: SECRET_ARN, Name: SECRET_NAME });
    const event = withValue(fixture('guardduty-secret-access'), SECRET_PATH, `${partial}-XyZ123`);

    const result = await runTriage(event, deps, PLAYBOOK);

    expect(result.reason).toMatch(/^secret arn mismatch: /);
  });

  it('sends the lock step to a human, and offers no rotation, when DescribeSecret is denied', async () => {
    const deps = setup({ modes: { 'secret-exposure': { lockSecret: 'auto' } } });
    secretsMock.on(DescribeSecretCommand).rejects(awsError('AccessDeniedException', 400));

    const result = await runTriage(fixture('securityhub-secret'), deps, PLAYBOOK);

    expect(result.decision).toBe('PROCEED');
    expect(result.reason).toMatch(
      /^claimed; automatic steps need approval: the secret could not be read/,
    );
    expect(result.incident.plan.lockSecret).toMatchObject({ mode: 'approve' });
    expect(result.incident.plan.rotateSecret).toMatchObject({
      mode: 'off',
      reason: expect.stringMatching(/^rotation could not be read/),
    });
  });

  it('throws Cordon.Throttled, claiming nothing, when Secrets Manager throttles', async () => {
    const deps = setup();
    secretsMock.on(DescribeSecretCommand).rejects(awsError('ThrottlingException', 400));

    await expect(runTriage(fixture('securityhub-secret'), deps, PLAYBOOK)).rejects.toMatchObject({
      name: 'Cordon.Throttled',
    });
    expect(ddbMock).not.toHaveReceivedCommand(PutCommand);
  });

  it('applies the finding guards: a secret scanner finding is not refused as posture', async () => {
    const deps = setup();
    secretExists();
    const event = withValue(
      fixture('securityhub-secret'),
      ['detail', 'findings', 0, 'Types'],
      ['Software and Configuration Checks/Secrets/Hard-coded credential'],
    );

    const result = await runTriage(event, deps, PLAYBOOK);

    expect(result.decision).toBe('PROCEED');
  });
});

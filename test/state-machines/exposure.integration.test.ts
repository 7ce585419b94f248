/**
 * Layer 3: the synthesized secret-exposure, integration-quarantine and
 * s3-exposure definitions, executed locally by the rehearsal engine with the
 * real handlers in-process against moto. Asserts the path (states entered,
 * in order), the step results and the ledger, and reads the resource back
 * from moto wherever a test claims something was done, or left alone.
 *
 * Everything goes to moto except:
 * - Security Hub BatchUpdateFindings (moto 5.2 lacks it): mocked with
 *   aws-sdk-client-mock on SecurityHubClient only (every finding processed),
 *   as the other Security Hub tests do;
 * - Security Hub's V2 APIs (GetFindingsV2, BatchUpdateFindingsV2), which an
 *   OCSF finding ("Findings Imported V2") needs and no emulator serves (moto
 *   has neither): the rehearsal's finding-source stand-in holds the
 *   rehearsed finding, answers GetFindingsV2 and records each
 *   BatchUpdateFindingsV2, with no client mock in the way;
 * What moto emulates of rotation, and what it does not: moto 5.2 rotates a
 * secret that has a rotation function only by running that function, which
 * needs Docker. A secret configured with rotation rules and no function
 * (which AWS refuses) it rotates at once instead: RotateSecret adds a new
 * version, empty, moves AWSCURRENT to it and AWSPREVIOUS to the one before,
 * invoking nothing. So the rotation tests run against moto with no mock:
 * triage's DescribeSecret, each RotateSecret and the labels Cordon reads
 * back are moto's, as is the lock's resource policy. What they show is
 * Cordon's side (how many rotations, when it stops, the fallback); what
 * they cannot show is a rotation function's work at a back end, which no
 * label proves. A stalled rotation is a version left AWSPENDING
 * (PutSecretValue with that label), as a failed rotation leaves one. The
 * state machine's retries run without their waits.
 * Tests that read what responders were told spy on SNSClient.send without
 * replacing it (the messages still reach moto), and the secret tests spy on
 * SecretsManagerClient.send the same way to show the value is never read.
 */
import { CreateRoleCommand, IAMClient, ListRolePoliciesCommand } from '@aws-sdk/client-iam';
import {
  GetFunctionConcurrencyCommand,
  LambdaClient,
  TagResourceCommand as TagFunctionCommand,
  UpdateFunctionConfigurationCommand,
} from '@aws-sdk/client-lambda';
import { GetPublicAccessBlockCommand, PutBucketTaggingCommand, S3Client } from '@aws-sdk/client-s3';
import {
  BatchGetSecretValueCommand,
  DescribeSecretCommand,
  GetResourcePolicyCommand,
  GetSecretValueCommand,
  PutSecretValueCommand,
  RotateSecretCommand,
  SecretsManagerClient,
  TagResourceCommand as TagSecretCommand,
} from '@aws-sdk/client-secrets-manager';
import { BatchUpdateFindingsCommand, SecurityHubClient } from '@aws-sdk/client-securityhub';
import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { z } from 'zod';
import {
  bucketFinding,
  type CompromisedFunction,
  type ExposedSecret,
  functionFinding,
  type PublicBucket,
  secretAccessFinding,
  secretFinding,
  securityHubBucketFinding,
  seedCompromisedFunction,
  seedExposedSecret,
  seedPublicBucket,
} from '../../demo/exposure.js';
import { seedCompromisedUser } from '../../demo/scenario.js';
import { parseIamArn } from '../../functions/shared/iam-arn.js';
import { ENV } from '../../functions/shared/runtime-config.js';
import { findingSource } from '../../rehearsal/finding-source.js';
import { MOTO_ACCOUNT_ID, motoClientConfig, useMoto } from '../support/moto.js';
import { forms } from '../support/notices.js';
import { OCSF_AWS_PRODUCT, ocsfBucketControlFinding, processedFindings } from './events.js';
import { explain, onlyExecution, outcomes, rehearsalHarness } from './harness.js';

const { endpoint } = useMoto();
const harness = rehearsalHarness();
const iam = new IAMClient(motoClientConfig(endpoint));
const lambda = new LambdaClient(motoClientConfig(endpoint));
const s3 = new S3Client({ ...motoClientConfig(endpoint), forcePathStyle: true });
const secrets = new SecretsManagerClient(motoClientConfig(endpoint));

const START = ['Triage', 'Triage decision?'];
const SH_START = [...START, 'Update finding: picked up'];
const FINISH = ['Finished: from Security Hub?', 'Notify summary', 'Done'];
const SH_FINISH = [
  'Finished: from Security Hub?',
  'Update finding: finished',
  'Notify summary',
  'Done',
];
const REFUSED = ['Triage', 'Triage decision?', 'Notify refusal', 'Not acted on'];
const DUPLICATE = ['Triage', 'Triage decision?', 'Duplicate delivery'];

/** The states of one approval-gated step, as the decision leaves them. */
function gated(label: string, decision: 'approve' | 'reject' | 'timeout' | 'off'): string[] {
  if (decision === 'off') return [`${label}?`, `${label}: off`];
  const asked = [`${label}?`, `${label}: request approval`];
  if (decision === 'approve') return [...asked, label];
  const notActedOn = [...asked, `${label}: not acted on`, `${label}: timed out?`];
  return decision === 'timeout' ? [...notActedOn, `${label}: notify timeout`] : notActedOn;
}

// ---------------------------------------------------------------------------
// Reading the resources back from moto
// ---------------------------------------------------------------------------

async function secretPolicy(secret: ExposedSecret): Promise<string | null> {
  const out = await secrets.send(new GetResourcePolicyCommand({ SecretId: secret.arn }));
  return out.ResourcePolicy ?? null;
}

async function functionState(fn: CompromisedFunction) {
  const concurrency = await lambda.send(
    new GetFunctionConcurrencyCommand({ FunctionName: fn.name }),
  );
  const policies = await iam.send(new ListRolePoliciesCommand({ RoleName: fn.roleName }));
  return {
    reservedConcurrency: concurrency.ReservedConcurrentExecutions ?? 'unreserved',
    rolePolicies: policies.PolicyNames ?? [],
  };
}

async function publicAccessBlock(bucket: PublicBucket) {
  try {
    const out = await s3.send(new GetPublicAccessBlockCommand({ Bucket: bucket.name }));
    return out.PublicAccessBlockConfiguration ?? null;
  } catch (error) {
    if (error instanceof Error && error.name === 'NoSuchPublicAccessBlockConfiguration') {
      return null;
    }
    throw error;
  }
}

/** A BatchUpdateFindingsV2 request as the finding-source stand-in recorded it: these fields only. */
const V2_UPDATE = z.strictObject({
  FindingIdentifiers: z.array(
    z.object({
      CloudAccountUid: z.string(),
      FindingInfoUid: z.string(),
      MetadataProductUid: z.string(),
    }),
  ),
  StatusId: z.number(),
  Comment: z.string(),
});

const StepResults = z.object({
  results: z.record(z.string(), z.object({ outcome: z.string() })),
});

/** Each result's outcome in the execution output's `results`. */
function resultOutcomes(output: unknown): Record<string, string> {
  const { results } = StepResults.parse(output);
  return Object.fromEntries(Object.entries(results).map(([step, r]) => [step, r.outcome]));
}

/** The one entry of an execution's ledger with this step and outcome. */
function entry<E extends { step: string; outcome: string }>(
  execution: { ledger: readonly E[] },
  key: string,
): E | undefined {
  const [step, outcome] = key.split(':');
  const found = execution.ledger.filter((e) => e.step === step && e.outcome === outcome);
  expect(found, `one ${key} entry`).toHaveLength(1);
  return found[0];
}

// ---------------------------------------------------------------------------
// Mocks and spies, undone after each test
// ---------------------------------------------------------------------------

const clientMocks: Array<{ restore(): void }> = [];
afterEach(() => {
  for (const mock of clientMocks.splice(0)) mock.restore();
  vi.restoreAllMocks();
});

/** Answers BatchUpdateFindings as Security Hub does (moto lacks it): every finding processed. */
function mockBatchUpdateFindings() {
  const hub = mockClient(SecurityHubClient);
  clientMocks.push(hub);
  hub.on(BatchUpdateFindingsCommand).callsFake((input: unknown) => ({
    ProcessedFindings: processedFindings(input),
    UnprocessedFindings: [],
  }));
  return hub;
}

/** Records what is published to SNS; the calls still go to moto. */
function spyOnPublished(): () => Array<{ subject: string; message: string }> {
  const send = vi.spyOn(SNSClient.prototype, 'send');
  return () =>
    send.mock.calls.flatMap(([command]) =>
      command instanceof PublishCommand
        ? [{ subject: command.input.Subject ?? '', message: forms(command.input).text }]
        : [],
    );
}

/** Names of the Secrets Manager commands sent by anyone; the calls still go where they went. */
function spyOnSecretsManager(): () => string[] {
  const send = vi.spyOn(SecretsManagerClient.prototype, 'send');
  return () => send.mock.calls.map(([command]) => command.constructor.name);
}

// ---------------------------------------------------------------------------

describe('a secret without rotation (secret-exposure)', () => {
  it('locks it with approval, says manual rotation is required, and never reads the value', async () => {
    const secret = await seedExposedSecret();
    mockBatchUpdateFindings();
    const published = spyOnPublished();
    const commands = spyOnSecretsManager();

    const report = await harness.engine('approve').rehearse(secretFinding(secret));

    expect(report.matched).toEqual(['secret-exposure']);
    const execution = onlyExecution(report);
    expect(execution.status, explain(execution)).toBe('SUCCEEDED');
    expect(execution.states).toEqual([
      ...SH_START,
      ...gated('Rotate secret', 'off'),
      ...gated('Lock secret', 'approve'),
      ...SH_FINISH,
    ]);
    expect(execution.output).toMatchObject({
      incident: { secret: { arn: secret.arn, rotationEnabled: false } },
    });
    expect(resultOutcomes(execution.output)).toEqual({
      rotateSecret: 'OFF',
      lockSecret: 'CONTAINED',
    });
    expect(outcomes(execution)).toEqual([
      'triage:CLAIMED',
      'finding:FINDING_UPDATED',
      'lockSecret:APPROVAL_REQUESTED',
      'lockSecret:APPROVAL_GRANTED',
      'lockSecret:INTENT',
      'lockSecret:CONTAINED',
      'finding:FINDING_UPDATED',
      'notify:NOTIFIED',
    ]);
    expect(entry(execution, 'lockSecret:CONTAINED')).toMatchObject({
      action: 'lock-secret',
      targetArn: secret.arn,
      summary: expect.stringContaining('manual rotation required'),
      before: { policy: null, locked: false },
      after: { locked: true },
    });
    const summary = published().find((m) => m.subject.startsWith('Cordon summary'));
    expect(summary?.message).toContain('manual rotation required');
    expect(JSON.parse((await secretPolicy(secret)) ?? '{}')).toMatchObject({
      Statement: [
        { Sid: 'CordonLockSecret', Effect: 'Deny', Action: 'secretsmanager:GetSecretValue' },
      ],
    });
    const sent = commands();
    expect(sent).toContain(DescribeSecretCommand.name);
    expect(sent).not.toContain(GetSecretValueCommand.name);
    expect(sent).not.toContain(BatchGetSecretValueCommand.name);
  });

  it.each(['reject', 'timeout'] as const)(
    'leaves the secret without a policy when the responders %s',
    async (decision) => {
      const secret = await seedExposedSecret();
      mockBatchUpdateFindings();
      const commands = spyOnSecretsManager();

      const execution = onlyExecution(
        await harness.engine(decision).rehearse(secretFinding(secret)),
      );

      expect(execution.status, explain(execution)).toBe('SUCCEEDED');
      expect(execution.states).toEqual([
        ...SH_START,
        ...gated('Rotate secret', 'off'),
        ...gated('Lock secret', decision),
        ...SH_FINISH,
      ]);
      expect(resultOutcomes(execution.output)).toEqual({
        rotateSecret: 'OFF',
        lockSecret: decision === 'reject' ? 'REJECTED' : 'NOT_ACTED_ON',
      });
      expect(await secretPolicy(secret)).toBeNull();
      expect(commands()).not.toContain(GetSecretValueCommand.name);
    },
  );
});

describe('a secret with rotation (secret-exposure; rotation emulated by moto, see header)', () => {
  /**
   * A secret with rotation configured and no rotation function, which moto
   * accepts (AWS would not): AWSCURRENT on its second version, AWSPREVIOUS on
   * its first. Its current version is the one triage records as exposed.
   */
  async function seedRotatingSecret(name = 'payments-api-key'): Promise<ExposedSecret> {
    const secret = await seedExposedSecret(name, secrets);
    await secrets.send(
      new RotateSecretCommand({
        SecretId: secret.arn,
        RotationRules: { AutomaticallyAfterDays: 30 },
        RotateImmediately: false,
      }),
    );
    return secret;
  }

  async function labels(secret: ExposedSecret): Promise<Record<string, string[]>> {
    const out = await secrets.send(new DescribeSecretCommand({ SecretId: secret.arn }));
    expect(out.RotationEnabled).toBe(true);
    return out.VersionIdsToStages ?? {};
  }

  const labelled = (stages: Record<string, string[]>, label: string) =>
    Object.entries(stages).find(([, l]) => l.includes(label))?.[0];

  it('rotates it twice with approval, until the exposed version is neither AWSCURRENT nor AWSPREVIOUS, and does not lock it', async () => {
    const secret = await seedRotatingSecret();
    const exposed = labelled(await labels(secret), 'AWSCURRENT');
    const hub = mockBatchUpdateFindings();
    const commands = spyOnSecretsManager();

    // The finding's own Details say RotationEnabled false: triage must trust
    // DescribeSecret, not the finding.
    const execution = onlyExecution(
      await harness.engine('approve').rehearse(secretFinding(secret)),
    );

    expect(execution.status, explain(execution)).toBe('SUCCEEDED');
    expect(execution.states).toEqual([
      ...SH_START,
      ...gated('Rotate secret', 'approve'),
      'Lock secret?',
      'Lock secret: not needed',
      ...SH_FINISH,
    ]);
    expect(execution.output).toMatchObject({
      incident: { secret: { rotationEnabled: true, exposedVersionId: exposed } },
    });
    expect(resultOutcomes(execution.output)).toEqual({ rotateSecret: 'CONTAINED' });
    const after = await labels(secret);
    const current = labelled(after, 'AWSCURRENT');
    const previous = labelled(after, 'AWSPREVIOUS');
    expect(exposed).toBeDefined();
    expect([current, previous]).not.toContain(exposed);
    expect(entry(execution, 'rotateSecret:CONTAINED')).toMatchObject({
      action: 'rotate-secret',
      targetArn: secret.arn,
      before: { exposedVersionId: exposed, exposedStages: ['AWSCURRENT'], pendingVersionId: null },
      after: {
        exposedVersionId: exposed,
        exposedStages: [],
        currentVersionId: current,
        previousVersionId: previous,
      },
    });
    // Two rotations, each started by Cordon: moto has no rotation function to start them.
    const sent = commands();
    expect(sent.filter((c) => c === RotateSecretCommand.name)).toHaveLength(2);
    expect(sent).not.toContain(GetSecretValueCommand.name);
    expect(execution.ledger.map((e) => e.action)).not.toContain('lock-secret');
    expect(await secretPolicy(secret)).toBeNull();
    expect(
      hub.commandCalls(BatchUpdateFindingsCommand).map((c) => c.args[0].input.Workflow),
    ).toEqual([{ Status: 'NOTIFIED' }, { Status: 'RESOLVED' }]);
  });

  it('falls back to the lock, with approval, when the rotation stalls: recorded, notified, and what is still valid said', async () => {
    const secret = await seedRotatingSecret();
    const exposed = labelled(await labels(secret), 'AWSCURRENT');
    // A rotation that failed and left its version AWSPENDING: Secrets Manager
    // refuses another until someone clears it, so the rotation never finishes.
    await secrets.send(
      new PutSecretValueCommand({
        SecretId: secret.arn,
        SecretString: 'half-rotated',
        VersionStages: ['AWSPENDING'],
      }),
    );
    const hub = mockBatchUpdateFindings();
    const published = spyOnPublished();
    const commands = spyOnSecretsManager();

    const execution = onlyExecution(
      await harness.engine('approve').rehearse(secretFinding(secret)),
    );

    expect(execution.status, explain(execution)).toBe('SUCCEEDED');
    expect(execution.states).toEqual([
      ...SH_START,
      ...gated('Rotate secret', 'approve'),
      'Rotate secret: did not finish',
      'Rotate secret: notify fallback',
      ...gated('Lock secret', 'approve'),
      ...SH_FINISH,
    ]);
    expect(resultOutcomes(execution.output)).toEqual({
      rotateSecret: 'FAILED',
      lockSecret: 'CONTAINED',
    });
    expect(outcomes(execution)).toEqual([
      'triage:CLAIMED',
      'finding:FINDING_UPDATED',
      'rotateSecret:APPROVAL_REQUESTED',
      'rotateSecret:APPROVAL_GRANTED',
      'rotateSecret:INTENT',
      'rotateSecret:FAILED',
      // The fallback notice.
      'notify:NOTIFIED',
      'lockSecret:APPROVAL_REQUESTED',
      'lockSecret:APPROVAL_GRANTED',
      'lockSecret:INTENT',
      'lockSecret:CONTAINED',
      'finding:FINDING_UPDATED',
      'notify:NOTIFIED',
    ]);
    expect(entry(execution, 'rotateSecret:FAILED')).toMatchObject({
      action: 'rotate-secret',
      summary: expect.stringContaining(
        `failed: Cordon.RotationPending: rotate-secret ${secret.arn}: not rotated away yet`,
      ),
    });
    expect(entry(execution, 'rotateSecret:FAILED')?.summary).toContain(
      `the exposed version ${exposed} is still AWSCURRENT: its credential is valid`,
    );
    // Cordon never started a rotation over the pending one: it only checked, until its checks ran out.
    const sent = commands();
    expect(sent).not.toContain(RotateSecretCommand.name);
    expect(sent).not.toContain(GetSecretValueCommand.name);
    const fallback = published().find((m) =>
      m.subject.startsWith('Cordon could not finish a step'),
    );
    expect(fallback?.message).toContain('Cordon.RotationPending');
    expect(fallback?.message).toContain('is AWSPENDING');
    const lockRequest = published().find((m) => m.subject.includes('approval needed: lockSecret'));
    expect(lockRequest?.message).toContain(
      'Why: step rotateSecret did not finish (its failure was recorded and notified); this step stands in for it',
    );
    expect(JSON.parse((await secretPolicy(secret)) ?? '{}')).toMatchObject({
      Statement: [{ Sid: 'CordonLockSecret', Effect: 'Deny' }],
    });
    // A lock is not a rotation: the finding is left for a responder.
    expect(
      hub.commandCalls(BatchUpdateFindingsCommand).map((c) => c.args[0].input.Workflow),
    ).toEqual([{ Status: 'NOTIFIED' }, { Status: 'NOTIFIED' }]);
    expect(labelled(await labels(secret), 'AWSCURRENT')).toBe(exposed);
  });

  it('does not ask to lock a secret whose rotation a responder rejected', async () => {
    const secret = await seedRotatingSecret();
    mockBatchUpdateFindings();

    const execution = onlyExecution(await harness.engine('reject').rehearse(secretFinding(secret)));

    expect(execution.status, explain(execution)).toBe('SUCCEEDED');
    expect(execution.states).toEqual([
      ...SH_START,
      ...gated('Rotate secret', 'reject'),
      'Lock secret?',
      'Lock secret: not needed',
      ...SH_FINISH,
    ]);
    expect(resultOutcomes(execution.output)).toEqual({ rotateSecret: 'REJECTED' });
    expect(await secretPolicy(secret)).toBeNull();
  });
});

describe('an access key that read a secret (GuardDuty)', () => {
  it('starts iam-credentials and secret-exposure: two executions, two incidents, both succeed', async () => {
    const user = await seedCompromisedUser(undefined, iam);
    const secret = await seedExposedSecret();
    const event = secretAccessFinding(user, secret);

    const report = await harness.engine('approve').rehearse(event);

    expect([...report.matched].sort()).toEqual(['iam-credentials', 'secret-exposure']);
    expect(report.executions).toHaveLength(2);
    for (const execution of report.executions) {
      expect(execution.status, explain(execution)).toBe('SUCCEEDED');
    }
    const incidents = report.executions.map((x) => x.ledger[0]?.incidentId);
    expect(new Set(incidents).size).toBe(2);
    const byPlaybook = Object.fromEntries(
      report.executions.map((x) => [x.playbook, resultOutcomes(x.output)]),
    );
    expect(byPlaybook['iam-credentials']).toMatchObject({ disableAccessKey: 'CONTAINED' });
    expect(byPlaybook['secret-exposure']).toEqual({ rotateSecret: 'OFF', lockSecret: 'CONTAINED' });
    expect(await secretPolicy(secret)).toContain('CordonLockSecret');
  });
});

describe('a compromised Lambda function (integration-quarantine)', () => {
  it('stops its invocations and revokes its role sessions, each with approval', async () => {
    const fn = await seedCompromisedFunction(undefined, { lambda, iam });
    expect(await functionState(fn)).toEqual({
      reservedConcurrency: 'unreserved',
      rolePolicies: [],
    });

    const report = await harness.engine('approve').rehearse(functionFinding(fn));

    expect(report.matched).toEqual(['integration-quarantine']);
    const execution = onlyExecution(report);
    expect(execution.status, explain(execution)).toBe('SUCCEEDED');
    expect(execution.states).toEqual([
      ...START,
      ...gated('Stop invocations', 'approve'),
      ...gated('Revoke function role sessions', 'approve'),
      ...FINISH,
    ]);
    expect(resultOutcomes(execution.output)).toEqual({
      stopInvocations: 'CONTAINED',
      revokeFunctionRoleSessions: 'CONTAINED',
    });
    expect(entry(execution, 'stopInvocations:CONTAINED')).toMatchObject({
      action: 'quarantine-function',
      before: { reservedConcurrency: 'unreserved' },
      after: { reservedConcurrency: 0 },
    });
    expect(entry(execution, 'revokeFunctionRoleSessions:CONTAINED')).toMatchObject({
      action: 'revoke-sessions',
      targetArn: fn.roleArn,
    });
    expect(await functionState(fn)).toEqual({
      reservedConcurrency: 0,
      rolePolicies: ['CordonRevokeOlderSessions'],
    });
  });

  /** Makes the function run as a new role `/cordon/<name>`. */
  async function runAs(fn: CompromisedFunction, name: string) {
    const role = await iam.send(
      new CreateRoleCommand({
        RoleName: name,
        Path: '/cordon/',
        AssumeRolePolicyDocument: JSON.stringify({
          Version: '2012-10-17',
          Statement: [
            {
              Effect: 'Allow',
              Principal: { Service: 'lambda.amazonaws.com' },
              Action: 'sts:AssumeRole',
            },
          ],
        }),
      }),
    );
    await lambda.send(
      new UpdateFunctionConfigurationCommand({ FunctionName: fn.name, Role: role.Role?.Arn }),
    );
  }

  it("refuses a function that runs as one of Cordon's own roles (its exact ARN)", async () => {
    const fn = await seedCompromisedFunction(undefined, { lambda, iam });
    const own = parseIamArn(harness.environment('triage')[ENV.actor] ?? '');
    if (own === undefined) throw new Error("no triage role in the rehearsal's template");
    await runAs(fn, own.name);
    const before = await functionState(fn);

    const execution = onlyExecution(await harness.engine('approve').rehearse(functionFinding(fn)));

    expect(execution.states).toEqual(REFUSED);
    expect(execution.ledger[0]).toMatchObject({
      step: 'triage',
      outcome: 'REFUSED',
      summary: expect.stringMatching(/^protected: .* one of Cordon's own roles$/),
    });
    expect(await functionState(fn)).toEqual(before);
  });

  it('contains a function whose author put its role under /cordon/ (iam:CreateRole picks paths)', async () => {
    const fn = await seedCompromisedFunction(undefined, { lambda, iam });
    await runAs(fn, 'cordon-triage');

    const execution = onlyExecution(await harness.engine('approve').rehearse(functionFinding(fn)));

    expect(execution.status, explain(execution)).toBe('SUCCEEDED');
    expect(outcomes(execution)).toEqual(
      expect.arrayContaining(['stopInvocations:APPROVAL_GRANTED', 'stopInvocations:CONTAINED']),
    );
    expect(await functionState(fn)).toMatchObject({ reservedConcurrency: 0 });
  });
});

describe('a public bucket (s3-exposure)', () => {
  it('blocks public access with approval on a GuardDuty Policy:S3 finding', async () => {
    const bucket = await seedPublicBucket();

    const report = await harness.engine('approve').rehearse(bucketFinding(bucket));

    expect(report.matched).toEqual(['s3-exposure']);
    const execution = onlyExecution(report);
    expect(execution.status, explain(execution)).toBe('SUCCEEDED');
    expect(execution.states).toEqual([
      ...START,
      ...gated('Block public access', 'approve'),
      ...FINISH,
    ]);
    expect(resultOutcomes(execution.output)).toEqual({ blockPublicAccess: 'CONTAINED' });
    expect(entry(execution, 'blockPublicAccess:CONTAINED')).toMatchObject({
      action: 'block-public-access',
      targetArn: bucket.arn,
      before: { configuration: null },
    });
    expect(await publicAccessBlock(bucket)).toEqual({
      BlockPublicAcls: true,
      IgnorePublicAcls: true,
      BlockPublicPolicy: true,
      RestrictPublicBuckets: true,
    });
  });

  it('does the same on a Security Hub data-exposure finding, and resolves the finding', async () => {
    const bucket = await seedPublicBucket();
    const hub = mockBatchUpdateFindings();

    const execution = onlyExecution(
      await harness.engine('approve').rehearse(securityHubBucketFinding(bucket, MOTO_ACCOUNT_ID)),
    );

    expect(execution.status, explain(execution)).toBe('SUCCEEDED');
    expect(execution.states).toEqual([
      ...SH_START,
      ...gated('Block public access', 'approve'),
      ...SH_FINISH,
    ]);
    expect(entry(execution, 'blockPublicAccess:CONTAINED')).toMatchObject({
      before: { configuration: null },
    });
    expect(
      hub.commandCalls(BatchUpdateFindingsCommand).map((c) => c.args[0].input.Workflow),
    ).toEqual([{ Status: 'NOTIFIED' }, { Status: 'RESOLVED' }]);
    expect(await publicAccessBlock(bucket)).toMatchObject({ BlockPublicAcls: true });
  });

  it('does the same on a Security Hub OCSF control finding (S3.8 failing), and marks it In Progress then Resolved with BatchUpdateFindingsV2', async () => {
    const bucket = await seedPublicBucket();
    const event = ocsfBucketControlFinding(bucket, MOTO_ACCOUNT_ID);
    const updatesBefore = findingSource.updates.length;
    const sent = vi.spyOn(SecurityHubClient.prototype, 'send');

    const report = await harness.engine('approve').rehearse(event);

    expect(report.matched).toEqual(['s3-exposure']);
    const execution = onlyExecution(report);
    expect(execution.status, explain(execution)).toBe('SUCCEEDED');
    expect(execution.states).toEqual([
      ...SH_START,
      ...gated('Block public access', 'approve'),
      ...SH_FINISH,
    ]);
    // Approved by a responder (the default), so triage had no unattended step to verify for.
    expect(execution.ledger[0]).toMatchObject({
      outcome: 'CLAIMED',
      detail: { productArn: OCSF_AWS_PRODUCT },
    });
    expect(entry(execution, 'blockPublicAccess:CONTAINED')).toMatchObject({
      targetArn: bucket.arn,
      before: { configuration: null },
    });
    expect(await publicAccessBlock(bucket)).toEqual({
      BlockPublicAcls: true,
      IgnorePublicAcls: true,
      BlockPublicPolicy: true,
      RestrictPublicBuckets: true,
    });
    // The write-back: BatchUpdateFindingsV2 only, by the finding's three identifiers.
    expect(sent.mock.calls.map(([command]) => command.constructor.name)).toEqual([
      'BatchUpdateFindingsV2Command',
      'BatchUpdateFindingsV2Command',
    ]);
    const identifier = {
      CloudAccountUid: MOTO_ACCOUNT_ID,
      FindingInfoUid: `arn:aws:securityhub:us-east-1:${MOTO_ACCOUNT_ID}:security-control/S3.8/finding/7dabcdef-1234-8912-5678-5012345678904`,
      MetadataProductUid: OCSF_AWS_PRODUCT,
    };
    const updates = findingSource.updates.slice(updatesBefore).map((u) => V2_UPDATE.parse(u));
    expect(updates.map((u) => [u.FindingIdentifiers, u.StatusId])).toEqual([
      [[identifier], 2],
      [[identifier], 4],
    ]);
    expect(updates[1]?.Comment).toContain('contained (s3-exposure)');
  });
});

// ---------------------------------------------------------------------------
// Repeats and guards, for each resource
// ---------------------------------------------------------------------------

interface Scenario {
  /** Seeds the resource; returns its finding, how to tag it exempt, and how to read it back. */
  seed(): Promise<{
    event: unknown;
    exempt(): Promise<unknown>;
    read(): Promise<unknown>;
  }>;
}

const EXEMPT = { Key: 'cordon:exempt', Value: 'true' };

const SCENARIOS: Record<string, Scenario> = {
  secret: {
    async seed() {
      const secret = await seedExposedSecret();
      return {
        event: secretFinding(secret),
        exempt: () => secrets.send(new TagSecretCommand({ SecretId: secret.arn, Tags: [EXEMPT] })),
        read: () => secretPolicy(secret),
      };
    },
  },
  function: {
    async seed() {
      const fn = await seedCompromisedFunction(undefined, { lambda, iam });
      return {
        event: functionFinding(fn),
        exempt: () =>
          lambda.send(
            new TagFunctionCommand({ Resource: fn.arn, Tags: { [EXEMPT.Key]: EXEMPT.Value } }),
          ),
        read: () => functionState(fn),
      };
    },
  },
  bucket: {
    async seed() {
      const bucket = await seedPublicBucket();
      return {
        event: bucketFinding(bucket),
        exempt: () =>
          s3.send(
            new PutBucketTaggingCommand({ Bucket: bucket.name, Tagging: { TagSet: [EXEMPT] } }),
          ),
        read: () => publicAccessBlock(bucket),
      };
    },
  },
};

describe.each(Object.entries(SCENARIOS))('repeats and guards: a %s', (_name, scenario) => {
  it('ends a second delivery of the same event as a duplicate that writes and changes nothing', async () => {
    mockBatchUpdateFindings();
    const { event, read } = await scenario.seed();
    // The first delivery times out, so an acting repeat would contain it now.
    await harness.engine('timeout').rehearse(event);
    const before = await read();

    const repeat = onlyExecution(await harness.engine('approve').rehearse(event));

    expect(repeat.status, explain(repeat)).toBe('SUCCEEDED');
    expect(repeat.states).toEqual(DUPLICATE);
    expect(repeat.output).toMatchObject({ decision: 'DUPLICATE', reason: 'already claimed' });
    expect(repeat.ledger).toEqual([]);
    expect(await read()).toEqual(before);
  });

  it('changes nothing on a resource its owner tagged exempt until a responder approves', async () => {
    mockBatchUpdateFindings();
    const { event, exempt, read } = await scenario.seed();
    await exempt();
    const before = await read();

    const execution = onlyExecution(await harness.engine('timeout').rehearse(event));

    expect(execution.status, explain(execution)).toBe('SUCCEEDED');
    expect(execution.ledger[0]).toMatchObject({
      outcome: 'CLAIMED',
      summary: expect.stringContaining('exempt: '),
    });
    expect(outcomes(execution)).toEqual(
      expect.arrayContaining([expect.stringMatching(/:NOT_ACTED_ON$/)]),
    );
    expect(outcomes(execution).filter((o) => o.endsWith(':CONTAINED'))).toEqual([]);
    expect(await read()).toEqual(before);
  });
});

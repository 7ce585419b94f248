import 'aws-sdk-client-mock-vitest/extend';
import { GenerateMacCommand, KMSClient } from '@aws-sdk/client-kms';
import { GetParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import { PutCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { lambdaContext } from '../../support/lambda-context.js';
import {
  ACCOUNT,
  ACTOR,
  BUCKET_ARN,
  bucketTagged,
  config,
  ddbMock,
  FUNCTION_ARN,
  fixture,
  functionExists,
  functionRoleExists,
  INSTANCE_ARN,
  instanceExists,
  instanceRoleExists,
  profileSharedBy,
  SECRET_ARN,
  secretExists,
  setup,
  userExists,
} from './helpers.js';

const context = lambdaContext('triage', 'c6af9ac6-7b61-11e6-9a41-93e812345678');

const ssmMock = mockClient(SSMClient);
/** The ledger key: triage MACs every entry it writes. */
const kmsMock = mockClient(KMSClient);

function stubEnv(values: Record<string, string>): void {
  ssmMock.reset();
  ssmMock.on(GetParameterCommand).resolves({ Parameter: { Value: 'auto' } });
  kmsMock.reset();
  kmsMock.on(GenerateMacCommand).resolves({ Mac: new Uint8Array(32).fill(7) });
  for (const [name, value] of Object.entries(values)) vi.stubEnv(name, value);
}

const ENV_OK = {
  CORDON_ACTION: 'triage',
  LEDGER_TABLE_NAME: 'cordon-ledger',
  LEDGER_KEY_ID: 'alias/cordon-ledger',
  CORDON_ACTOR_ARN: ACTOR,
  CORDON_CONFIG: JSON.stringify(config()),
  AWS_REGION: 'us-east-1',
  POWERTOOLS_LOG_LEVEL: 'SILENT',
  NOTIFICATION_TOPIC_ARN: `arn:aws:sns:us-east-1:${ACCOUNT}:cordon`,
  GUARDRAILS_TABLE_NAME: 'cordon-guardrails',
  CORDON_APPROVAL_POLICY: JSON.stringify({
    keyId: 'alias/cordon-approval',
    responders: [],
    twoPersonSteps: {},
  }),
};

describe('triage handler', () => {
  afterEach(() => {
    vi.unstubAllEnvs();
    vi.resetModules();
  });

  it('fails at cold start when the ledger table is not configured', async () => {
    stubEnv({ ...ENV_OK, LEDGER_TABLE_NAME: '' });

    await expect(import('../../../functions/triage/handler.js')).rejects.toMatchObject({
      name: 'Cordon.ConfigError',
      message: 'environment variable LEDGER_TABLE_NAME is required and is not set',
    });
  });

  it('fails at cold start when the runtime config is invalid, naming the field', async () => {
    stubEnv({ ...ENV_OK, CORDON_CONFIG: JSON.stringify({ ...config(), homeAccount: 'nope' }) });

    await expect(import('../../../functions/triage/handler.js')).rejects.toMatchObject({
      name: 'Cordon.ConfigError',
      message: expect.stringMatching(
        /^environment variable CORDON_CONFIG is invalid at homeAccount/,
      ),
    });
  });

  it('triages a raw EventBridge event end to end, recording the execution on the claim', async () => {
    stubEnv(ENV_OK);
    setup();
    userExists();
    const { handler } = await import('../../../functions/triage/handler.js');
    const executionArn = 'arn:aws:states:us-east-1:123456789012:execution:cordon:run-1';

    const result = await handler(
      { event: fixture('guardduty-iam-user'), executionArn, playbook: 'iam-credentials' },
      context,
    );

    expect(result).toMatchObject({
      decision: 'PROCEED',
      incident: { principal: { kind: 'IAMUser' } },
    });
    expect(ddbMock).toHaveReceivedCommandWith(PutCommand, {
      Item: expect.objectContaining({ outcome: 'CLAIMED', executionArn }),
    });
    // The guardrails are wired: the runtime mode is read from the configured parameter.
    expect(ssmMock).toHaveReceivedCommandWith(GetParameterCommand, { Name: '/cordon/mode' });
  });

  it('fails at cold start without the guardrails table', async () => {
    stubEnv({ ...ENV_OK, GUARDRAILS_TABLE_NAME: '' });

    await expect(import('../../../functions/triage/handler.js')).rejects.toMatchObject({
      name: 'Cordon.ConfigError',
      message: 'environment variable GUARDRAILS_TABLE_NAME is required and is not set',
    });
  });

  it('wires EC2, so an instance finding triages end to end', async () => {
    stubEnv(ENV_OK);
    setup();
    instanceExists();
    instanceRoleExists();
    profileSharedBy([[]]);
    const { handler } = await import('../../../functions/triage/handler.js');
    const executionArn = 'arn:aws:states:us-east-1:123456789012:execution:cordon-ec2:run-1';

    const result = await handler(
      { event: fixture('guardduty-ec2-instance'), executionArn, playbook: 'ec2-instance' },
      context,
    );

    expect(result).toMatchObject({
      decision: 'PROCEED',
      incident: { playbook: 'ec2-instance', instance: { arn: INSTANCE_ARN } },
    });
    expect(ddbMock).toHaveReceivedCommandWith(PutCommand, {
      Item: expect.objectContaining({ outcome: 'CLAIMED', targetArn: INSTANCE_ARN, executionArn }),
    });
  });

  it('wires Secrets Manager, so a secret finding triages end to end', async () => {
    stubEnv(ENV_OK);
    setup();
    secretExists({ rotationEnabled: true });
    const { handler } = await import('../../../functions/triage/handler.js');
    const executionArn = 'arn:aws:states:us-east-1:123456789012:execution:cordon-secret:run-1';

    const result = await handler(
      { event: fixture('guardduty-secret-access'), executionArn, playbook: 'secret-exposure' },
      context,
    );

    expect(result).toMatchObject({
      decision: 'PROCEED',
      incident: { playbook: 'secret-exposure', secret: { arn: SECRET_ARN, rotationEnabled: true } },
    });
  });

  it('wires Lambda and S3, so function and bucket findings triage end to end', async () => {
    stubEnv(ENV_OK);
    setup();
    functionExists();
    functionRoleExists();
    bucketTagged([]);
    const { handler } = await import('../../../functions/triage/handler.js');
    const executionArn = 'arn:aws:states:us-east-1:123456789012:execution:cordon-x:run-1';

    const fn = await handler(
      { event: fixture('guardduty-lambda'), executionArn, playbook: 'integration-quarantine' },
      context,
    );
    const bucket = await handler(
      { event: fixture('securityhub-s3-public'), executionArn, playbook: 's3-exposure' },
      context,
    );

    expect(fn).toMatchObject({
      decision: 'PROCEED',
      incident: { lambdaFunction: { arn: FUNCTION_ARN } },
    });
    expect(bucket).toMatchObject({
      decision: 'PROCEED',
      incident: { bucket: { arn: BUCKET_ARN } },
    });
  });

  it('fails with Cordon.InvalidFinding, claiming nothing, when the finding is for another playbook', async () => {
    stubEnv(ENV_OK);
    setup();
    const { handler } = await import('../../../functions/triage/handler.js');
    const executionArn = 'arn:aws:states:us-east-1:123456789012:execution:cordon:run-2';

    const attempt = handler(
      { event: fixture('guardduty-iam-user'), executionArn, playbook: 'ec2-instance' },
      context,
    );

    await expect(attempt).rejects.toMatchObject({ name: 'Cordon.InvalidFinding' });
    expect(ddbMock).not.toHaveReceivedCommand(PutCommand);
  });

  it('refuses input that is not an event with its execution ARN', async () => {
    stubEnv(ENV_OK);
    setup();
    const { handler } = await import('../../../functions/triage/handler.js');

    const attempt = handler(fixture('guardduty-iam-user'), context);

    await expect(attempt).rejects.toMatchObject({ name: 'Cordon.InvalidTaskInput' });
  });
});

import 'aws-sdk-client-mock-vitest/extend';
import { GetRoleCommand } from '@aws-sdk/client-iam';
import { GetFunctionConfigurationCommand, ListTagsCommand } from '@aws-sdk/client-lambda';
import { PutCommand } from '@aws-sdk/lib-dynamodb';
import { describe, expect, it } from 'vitest';
import { TriageResultSchema } from '../../../../functions/shared/incident.js';
import {
  ACCOUNT,
  ASFF_RESOURCE,
  awsError,
  CORDON_ROLE_ARN,
  ddbMock,
  FUNCTION_ARN,
  FUNCTION_ROLE_ARN,
  fixture,
  functionExists,
  functionRoleExists,
  iamMock,
  lambdaMock,
  setup,
  withValue,
} from '../helpers.js';
import { runTriage } from '../run.js';

const PLAYBOOK = { playbook: 'integration-quarantine' } as const;

describe('triage: integration-quarantine', () => {
  it('verifies the function, takes its role as the principal and plans both steps', async () => {
    const deps = setup();
    functionExists();
    functionRoleExists();

    const result = await runTriage(fixture('guardduty-lambda'), deps, PLAYBOOK);

    expect(TriageResultSchema.parse(result)).toEqual(result);
    expect(result).toMatchObject({ decision: 'PROCEED', reason: 'claimed' });
    expect(result.incident.lambdaFunction).toEqual({
      arn: FUNCTION_ARN,
      name: 'payments-webhook',
      roleArn: FUNCTION_ROLE_ARN,
    });
    expect(result.incident.principal).toEqual({
      kind: 'AssumedRole',
      arn: FUNCTION_ROLE_ARN,
      name: 'payments-webhook-role',
      uniqueId: 'AROAEXAMPLEFUNCTION01',
    });
    expect(result.incident.plan).toEqual({
      stopInvocations: { mode: 'approve' },
      revokeFunctionRoleSessions: { mode: 'approve' },
    });
    expect(iamMock).toHaveReceivedCommandWith(GetRoleCommand, {
      RoleName: 'payments-webhook-role',
    });
  });

  it('acts on the unqualified function when the finding names an alias', async () => {
    const deps = setup();
    functionExists();
    functionRoleExists();
    const event = withValue(
      fixture('guardduty-lambda'),
      ['detail', 'resource', 'lambdaDetails', 'functionArn'],
      `${FUNCTION_ARN}:live`,
    );

    const result = await runTriage(event, deps, PLAYBOOK);

    expect(lambdaMock).toHaveReceivedCommandWith(GetFunctionConfigurationCommand, {
      FunctionName: FUNCTION_ARN,
    });
    expect(result.incident.lambdaFunction?.arn).toBe(FUNCTION_ARN);
  });

  it('triages a Security Hub AwsLambdaFunction finding the same way', async () => {
    const deps = setup();
    functionExists();
    functionRoleExists();

    const result = await runTriage(fixture('securityhub-lambda'), deps, PLAYBOOK);

    expect(result).toMatchObject({
      decision: 'PROCEED',
      incident: { source: 'securityhub', lambdaFunction: { arn: FUNCTION_ARN } },
    });
  });
});

describe('triage: function verification', () => {
  it('refuses a function that does not exist', async () => {
    const deps = setup();
    lambdaMock
      .on(GetFunctionConfigurationCommand)
      .rejects(awsError('ResourceNotFoundException', 404));

    const result = await runTriage(fixture('guardduty-lambda'), deps, PLAYBOOK);

    expect(result).toMatchObject({
      decision: 'REFUSED',
      reason: 'function: function payments-webhook does not exist',
    });
  });

  it('refuses a function ARN in another account without asking Lambda', async () => {
    const deps = setup();
    const other = 'arn:aws:lambda:us-east-1:210987654321:function:payments-webhook';
    const event = withValue(fixture('securityhub-lambda'), [...ASFF_RESOURCE, 'Id'], other);

    const result = await runTriage(event, deps, PLAYBOOK);

    expect(result.reason).toBe(
      `account: the function ${other} is in account 210987654321, not the finding's account ${ACCOUNT}`,
    );
    expect(lambdaMock).not.toHaveReceivedAnyCommand();
  });

  it('quarantines a function tagged exempt (lambda:TagResource) only with a responder', async () => {
    const deps = setup({ modes: { 'integration-quarantine': { stopInvocations: 'auto' } } });
    functionExists({ tags: { 'cordon:exempt': 'true' } });
    functionRoleExists();

    const result = await runTriage(fixture('guardduty-lambda'), deps, PLAYBOOK);

    expect(result.decision).toBe('PROCEED');
    expect(result.incident.plan.stopInvocations).toEqual({
      mode: 'approve',
      reason: `exempt: ${FUNCTION_ARN} is tagged cordon:exempt=true`,
    });
    expect(lambdaMock).toHaveReceivedCommandWith(ListTagsCommand, { Resource: FUNCTION_ARN });
  });

  it('refuses a function whose ARN matches a protected pattern', async () => {
    const deps = setup({ protectedPrincipalPatterns: ['arn:aws:lambda:*:function:payments-*'] });
    functionExists();

    const result = await runTriage(fixture('guardduty-lambda'), deps, PLAYBOOK);

    expect(result.decision).toBe('REFUSED');
    expect(result.reason).toMatch(/^protected: /);
  });

  it("refuses Cordon's own function outright, not just its role step", async () => {
    const deps = setup();
    functionExists({ roleArn: CORDON_ROLE_ARN });

    const result = await runTriage(fixture('guardduty-lambda'), deps, PLAYBOOK);

    expect(result.decision).toBe('REFUSED');
    expect(result.reason).toContain(`runs as ${CORDON_ROLE_ARN}, one of Cordon's own roles`);
    expect(result.incident.plan.stopInvocations?.mode).toBe('off');
    expect(iamMock).not.toHaveReceivedAnyCommand();
  });

  it('contains a function whose role its author put under the /cordon/ path (iam:CreateRole)', async () => {
    const deps = setup();
    const lookalike = `arn:aws:iam::${ACCOUNT}:role/cordon/payments-webhook-role`;
    functionExists({ roleArn: lookalike });
    functionRoleExists({ arn: lookalike });

    const result = await runTriage(fixture('guardduty-lambda'), deps, PLAYBOOK);

    expect(result.decision).toBe('PROCEED');
    expect(result.incident.plan.stopInvocations?.mode).toBe('approve');
    expect(result.incident.principal?.arn).toBe(lookalike);
  });

  it('turns off revoking a role that a pattern protects, still stopping the function', async () => {
    const deps = setup({ protectedPrincipalPatterns: ['*:role/service-role/payments-*'] });
    functionExists();

    const result = await runTriage(fixture('guardduty-lambda'), deps, PLAYBOOK);

    expect(result.decision).toBe('PROCEED');
    expect(result.incident.plan).toEqual({
      stopInvocations: { mode: 'approve' },
      revokeFunctionRoleSessions: {
        mode: 'off',
        reason: expect.stringMatching(/^the function's role is protected: /),
      },
    });
  });

  it('revokes a role tagged exempt (iam:TagRole) only with a responder', async () => {
    const deps = setup({
      modes: { 'integration-quarantine': { revokeFunctionRoleSessions: 'auto' } },
    });
    functionExists();
    functionRoleExists({ tags: [{ Key: 'cordon:exempt', Value: 'true' }] });

    const result = await runTriage(fixture('guardduty-lambda'), deps, PLAYBOOK);

    expect(result.incident.plan.revokeFunctionRoleSessions).toEqual({
      mode: 'approve',
      reason: `the function's role is exempt: ${FUNCTION_ROLE_ARN} is tagged cordon:exempt=true`,
    });
  });

  it('fails closed when Lambda will not list the tags (no lambda:ListTags)', async () => {
    const deps = setup({ modes: { 'integration-quarantine': { stopInvocations: 'auto' } } });
    functionExists({ tagsDenied: true });
    functionRoleExists();

    const result = await runTriage(fixture('guardduty-lambda'), deps, PLAYBOOK);

    expect(result.incident.plan.stopInvocations).toEqual({
      mode: 'approve',
      reason: expect.stringMatching(/^exempt tag of function payments-webhook could not be read/),
    });
  });

  it('fails closed, and cannot revoke an unknown role, when GetFunctionConfiguration is denied', async () => {
    const deps = setup({ modes: { 'integration-quarantine': { stopInvocations: 'auto' } } });
    lambdaMock.on(GetFunctionConfigurationCommand).rejects(awsError('AccessDeniedException', 403));

    const result = await runTriage(fixture('guardduty-lambda'), deps, PLAYBOOK);

    expect(result.decision).toBe('PROCEED');
    expect(result.incident.plan.stopInvocations?.mode).toBe('approve');
    expect(result.incident.plan.revokeFunctionRoleSessions?.mode).toBe('off');
    expect(result.incident.principal).toBeUndefined();
  });

  it('throws Cordon.Throttled, claiming nothing, when Lambda throttles', async () => {
    const deps = setup();
    lambdaMock
      .on(GetFunctionConfigurationCommand)
      .rejects(awsError('TooManyRequestsException', 429));

    await expect(runTriage(fixture('guardduty-lambda'), deps, PLAYBOOK)).rejects.toMatchObject({
      name: 'Cordon.Throttled',
    });
    expect(ddbMock).not.toHaveReceivedCommand(PutCommand);
  });
});

import type { IAMClient } from '@aws-sdk/client-iam';
import {
  GetFunctionConfigurationCommand,
  type LambdaClient,
  ListTagsCommand,
} from '@aws-sdk/client-lambda';
import { classifyAwsError, isNotFound } from '../../shared/errors.js';
import type { LambdaFunction } from '../../shared/incident.js';
import {
  cordonRole,
  exemptReason,
  type ProtectionConfig,
  protectedGuard,
  type ResourceTag,
} from '../../shared/protection.js';
import type { RuntimeConfig } from '../../shared/runtime-config.js';
import { parseFunctionArn, parseIamPrincipalArn } from '../parse/arn.js';
import type { FunctionFinding } from '../parse/finding.js';
import { joinReasons, planPlaybook } from '../plan.js';
import {
  type Decider,
  type Decision,
  otherRegionRefusal,
  proceedReason,
  refuse,
} from './decision.js';
import { assessRole, revokeStepOf, type WorkloadRole } from './role.js';

/**
 * Verifies the function a finding names against Lambda
 * (GetFunctionConfiguration on the unqualified ARN: reserved concurrency is
 * per function, not per version or alias; not GetFunction, whose answer
 * carries a download link to the code): it must exist and be the home
 * account's. The answer names its execution role, the incident's principal.
 */
export type FunctionResolution =
  | {
      readonly status: 'verified';
      readonly lambdaFunction: LambdaFunction;
      /** The function's tags, or why Lambda would not list them. */
      readonly tags: ReadonlyArray<ResourceTag> | { readonly error: string };
    }
  | { readonly status: 'refused'; readonly lambdaFunction: LambdaFunction; readonly reason: string }
  /** Lambda could not be read (terminally): guards cannot decide. */
  | {
      readonly status: 'unverified';
      readonly lambdaFunction: LambdaFunction;
      readonly reason: string;
    };

export function claimedFunction(finding: FunctionFinding): LambdaFunction {
  const { unqualified, name } = finding.lambdaFunction;
  return { arn: unqualified, name };
}

export async function resolveFunction(
  finding: FunctionFinding,
  lambda: LambdaClient,
  account: string,
): Promise<FunctionResolution> {
  const claimed = claimedFunction(finding);
  const refused = (reason: string) =>
    ({ status: 'refused', lambdaFunction: claimed, reason }) as const;

  const elsewhere = await otherRegionRefusal(
    lambda,
    finding.region,
    `function ${claimed.name}`,
    'Lambda',
  );
  if (elsewhere !== undefined) return refused(elsewhere);

  let output: Awaited<ReturnType<typeof getConfiguration>>;
  try {
    output = await getConfiguration(lambda, claimed.arn);
  } catch (error) {
    if (isNotFound(error)) return refused(`function: function ${claimed.name} does not exist`);
    const failure = classifyAwsError(error, `get function ${claimed.name}`);
    if (failure.retryable) throw failure;
    return { status: 'unverified', lambdaFunction: claimed, reason: failure.message };
  }
  const reported = output.FunctionArn;
  const parsed = reported === undefined ? undefined : parseFunctionArn(reported);
  if (parsed === undefined) {
    return {
      status: 'unverified',
      lambdaFunction: claimed,
      reason: `get function ${claimed.name}: Lambda returned no function ARN`,
    };
  }
  if (parsed.unqualified !== claimed.arn) {
    return refused(
      `function arn mismatch: the finding names ${claimed.arn}, Lambda has ${parsed.unqualified}`,
    );
  }
  if (parsed.account !== account) {
    return refused(
      `account: function ${claimed.arn} is in account ${parsed.account}, not the finding's account ${account}`,
    );
  }
  const role = output.Role;
  const lambdaFunction: LambdaFunction = {
    ...claimed,
    ...(role === undefined ? {} : { roleArn: role }),
  };
  const tags = await functionTags(lambda, lambdaFunction);
  if ('gone' in tags) return refused(`function: function ${claimed.name} does not exist`);
  return { status: 'verified', lambdaFunction, tags };
}

/**
 * The function's tags, from ListTags. A denial is returned as an error
 * (the exempt guard then fails closed); throttling is thrown.
 */
async function functionTags(
  lambda: LambdaClient,
  fn: LambdaFunction,
): Promise<ReadonlyArray<ResourceTag> | { readonly error: string } | { readonly gone: true }> {
  try {
    const { Tags = {} } = await lambda.send(new ListTagsCommand({ Resource: fn.arn }));
    return Object.entries(Tags).map(([Key, Value]) => ({ Key, Value }));
  } catch (error) {
    if (isNotFound(error)) return { gone: true };
    const failure = classifyAwsError(error, `list tags of function ${fn.name}`);
    if (failure.retryable) throw failure;
    return { error: failure.message };
  }
}

function getConfiguration(lambda: LambdaClient, functionArn: string) {
  return lambda.send(new GetFunctionConfigurationCommand({ FunctionName: functionArn }));
}

/**
 * integration-quarantine: the function must exist in the home account and
 * its ARN must not be protected. A function running as one of Cordon's own
 * roles is Cordon: refused outright, since stopping it would stop
 * containment. The exempt tag on it makes every automatic step wait for a
 * responder; a protected role turns off revoking that role, an exempt one
 * makes that step wait.
 */
export const functionDecider: Decider<FunctionFinding> = {
  configurationChecksAct: true,
  claimed: (finding) => {
    const lambdaFunction = claimedFunction(finding);
    return { arn: lambdaFunction.arn, subject: { lambdaFunction } };
  },
  location: ({ lambdaFunction: fn }) => ({
    what: 'function',
    arn: fn.unqualified,
    account: fn.account,
    region: fn.region,
  }),
  sourceIdentifier: (finding) => finding.lambdaFunction.name,
  async decide(finding, deps): Promise<Decision> {
    const { config } = deps;
    const resolution = await resolveFunction(finding, deps.lambda, finding.account);
    const { lambdaFunction } = resolution;
    const claimed = { arn: lambdaFunction.arn, subject: { lambdaFunction } };
    if (resolution.status === 'refused') {
      return refuse(resolution.reason, claimed, finding.playbook);
    }
    const { roleArn } = lambdaFunction;
    const tags = resolution.status === 'verified' ? resolution.tags : undefined;
    const refusal =
      protectedGuard(lambdaFunction.arn, config) ??
      cordonRoleGuard(lambdaFunction.arn, roleArn, config);
    if (refusal !== undefined) return refuse(refusal, claimed, finding.playbook);
    const approval =
      tags !== undefined && !('error' in tags)
        ? exemptReason(lambdaFunction.arn, tags, config)
        : undefined;

    // Guards fail closed: whatever could not be read means no step runs unattended.
    const unread: string[] = [];
    let role: WorkloadRole;
    if (resolution.status === 'unverified') {
      unread.push(`the function could not be read: ${resolution.reason}`);
      role = { status: 'unreadable', reason: resolution.reason };
    } else {
      if (tags !== undefined && 'error' in tags) {
        unread.push(
          `exempt tag of function ${lambdaFunction.name} could not be read: ${tags.error}`,
        );
      }
      role = await functionRole(roleArn, deps.iam, config);
      if (role.status === 'found' && role.failClosedReason !== undefined) {
        unread.push(role.failClosedReason);
      } else if (role.status === 'unreadable') {
        unread.push(`the function's role could not be read: ${role.reason}`);
      }
    }
    const revoke = revokeStepOf(role, 'revokeFunctionRoleSessions', "the function's role");
    const failClosedReason = joinReasons(...unread);
    const plan = planPlaybook(
      finding.playbook,
      { ...revoke, failClosedReason, humanReason: approval },
      config,
    );
    return {
      decision: 'PROCEED',
      reason: proceedReason(failClosedReason ?? approval),
      arn: lambdaFunction.arn,
      plan,
      lambdaFunction,
      ...(role.status === 'found' ? { principal: role.principal } : {}),
    };
  },
};

/**
 * Cordon's own functions run as Cordon's own roles: a finding on one is
 * never acted on. (Running a function as one of those roles takes
 * iam:PassRole on it, which is taking over Cordon, not hiding from it.)
 */
function cordonRoleGuard(
  functionArn: string,
  roleArn: string | undefined,
  config: ProtectionConfig,
): string | undefined {
  const own = roleArn === undefined ? undefined : cordonRole(roleArn, config.cordonRoleArns);
  return own === undefined
    ? undefined
    : `protected: ${functionArn} runs as ${own}, one of Cordon's own roles`;
}

async function functionRole(
  roleArn: string | undefined,
  iam: IAMClient,
  config: RuntimeConfig,
): Promise<WorkloadRole> {
  if (roleArn === undefined) return { status: 'none', reason: 'Lambda reported no execution role' };
  const parsed = parseIamPrincipalArn(roleArn);
  if (parsed === undefined || parsed.resourceType !== 'role') {
    return { status: 'unreadable', reason: `execution role ARN ${roleArn} does not parse` };
  }
  return assessRole(
    { kind: 'AssumedRole', arn: roleArn, name: parsed.name },
    iam,
    config,
    "the function's role",
  );
}

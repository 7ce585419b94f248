/**
 * Layer 4: rollback against moto. Each test contains a target with the real
 * playbook (every approval granted, through the real approval endpoint
 * handler), then runs the rollback state machine as POST /rollbacks starts
 * it, and reads the resulting AWS state back with this file's own clients:
 * the exact before-state, or, after drift, nothing changed until `force`.
 *
 * moto 5.2 does not implement Security Hub BatchUpdateFindings, so the
 * secret's Security Hub finding has that one command mocked (as in
 * exposure.test.ts). moto cannot restore a deleted console password either;
 * neither can AWS, which is the point of the quarantine caveat.
 */
import {
  AutoScalingClient,
  DescribeAutoScalingGroupsCommand,
  DescribeAutoScalingInstancesCommand,
} from '@aws-sdk/client-auto-scaling';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  CreateSecurityGroupCommand,
  DescribeIamInstanceProfileAssociationsCommand,
  DescribeInstanceAttributeCommand,
  DescribeNetworkInterfacesCommand,
  EC2Client,
  ModifyNetworkInterfaceAttributeCommand,
} from '@aws-sdk/client-ec2';
import {
  CreateLoginProfileCommand,
  GetLoginProfileCommand,
  IAMClient,
  ListAccessKeysCommand,
  ListAttachedUserPoliciesCommand,
  ListRolePoliciesCommand,
  ListUserPoliciesCommand,
} from '@aws-sdk/client-iam';
import { GetFunctionConcurrencyCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { GetPublicAccessBlockCommand, S3Client } from '@aws-sdk/client-s3';
import {
  GetResourcePolicyCommand,
  PutResourcePolicyCommand,
  SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import { BatchUpdateFindingsCommand, SecurityHubClient } from '@aws-sdk/client-securityhub';
import { PutCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, describe, expect, it } from 'vitest';
import {
  bucketFinding,
  functionFinding,
  secretFinding,
  seedCompromisedFunction,
  seedExposedSecret,
  seedPublicBucket,
} from '../../demo/exposure.js';
import {
  type CompromisedInstance,
  instanceFinding,
  seedCompromisedInstance,
  seedCompromisedUser,
  userKeyFinding,
} from '../../demo/scenario.js';
import { documentClient } from '../../functions/shared/aws.js';
import { entryHash, GENESIS_HASH, type LedgerEntry } from '../../functions/shared/ledger.js';
import type { ExecutionReport } from '../../rehearsal/engine.js';
import { processedFindings } from '../state-machines/events.js';
import { explain, onlyExecution, outcomes, rehearsalHarness } from '../state-machines/harness.js';
import { MOTO_ACCOUNT_ID, motoClientConfig, useMoto } from '../support/moto.js';

const { endpoint } = useMoto();
const harness = rehearsalHarness();
const iam = new IAMClient(motoClientConfig(endpoint));
const ec2 = new EC2Client(motoClientConfig(endpoint));
const autoScaling = new AutoScalingClient(motoClientConfig(endpoint));
const lambda = new LambdaClient(motoClientConfig(endpoint));
const s3 = new S3Client({ ...motoClientConfig(endpoint), forcePathStyle: true });
const secrets = new SecretsManagerClient(motoClientConfig(endpoint));

const RESPONDER = `arn:aws:sts::${MOTO_ACCOUNT_ID}:assumed-role/SecurityResponder/alice`;

const hubMocks: Array<{ restore(): void }> = [];
afterEach(() => {
  for (const mock of hubMocks.splice(0)) mock.restore();
});

/** Contains `event` with every approval granted; the incident id. */
async function contained(event: unknown): Promise<string> {
  const execution = onlyExecution(await harness.engine('approve').rehearse(event));
  expect(execution.status, explain(execution)).toBe('SUCCEEDED');
  const incidentId = execution.ledger[0]?.incidentId;
  if (!incidentId) throw new Error('the execution wrote no ledger entry');
  return incidentId;
}

/** Runs the rollback state machine, responders deciding `decision`. */
async function rollBack(
  incidentId: string,
  options: { force?: boolean; step?: string; decision?: 'approve' | 'reject' } = {},
): Promise<ExecutionReport> {
  return harness.engine(options.decision ?? 'approve').rollback({
    incidentId,
    ...(options.step === undefined ? {} : { step: options.step }),
    force: options.force ?? false,
    requestedBy: RESPONDER,
    reason: 'false positive: the owner confirmed the activity',
  });
}

/** `step:action:outcome` of the rollback actions' entries, in order. */
const rollbackOutcomes = (execution: ExecutionReport) =>
  execution.ledger
    .filter((e) => e.action.startsWith('rollback-') && e.action !== 'rollback-plan')
    .map((e) => `${e.step}:${e.action}:${e.outcome}`);

async function keyStatuses(userName: string) {
  const out = await iam.send(new ListAccessKeysCommand({ UserName: userName }));
  return Object.fromEntries((out.AccessKeyMetadata ?? []).map((k) => [k.AccessKeyId, k.Status]));
}

/** The user's inline policies and, after them, the managed ones attached, by name. */
async function userPolicies(userName: string) {
  const inline = await iam.send(new ListUserPoliciesCommand({ UserName: userName }));
  const attached = await iam.send(new ListAttachedUserPoliciesCommand({ UserName: userName }));
  return [
    ...(inline.PolicyNames ?? []),
    ...(attached.AttachedPolicies ?? []).flatMap((p) => (p.PolicyName ? [p.PolicyName] : [])),
  ];
}

describe('rolling back a contained IAM user', () => {
  it('re-enables the key and removes both Cordon policies, newest first, and says the password is gone', async () => {
    const user = await seedCompromisedUser();
    const incidentId = await contained(userKeyFinding(user));
    expect(await keyStatuses(user.userName)).toEqual({
      [user.leakedKeyId]: 'Inactive',
      [user.healthyKeyId]: 'Active',
    });
    expect(await userPolicies(user.userName)).toEqual(['CordonRevokeOlderSessions', 'AWSDenyAll']);

    const execution = await rollBack(incidentId);

    expect(execution.status, explain(execution)).toBe('SUCCEEDED');
    expect(await keyStatuses(user.userName)).toEqual({
      [user.leakedKeyId]: 'Active',
      [user.healthyKeyId]: 'Active',
    });
    expect(await userPolicies(user.userName)).toEqual([]);
    expect(outcomes(execution)).toEqual([
      expect.stringMatching(/^rollback[0-9a-f]{12}:ROLLBACK_REQUESTED$/),
      expect.stringMatching(/^rollback[0-9a-f]{12}:APPROVAL_REQUESTED$/),
      expect.stringMatching(/^rollback[0-9a-f]{12}:APPROVAL_GRANTED$/),
      'quarantineUser:ROLLED_BACK',
      'revokeUserSessions:ROLLED_BACK',
      'disableAccessKey:ROLLED_BACK',
      'notify:NOTIFIED',
    ]);
    const quarantine = execution.ledger.find((e) => e.action === 'rollback-quarantine-user');
    expect(quarantine).toMatchObject({
      actor: expect.stringMatching(/^arn:aws:iam::123456789012:role\/cordon\/rehearsal-/),
      targetArn: user.arn,
      before: {
        denyAllAttached: true,
        quarantinePolicy: false,
        policyPresent: false,
        consolePassword: false,
      },
      after: {
        denyAllAttached: false,
        quarantinePolicy: false,
        policyPresent: false,
        consolePassword: false,
      },
      detail: expect.objectContaining({
        requestedBy: RESPONDER,
        reason: 'false positive: the owner confirmed the activity',
        force: false,
      }),
    });
    expect(quarantine?.summary).toContain('the console password Cordon deleted is NOT restored');
    await expect(
      iam.send(new GetLoginProfileCommand({ UserName: user.userName })),
    ).rejects.toMatchObject({ name: 'NoSuchEntityException' });
  });

  it('rolls back one step only when asked', async () => {
    const user = await seedCompromisedUser();
    const incidentId = await contained(userKeyFinding(user));

    const execution = await rollBack(incidentId, { step: 'disableAccessKey' });

    expect(execution.status, explain(execution)).toBe('SUCCEEDED');
    expect(rollbackOutcomes(execution)).toEqual([
      'disableAccessKey:rollback-disable-access-key:ROLLED_BACK',
    ]);
    expect(await keyStatuses(user.userName)).toEqual({
      [user.leakedKeyId]: 'Active',
      [user.healthyKeyId]: 'Active',
    });
    expect(await userPolicies(user.userName)).toEqual(['CordonRevokeOlderSessions', 'AWSDenyAll']);
  });

  it('changes nothing when a responder rejects the rollback, and records it', async () => {
    const user = await seedCompromisedUser();
    const incidentId = await contained(userKeyFinding(user));

    const execution = await rollBack(incidentId, { decision: 'reject' });

    expect(execution.status, explain(execution)).toBe('SUCCEEDED');
    expect(outcomes(execution)).toEqual([
      expect.stringMatching(/:ROLLBACK_REQUESTED$/),
      expect.stringMatching(/:APPROVAL_REQUESTED$/),
      expect.stringMatching(/:APPROVAL_DENIED$/),
      expect.stringMatching(/^rollback[0-9a-f]{12}:REJECTED$/),
      'notify:NOTIFIED',
    ]);
    expect(await keyStatuses(user.userName)).toEqual({
      [user.leakedKeyId]: 'Inactive',
      [user.healthyKeyId]: 'Active',
    });
    expect(await userPolicies(user.userName)).toEqual(['CordonRevokeOlderSessions', 'AWSDenyAll']);
  });

  it('refuses after drift (a console password created by hand) and changes nothing; --force restores', async () => {
    const user = await seedCompromisedUser();
    const incidentId = await contained(userKeyFinding(user));
    await iam.send(
      new CreateLoginProfileCommand({ UserName: user.userName, Password: 'Made-by-hand-42!' }),
    );

    const refused = await rollBack(incidentId);

    expect(refused.status, explain(refused)).toBe('SUCCEEDED');
    expect(rollbackOutcomes(refused)).toEqual([
      'quarantineUser:rollback-quarantine-user:ROLLBACK_REFUSED',
      'revokeUserSessions:rollback-revoke-sessions:ROLLBACK_SKIPPED',
      'disableAccessKey:rollback-disable-access-key:ROLLBACK_SKIPPED',
    ]);
    const refusal = refused.ledger.find((e) => e.outcome === 'ROLLBACK_REFUSED');
    expect(refusal?.summary).toContain('a console password is true now, Cordon left false');
    expect(await keyStatuses(user.userName)).toEqual({
      [user.leakedKeyId]: 'Inactive',
      [user.healthyKeyId]: 'Active',
    });
    expect(await userPolicies(user.userName)).toEqual(['CordonRevokeOlderSessions', 'AWSDenyAll']);

    const forced = await rollBack(incidentId, { force: true });

    expect(forced.status, explain(forced)).toBe('SUCCEEDED');
    expect(rollbackOutcomes(forced)).toEqual([
      'quarantineUser:rollback-quarantine-user:ROLLED_BACK',
      'revokeUserSessions:rollback-revoke-sessions:ROLLED_BACK',
      'disableAccessKey:rollback-disable-access-key:ROLLED_BACK',
    ]);
    expect(forced.ledger.find((e) => e.action === 'rollback-quarantine-user')).toMatchObject({
      detail: expect.objectContaining({ force: true, forced: true }),
    });
    expect(await userPolicies(user.userName)).toEqual([]);
    expect(await keyStatuses(user.userName)).toEqual({
      [user.leakedKeyId]: 'Active',
      [user.healthyKeyId]: 'Active',
    });
  });

  it('refuses an incident whose ledger was rewritten and re-hashed without the key, changing nothing, and records it', async () => {
    // Arrange: contained; then someone with PutItem on the table (past its
    // policy, which moto does not evaluate) rewrites the key's before-state
    // and re-hashes every entry after it. They have no ledger key.
    const user = await seedCompromisedUser();
    const incidentId = await contained(userKeyFinding(user));
    const ledger = documentClient(new DynamoDBClient(motoClientConfig(endpoint)));
    const page = await ledger.send(
      new QueryCommand({
        TableName: 'cordon-ledger',
        KeyConditionExpression: 'incidentId = :id',
        ExpressionAttributeValues: { ':id': incidentId },
      }),
    );
    const entries = (page.Items ?? []) as LedgerEntry[];
    const target = entries.find((e) => e.outcome === 'CONTAINED');
    if (!target) throw new Error('no CONTAINED entry');
    let prevHash = entries.find((e) => e.seq === target.seq - 1)?.hash ?? GENESIS_HASH;
    for (const e of entries.filter((x) => x.seq >= target.seq).sort((a, b) => a.seq - b.seq)) {
      const { hash: _hash, ...content } = e;
      const body = {
        ...content,
        ...(e.seq === target.seq ? { summary: 'rewritten by hand' } : {}),
        prevHash,
      };
      const { mac: _mac, ...hashed } = body;
      prevHash = entryHash(hashed);
      await ledger.send(
        new PutCommand({ TableName: 'cordon-ledger', Item: { ...body, hash: prevHash } }),
      );
    }

    // Act
    const execution = await rollBack(incidentId);

    // Assert
    expect(execution.status).toBe('FAILED');
    expect(outcomes(execution)).toEqual(['rollback:LEDGER_TAMPERED', 'notify:NOTIFIED']);
    expect(execution.ledger[0]?.summary).toContain(`broken at entry #${target.seq} (forged`);
    expect(await keyStatuses(user.userName)).toEqual({
      [user.leakedKeyId]: 'Inactive',
      [user.healthyKeyId]: 'Active',
    });
  });

  it('fails clearly, changing nothing, when everything is rolled back already', async () => {
    const user = await seedCompromisedUser();
    const incidentId = await contained(userKeyFinding(user));
    expect((await rollBack(incidentId)).status).toBe('SUCCEEDED');

    const again = await rollBack(incidentId);

    expect(again.status).toBe('FAILED');
    expect(again.error?.Error).toBe('Cordon.RollbackFailed');
    // The failure notice goes out, and is recorded.
    expect(outcomes(again)).toEqual(['rollback:NOTHING_TO_ROLL_BACK', 'notify:NOTIFIED']);
    expect(again.ledger[0]?.summary).toBe(
      `nothing to roll back for ${incidentId}: no contained action that is not rolled back already`,
    );
  });
});

async function groupsByInterface(instance: CompromisedInstance) {
  const out = await ec2.send(
    new DescribeNetworkInterfacesCommand({
      Filters: [{ Name: 'attachment.instance-id', Values: [instance.instanceId] }],
    }),
  );
  return Object.fromEntries(
    (out.NetworkInterfaces ?? []).map((n) => [
      n.NetworkInterfaceId,
      (n.Groups ?? []).map((g) => g.GroupId),
    ]),
  );
}

async function asgOf(instance: CompromisedInstance) {
  const membership = await autoScaling.send(
    new DescribeAutoScalingInstancesCommand({ InstanceIds: [instance.instanceId] }),
  );
  const group = await autoScaling.send(
    new DescribeAutoScalingGroupsCommand({ AutoScalingGroupNames: [instance.autoScalingGroup] }),
  );
  return {
    member: (membership.AutoScalingInstances ?? []).map((i) => i.AutoScalingGroupName),
    protectedFromScaleIn: (membership.AutoScalingInstances ?? []).map(
      (i) => i.ProtectedFromScaleIn,
    ),
    desired: group.AutoScalingGroups?.[0]?.DesiredCapacity,
    instances: (group.AutoScalingGroups?.[0]?.Instances ?? []).map((i) => i.InstanceId).sort(),
  };
}

async function profileOf(instance: CompromisedInstance) {
  const out = await ec2.send(
    new DescribeIamInstanceProfileAssociationsCommand({
      Filters: [{ Name: 'instance-id', Values: [instance.instanceId] }],
    }),
  );
  return (out.IamInstanceProfileAssociations ?? [])
    .filter((a) => a.State === 'associated' || a.State === 'associating')
    .map((a) => a.IamInstanceProfile?.Arn);
}

describe('rolling back a contained instance', () => {
  it('restores every interface’s groups, the instance profile, the Auto Scaling group and its scale-in protection exactly; evidence stays', async () => {
    const instance = await seedCompromisedInstance();
    const before = await groupsByInterface(instance);
    const incidentId = await contained(instanceFinding(instance));
    expect(await profileOf(instance)).toEqual([]);
    expect((await asgOf(instance)).member).toEqual([]);

    const execution = await rollBack(incidentId);

    expect(execution.status, explain(execution)).toBe('SUCCEEDED');
    expect(rollbackOutcomes(execution)).toEqual([
      'revokeInstanceRoleSessions:rollback-revoke-sessions:ROLLED_BACK',
      'isolate:rollback-detach-instance-profile:ROLLED_BACK',
      'isolate:rollback-isolate-network:ROLLED_BACK',
      'isolate:rollback-detach-from-asg:ROLLED_BACK',
      'preserveEvidence:rollback-preserve-evidence:ROLLED_BACK',
    ]);
    expect(before).toEqual(
      Object.fromEntries(instance.interfaceIds.map((id) => [id, [instance.appGroupId]])),
    );
    expect(await groupsByInterface(instance)).toEqual(before);
    expect(await profileOf(instance)).toEqual([instance.instanceProfileArn]);
    // Back in its group, unprotected from scale-in as it was before the evidence step.
    expect(await asgOf(instance)).toEqual({
      member: [instance.autoScalingGroup],
      protectedFromScaleIn: [false],
      desired: 2,
      instances: [instance.instanceId, instance.healthyInstanceId].sort(),
    });
    const roles = await iam.send(new ListRolePoliciesCommand({ RoleName: instance.roleName }));
    expect(roles.PolicyNames ?? []).toEqual([]);
    // The evidence stays: only its scale-in protection was put back.
    const termination = await ec2.send(
      new DescribeInstanceAttributeCommand({
        InstanceId: instance.instanceId,
        Attribute: 'disableApiTermination',
      }),
    );
    expect(termination.DisableApiTermination?.Value).toBe(true);
    const plan = execution.ledger.find((e) => e.outcome === 'ROLLBACK_REQUESTED');
    expect(plan?.detail).toMatchObject({ skipped: [] });
  });

  it('refuses after drift (another group attached by hand), leaves it and the group membership alone; --force restores', async () => {
    const instance = await seedCompromisedInstance();
    const incidentId = await contained(instanceFinding(instance));
    const other = await ec2.send(
      new CreateSecurityGroupCommand({
        GroupName: 'debug',
        Description: 'attached by hand',
        VpcId: instance.vpcId,
      }),
    );
    const [primary, secondary] = instance.interfaceIds;
    if (!primary || !secondary || !other.GroupId) throw new Error('seed incomplete');
    await ec2.send(
      new ModifyNetworkInterfaceAttributeCommand({
        NetworkInterfaceId: primary,
        Groups: [other.GroupId],
      }),
    );
    const drifted = await groupsByInterface(instance);

    const refused = await rollBack(incidentId);

    expect(refused.status, explain(refused)).toBe('SUCCEEDED');
    expect(rollbackOutcomes(refused)).toEqual([
      'revokeInstanceRoleSessions:rollback-revoke-sessions:ROLLED_BACK',
      'isolate:rollback-detach-instance-profile:ROLLED_BACK',
      'isolate:rollback-isolate-network:ROLLBACK_REFUSED',
      'isolate:rollback-detach-from-asg:ROLLBACK_SKIPPED',
      'preserveEvidence:rollback-preserve-evidence:ROLLBACK_SKIPPED',
    ]);
    const refusal = refused.ledger.find((e) => e.outcome === 'ROLLBACK_REFUSED');
    expect(refusal?.summary).toContain(`interface ${primary} is in ${other.GroupId} now`);
    expect(await groupsByInterface(instance)).toEqual(drifted);
    expect((await asgOf(instance)).member).toEqual([]);

    const forced = await rollBack(incidentId, { force: true });

    expect(forced.status, explain(forced)).toBe('SUCCEEDED');
    expect(rollbackOutcomes(forced)).toEqual([
      'isolate:rollback-isolate-network:ROLLED_BACK',
      'isolate:rollback-detach-from-asg:ROLLED_BACK',
      'preserveEvidence:rollback-preserve-evidence:ROLLED_BACK',
    ]);
    expect(await groupsByInterface(instance)).toEqual({
      [primary]: [instance.appGroupId],
      [secondary]: [instance.appGroupId],
    });
    expect((await asgOf(instance)).member).toEqual([instance.autoScalingGroup]);
  });
});

describe('rolling back exposure containments', () => {
  const OWNER_STATEMENT = {
    Sid: 'AppReads',
    Effect: 'Allow',
    Principal: { AWS: `arn:aws:iam::${MOTO_ACCOUNT_ID}:role/payments-app` },
    Action: 'secretsmanager:GetSecretValue',
    Resource: '*',
  };

  function mockHub() {
    const hub = mockClient(SecurityHubClient);
    hubMocks.push(hub);
    hub.on(BatchUpdateFindingsCommand).callsFake((input: unknown) => ({
      ProcessedFindings: processedFindings(input),
      UnprocessedFindings: [],
    }));
  }

  it("puts back the secret's exact resource policy", async () => {
    const secret = await seedExposedSecret();
    await secrets.send(
      new PutResourcePolicyCommand({
        SecretId: secret.arn,
        ResourcePolicy: JSON.stringify({ Version: '2012-10-17', Statement: [OWNER_STATEMENT] }),
      }),
    );
    const before = await secrets.send(new GetResourcePolicyCommand({ SecretId: secret.arn }));
    mockHub();
    const incidentId = await contained(secretFinding(secret));

    const execution = await rollBack(incidentId);

    expect(execution.status, explain(execution)).toBe('SUCCEEDED');
    expect(rollbackOutcomes(execution)).toEqual(['lockSecret:rollback-lock-secret:ROLLED_BACK']);
    const after = await secrets.send(new GetResourcePolicyCommand({ SecretId: secret.arn }));
    expect(JSON.parse(after.ResourcePolicy ?? 'null')).toEqual(
      JSON.parse(before.ResourcePolicy ?? 'null'),
    );
    expect(JSON.parse(after.ResourcePolicy ?? 'null')).toEqual({
      Version: '2012-10-17',
      Statement: [OWNER_STATEMENT],
    });
  });

  it('deletes the lock policy of a secret that had none', async () => {
    const secret = await seedExposedSecret();
    mockHub();
    const incidentId = await contained(secretFinding(secret));

    const execution = await rollBack(incidentId);

    expect(execution.status, explain(execution)).toBe('SUCCEEDED');
    const after = await secrets.send(new GetResourcePolicyCommand({ SecretId: secret.arn }));
    expect(after.ResourcePolicy).toBeUndefined();
  });

  it("removes the function's reserved concurrency (it was unreserved) and its role's revocation", async () => {
    const fn = await seedCompromisedFunction(undefined, { lambda, iam });
    const incidentId = await contained(functionFinding(fn));

    const execution = await rollBack(incidentId);

    expect(execution.status, explain(execution)).toBe('SUCCEEDED');
    expect(rollbackOutcomes(execution)).toEqual([
      'revokeFunctionRoleSessions:rollback-revoke-sessions:ROLLED_BACK',
      'stopInvocations:rollback-quarantine-function:ROLLED_BACK',
    ]);
    const concurrency = await lambda.send(
      new GetFunctionConcurrencyCommand({ FunctionName: fn.name }),
    );
    expect(concurrency.ReservedConcurrentExecutions).toBeUndefined();
    const roles = await iam.send(new ListRolePoliciesCommand({ RoleName: fn.roleName }));
    expect(roles.PolicyNames ?? []).toEqual([]);
  });

  it("deletes the bucket's public access block (it had none)", async () => {
    const bucket = await seedPublicBucket();
    const incidentId = await contained(bucketFinding(bucket));

    const execution = await rollBack(incidentId);

    expect(execution.status, explain(execution)).toBe('SUCCEEDED');
    expect(rollbackOutcomes(execution)).toEqual([
      'blockPublicAccess:rollback-block-public-access:ROLLED_BACK',
    ]);
    await expect(
      s3.send(new GetPublicAccessBlockCommand({ Bucket: bucket.name })),
    ).rejects.toMatchObject({ name: 'NoSuchPublicAccessBlockConfiguration' });
  });
});

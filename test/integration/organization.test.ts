/**
 * Organization-wide, end to end against moto: the synthesized playbooks,
 * run with an `organization` key, contain a member account's finding in
 * the member account, through the spoke role of each step's function, and
 * change nothing in the hub. moto keeps a separate state per account and
 * answers AssumeRole into another account's role with credentials for that
 * account; it does not read trust policies (test/infra/organization.test.ts
 * evaluates those), so the refusals of a role that cannot be assumed are
 * played by an STS that refuses, as STS answers.
 */

import { AutoScalingClient } from '@aws-sdk/client-auto-scaling';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  DescribeNetworkInterfacesCommand,
  DescribeSecurityGroupsCommand,
  DescribeSnapshotsCommand,
  EC2Client,
} from '@aws-sdk/client-ec2';
import {
  GetUserPolicyCommand,
  IAMClient,
  ListAccessKeysCommand,
  ListAttachedUserPoliciesCommand,
  UpdateAccessKeyCommand,
} from '@aws-sdk/client-iam';
import { AssumeRoleCommand, STSClient } from '@aws-sdk/client-sts';
import { DynamoDBDocumentClient, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { describe, expect, it } from 'vitest';
import {
  type CompromisedUser,
  instanceFinding,
  seedCompromisedInstance,
  seedCompromisedUser,
  userKeyFinding,
} from '../../demo/scenario.js';
import { attackSequenceFinding } from '../../demo/sequence.js';
import { makeHandler } from '../../functions/actions/disable-access-key/containment.js';
import { clientOptions } from '../../functions/shared/aws.js';
import { SEQUENCE } from '../../functions/shared/catalog.js';
import {
  ActionResultSchema,
  ApprovalSchema,
  IncidentSchema,
} from '../../functions/shared/incident.js';
import { externalIdFor, spokeRoleArn } from '../../functions/shared/organization.js';
import { placedClients, type SpokeSts } from '../../functions/shared/spoke.js';
import { z } from '../../functions/shared/z.js';
import { REHEARSAL_STACK_UUID } from '../../rehearsal/template.js';
import { securityHubKeyFinding } from '../state-machines/events.js';
import {
  contextWith,
  explain,
  LEDGER_TABLE,
  onlyExecution,
  rehearsalHarness,
} from '../state-machines/harness.js';
import { lambdaContext } from '../support/lambda-context.js';
import { MOTO_ACCOUNT_ID, MOTO_REGION, motoClientConfig, useMoto } from '../support/moto.js';

const { endpoint } = useMoto();

const HUB = MOTO_ACCOUNT_ID;
const MEMBER = '222222222222';
const OUTSIDER = '333333333333';
const RESPONDER = `arn:aws:sts::${HUB}:assumed-role/SecurityResponder/alice`;
const ORGANIZATION = {
  organizationId: 'o-a1b2c3d4e5',
  accounts: [MEMBER],
  organizationalUnits: ['ou-ab12-cdefgh34'],
  regions: [MOTO_REGION],
};
const harness = rehearsalHarness({ context: contextWith({ organization: ORGANIZATION }) });

/** moto's credentials for a role in `account`: clients with them act there. */
async function credentialsIn(account: string) {
  const sts = new STSClient(motoClientConfig(endpoint));
  const { Credentials } = await sts.send(
    new AssumeRoleCommand({
      RoleArn: `arn:aws:iam::${account}:role/test-setup`,
      RoleSessionName: 'test-setup',
    }),
  );
  if (!Credentials?.AccessKeyId || !Credentials.SecretAccessKey) {
    throw new Error('moto returned no credentials');
  }
  return {
    ...motoClientConfig(endpoint),
    credentials: {
      accessKeyId: Credentials.AccessKeyId,
      secretAccessKey: Credentials.SecretAccessKey,
      sessionToken: Credentials.SessionToken,
    },
  };
}

/** An IAM client acting in `account`. */
async function iamIn(account: string): Promise<IAMClient> {
  return new IAMClient(await credentialsIn(account));
}

const ledger = DynamoDBDocumentClient.from(new DynamoDBClient(motoClientConfig(endpoint)));

/** The incident's stored ledger entries, in order. */
async function ledgerEntries(incidentId: string) {
  const page = await ledger.send(
    new QueryCommand({
      TableName: LEDGER_TABLE,
      KeyConditionExpression: 'incidentId = :id',
      ExpressionAttributeValues: { ':id': incidentId },
      ConsistentRead: true,
    }),
  );
  return page.Items ?? [];
}

async function keyStatuses(iam: IAMClient, userName: string) {
  const keys = await iam.send(new ListAccessKeysCommand({ UserName: userName }));
  return Object.fromEntries((keys.AccessKeyMetadata ?? []).map((k) => [k.AccessKeyId, k.Status]));
}

/** The one execution of rehearsing a finding on `user`'s leaked key, responders deciding `decision`. */
async function rehearseKey(
  decision: 'approve' | 'timeout',
  user: CompromisedUser,
  options: Parameters<typeof userKeyFinding>[1],
) {
  return onlyExecution(await harness.engine(decision).rehearse(userKeyFinding(user, options)));
}

/** Both of `user`'s keys are still on. */
async function expectUntouched(iam: IAMClient, user: CompromisedUser) {
  expect(await keyStatuses(iam, user.userName)).toEqual({
    [user.leakedKeyId]: 'Active',
    [user.healthyKeyId]: 'Active',
  });
}

describe('a member account finding, organization-wide', () => {
  it("is contained in the member account through its spoke roles, and the hub's twin is untouched", async () => {
    const memberIam = await iamIn(MEMBER);
    const hubIam = new IAMClient(motoClientConfig(endpoint));
    const user = await seedCompromisedUser('ci-deployer', memberIam);
    // The same name in the hub: a Cordon acting in its own account would find and contain it.
    const twin = await seedCompromisedUser('ci-deployer', hubIam);

    const execution = await rehearseKey('approve', user, {
      account: MEMBER,
      deliveredTo: HUB,
      findingId: 'e0000000000000000000000000000001',
    });

    expect(execution.status, explain(execution)).toBe('SUCCEEDED');
    expect(await keyStatuses(memberIam, user.userName)).toEqual({
      [user.leakedKeyId]: 'Inactive',
      [user.healthyKeyId]: 'Active',
    });
    const revoke = await memberIam.send(
      new GetUserPolicyCommand({
        UserName: user.userName,
        PolicyName: 'CordonRevokeOlderSessions',
      }),
    );
    expect(revoke.PolicyDocument).toBeDefined();
    const quarantine = await memberIam.send(
      new ListAttachedUserPoliciesCommand({ UserName: user.userName }),
    );
    expect(quarantine.AttachedPolicies?.map((p) => p.PolicyArn)).toEqual([
      'arn:aws:iam::aws:policy/AWSDenyAll',
    ]);
    // Nothing in the hub: its user of the same name keeps both keys and no policy.
    await expectUntouched(hubIam, twin);
    const hubAttached = await hubIam.send(
      new ListAttachedUserPoliciesCommand({ UserName: twin.userName }),
    );
    expect(hubAttached.AttachedPolicies).toEqual([]);
    // The ledger names the member's user, by its ARN in the member account.
    const contained = execution.ledger.filter((e) => e.outcome === 'CONTAINED');
    expect(contained.map((e) => e.targetArn)).not.toHaveLength(0);
    for (const entry of contained) expect(entry.targetArn).toBe(user.arn);
    expect(user.arn).toContain(`::${MEMBER}:`);
  });

  it("contains a member account's attack sequence there, one approval for the set, each member through its spoke roles", async () => {
    // Arrange
    const memberIam = await iamIn(MEMBER);
    const hubIam = new IAMClient(motoClientConfig(endpoint));
    const user = await seedCompromisedUser('ci-deployer', memberIam);
    const twin = await seedCompromisedUser('ci-deployer', hubIam);
    const event = attackSequenceFinding(
      { users: [user] },
      { account: MEMBER, deliveredTo: HUB, findingId: 'e0000000000000000000000000000009' },
    );

    // Act
    const execution = onlyExecution(await harness.engine('approve').rehearse(event));

    // Assert
    expect(execution.status, explain(execution)).toBe('SUCCEEDED');
    expect(await keyStatuses(memberIam, user.userName)).toEqual({
      [user.leakedKeyId]: 'Inactive',
      [user.healthyKeyId]: 'Active',
    });
    await expectUntouched(hubIam, twin);
    const requested = execution.ledger.filter((e) => e.outcome === 'APPROVAL_REQUESTED');
    expect(requested.map((e) => e.step)).toEqual([SEQUENCE.step]);
    const contained = execution.ledger.filter((e) => e.outcome === 'CONTAINED');
    expect(contained.length).toBeGreaterThan(0);
    for (const entry of contained) expect(entry.targetArn).toBe(user.arn);
  });

  it("is rolled back in the member account, where triage's claim says its calls were made", async () => {
    const memberIam = await iamIn(MEMBER);
    const hubIam = new IAMClient(motoClientConfig(endpoint));
    const user = await seedCompromisedUser('ci-deployer', memberIam);
    const twin = await seedCompromisedUser('ci-deployer', hubIam);
    // The hub's twin has its own leaked key turned off: a rollback acting in the hub would turn it on.
    await hubIam.send(
      new UpdateAccessKeyCommand({
        UserName: twin.userName,
        AccessKeyId: twin.leakedKeyId,
        Status: 'Inactive',
      }),
    );
    const contained = await rehearseKey('approve', user, {
      account: MEMBER,
      deliveredTo: HUB,
      findingId: 'e0000000000000000000000000000004',
    });
    expect(contained.status, explain(contained)).toBe('SUCCEEDED');
    const incidentId = contained.ledger[0]?.incidentId ?? '';

    const rollback = await harness.engine('approve').rollback({
      incidentId,
      step: 'disableAccessKey',
      force: false,
      requestedBy: RESPONDER,
      reason: 'false positive: the owner rotated the key',
    });

    expect(rollback.status, explain(rollback)).toBe('SUCCEEDED');
    expect(rollback.ledger.map((e) => e.outcome)).toContain('ROLLED_BACK');
    expect(await keyStatuses(memberIam, user.userName)).toMatchObject({
      [user.leakedKeyId]: 'Active',
    });
    expect(await keyStatuses(hubIam, twin.userName)).toEqual({
      [twin.leakedKeyId]: 'Inactive',
      [twin.healthyKeyId]: 'Active',
    });
  });

  it("isolates and snapshots a member's instance in the member account, and creates nothing in the hub", async () => {
    const config = await credentialsIn(MEMBER);
    const memberEc2 = new EC2Client(config);
    const instance = await seedCompromisedInstance(
      {},
      {
        ec2: memberEc2,
        autoscaling: new AutoScalingClient(config),
        iam: new IAMClient(config),
      },
    );

    const execution = onlyExecution(
      await harness.engine('approve').rehearse(
        instanceFinding(instance, {
          account: MEMBER,
          deliveredTo: HUB,
          findingId: 'e0000000000000000000000000000005',
        }),
      ),
    );

    expect(execution.status, explain(execution)).toBe('SUCCEEDED');
    const isolation = async (ec2: EC2Client) =>
      (
        await ec2.send(
          new DescribeSecurityGroupsCommand({
            Filters: [{ Name: 'group-name', Values: ['cordon-isolation-no-traffic'] }],
          }),
        )
      ).SecurityGroups ?? [];
    const [noTraffic] = await isolation(memberEc2);
    const interfaces = await memberEc2.send(
      new DescribeNetworkInterfacesCommand({ NetworkInterfaceIds: instance.interfaceIds }),
    );
    for (const n of interfaces.NetworkInterfaces ?? []) {
      expect((n.Groups ?? []).map((g) => g.GroupId)).toEqual([noTraffic?.GroupId]);
    }
    const snapshots = await memberEc2.send(
      new DescribeSnapshotsCommand({
        OwnerIds: ['self'],
        Filters: [{ Name: 'volume-id', Values: instance.volumeIds }],
      }),
    );
    expect(snapshots.Snapshots?.map((x) => x.VolumeId).sort()).toEqual(
      [...instance.volumeIds].sort(),
    );
    expect(await isolation(new EC2Client(motoClientConfig(endpoint)))).toEqual([]);
  });

  it("contains a member's Security Hub finding, aggregated in the hub, in the member account", async () => {
    const memberIam = await iamIn(MEMBER);
    const hubIam = new IAMClient(motoClientConfig(endpoint));
    const user = await seedCompromisedUser('ci-deployer', memberIam);
    const twin = await seedCompromisedUser('ci-deployer', hubIam);
    // Security Hub's aggregation: the hub's event, the member's finding.
    const event = securityHubKeyFinding(user);
    const [finding] = z
      .array(z.looseObject({ AwsAccountId: z.string() }))
      .parse(
        z.looseObject({ detail: z.looseObject({ findings: z.array(z.unknown()) }) }).parse(event)
          .detail.findings,
      );
    const member = {
      ...event,
      account: HUB,
      detail: { findings: [{ ...finding, AwsAccountId: MEMBER }] },
    };

    const execution = onlyExecution(await harness.engine('approve').rehearse(member));

    expect(execution.status, explain(execution)).toBe('SUCCEEDED');
    expect(await keyStatuses(memberIam, user.userName)).toEqual({
      [user.leakedKeyId]: 'Inactive',
      [user.healthyKeyId]: 'Active',
    });
    await expectUntouched(hubIam, twin);
  });

  it('refuses a finding from an account outside the scope, records why, and changes nothing there', async () => {
    const outsiderIam = await iamIn(OUTSIDER);
    const user = await seedCompromisedUser('ci-deployer', outsiderIam);

    const execution = await rehearseKey('approve', user, {
      account: OUTSIDER,
      deliveredTo: HUB,
      findingId: 'e0000000000000000000000000000002',
    });

    const refusal = execution.ledger.find((e) => e.step === 'triage');
    expect(refusal?.outcome).toBe('REFUSED');
    expect(refusal?.summary).toContain(`account ${OUTSIDER} is not in Cordon's scope`);
    expect(execution.ledger.filter((e) => e.outcome === 'CONTAINED')).toEqual([]);
    await expectUntouched(outsiderIam, user);
  });

  it("starts nothing for a member's copy of its finding delivered on the hub's bus, and the genuine copy is still contained", async () => {
    const memberIam = await iamIn(MEMBER);
    const user = await seedCompromisedUser('ci-deployer', memberIam);
    const options = { account: MEMBER, findingId: 'e0000000000000000000000000000003' };

    // The member forwards its own bus to the hub's: the copy keeps the member's account.
    const copy = await harness
      .engine('approve')
      .rehearse(userKeyFinding(user, { ...options, deliveredTo: MEMBER }));
    expect(copy.executions).toEqual([]);
    expect(await keyStatuses(memberIam, user.userName)).toMatchObject({
      [user.leakedKeyId]: 'Active',
    });

    // So it settles nothing: GuardDuty's own copy, in the hub's account, is contained.
    const genuine = await rehearseKey('approve', user, { ...options, deliveredTo: HUB });
    expect(genuine.status, explain(genuine)).toBe('SUCCEEDED');
    expect(await keyStatuses(memberIam, user.userName)).toMatchObject({
      [user.leakedKeyId]: 'Inactive',
    });
  });
});

/** moto's STS, counting the AssumeRole calls; `refuse` answers AccessDenied, as STS does for a role that is not there. */
function countingSts(refuse = false) {
  const sts = new STSClient(motoClientConfig(endpoint));
  const calls: AssumeRoleCommand['input'][] = [];
  const counting: SpokeSts = {
    send: async (command) => {
      calls.push(command.input);
      if (refuse) {
        throw Object.assign(
          new Error(
            `User is not authorized to perform: sts:AssumeRole on ${command.input.RoleArn}`,
          ),
          { name: 'AccessDenied', $metadata: { httpStatusCode: 403 } },
        );
      }
      return sts.send(command);
    },
  };
  return { counting, calls };
}

const ActionOutput = z.object({ incident: IncidentSchema, approval: ApprovalSchema });

/**
 * A member finding run through the real playbook (its responders time out,
 * so the automatic steps run), and the input its disable-access-key step
 * had: what a state machine retry hands the function again.
 */
async function containedOnce(user: CompromisedUser, findingId: string) {
  const execution = await rehearseKey('timeout', user, {
    account: MEMBER,
    deliveredTo: HUB,
    findingId,
  });
  expect(execution.status, explain(execution)).toBe('SUCCEEDED');
  const { incident, approval } = ActionOutput.parse(execution.output);
  return { incident, step: 'disableAccessKey', executionArn: execution.executionArn, approval };
}

/** The disable-access-key function, warm, its spoke sessions through `sts`. */
function disableAccessKeyThrough(sts: SpokeSts) {
  const environment = harness.environment('disable-access-key');
  return makeHandler(
    environment,
    placedClients(
      environment,
      'disable-access-key',
      (config) => ({ iam: new IAMClient({ ...clientOptions, ...config }) }),
      sts,
    ),
  );
}

describe('the spoke sessions of one warm function', () => {
  it('are assumed once per account and incident, with the external id and the incident as source identity', async () => {
    const memberIam = await iamIn(MEMBER);
    const user = await seedCompromisedUser('ci-deployer', memberIam);
    const first = await containedOnce(user, 'f0000000000000000000000000000001');
    const second = await containedOnce(user, 'f0000000000000000000000000000002');
    const { counting, calls } = countingSts();
    const handler = disableAccessKeyThrough(counting);

    // A retried step, twice, then another incident in the same account.
    for (const input of [first, first, second]) {
      const result = ActionResultSchema.parse(
        await handler(input, lambdaContext('disable-access-key')),
      );
      expect(result.outcome).toBe('ALREADY_CONTAINED');
    }

    const assumed = (incidentId: string) => ({
      RoleArn: spokeRoleArn('aws', MEMBER, 'disable-access-key'),
      RoleSessionName: incidentId,
      ExternalId: externalIdFor(REHEARSAL_STACK_UUID, MEMBER),
      SourceIdentity: incidentId,
      DurationSeconds: 900,
    });
    expect(calls).toEqual([
      assumed(first.incident.incidentId),
      assumed(second.incident.incidentId),
    ]);
  });

  it('are never opened for a forged direct invocation naming an account out of scope: nothing is read or recorded', async () => {
    const memberIam = await iamIn(MEMBER);
    const user = await seedCompromisedUser('ci-deployer', memberIam);
    const input = await containedOnce(user, 'f0000000000000000000000000000004');
    const { counting, calls } = countingSts();
    const forged = { ...input, incident: { ...input.incident, account: OUTSIDER } };

    await expect(
      disableAccessKeyThrough(counting)(forged, lambdaContext('disable-access-key')),
    ).rejects.toMatchObject({
      name: 'Cordon.InvalidTaskInput',
      message: expect.stringContaining(`account ${OUTSIDER} is not in Cordon's scope`),
    });
    expect(calls).toEqual([]);
    const entries = await ledgerEntries(input.incident.incidentId);
    expect(entries.at(-1)).not.toMatchObject({ outcome: 'FAILED' });
  });

  it('fail the step, naming the account and role, when the spoke role cannot be assumed: nothing falls back to the hub', async () => {
    const memberIam = await iamIn(MEMBER);
    const hubIam = new IAMClient(motoClientConfig(endpoint));
    const user = await seedCompromisedUser('ci-deployer', memberIam);
    const twin = await seedCompromisedUser('ci-deployer', hubIam);
    const input = await containedOnce(user, 'f0000000000000000000000000000003');
    // Someone turned the key back on; the step runs again, but its spoke role is not there.
    await memberIam.send(
      new UpdateAccessKeyCommand({
        UserName: user.userName,
        AccessKeyId: user.leakedKeyId,
        Status: 'Active',
      }),
    );
    const { counting } = countingSts(true);

    await expect(
      disableAccessKeyThrough(counting)(input, lambdaContext('disable-access-key')),
    ).rejects.toMatchObject({
      name: 'Cordon.SpokeUnavailable',
      message: expect.stringContaining(
        `cannot act in account ${MEMBER}: its spoke role ${spokeRoleArn('aws', MEMBER, 'disable-access-key')} could not be assumed`,
      ),
    });

    expect(await keyStatuses(memberIam, user.userName)).toMatchObject({
      [user.leakedKeyId]: 'Active',
    });
    await expectUntouched(hubIam, twin);
    const entries = await ledgerEntries(input.incident.incidentId);
    expect(entries.at(-1)).toMatchObject({
      step: 'disableAccessKey',
      outcome: 'FAILED',
      summary: expect.stringContaining(`cannot act in account ${MEMBER}`),
    });
  });
});

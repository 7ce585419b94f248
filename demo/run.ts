/**
 * `npm run demo`: Cordon end to end on this machine, no AWS account needed.
 *
 * Starts a local AWS emulator (moto, installed into the project's `.venv` if
 * missing), seeds a small compromised account (a user with a leaked key that
 * read a secret, a role whose credentials left AWS, an instance in an Auto
 * Scaling group, a Lambda function talking to a mining pool, a public
 * bucket), sends five GuardDuty findings through the same playbook
 * definitions that deploy (the rehearsal engine, every Lambda handler run
 * in-process), then a sixth from a member account, organization-wide (the
 * hub contains it in the member through its spoke roles, and leaves the
 * hub's user of the same name alone), then a GuardDuty attack sequence
 * (one approval of the whole set, each member contained by its own
 * playbook's steps), then reads the real resulting state back from the
 * emulator.
 * Exits non-zero when anything was not contained as expected.
 */

import { z } from 'zod';
import { SEQUENCE } from '../functions/shared/catalog.js';
import { INTENT } from '../functions/shared/intents.js';
import type { LedgerEntry } from '../functions/shared/ledger.js';
import type { EventReport } from '../rehearsal/engine.js';
import { ensureMoto, type MotoServer, startMoto, useEmulator } from '../scripts/moto.js';
import type { CompromisedInstance } from './scenario.js';

const started = performance.now();
const seconds = (from: number): string => `${((performance.now() - from) / 1000).toFixed(1)} s`;

let server: MotoServer | undefined;
let stopping: Promise<void> | undefined;
function stopServer(): Promise<void> {
  stopping ??= server ? server.stop() : Promise.resolve();
  return stopping;
}

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    console.error(`\ndemo: interrupted (${signal}); stopping the emulator`);
    void stopServer().finally(() => process.exit(130));
  });
}

/** Ledger lines are cut to the terminal's width (120 when not a terminal). */
const WIDTH = process.stdout.isTTY === true ? Math.max(process.stdout.columns, 80) : 120;

/**
 * The ledger entries shown per execution: what was done. Claims, intents,
 * approval requests and notifications are left out to keep the output short
 * ("What waited for approval" lists the requests; `cordon rehearse` shows
 * them all).
 */
const shown = (e: LedgerEntry): boolean =>
  !['CLAIMED', INTENT, 'APPROVAL_REQUESTED', 'NOTIFIED'].includes(e.outcome);

async function main(): Promise<boolean> {
  console.log(
    'Cordon demo: seven GuardDuty findings, one from a member account and one an attack sequence, contained in a local AWS emulator\n',
  );

  const python = await ensureMoto({
    log: (line) => {
      if (/creating|installing/.test(line)) {
        console.log(`${line.replace(/^moto: /, 'moto not found: ')} (about a minute, once)`);
      }
    },
  });
  server = await startMoto({ python });
  useEmulator(server.endpoint, 'demo');
  console.log(`${'emulator'.padEnd(10)} moto on ${server.endpoint}`);

  // Imported once the environment points at the emulator, so no module here can build a
  // client that still points elsewhere.
  const iamSdk = await import('@aws-sdk/client-iam');
  const ec2Sdk = await import('@aws-sdk/client-ec2');
  const asgSdk = await import('@aws-sdk/client-auto-scaling');
  const smSdk = await import('@aws-sdk/client-secrets-manager');
  const lambdaSdk = await import('@aws-sdk/client-lambda');
  const s3Sdk = await import('@aws-sdk/client-s3');
  const { clientOptions } = await import('../functions/shared/aws.js');
  const scenario = await import('./scenario.js');
  const exposure = await import('./exposure.js');
  const member = await import('./member.js');
  const sequence = await import('./sequence.js');
  const { cdkJsonContext, withCordon } = await import('../rehearsal/synth.js');
  const { RehearsalEngine } = await import('../rehearsal/engine.js');
  const { bold, dim, formatEventReport, green, red, shortArn, yellow } = await import(
    '../cli/format.js'
  );
  const iam = new iamSdk.IAMClient(clientOptions);
  const ec2 = new ec2Sdk.EC2Client(clientOptions);
  const autoscaling = new asgSdk.AutoScalingClient(clientOptions);
  const secrets = new smSdk.SecretsManagerClient(clientOptions);
  const lambda = new lambdaSdk.LambdaClient(clientOptions);
  const s3 = new s3Sdk.S3Client({ ...clientOptions, forcePathStyle: true });

  /** The function's reserved concurrency, 'unreserved' when it has none. */
  async function reservedConcurrency(name: string): Promise<number | 'unreserved'> {
    const out = await lambda.send(
      new lambdaSdk.GetFunctionConcurrencyCommand({ FunctionName: name }),
    );
    return out.ReservedConcurrentExecutions ?? 'unreserved';
  }

  /** The bucket's public access block settings that are on (none without a block). */
  async function publicAccessBlock(name: string): Promise<string[]> {
    try {
      const out = await s3.send(new s3Sdk.GetPublicAccessBlockCommand({ Bucket: name }));
      return Object.entries(out.PublicAccessBlockConfiguration ?? {}).flatMap(([setting, on]) =>
        on === true ? [setting] : [],
      );
    } catch (error) {
      if (error instanceof Error && error.name === 'NoSuchPublicAccessBlockConfiguration')
        return [];
      throw error;
    }
  }
  const onSettings = (on: string[]): string =>
    on.length === 4 ? 'all four on' : on.length === 0 ? 'none' : on.join(', ');

  /** The instance as the ec2-instance playbook may leave it, read from the emulator. */
  async function readInstance(instance: CompromisedInstance) {
    const interfaces = await ec2.send(
      new ec2Sdk.DescribeNetworkInterfacesCommand({ NetworkInterfaceIds: instance.interfaceIds }),
    );
    const groupsOf = (id: string) =>
      (interfaces.NetworkInterfaces?.find((n) => n.NetworkInterfaceId === id)?.Groups ?? []).map(
        (g) => g.GroupName ?? g.GroupId ?? '?',
      );
    const protection = await ec2.send(
      new ec2Sdk.DescribeInstanceAttributeCommand({
        InstanceId: instance.instanceId,
        Attribute: 'disableApiTermination',
      }),
    );
    const snapshots = await ec2.send(
      new ec2Sdk.DescribeSnapshotsCommand({
        OwnerIds: ['self'],
        Filters: [{ Name: 'volume-id', Values: instance.volumeIds }],
      }),
    );
    const groups = await autoscaling.send(
      new asgSdk.DescribeAutoScalingGroupsCommand({
        AutoScalingGroupNames: [instance.autoScalingGroup],
      }),
    );
    const associations = await ec2.send(
      new ec2Sdk.DescribeIamInstanceProfileAssociationsCommand({
        Filters: [
          { Name: 'instance-id', Values: [instance.instanceId] },
          { Name: 'state', Values: ['associating', 'associated'] },
        ],
      }),
    );
    return {
      interfaces: instance.interfaceIds.map((id) => ({ id, groups: groupsOf(id) })),
      terminationProtection: protection.DisableApiTermination?.Value === true,
      snapshots: (snapshots.Snapshots ?? []).map((x) => ({
        id: x.SnapshotId ?? '?',
        tagged: x.Tags?.some((t) => t.Key === 'cordon:incident') === true,
      })),
      members: (groups.AutoScalingGroups?.[0]?.Instances ?? []).flatMap((i) =>
        i.InstanceId ? [i.InstanceId] : [],
      ),
      desired: groups.AutoScalingGroups?.[0]?.DesiredCapacity,
      profiles: (associations.IamInstanceProfileAssociations ?? []).flatMap((a) =>
        a.IamInstanceProfile?.Arn ? [shortArn(a.IamInstanceProfile.Arn)] : [],
      ),
    };
  }

  const user = await scenario.seedCompromisedUser(undefined, iam);
  const role = await scenario.seedExfiltratedRole(undefined, iam);
  const instance = await scenario.seedCompromisedInstance({}, { ec2, autoscaling, iam });
  const instanceBefore = await readInstance(instance);
  const secret = await exposure.seedExposedSecret(undefined, secrets);
  const fn = await exposure.seedCompromisedFunction(undefined, { lambda, iam });
  const bucket = await exposure.seedPublicBucket(undefined, s3);
  const reservedBefore = await reservedConcurrency(fn.name);
  const blockBefore = await publicAccessBlock(bucket.name);
  console.log(
    `${'seeded'.padEnd(10)} user ${user.userName}: leaked key ${user.leakedKeyId}, ` +
      `healthy key ${user.healthyKeyId}, console password`,
  );
  console.log(
    `${''.padEnd(10)} role ${role.roleName}: EC2 instance role, credentials used outside AWS`,
  );
  console.log(
    `${''.padEnd(10)} instance ${instance.instanceId}: in Auto Scaling group ${instance.autoScalingGroup} ` +
      `with ${instance.healthyInstanceId}, profile ${instance.roleName}, ${instance.interfaceIds.length} interfaces`,
  );
  console.log(
    `${''.padEnd(10)} secret ${secret.name} (no rotation), function ${fn.name}, ` +
      `public bucket ${bucket.name}`,
  );
  console.log(
    `${'approvals'.padEnd(10)} ${yellow('auto-approved for this demo')} ` +
      dim('(deployed, a responder decides; nobody answering means "do not act")'),
  );

  const synthStarted = performance.now();
  const engine = await RehearsalEngine.create({ decision: 'approve' });
  console.log(
    `${'playbooks'.padEnd(10)} synthesized from the CDK app (${seconds(synthStarted)})\n`,
  );

  const findings = [
    {
      label: `1. leaked access key of user ${user.userName}, used to read secret ${secret.name}`,
      event: exposure.secretAccessFinding(user, secret),
      playbooks: 2,
    },
    {
      label: `2. credentials of role ${role.roleName} used outside AWS`,
      event: scenario.roleCredentialFinding(role),
      playbooks: 1,
    },
    {
      label: `3. instance ${instance.instanceId} querying a crypto-mining domain`,
      event: scenario.instanceFinding(instance),
      playbooks: 1,
    },
    {
      label: `4. function ${fn.name} talking to a Bitcoin-related IP address`,
      event: exposure.functionFinding(fn),
      playbooks: 1,
    },
    {
      label: `5. bucket ${bucket.name} granted anonymous access`,
      event: exposure.bucketFinding(bucket),
      playbooks: 1,
    },
  ];
  const reports = [];
  const show = (label: string, report: EventReport) => {
    const actions = report.executions.map((x) => ({ ...x, ledger: x.ledger.filter(shown) }));
    console.log(
      formatEventReport(bold(label), { ...report, executions: actions }, { width: WIDTH }),
    );
  };
  for (const { label, event } of findings) {
    const report = await engine.rehearse(event);
    reports.push(report);
    show(label, report);
  }

  // Organization-wide: the hub (this account) runs Cordon for a member account, whose
  // finding it receives; a user of the same name in the hub must stay untouched.
  const { account: hub, region, partition } = engine.values;
  const scene = await member.seedMemberScene('release-bot', iam, partition);
  const hubEngine = await RehearsalEngine.create({
    decision: 'approve',
    context: withCordon(cdkJsonContext(), member.memberScope(region)),
  });
  const memberLabel = `6. leaked access key of user ${scene.user.userName} in member account ${member.MEMBER_ACCOUNT}, delivered to the hub ${hub}`;
  const memberReport = await hubEngine.rehearse(
    scenario.userKeyFinding(scene.user, {
      account: member.MEMBER_ACCOUNT,
      deliveredTo: hub,
      region,
      findingId: 'd0000000000000000000000000000006',
    }),
  );
  reports.push(memberReport);
  show(memberLabel, memberReport);

  // An attack sequence: one approval of the whole set, then each member contained by its own
  // playbook's steps; the EKS cluster it also names is listed as not contained, with AWS's guide.
  const sequenceUser = await scenario.seedCompromisedUser('data-pipeline', iam);
  const sequenceBucket = await exposure.seedPublicBucket('finance-exports', s3);
  const sequenceBlockBefore = await publicAccessBlock(sequenceBucket.name);
  const sequenceLabel = `7. attack sequence: key of user ${sequenceUser.userName} used to read bucket ${sequenceBucket.name}, beside EKS cluster analytics`;
  const sequenceReport = await engine.rehearse(
    sequence.attackSequenceFinding(
      { users: [sequenceUser], buckets: [sequenceBucket], eksCluster: 'analytics' },
      { findingId: 'd0000000000000000000000000000007', sequenceUid: 'demo-sequence-7' },
    ),
  );
  reports.push(sequenceReport);
  show(sequenceLabel, sequenceReport);

  // The real state, read back from the emulator.
  const keys = await iam.send(new iamSdk.ListAccessKeysCommand({ UserName: user.userName }));
  const statusOf = (id: string) =>
    keys.AccessKeyMetadata?.find((k) => k.AccessKeyId === id)?.Status ?? 'missing';
  const userPolicies = await iam.send(
    new iamSdk.ListUserPoliciesCommand({ UserName: user.userName }),
  );
  const attachedPolicies = await iam.send(
    new iamSdk.ListAttachedUserPoliciesCommand({ UserName: user.userName }),
  );
  const rolePolicies = await iam.send(
    new iamSdk.ListRolePoliciesCommand({ RoleName: role.roleName }),
  );
  let loginProfile = true;
  try {
    await iam.send(new iamSdk.GetLoginProfileCommand({ UserName: user.userName }));
  } catch (error) {
    if (!(error instanceof iamSdk.NoSuchEntityException)) throw error;
    loginProfile = false;
  }
  const userPolicyNames = userPolicies.PolicyNames ?? [];
  const attachedNames = (attachedPolicies.AttachedPolicies ?? []).flatMap((p) =>
    p.PolicyName ? [p.PolicyName] : [],
  );
  const rolePolicyNames = rolePolicies.PolicyNames ?? [];

  let ok = true;
  const check = (pass: boolean, text: string): string => {
    if (!pass) ok = false;
    return `  ${pass ? green('✓') : red('✗')} ${text}`;
  };
  console.log(`\n${bold('What was contained')} ${dim('(read back from the emulator)')}`);
  console.log(
    [
      check(
        statusOf(user.leakedKeyId) === 'Inactive',
        `leaked key  ${user.leakedKeyId}  ${statusOf(user.leakedKeyId)}`,
      ),
      check(
        statusOf(user.healthyKeyId) === 'Active',
        `healthy key ${user.healthyKeyId}  ${statusOf(user.healthyKeyId)} (untouched)`,
      ),
      check(
        userPolicyNames.includes('CordonRevokeOlderSessions') &&
          attachedNames.includes('AWSDenyAll'),
        `user ${user.userName} policies: inline ${userPolicyNames.join(', ') || 'none'}; ` +
          `managed ${attachedNames.join(', ') || 'none'}`,
      ),
      check(
        !loginProfile,
        `user ${user.userName} console password: ${loginProfile ? 'still present' : 'removed'}`,
      ),
      check(
        rolePolicyNames.includes('CordonRevokeOlderSessions'),
        `role ${role.roleName} inline policies: ${rolePolicyNames.join(', ') || 'none'}`,
      ),
    ].join('\n'),
  );
  const memberKeys = await member.keyStatuses(scene.memberIam, scene.user);
  const twinKeys = await member.keyStatuses(scene.hubIam, scene.twin);
  console.log(
    [
      check(
        memberKeys.leaked === 'Inactive' && memberKeys.healthy === 'Active',
        `member ${member.MEMBER_ACCOUNT}: user ${scene.user.userName} leaked key ${scene.user.leakedKeyId} ${memberKeys.leaked}, ` +
          `healthy key ${memberKeys.healthy}`,
      ),
      check(
        twinKeys.leaked === 'Active' && twinKeys.healthy === 'Active',
        `hub ${hub}: user ${scene.twin.userName} of the same name, both keys ${twinKeys.leaked === twinKeys.healthy ? twinKeys.leaked : `${twinKeys.leaked} and ${twinKeys.healthy}`} (untouched)`,
      ),
    ].join('\n'),
  );
  const after = await readInstance(instance);
  const instanceRolePolicies = await iam.send(
    new iamSdk.ListRolePoliciesCommand({ RoleName: instance.roleName }),
  );
  const isolated = (groups: string[]) =>
    groups.length === 1 && groups[0] === 'cordon-isolation-no-traffic';
  const membership = (state: typeof after) =>
    `${state.members.join(', ') || 'none'} (desired ${state.desired ?? '?'})`;
  const { instanceId } = instance;
  console.log(
    [
      check(
        after.interfaces.every(({ groups }) => isolated(groups)),
        `interfaces: ${after.interfaces
          .map(
            ({ id, groups }) =>
              `${id} ${instanceBefore.interfaces.find((i) => i.id === id)?.groups.join('+') || 'none'} → ${groups.join('+') || 'none'}`,
          )
          .join('; ')}`,
      ),
      check(
        after.terminationProtection &&
          after.snapshots.length === instance.volumeIds.length &&
          after.snapshots.every((x) => x.tagged),
        `instance ${instanceId}: termination protection ${after.terminationProtection ? 'on' : 'off'}, ` +
          `snapshots ${after.snapshots.map((x) => x.id).join(', ') || 'none'}`,
      ),
      check(
        !after.members.includes(instanceId) &&
          after.members.includes(instance.healthyInstanceId) &&
          after.desired === (instanceBefore.desired ?? 0) - 1,
        `group ${instance.autoScalingGroup}: ${membership(instanceBefore)} → ${membership(after)}`,
      ),
      check(
        after.profiles.length === 0 &&
          (instanceRolePolicies.PolicyNames ?? []).includes('CordonRevokeOlderSessions'),
        `instance profile: ${instanceBefore.profiles.join(', ') || 'none'} → ${after.profiles.join(', ') || 'none'}; ` +
          `role ${instance.roleName}: ${(instanceRolePolicies.PolicyNames ?? []).join(', ') || 'no policies'}`,
      ),
    ].join('\n'),
  );

  // The exposures: the secret's resource policy, the function's concurrency, the bucket's block.
  const policy = await secrets.send(new smSdk.GetResourcePolicyCommand({ SecretId: secret.arn }));
  const lock = lockDenies(policy.ResourcePolicy);
  const lockEntry = executionsOf(reports, 'secret-exposure')
    .flatMap((x) => x.ledger)
    .find((e) => e.action === 'lock-secret' && e.outcome === 'CONTAINED');
  const manual = lockEntry?.summary?.includes('manual rotation required') === true;
  const reserved = await reservedConcurrency(fn.name);
  const fnRolePolicies = await iam.send(
    new iamSdk.ListRolePoliciesCommand({ RoleName: fn.roleName }),
  );
  const blocked = await publicAccessBlock(bucket.name);
  console.log(
    [
      check(
        lock && manual,
        `secret ${secret.name}: ${lock ? 'CordonLockSecret denies GetSecretValue' : 'no lock'}; ` +
          `${manual ? 'manual rotation required' : 'manual rotation not flagged'} (no rotation configured)`,
      ),
      check(
        reserved === 0 && (fnRolePolicies.PolicyNames ?? []).includes('CordonRevokeOlderSessions'),
        `function ${fn.name}: reserved concurrency ${reservedBefore} → ${reserved}; ` +
          `role ${fn.roleName}: ${(fnRolePolicies.PolicyNames ?? []).join(', ') || 'no policies'}`,
      ),
      check(
        blocked.length === 4,
        `bucket ${bucket.name}: public access block ${onSettings(blockBefore)} → ${onSettings(blocked)}`,
      ),
    ].join('\n'),
  );
  const sequenceKeys = await iam.send(
    new iamSdk.ListAccessKeysCommand({ UserName: sequenceUser.userName }),
  );
  const sequenceKey = (id: string) =>
    sequenceKeys.AccessKeyMetadata?.find((k) => k.AccessKeyId === id)?.Status ?? 'missing';
  const sequenceBlocked = await publicAccessBlock(sequenceBucket.name);
  const sequenceAsked = executionsOf([sequenceReport], SEQUENCE.playbook)
    .flatMap((x) => x.ledger)
    .filter((e) => e.outcome === 'APPROVAL_REQUESTED').length;
  console.log(
    [
      check(
        sequenceKey(sequenceUser.leakedKeyId) === 'Inactive' &&
          sequenceKey(sequenceUser.healthyKeyId) === 'Active',
        `attack sequence, user ${sequenceUser.userName}: leaked key ${sequenceKey(sequenceUser.leakedKeyId)}, healthy key ${sequenceKey(sequenceUser.healthyKeyId)}`,
      ),
      check(
        sequenceBlocked.length === 4,
        `attack sequence, bucket ${sequenceBucket.name}: public access block ${onSettings(sequenceBlockBefore)} → ${onSettings(sequenceBlocked)}`,
      ),
      check(
        sequenceAsked === 1,
        `attack sequence: ${sequenceAsked} approval request for the whole set; EKS cluster analytics listed as not contained`,
      ),
    ].join('\n'),
  );

  console.log(`\n${bold('What waited for approval')}`);
  const executionsRun = reports.flatMap((r) => r.executions);
  const requests = executionsRun.flatMap((x) =>
    x.ledger.filter((e) => e.outcome === 'APPROVAL_REQUESTED').map((e) => ({ x, request: e })),
  );
  /** What followed a decision: the step's own outcome, or, for an attack sequence, its members'. */
  const outcomeAfter = (x: (typeof executionsRun)[number], request: LedgerEntry) => {
    const later = x.ledger.filter((e) => e.step === request.step && e.seq > request.seq);
    if (request.step !== SEQUENCE.step) {
      return later.find((e) => e.action !== 'responder-api' && e.outcome !== INTENT)?.outcome;
    }
    const contained = x.ledger.filter(
      (e) => e.incidentId !== request.incidentId && e.outcome === 'CONTAINED',
    ).length;
    return contained > 0 ? `${contained} member steps CONTAINED` : undefined;
  };
  if (requests.length === 0) console.log(`  ${dim('(nothing)')}`);
  for (const { x, request } of requests) {
    const later = x.ledger.filter((e) => e.step === request.step && e.seq > request.seq);
    // The responder's decision, then what the step did with it.
    const decision = later.find((e) => e.action === 'responder-api');
    const after = outcomeAfter(x, request);
    const approver = decision
      ? `${decision.outcome === 'APPROVAL_GRANTED' ? 'approved' : 'rejected'} by ${shortArn(decision.actor)}`
      : 'no approval recorded';
    const target = request.targetArn ? shortArn(request.targetArn) : request.incidentId;
    const decided = after ? `${approver} → ${after}` : red('no decision followed');
    console.log(`  ${bold(request.step)} on ${target}: ${decided}`);
  }

  const executions = reports.flatMap((r) => r.executions);
  const failed = executions.filter((x) => x.status !== 'SUCCEEDED');
  // The member's finding and the attack sequence start one playbook each.
  const expected = findings.reduce((n, f) => n + f.playbooks, 0) + 2;
  if (failed.length > 0 || executions.length !== expected) {
    ok = false;
    console.log(
      red(`\n${failed.length} of ${executions.length} executions failed (${expected} expected)`),
    );
  }
  return ok;
}

const PolicyDocument = z.object({
  Statement: z.array(
    z.looseObject({
      Sid: z.string().optional(),
      Effect: z.string(),
      Action: z.union([z.string(), z.array(z.string())]),
    }),
  ),
});

/** The resource policy holds Cordon's lock: a Deny of GetSecretValue. */
function lockDenies(policy: string | undefined): boolean {
  if (policy === undefined) return false;
  const parsed = PolicyDocument.safeParse(JSON.parse(policy));
  return (
    parsed.success &&
    parsed.data.Statement.some(
      (st) =>
        st.Sid === 'CordonLockSecret' &&
        st.Effect === 'Deny' &&
        [st.Action].flat().includes('secretsmanager:GetSecretValue'),
    )
  );
}

function executionsOf(reports: ReadonlyArray<EventReport>, playbook: string) {
  return reports.flatMap((r) => r.executions).filter((x) => x.playbook === playbook);
}

main()
  .then(
    (ok) => ok,
    (error: unknown) => {
      const message = error instanceof Error ? error.message : String(error);
      console.error(`\ndemo failed: ${message}`);
      if (process.env.CORDON_DEBUG === '1' && error instanceof Error) console.error(error.stack);
      return false;
    },
  )
  .then(async (ok) => {
    await stopServer();
    console.log(
      `\n${ok ? 'Contained' : 'NOT contained as expected'}; demo took ${seconds(started)}.`,
    );
    process.exitCode = ok ? 0 : 1;
  });

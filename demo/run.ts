/**
 * `npm run demo`: Cordon end to end on this machine, no AWS account needed.
 *
 * Starts a local AWS emulator (moto, installed into the project's `.venv` if
 * missing), seeds a small compromised account, sends two GuardDuty findings
 * through the same playbook definitions that deploy (the rehearsal engine,
 * every Lambda handler run in-process), then reads the real resulting state
 * back from the emulator. Exits non-zero when anything was not contained as
 * expected.
 */
import { ensureMoto, type MotoServer, startMoto } from '../scripts/moto.js';

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

/** Points every AWS SDK client of this process (and only this process) at the emulator. */
function useEmulator(endpoint: string): void {
  for (const name of Object.keys(process.env)) {
    if (name.startsWith('AWS_ENDPOINT_URL')) delete process.env[name];
  }
  for (const name of ['AWS_PROFILE', 'AWS_DEFAULT_PROFILE', 'AWS_SESSION_TOKEN']) {
    delete process.env[name];
  }
  Object.assign(process.env, {
    AWS_ENDPOINT_URL: endpoint,
    AWS_REGION: 'us-east-1',
    AWS_DEFAULT_REGION: 'us-east-1',
    AWS_ACCESS_KEY_ID: 'demo',
    AWS_SECRET_ACCESS_KEY: 'demo',
    AWS_EC2_METADATA_DISABLED: 'true',
    POWERTOOLS_LOG_LEVEL: 'SILENT',
    CDK_DISABLE_VERSION_CHECK: 'true',
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
  });
}

/** Ledger lines are cut to the terminal's width (120 when not a terminal). */
const WIDTH = process.stdout.isTTY === true ? Math.max(process.stdout.columns, 80) : 120;

async function main(): Promise<boolean> {
  console.log('Cordon demo: two GuardDuty findings, contained in a local AWS emulator\n');

  const python = await ensureMoto({
    log: (line) => {
      if (/creating|installing/.test(line)) {
        console.log(`${line.replace(/^moto: /, 'moto not found: ')} (about a minute, once)`);
      }
    },
  });
  server = await startMoto({ python });
  useEmulator(server.endpoint);
  console.log(`${'emulator'.padEnd(10)} moto on ${server.endpoint}`);

  // Imported only now: handlers and clients read the environment at import.
  const iamSdk = await import('@aws-sdk/client-iam');
  const { clientOptions } = await import('../functions/shared/aws.js');
  const { PLAYBOOKS } = await import('../functions/shared/catalog.js');
  const scenario = await import('./scenario.js');
  const { RehearsalEngine } = await import('../cli/rehearsal/engine.js');
  const { bold, dim, formatEventReport, green, red, shortArn, yellow } = await import(
    '../cli/format.js'
  );
  const iam = new iamSdk.IAMClient(clientOptions);

  const user = await scenario.seedCompromisedUser(undefined, iam);
  const role = await scenario.seedExfiltratedRole(undefined, iam);
  console.log(
    `${'seeded'.padEnd(10)} user ${user.userName}: leaked key ${user.leakedKeyId}, ` +
      `healthy key ${user.healthyKeyId}, console password`,
  );
  console.log(
    `${''.padEnd(10)} role ${role.roleName}: EC2 instance role, credentials used outside AWS`,
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
      label: `1. leaked access key of user ${user.userName}`,
      event: scenario.userKeyFinding(user),
    },
    {
      label: `2. credentials of role ${role.roleName} used outside AWS`,
      event: scenario.roleCredentialFinding(role),
    },
  ];
  const reports = [];
  for (const { label, event } of findings) {
    const report = await engine.rehearse(event);
    reports.push(report);
    console.log(formatEventReport(bold(label), report, { width: WIDTH }));
  }

  // The real state, read back from the emulator.
  const keys = await iam.send(new iamSdk.ListAccessKeysCommand({ UserName: user.userName }));
  const statusOf = (id: string) =>
    keys.AccessKeyMetadata?.find((k) => k.AccessKeyId === id)?.Status ?? 'missing';
  const userPolicies = await iam.send(
    new iamSdk.ListUserPoliciesCommand({ UserName: user.userName }),
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
        userPolicyNames.includes('CordonQuarantine') &&
          userPolicyNames.includes('CordonRevokeOlderSessions'),
        `user ${user.userName} inline policies: ${userPolicyNames.join(', ') || 'none'}`,
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

  console.log(`\n${bold('What waited for approval')}`);
  const entries = reports.flatMap((r) => r.executions.flatMap((x) => x.ledger));
  const requests = entries.filter((e) => e.outcome === 'APPROVAL_REQUESTED');
  if (requests.length === 0) console.log(`  ${dim('(nothing)')}`);
  for (const request of requests) {
    const after = entries.find(
      (e) => e.incidentId === request.incidentId && e.step === request.step && e.seq > request.seq,
    );
    const approval = after?.detail?.approval;
    const approver =
      typeof approval === 'object' && approval !== null && 'approver' in approval
        ? `approved by ${shortArn(String(approval.approver))}`
        : 'no approval recorded';
    const asked = Object.entries(PLAYBOOKS['iam-credentials'].steps).find(
      ([id]) => id === request.step,
    )?.[1].summary;
    const target = request.targetArn ? shortArn(request.targetArn) : request.incidentId;
    console.log(`  ${bold(request.step)} on ${target}: ${asked ?? request.summary ?? ''}`);
    console.log(`    ${after ? `${approver} → ${after.outcome}` : red('no decision followed')}`);
  }

  const executions = reports.flatMap((r) => r.executions);
  const failed = executions.filter((x) => x.status !== 'SUCCEEDED');
  if (failed.length > 0 || executions.length !== findings.length) {
    ok = false;
    console.log(
      red(
        `\n${failed.length} of ${executions.length} executions failed (${findings.length} expected)`,
      ),
    );
  }
  return ok;
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

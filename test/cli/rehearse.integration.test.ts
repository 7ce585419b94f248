/**
 * `cordon rehearse`, spawned as a user runs it, against the run's moto server:
 * the contract in the README ("Rehearse before you deploy"). Each spawn that
 * gets past validation synthesizes the app (seconds on 2 cores), so the cases
 * are combined into few spawns.
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  DescribeTableCommand,
  DynamoDBClient,
  ResourceNotFoundException,
} from '@aws-sdk/client-dynamodb';
import {
  IAMClient,
  ListAccessKeysCommand,
  ListAttachedUserPoliciesCommand,
} from '@aws-sdk/client-iam';
import { App } from 'aws-cdk-lib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { seedCompromisedUser, userKeyFinding } from '../../demo/scenario.js';
import { buildApp } from '../../infra/build.js';
import { ConfigValidationError } from '../../infra/config.js';
import { cdkJsonContext } from '../../rehearsal/synth.js';
import { cordonAt, expectClean, REPO, type Run, SPAWN_TIMEOUT } from '../support/cordon-cli.js';
import {
  iamInAccount,
  MOTO_ACCOUNT_ID,
  MOTO_REGION,
  motoClientConfig,
  useMoto,
} from '../support/moto.js';

const { endpoint } = useMoto();
const fixture = (name: string): string => join(REPO, 'test', 'fixtures', 'events', name);

/** `cordon <args>` as a user runs it, with the SDK pointed at the test moto server. */
const cordon = (...args: string[]): Promise<Run> => cordonAt(endpoint, args);

/** An input error: exit 2, one line naming the problem, nothing on stdout. */
function expectUsageError(run: Run, pattern: RegExp): void {
  expect(run.code, run.stderr).toBe(2);
  expect(run.stdout).toBe('');
  const firstLine = run.stderr.trim().split('\n')[0] ?? '';
  expect(firstLine).toMatch(/^cordon: /);
  expect(firstLine).toMatch(pattern);
  expectClean(run);
}

const iam = () => new IAMClient(motoClientConfig(endpoint));

async function keyStatuses(
  userName: string,
  client = iam(),
): Promise<Record<string, string | undefined>> {
  const keys = await client.send(new ListAccessKeysCommand({ UserName: userName }));
  return Object.fromEntries((keys.AccessKeyMetadata ?? []).map((k) => [k.AccessKeyId, k.Status]));
}

async function ledgerTableExists(): Promise<boolean> {
  try {
    await new DynamoDBClient(motoClientConfig(endpoint)).send(
      new DescribeTableCommand({ TableName: 'cordon-ledger' }),
    );
    return true;
  } catch (error) {
    if (error instanceof ResourceNotFoundException) return false;
    throw error;
  }
}

const LedgerEntrySchema = z.looseObject({
  incidentId: z.string(),
  seq: z.number(),
  step: z.string(),
  outcome: z.string(),
  targetArn: z.string().optional(),
  summary: z.string().optional(),
});
const JsonOutput = z.object({
  events: z.array(
    z.object({
      file: z.string(),
      report: z.object({
        matched: z.array(z.string()),
        executions: z.array(
          z.looseObject({
            playbook: z.string(),
            status: z.enum(['SUCCEEDED', 'FAILED']),
            output: z.unknown(),
            states: z.array(z.string()),
            ledger: z.array(LedgerEntrySchema),
          }),
        ),
      }),
    }),
  ),
});

let dir = '';
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'cordon-rehearse-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** A finding on a seeded user's leaked key; `findingId` tells apart two findings (two incidents). */
async function seededUserEvent(name: string, userName = 'ci-deployer', findingId?: string) {
  const user = await seedCompromisedUser(userName, iam());
  const file = join(dir, name);
  await writeFile(file, JSON.stringify(userKeyFinding(user, findingId ? { findingId } : {})));
  return { user, file };
}

describe('cordon rehearse', () => {
  it(
    '--json: one document with the matched playbooks, statuses, outputs, states and ledger; the key ends Inactive; unmatched events are reported, not errors',
    async () => {
      const { user, file } = await seededUserEvent('user-key.json');
      const unrelated = fixture('unrelated-event.json');
      const low = fixture('guardduty-low-severity.json');

      const run = await cordon('rehearse', file, unrelated, low, '--decision', 'approve', '--json');
      expect(run.code, run.stderr).toBe(0);
      expectClean(run);
      const { events } = JsonOutput.parse(JSON.parse(run.stdout));
      expect(events.map((e) => e.file)).toEqual([file, unrelated, low]);

      const [userEvent, unrelatedEvent, lowEvent] = events;
      expect(userEvent?.report.matched).toEqual(['iam-credentials']);
      const [execution] = userEvent?.report.executions ?? [];
      expect(execution?.status).toBe('SUCCEEDED');
      expect(execution?.output).toMatchObject({
        decision: 'PROCEED',
        incident: { principal: { kind: 'IAMUser', name: user.userName } },
        results: { disableAccessKey: { outcome: 'CONTAINED' } },
      });
      expect(execution?.states[0]).toBe('Triage');
      expect(execution?.states).toEqual(
        expect.arrayContaining(['Disable access key', 'Quarantine user']),
      );
      expect(execution?.ledger.map((e) => [e.step, e.outcome])).toEqual(
        expect.arrayContaining([
          ['triage', 'CLAIMED'],
          ['disableAccessKey', 'CONTAINED'],
          ['quarantineUser', 'APPROVAL_REQUESTED'],
          ['quarantineUser', 'APPROVAL_GRANTED'],
          ['quarantineUser', 'CONTAINED'],
        ]),
      );
      expect(execution?.ledger.map((e) => e.seq)).toEqual(
        execution?.ledger.map((_, index) => index),
      );

      for (const unmatched of [unrelatedEvent, lowEvent]) {
        expect(unmatched?.report).toEqual({ matched: [], executions: [] });
      }

      expect(await keyStatuses(user.userName)).toEqual({
        [user.leakedKeyId]: 'Inactive',
        [user.healthyKeyId]: 'Active',
      });
    },
    SPAWN_TIMEOUT,
  );

  it(
    'rollback and dismiss act on the incident of the event before them: its re-emission after the rollback is recorded and notified, never acted on',
    async () => {
      const { user, file } = await seededUserEvent('first.json');
      const first = userKeyFinding(user);
      const later = join(dir, 'later.json');
      await writeFile(
        later,
        JSON.stringify({
          ...first,
          detail: {
            ...first.detail,
            updatedAt: '2030-01-01T06:00:00.000Z',
            service: { ...z.record(z.string(), z.unknown()).parse(first.detail.service), count: 2 },
          },
        }),
      );

      const run = await cordon(
        'rehearse',
        file,
        'rollback',
        later,
        'dismiss',
        '--decision',
        'approve',
        '--json',
      );

      expect(run.code, run.stderr).toBe(0);
      expectClean(run);
      const output = JsonOutput.extend({
        responders: z.array(
          z.object({
            command: z.string(),
            incidentId: z.string(),
            execution: z.looseObject({ status: z.string() }).optional(),
            dismissal: z.looseObject({ dismissedBy: z.string() }).optional(),
          }),
        ),
      }).parse(JSON.parse(run.stdout));
      const [contained, reemitted] = output.events;
      const incidentId = contained?.report.executions[0]?.ledger[0]?.incidentId;
      expect(output.responders.map((r) => [r.command, r.incidentId])).toEqual([
        ['rollback', incidentId],
        ['dismiss', incidentId],
      ]);
      expect(output.responders[0]?.execution?.status).toBe('SUCCEEDED');
      expect(output.responders[1]?.dismissal?.dismissedBy).toContain('cordon-rehearsal-responder');
      // The re-emission joined the same incident, suppressed by the rollback.
      const [again] = reemitted?.report.executions ?? [];
      expect(again?.output).toMatchObject({ decision: 'SUPPRESSED' });
      expect(again?.ledger.map((e) => [e.incidentId, e.step, e.outcome])).toEqual([
        [incidentId, 'triage', 'REEMITTED'],
        [incidentId, 'notify', 'NOTIFIED'],
      ]);
      expect(await keyStatuses(user.userName)).toEqual({
        [user.leakedKeyId]: 'Active',
        [user.healthyKeyId]: 'Active',
      });
    },
    SPAWN_TIMEOUT,
  );

  it(
    'without --json: says that no playbook matched a valid event, and exits 0',
    async () => {
      const run = await cordon(
        'rehearse',
        fixture('unrelated-event.json'),
        fixture('guardduty-low-severity.json'),
      );
      expect(run.code, run.stderr).toBe(0);
      expectClean(run);
      expect(run.stdout.trim().split('\n')).toEqual([
        'unrelated-event.json: no playbook matched; nothing to do',
        'guardduty-low-severity.json: no playbook matched; nothing to do',
      ]);
    },
    SPAWN_TIMEOUT,
  );

  it(
    'an attack sequence starts its playbook; an instance of it that does not parse is listed as not acted on',
    async () => {
      const sequence = fixture('guardduty-attack-sequence-instance-group.json');
      const mangled = join(dir, 'mangled-sequence.json');
      const text = await readFile(sequence, 'utf8');
      const instance = '"uid": "i-0abc123def4567890"';
      expect(text.split(instance)).toHaveLength(2);
      await writeFile(mangled, text.replace(instance, '"uid": "i-0abc123def4567890; rm -rf /"'));

      const run = await cordon('rehearse', mangled, '--json');

      expect(run.code, run.stderr).toBe(0);
      const [event] = JsonOutput.parse(JSON.parse(run.stdout)).events;
      expect(event?.report.matched).toEqual(['attack-sequence']);
      const [execution] = event?.report.executions ?? [];
      expect(execution?.status).toBe('SUCCEEDED');
      // Nothing the sequence names exists in the emulator: refused, with each member's reason.
      expect(execution?.output).toMatchObject({
        decision: 'REFUSED',
        incident: {
          sequence: {
            notActedOn: expect.arrayContaining([
              expect.objectContaining({
                what: 'EC2_INSTANCE',
                id: 'i-0abc123def4567890; rm -rf /',
                reason: expect.stringContaining('not an EC2 instance id or ARN'),
              }),
            ]),
          },
        },
      });
    },
    SPAWN_TIMEOUT,
  );

  it(
    'invalid input: one line naming the problem, exit 2, nothing acted on, not even for the valid files',
    async () => {
      const { user, file } = await seededUserEvent('valid.json');
      const notJson = join(dir, 'not-json.json');
      await writeFile(notJson, '{"source": "aws.guardduty", ');
      const missingResource = fixture('guardduty-missing-resource.json');

      const [invalidSecond, invalidJson, badDecision, unknownCommand, rollbackFirst] =
        await Promise.all([
          cordon('rehearse', file, missingResource, '--decision', 'approve'),
          cordon('rehearse', notJson, '--json'),
          cordon('rehearse', file, '--decision', 'bogus'),
          cordon('contain', file),
          cordon('rehearse', 'rollback', file),
        ]);

      expectUsageError(invalidSecond, /guardduty-missing-resource\.json: .*detail\.resource/);
      expect(invalidSecond.stderr.trim().split('\n')).toHaveLength(1);
      expectUsageError(invalidJson, /not-json\.json: not valid JSON/);
      expect(invalidJson.stderr.trim().split('\n')).toHaveLength(1);
      expectUsageError(badDecision, /--decision .*"bogus"/);
      expectUsageError(unknownCommand, /unknown command "contain"/);
      expectUsageError(rollbackFirst, /rollback acts on the incidents of the event before it/);

      expect(await ledgerTableExists()).toBe(false);
      expect(await keyStatuses(user.userName)).toEqual({
        [user.leakedKeyId]: 'Active',
        [user.healthyKeyId]: 'Active',
      });
    },
    SPAWN_TIMEOUT,
  );

  it(
    "-c cordon='{...}' and --context-file change what the rehearsal does: a step in dry-run acts on nothing, a step made auto waits for no one",
    async () => {
      const dryRun = await seededUserEvent('dry-run.json', 'dry-run-user');
      const auto = await seededUserEvent('auto.json', 'auto-user', 'b'.repeat(32));
      const contextFile = join(dir, 'cordon.json');
      await writeFile(
        contextFile,
        JSON.stringify({ modes: { 'iam-credentials': { quarantineUser: 'auto' } } }),
      );

      const withFlag = await cordon(
        'rehearse',
        dryRun.file,
        '-c',
        'cordon={"modes": {"iam-credentials": {"disableAccessKey": "dry-run"}}}',
        '--json',
      );
      const withFile = await cordon('rehearse', auto.file, '--context-file', contextFile, '--json');

      expect(withFlag.code, withFlag.stderr).toBe(0);
      expectClean(withFlag);
      const [flagged] = JsonOutput.parse(JSON.parse(withFlag.stdout)).events;
      const flaggedSteps = flagged?.report.executions[0]?.ledger.map((e) => [e.step, e.outcome]);
      expect(flaggedSteps).toContainEqual(['disableAccessKey', 'DRY_RUN']);
      expect(flaggedSteps).not.toContainEqual(['disableAccessKey', 'CONTAINED']);
      expect(await keyStatuses(dryRun.user.userName)).toEqual({
        [dryRun.user.leakedKeyId]: 'Active',
        [dryRun.user.healthyKeyId]: 'Active',
      });

      expect(withFile.code, withFile.stderr).toBe(0);
      expectClean(withFile);
      const [filed] = JsonOutput.parse(JSON.parse(withFile.stdout)).events;
      const quarantine = filed?.report.executions[0]?.ledger
        .filter((e) => e.step === 'quarantineUser')
        .map((e) => e.outcome);
      // Without the override it waits for an approval that times out (no --decision).
      expect(quarantine).toEqual(['INTENT', 'CONTAINED']);
      const attached = await iam().send(
        new ListAttachedUserPoliciesCommand({ UserName: auto.user.userName }),
      );
      expect(attached.AttachedPolicies?.map((p) => p.PolicyName)).toContain('AWSDenyAll');
    },
    SPAWN_TIMEOUT * 2,
  );

  it(
    'organization-wide (an organization key in the cordon context): a member account finding is contained in the member, one from an account out of scope is refused',
    async () => {
      // Arrange: the same user name in a member, in an account out of scope, and in the hub.
      const hub = MOTO_ACCOUNT_ID;
      const [member, outsider] = ['222222222222', '333333333333'];
      const memberIam = await iamInAccount(endpoint, member);
      const outsiderIam = await iamInAccount(endpoint, outsider);
      const memberUser = await seedCompromisedUser('ci-deployer', memberIam);
      const outsiderUser = await seedCompromisedUser('ci-deployer', outsiderIam);
      const twin = await seedCompromisedUser('ci-deployer', iam());
      const memberFile = join(dir, 'member.json');
      const outsiderFile = join(dir, 'outsider.json');
      await writeFile(
        memberFile,
        JSON.stringify(
          userKeyFinding(memberUser, {
            account: member,
            deliveredTo: hub,
            findingId: 'c'.repeat(32),
          }),
        ),
      );
      await writeFile(
        outsiderFile,
        JSON.stringify(
          userKeyFinding(outsiderUser, {
            account: outsider,
            deliveredTo: hub,
            findingId: 'd'.repeat(32),
          }),
        ),
      );
      // cdk.json's cordon settings, with the organization key a hub deploys with.
      const contextFile = join(dir, 'organization.json');
      await writeFile(
        contextFile,
        JSON.stringify({
          ...z.record(z.string(), z.unknown()).parse(cdkJsonContext().cordon),
          organization: {
            organizationId: 'o-a1b2c3d4e5',
            accounts: [member],
            organizationalUnits: ['ou-ab12-cdefgh34'],
            regions: [MOTO_REGION],
          },
        }),
      );

      // Act
      const run = await cordon(
        'rehearse',
        memberFile,
        outsiderFile,
        '--context-file',
        contextFile,
        '--json',
      );

      // Assert: the member's key disabled in the member, by its ARN there; the hub's namesake untouched.
      expect(run.code, run.stderr).toBe(0);
      expectClean(run);
      const [contained, refused] = JsonOutput.parse(JSON.parse(run.stdout)).events;
      const [execution] = contained?.report.executions ?? [];
      expect(execution?.status).toBe('SUCCEEDED');
      expect(execution?.ledger).toContainEqual(
        expect.objectContaining({
          step: 'disableAccessKey',
          outcome: 'CONTAINED',
          targetArn: memberUser.arn,
        }),
      );
      expect(memberUser.arn).toContain(`::${member}:`);
      expect(await keyStatuses(memberUser.userName, memberIam)).toEqual({
        [memberUser.leakedKeyId]: 'Inactive',
        [memberUser.healthyKeyId]: 'Active',
      });
      expect(await keyStatuses(twin.userName)).toEqual({
        [twin.leakedKeyId]: 'Active',
        [twin.healthyKeyId]: 'Active',
      });
      // The account out of scope: refused at triage, recorded with the reason, nothing changed there.
      const [refusal] = refused?.report.executions ?? [];
      expect(refusal?.ledger.find((e) => e.step === 'triage')).toMatchObject({
        outcome: 'REFUSED',
        summary: expect.stringContaining(`account ${outsider} is not in Cordon's scope`),
      });
      expect(refusal?.ledger.filter((e) => e.outcome === 'CONTAINED')).toEqual([]);
      expect(await keyStatuses(outsiderUser.userName, outsiderIam)).toEqual({
        [outsiderUser.leakedKeyId]: 'Active',
        [outsiderUser.healthyKeyId]: 'Active',
      });
    },
    SPAWN_TIMEOUT,
  );

  it(
    'an invalid cordon override is refused with the message synth gives, exit 2, nothing acted on',
    async () => {
      const { user, file } = await seededUserEvent('valid.json');
      const bad = '{"modes": {"iam-credentials": {"disableAccessKey": "sometimes"}}, "bogus": 1}';
      const badFile = join(dir, 'bad-cordon.json');
      await writeFile(badFile, bad);
      let synth = '';
      try {
        buildApp(new App({ context: { cordon: bad } }));
      } catch (error) {
        if (!(error instanceof ConfigValidationError)) throw error;
        synth = error.message;
      }
      expect(synth).toMatch(/unknown key "bogus"/);

      const [flag, fromFile] = await Promise.all([
        cordon('rehearse', file, '-c', `cordon=${bad}`),
        cordon('rehearse', file, '--context-file', badFile, '--json'),
      ]);

      for (const run of [flag, fromFile]) {
        expect(run.code, run.stderr).toBe(2);
        expect(run.stdout).toBe('');
        expect(run.stderr).toBe(`cordon: ${synth}\n`);
        expectClean(run);
      }
      expect(await ledgerTableExists()).toBe(false);
      expect(await keyStatuses(user.userName)).toEqual({
        [user.leakedKeyId]: 'Active',
        [user.healthyKeyId]: 'Active',
      });
    },
    SPAWN_TIMEOUT,
  );
});

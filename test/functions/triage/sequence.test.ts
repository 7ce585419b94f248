import 'aws-sdk-client-mock-vitest/extend';
import { GetUserCommand } from '@aws-sdk/client-iam';
import { PutCommand } from '@aws-sdk/lib-dynamodb';
import { describe, expect, it } from 'vitest';
import { SEQUENCE } from '../../../functions/shared/catalog.js';
import { type Incident, TriageResultSchema } from '../../../functions/shared/incident.js';
import { z } from '../../../functions/shared/z.js';
import {
  ACCOUNT,
  BUCKET,
  bucketTagged,
  ddbMock,
  fixture,
  iamMock,
  ROLE_ARN,
  roleExists,
  setup,
  USER_ARN,
  userExists,
  valueAt,
  withValue,
} from './helpers.js';
import { runTriage } from './run.js';

/**
 * Triage of a GuardDuty attack sequence (functions/triage/sequence.ts), on
 * the fixture shaped after GuardDuty's API reference: actors
 * `compromised-user` (IAMUser, its key) and `exfiltrated-role` (AssumedRole);
 * resources the user's key, `example-reports-bucket`, and
 * `partner-shared-bucket` of another account.
 */

const PLAYBOOK = { playbook: SEQUENCE.playbook } as const;
const SEQUENCE_EVENT = fixture('guardduty-attack-sequence-credentials');

/** The members the fixture names, there to be read. */
function membersExist(): void {
  userExists();
  roleExists();
  bucketTagged([{ Key: 'data', Value: 'reports' }]);
}

/** The ledger entries triage put, by incident. */
function claims(): Array<{ incidentId: string; outcome: string; detail: Record<string, unknown> }> {
  const Item = z.object({
    Item: z.object({
      incidentId: z.string(),
      outcome: z.string(),
      detail: z.record(z.string(), z.unknown()),
    }),
  });
  return ddbMock.commandCalls(PutCommand).map((call) => Item.parse(call.args[0].input).Item);
}

const modes = (incident: Incident) =>
  Object.fromEntries(Object.entries(incident.plan).map(([step, p]) => [step, p.mode]));

describe('triage: an attack sequence', () => {
  it('triages each member as its own playbook would, and plans every step for one approval', async () => {
    // Arrange: disableAccessKey and revokeUserSessions are `auto` by default.
    const deps = setup();
    membersExist();

    // Act
    const result = await runTriage(SEQUENCE_EVENT, deps, PLAYBOOK);

    // Assert
    expect(TriageResultSchema.parse(result)).toEqual(result);
    const { incident, children = [] } = result;
    expect(result.decision).toBe('PROCEED');
    expect(incident).toMatchObject({
      playbook: SEQUENCE.playbook,
      plan: { [SEQUENCE.step]: { mode: 'approve' } },
    });
    expect(children.map((c) => [c.playbook, c.principal?.arn ?? c.bucket?.arn])).toEqual([
      ['iam-credentials', USER_ARN],
      ['iam-credentials', ROLE_ARN],
      ['s3-exposure', `arn:aws:s3:::${BUCKET}`],
    ]);
    for (const child of children) {
      expect(child.parent).toBe(incident.incidentId);
      expect(Object.values(modes(child))).not.toContain('auto');
    }
    const [user, role] = children;
    expect(user && modes(user)).toEqual({
      disableAccessKey: 'approve',
      revokeUserSessions: 'approve',
      quarantineUser: 'approve',
      revokeRoleSessions: 'off',
    });
    expect(role && modes(role)).toMatchObject({ revokeRoleSessions: 'approve' });

    // The parent lists the set for the approval, with what each member's steps reach.
    const listed = incident.sequence;
    expect(listed?.members.map((m) => m.incidentId)).toEqual(children.map((c) => c.incidentId));
    expect(listed?.members[1]?.blastRadius.join(' ')).toContain(
      `ends every session of role ${ROLE_ARN}`,
    );
    expect(listed?.notActedOn).toContainEqual(
      expect.objectContaining({
        what: 'S3_BUCKET',
        id: 'arn:aws:s3:::partner-shared-bucket',
        reason: expect.stringContaining(`not the finding's account ${ACCOUNT}`),
      }),
    );

    // The parent's claim names its children; each child's claim, its parent.
    const written = claims();
    expect(written).toHaveLength(1 + children.length);
    expect(written[0]).toMatchObject({
      incidentId: incident.incidentId,
      outcome: 'CLAIMED',
      detail: { children: children.map((c) => c.incidentId) },
    });
    for (const child of children) {
      expect(written).toContainEqual(
        expect.objectContaining({
          incidentId: child.incidentId,
          outcome: 'CLAIMED',
          detail: expect.objectContaining({
            parent: incident.incidentId,
            validated: expect.objectContaining({ modes: modes(child) }),
          }),
        }),
      );
    }
  });

  it('gives each member an incident id of its own, the same on every emission', async () => {
    // Arrange
    const deps = setup();
    membersExist();

    // Act
    const first = await runTriage(SEQUENCE_EVENT, deps, PLAYBOOK);
    const again = await runTriage(SEQUENCE_EVENT, deps, PLAYBOOK);

    // Assert
    const ids = (r: typeof first) => (r.children ?? []).map((c) => c.incidentId);
    expect(new Set(ids(first)).size).toBe(3);
    expect(ids(first)).not.toContain(first.incident.incidentId);
    expect(ids(again)).toEqual(ids(first));
  });

  it('refuses a sample sequence (CreateSampleFindings) as a whole, and claims no member', async () => {
    // Arrange: what a finding forger with guardduty:CreateSampleFindings gets.
    const deps = setup();
    membersExist();
    const sample = withValue(SEQUENCE_EVENT, ['detail', 'service', 'additionalInfo'], {
      value: '{"sample":true}',
      type: 'default',
      sample: true,
    });

    // Act
    const result = await runTriage(sample, deps, PLAYBOOK);

    // Assert
    expect(result).toMatchObject({
      decision: 'REFUSED',
      reason: expect.stringMatching(/^sample: /),
      children: [],
      incident: { plan: { [SEQUENCE.step]: { mode: 'off' } } },
    });
    expect(claims().map((c) => c.outcome)).toEqual(['REFUSED']);
  });

  it('lists a protected member as not acted on, and still puts the others forward', async () => {
    // Arrange: the role is a break-glass role, by configuration.
    const breakGlass = `arn:aws:iam::${ACCOUNT}:role/app/exfiltrated-role`;
    const deps = setup({ protectedPrincipalPatterns: [breakGlass] });
    membersExist();

    // Act
    const result = await runTriage(SEQUENCE_EVENT, deps, PLAYBOOK);

    // Assert
    expect(result.decision).toBe('PROCEED');
    expect(result.children?.map((c) => c.principal?.arn ?? c.bucket?.name)).toEqual([
      USER_ARN,
      BUCKET,
    ]);
    expect(result.incident.sequence?.notActedOn).toContainEqual(
      expect.objectContaining({
        what: 'iam-credentials',
        reason: expect.stringContaining('refused: protected'),
      }),
    );
    // Left out, the role may still not decide about the set: the claim bars it.
    expect(claims()[0]?.detail.subjects).toContain(`arn:aws:iam::${ACCOUNT}:role/exfiltrated-role`);
  });

  it('makes a role one member however many of its sessions act, so they cannot crowd out the rest', async () => {
    // Arrange: 25 sessions of the role (more than the 20 members one approval takes), then the user.
    const deps = setup();
    membersExist();
    const actors = valueAt(SEQUENCE_EVENT, [
      'detail',
      'service',
      'detection',
      'sequence',
      'actors',
    ]);
    const [user, role] = Array.isArray(actors) ? actors : [];
    const sessions = Array.from({ length: 25 }, (_, i) =>
      withValue(role, ['user', 'credentialUid'], `ASIAEXAMPLETEMPKEY${String(i).padStart(2, '0')}`),
    );
    const event = withValue(
      SEQUENCE_EVENT,
      ['detail', 'service', 'detection', 'sequence', 'actors'],
      [...sessions, user],
    );

    // Act
    const result = await runTriage(event, deps, PLAYBOOK);

    // Assert
    expect(result.children?.map((c) => c.principal?.arn ?? c.bucket?.name)).toEqual([
      ROLE_ARN,
      USER_ARN,
      BUCKET,
    ]);
  });

  it('refuses a sequence none of whose members may be acted on, saying why', async () => {
    // Arrange: nothing the sequence names exists any more.
    const deps = setup();

    // Act
    const result = await runTriage(SEQUENCE_EVENT, deps, PLAYBOOK);

    // Assert
    expect(result).toMatchObject({ decision: 'REFUSED', children: [] });
    expect(result.reason).toMatch(/^nothing to contain: /);
    expect(claims().map((c) => c.outcome)).toEqual(['REFUSED']);
  });

  it('under the runtime switch to dry-run, plans every member step as a dry run, and asks nobody', async () => {
    // Arrange
    const deps = setup();
    membersExist();
    const dryRun = {
      ...deps,
      guardrails: {
        ...deps.guardrails,
        runtimeMode: {
          ...deps.guardrails.runtimeMode,
          read: async () => ({ mode: 'dry-run' as const }),
        },
      },
    };

    // Act
    const result = await runTriage(SEQUENCE_EVENT, dryRun, PLAYBOOK);

    // Assert
    expect(result.incident.plan[SEQUENCE.step]?.mode).toBe('dry-run');
    for (const child of result.children ?? []) {
      expect(Object.values(modes(child)).every((m) => m === 'dry-run' || m === 'off')).toBe(true);
    }
  });
});

describe('triage: the largest attack sequence', () => {
  it("keeps its result inside Step Functions' payload quota, listing what it leaves out by count, reading members a few at a time", async () => {
    // Arrange: 20 users with the longest names IAM allows, and 380 EKS
    // clusters (GuardDuty's maximum is 400 resources) with 2,000-character ids.
    const deps = setup();
    let reading = 0;
    let most = 0;
    iamMock.on(GetUserCommand).callsFake(async (input: { UserName: string }) => {
      reading += 1;
      most = Math.max(most, reading);
      await new Promise((resolve) => setTimeout(resolve, 5));
      reading -= 1;
      return user(input.UserName);
    });
    const user = (name: string) => ({
      User: {
        Path: '/',
        UserName: name,
        UserId: `AIDA${name.slice(-16).toUpperCase()}`,
        Arn: `arn:aws:iam::${ACCOUNT}:user/${name}`,
        CreateDate: new Date('2023-11-02T08:14:55.000Z'),
      },
    });
    const users = Array.from(
      { length: 20 },
      (_, i) => `u${String(i).padStart(2, '0')}${'x'.repeat(61)}`,
    );
    const event = withValue(
      withValue(
        SEQUENCE_EVENT,
        ['detail', 'service', 'detection', 'sequence', 'actors'],
        users.map((name, i) => ({
          id: `actor-${i}`,
          user: {
            name,
            uid: `AIDA${name.slice(-16).toUpperCase()}`,
            type: 'IAMUser',
            credentialUid: `AKIA${String(i).padStart(16, '0')}`,
          },
        })),
      ),
      ['detail', 'service', 'detection', 'sequence', 'resources'],
      Array.from({ length: 380 }, (_, i) => ({
        uid: `arn:aws:eks:us-east-1:${ACCOUNT}:cluster/${String(i).padStart(3, '0')}${'c'.repeat(1990)}`,
        resourceType: 'EKS_CLUSTER',
        accountId: ACCOUNT,
        region: 'us-east-1',
      })),
    );

    // Act
    const result = await runTriage(event, deps, PLAYBOOK);

    // Assert
    expect(result.decision).toBe('PROCEED');
    expect(result.children).toHaveLength(20);
    const listed = result.incident.sequence;
    expect(listed?.notActedOn).toHaveLength(50);
    expect(listed?.notListed).toBe(330);
    for (const entry of listed?.notActedOn ?? []) expect(entry.id.length).toBeLessThanOrEqual(300);
    // Members are read a few at a time, not all twenty at once.
    expect(most).toBeGreaterThan(1);
    expect(most).toBeLessThanOrEqual(5);
    // The state holds the result; the Map adds each child with the approval again.
    const bytes = Buffer.byteLength(JSON.stringify(result), 'utf8');
    expect(bytes).toBeLessThan(128 * 1024);
  });
});

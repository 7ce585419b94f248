/**
 * Layer 4: after a rehearsal of the iam-credentials playbook against moto,
 * the real resulting AWS state, read back with SDK clients of this file's own
 * (not the handlers'): keys, inline and attached policies, login profiles, and the ledger
 * table with its hash chain and its by-target index.
 */

import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  GetLoginProfileCommand,
  GetPolicyCommand,
  GetPolicyVersionCommand,
  GetRolePolicyCommand,
  GetUserPolicyCommand,
  IAMClient,
  ListAccessKeysCommand,
  ListAttachedUserPoliciesCommand,
  ListUserPoliciesCommand,
  NoSuchEntityException,
} from '@aws-sdk/client-iam';
import { DynamoDBDocumentClient, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import {
  roleCredentialFinding,
  seedCompromisedUser,
  seedExfiltratedRole,
  userKeyFinding,
} from '../../demo/scenario.js';
import { MODES } from '../../functions/shared/catalog.js';
import { entryHash, GENESIS_HASH, LEDGER_TARGET_INDEX } from '../../functions/shared/ledger.js';
import {
  explain,
  LEDGER_TABLE,
  onlyExecution,
  rehearsalHarness,
} from '../state-machines/harness.js';
import { motoClientConfig, useMoto } from '../support/moto.js';

const { endpoint } = useMoto();
const harness = rehearsalHarness();
const iam = new IAMClient(motoClientConfig(endpoint));
const ledgerTable = DynamoDBDocumentClient.from(new DynamoDBClient(motoClientConfig(endpoint)));

const PolicyDocument = z.object({
  Version: z.literal('2012-10-17'),
  Statement: z.array(
    z.looseObject({
      Sid: z.string().optional(),
      Effect: z.string(),
      Action: z.unknown(),
      Resource: z.unknown(),
      Condition: z.record(z.string(), z.record(z.string(), z.string())).optional(),
    }),
  ),
});

/** IAM returns inline policy documents URL-encoded. */
function decodePolicy(document: string | undefined): z.infer<typeof PolicyDocument> {
  expect(document).toBeDefined();
  return PolicyDocument.parse(JSON.parse(decodeURIComponent(document ?? '')));
}

/** A stored ledger item, unknown fields kept: the hash covers all of them. */
const StoredEntry = z.looseObject({
  incidentId: z.string(),
  seq: z.number(),
  at: z.string(),
  step: z.string(),
  action: z.string(),
  actor: z.string(),
  outcome: z.string(),
  targetArn: z.string().optional(),
  mode: z.enum(MODES).optional(),
  summary: z.string().optional(),
  before: z.unknown().optional(),
  after: z.unknown().optional(),
  executionArn: z.string().optional(),
  findingId: z.string().optional(),
  detail: z.record(z.string(), z.unknown()).optional(),
  prevHash: z.string(),
  hash: z.string(),
});

async function storedEntries(incidentId: string) {
  const page = await ledgerTable.send(
    new QueryCommand({
      TableName: LEDGER_TABLE,
      KeyConditionExpression: 'incidentId = :id',
      ExpressionAttributeValues: { ':id': incidentId },
      ConsistentRead: true,
    }),
  );
  return (page.Items ?? []).map((item) => StoredEntry.parse(item));
}

async function entriesForTarget(targetArn: string) {
  const page = await ledgerTable.send(
    new QueryCommand({
      TableName: LEDGER_TABLE,
      IndexName: LEDGER_TARGET_INDEX,
      KeyConditionExpression: 'targetArn = :arn',
      ExpressionAttributeValues: { ':arn': targetArn },
    }),
  );
  return (page.Items ?? []).map((item) => StoredEntry.parse(item));
}

describe('an IAM user contained with approval', () => {
  it('disables exactly the named key and leaves the other key active', async () => {
    const user = await seedCompromisedUser();

    const execution = onlyExecution(await harness.engine('approve').rehearse(userKeyFinding(user)));

    expect(execution.status, explain(execution)).toBe('SUCCEEDED');
    const keys = await iam.send(new ListAccessKeysCommand({ UserName: user.userName }));
    const status = Object.fromEntries(
      (keys.AccessKeyMetadata ?? []).map((k) => [k.AccessKeyId, k.Status]),
    );
    expect(status).toEqual({ [user.leakedKeyId]: 'Inactive', [user.healthyKeyId]: 'Active' });
  });

  it('attaches the revoke policy denying tokens issued before the run', async () => {
    const user = await seedCompromisedUser();
    const before = new Date();

    await harness.engine('approve').rehearse(userKeyFinding(user));

    const after = new Date();
    const policy = await iam.send(
      new GetUserPolicyCommand({
        UserName: user.userName,
        PolicyName: 'CordonRevokeOlderSessions',
      }),
    );
    const document = decodePolicy(policy.PolicyDocument);
    expect(document.Statement).toEqual([
      {
        Sid: 'CordonRevokeOlderSessions',
        Effect: 'Deny',
        Action: '*',
        Resource: '*',
        Condition: { DateLessThan: { 'aws:TokenIssueTime': expect.any(String) } },
      },
    ]);
    const cutoff = Date.parse(
      document.Statement[0]?.Condition?.DateLessThan?.['aws:TokenIssueTime'] ?? '',
    );
    expect(cutoff).toBeGreaterThanOrEqual(before.getTime());
    expect(cutoff).toBeLessThanOrEqual(after.getTime());
  });

  it('quarantines the user: AWSDenyAll attached, no inline deny-all, console login removed', async () => {
    const user = await seedCompromisedUser();
    const profile = await iam.send(new GetLoginProfileCommand({ UserName: user.userName }));
    expect(profile.LoginProfile).toBeDefined();

    await harness.engine('approve').rehearse(userKeyFinding(user));

    const attached = await iam.send(
      new ListAttachedUserPoliciesCommand({ UserName: user.userName }),
    );
    const denyAll = 'arn:aws:iam::aws:policy/AWSDenyAll';
    expect(attached.AttachedPolicies?.map((p) => p.PolicyArn)).toEqual([denyAll]);
    const { Policy } = await iam.send(new GetPolicyCommand({ PolicyArn: denyAll }));
    const version = await iam.send(
      new GetPolicyVersionCommand({ PolicyArn: denyAll, VersionId: Policy?.DefaultVersionId }),
    );
    expect(decodePolicy(version.PolicyVersion?.Document).Statement).toEqual([
      expect.objectContaining({ Effect: 'Deny', Action: ['*'], Resource: '*' }),
    ]);
    const inline = await iam.send(new ListUserPoliciesCommand({ UserName: user.userName }));
    expect(inline.PolicyNames).not.toContain('CordonQuarantine');
    await expect(
      iam.send(new GetLoginProfileCommand({ UserName: user.userName })),
    ).rejects.toBeInstanceOf(NoSuchEntityException);
  });
});

describe('an assumed role contained with approval', () => {
  it('puts the revoke policy on the role', async () => {
    const role = await seedExfiltratedRole();

    const execution = onlyExecution(
      await harness.engine('approve').rehearse(roleCredentialFinding(role)),
    );

    expect(execution.status, explain(execution)).toBe('SUCCEEDED');
    const policy = await iam.send(
      new GetRolePolicyCommand({
        RoleName: role.roleName,
        PolicyName: 'CordonRevokeOlderSessions',
      }),
    );
    expect(decodePolicy(policy.PolicyDocument).Statement).toEqual([
      expect.objectContaining({
        Effect: 'Deny',
        Condition: { DateLessThan: { 'aws:TokenIssueTime': expect.any(String) } },
      }),
    ]);
  });
});

describe('the ledger table', () => {
  it('holds every entry of the incident, as the execution reported them', async () => {
    const user = await seedCompromisedUser();

    const execution = onlyExecution(await harness.engine('approve').rehearse(userKeyFinding(user)));

    const incidentId = execution.ledger[0]?.incidentId ?? '';
    const stored = await storedEntries(incidentId);
    expect(stored.map((e) => `${e.step}:${e.outcome}`)).toEqual([
      'triage:CLAIMED',
      'disableAccessKey:INTENT',
      'disableAccessKey:CONTAINED',
      'revokeUserSessions:INTENT',
      'revokeUserSessions:CONTAINED',
      'quarantineUser:APPROVAL_REQUESTED',
      'quarantineUser:APPROVAL_GRANTED',
      'quarantineUser:INTENT',
      'quarantineUser:CONTAINED',
      'notify:NOTIFIED',
    ]);
    expect(stored).toEqual(execution.ledger);
  });

  it('chains the entries: contiguous seq from 0, each prevHash the previous hash, each hash its own', async () => {
    const user = await seedCompromisedUser();

    const execution = onlyExecution(await harness.engine('approve').rehearse(userKeyFinding(user)));

    const stored = await storedEntries(execution.ledger[0]?.incidentId ?? '');
    expect(stored.length).toBeGreaterThan(1);
    expect(stored.map((e) => e.seq)).toEqual(stored.map((_, i) => i));
    expect(stored.map((e) => e.prevHash)).toEqual([
      GENESIS_HASH,
      ...stored.slice(0, -1).map((e) => e.hash),
    ]);
    for (const entry of stored) {
      const { hash, mac, ...body } = entry;
      expect(entryHash(body), `hash of seq ${entry.seq}`).toBe(hash);
      expect(mac, `MAC of seq ${entry.seq}`).toEqual(expect.any(String));
    }
  });

  it('answers "everything done to this user" through the byTarget index, across incidents', async () => {
    const user = await seedCompromisedUser();
    const other = await seedCompromisedUser('someone-else');
    const engine = harness.engine('approve');
    const first = onlyExecution(
      await engine.rehearse(userKeyFinding(user, { updatedAt: '2024-05-14T09:31:27.405Z' })),
    );
    // Another finding about the same user: another incident.
    const second = onlyExecution(
      await engine.rehearse(
        userKeyFinding(user, { findingId: 'e'.repeat(32), updatedAt: '2024-05-14T10:45:00.000Z' }),
      ),
    );
    await engine.rehearse(userKeyFinding(other, { findingId: 'f'.repeat(32) }));

    const done = await entriesForTarget(user.arn);

    const expected = [...first.ledger, ...second.ledger].filter((e) => e.targetArn === user.arn);
    expect(done.map((e) => `${e.incidentId}#${e.seq}`).sort()).toEqual(
      expected.map((e) => `${e.incidentId}#${e.seq}`).sort(),
    );
    expect(new Set(done.map((e) => e.incidentId)).size).toBe(2);
    expect(done.map((e) => e.at)).toEqual([...done.map((e) => e.at)].sort());
    expect(done.every((e) => e.targetArn === user.arn)).toBe(true);
  });
});

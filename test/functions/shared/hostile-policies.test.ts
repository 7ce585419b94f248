import {
  AttachUserPolicyCommand,
  GetLoginProfileCommand,
  GetRoleCommand,
  GetRolePolicyCommand,
  GetUserCommand,
  GetUserPolicyCommand,
  IAMClient,
  ListAttachedUserPoliciesCommand,
  PutRolePolicyCommand,
  PutUserPolicyCommand,
} from '@aws-sdk/client-iam';
import {
  DescribeSecretCommand,
  GetResourcePolicyCommand,
  PutResourcePolicyCommand,
  SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import { mockClient } from 'aws-sdk-client-mock';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  BreakGlassSchema,
  lockSecret,
  lockStatement,
} from '../../../functions/actions/lock-secret/containment.js';
import { LOCK_SID } from '../../../functions/actions/lock-secret/state.js';
import { quarantineUser } from '../../../functions/actions/quarantine-user/containment.js';
import { revokeSessions } from '../../../functions/actions/revoke-sessions/containment.js';
import {
  REVOKE_POLICY_NAME,
  revokePolicyDocument,
} from '../../../functions/actions/revoke-sessions/state.js';
import { InvalidTaskInputError } from '../../../functions/shared/errors.js';
import type { Incident } from '../../../functions/shared/incident.js';
import { policyStatements } from '../../../functions/shared/policy-document.js';
import { expectConstantExpressions } from '../../support/dynamodb-expressions.js';
import { hostileString, iamArn, iamName } from '../../support/hostile.js';
import {
  ACCOUNT,
  ACTOR,
  actionInput,
  fakeLedger,
  GUARDS,
  incident,
  noSuchEntity,
  secretIncident,
} from './containment-fixtures.js';

/**
 * The IAM policy documents Cordon writes hold only constants, a cutoff it
 * generates, and configured break-glass ARNs: no text from a finding. The
 * builders are checked directly, and through the actions that write them,
 * with incidents whose strings are hostile: an action either refuses the
 * target before any write, or writes exactly the expected document under a
 * name IAM's own grammar allows.
 */

const iamMock = mockClient(IAMClient);
const secretsMock = mockClient(SecretsManagerClient);
const NOW = new Date('2026-03-01T10:10:00.000Z');
const IAM_NAME = /^[\w+=,.@-]{1,128}$/;

describe('policy builders', () => {
  it('revokePolicyDocument holds constants and the cutoff, nothing else', () => {
    fc.assert(
      fc.property(
        fc.date({ min: new Date('1970-01-01'), max: new Date('9999-12-31'), noInvalidDate: true }),
        (cutoff) => {
          expect(JSON.parse(revokePolicyDocument(cutoff))).toEqual({
            Version: '2012-10-17',
            Statement: [
              {
                Sid: REVOKE_POLICY_NAME,
                Effect: 'Deny',
                Action: '*',
                Resource: '*',
                Condition: { DateLessThan: { 'aws:TokenIssueTime': cutoff.toISOString() } },
              },
            ],
          });
        },
      ),
      { numRuns: 100 },
    );
  });

  it('break-glass patterns refuse whitespace, controls, bidi and non-ASCII, so only ARN text enters the lock', () => {
    fc.assert(
      fc.property(hostileString, (value) => {
        const parsed = BreakGlassSchema.safeParse([value]);
        if (parsed.success) {
          expect(value).toMatch(/^arn:[\w*?-]+:iam::[\d*?]+:(user|role)\/[\x21-\x7e]+$/);
        }
        const embedded = BreakGlassSchema.safeParse([`arn:aws:iam::${ACCOUNT}:role/${value}`]);
        if (/[^\x21-\x7e]/.test(value)) expect(embedded.success).toBe(false);
      }),
      { numRuns: 300 },
    );
  });

  it('lockStatement is one Deny statement whose only variable part is the break-glass list', () => {
    const pattern = fc
      .tuple(fc.constantFrom('user', 'role'), fc.string({ unit: 'grapheme-ascii', minLength: 1 }))
      .map(
        ([type, rest]) => `arn:aws:iam::${ACCOUNT}:${type}/${rest.replace(/[^\x21-\x7e]/g, 'x')}`,
      );
    fc.assert(
      fc.property(fc.array(pattern, { maxLength: 5 }), (breakGlass) => {
        const valid = BreakGlassSchema.parse(breakGlass);
        const statement = JSON.parse(JSON.stringify(lockStatement(valid)));
        expect(statement).toEqual({
          Sid: LOCK_SID,
          Effect: 'Deny',
          Principal: '*',
          Action: 'secretsmanager:GetSecretValue',
          Resource: '*',
          ...(valid.length > 0
            ? { Condition: { StringNotLike: { 'aws:PrincipalArn': valid } } }
            : {}),
        });
      }),
      { numRuns: 200 },
    );
  });

  it('policyStatements never throws on any stored text, URL-encoded or not', () => {
    const text = fc.oneof(
      hostileString,
      fc.json(),
      hostileString.map((s) => encodeURIComponent(s.replace(/[\ud800-\udfff]/g, '\ufffd'))),
      fc.constant('%E0%A4%A'),
      fc.constant(JSON.stringify({ Statement: 'not a list' })),
    );
    fc.assert(
      fc.property(text, (document) => {
        const statements = policyStatements(document);
        expect(statements === undefined || Array.isArray(statements)).toBe(true);
      }),
      { numRuns: 300 },
    );
  });
});

/** An incident about an IAM principal whose strings are hostile, and whose ARN may or may not parse. */
function hostilePrincipalIncident(kind: 'IAMUser' | 'AssumedRole') {
  const type = kind === 'IAMUser' ? 'user' : 'role';
  return fc
    .record({
      // Weighted towards incidents that get as far as a write (an ARN of the
      // account, and no separate name): with even odds, quarantine-user's 60
      // runs had no write at all in 3 of 10 runs of this file.
      arn: fc.oneof(
        { arbitrary: iamArn(ACCOUNT, type), weight: 2 },
        { arbitrary: hostileString, weight: 1 },
        { arbitrary: iamArn('999999999999', type), weight: 1 },
      ),
      name: fc.option(fc.oneof(iamName, hostileString), { nil: undefined, freq: 2 }),
      findingType: hostileString,
      findingId: hostileString,
      region: hostileString,
      accessKeyId: fc.option(hostileString, { nil: undefined }),
    })
    .map(({ arn, name, findingType, findingId, region, accessKeyId }): Incident => {
      // Without a separate name, the name agrees with the ARN: its last
      // segment, or none when the ARN ends in a slash (as for root).
      const last = arn.split('/').at(-1) ?? '';
      const principal = {
        kind,
        arn,
        ...(name !== undefined ? { name } : last === '' ? {} : { name: last }),
        ...(accessKeyId === undefined ? {} : { accessKeyId }),
      };
      return incident({ findingType, findingId, region, principal });
    });
}

function iamAnswers(): void {
  iamMock.reset();
  iamMock.on(GetUserCommand).resolves({});
  iamMock.on(GetRoleCommand).resolves({});
  iamMock.on(GetUserPolicyCommand).rejects(noSuchEntity());
  iamMock.on(GetRolePolicyCommand).rejects(noSuchEntity());
  iamMock.on(GetLoginProfileCommand).rejects(noSuchEntity());
  iamMock.on(ListAttachedUserPoliciesCommand).resolves({ AttachedPolicies: [] });
  iamMock.on(AttachUserPolicyCommand).resolves({});
  iamMock.on(PutUserPolicyCommand).resolves({});
  iamMock.on(PutRolePolicyCommand).resolves({});
}

/** Runs an action; it either writes or refuses its target with InvalidTaskInputError. */
async function writesOrRefuses(run: () => Promise<unknown>): Promise<'wrote' | 'refused'> {
  try {
    await run();
    return 'wrote';
  } catch (error) {
    expect(error).toBeInstanceOf(InvalidTaskInputError);
    return 'refused';
  }
}

describe('actions that write IAM policies, on hostile incidents', () => {
  it('revoke-sessions writes only its own document, to a principal named as IAM allows', async () => {
    const seen = new Set<string>();
    const input = fc.oneof(
      hostilePrincipalIncident('IAMUser').map((i) =>
        actionInput('revokeUserSessions', { incident: i, mode: 'auto' }),
      ),
      hostilePrincipalIncident('AssumedRole').map((i) =>
        actionInput('revokeRoleSessions', { incident: i, mode: 'auto' }),
      ),
    );
    await fc.assert(
      fc.asyncProperty(input, async (action) => {
        iamAnswers();
        const { ledger, ddb } = fakeLedger();
        const outcome = await writesOrRefuses(() =>
          revokeSessions(action, {
            iam: new IAMClient({}),
            ledger,
            actor: ACTOR,
            now: () => NOW,
            guards: GUARDS,
          }),
        );
        seen.add(outcome);
        const writes = [
          ...iamMock
            .commandCalls(PutUserPolicyCommand)
            .map((c) => ({ ...c.args[0].input, name: c.args[0].input.UserName })),
          ...iamMock
            .commandCalls(PutRolePolicyCommand)
            .map((c) => ({ ...c.args[0].input, name: c.args[0].input.RoleName })),
        ];
        expect(writes).toHaveLength(outcome === 'wrote' ? 1 : 0);
        for (const write of writes) {
          expect(write.PolicyDocument).toBe(revokePolicyDocument(NOW));
          expect(write.PolicyName).toBe(REVOKE_POLICY_NAME);
          expect(write.name).toMatch(IAM_NAME);
          expect(action.incident.principal?.arn.endsWith(`/${write.name}`)).toBe(true);
        }
        expectConstantExpressions(ddb);
      }),
      { numRuns: 80 },
    );
    expect(seen).toEqual(new Set(['wrote', 'refused']));
  });

  it('quarantine-user attaches only AWSDenyAll, to a user named as IAM allows, and writes no policy', async () => {
    const seen = new Set<string>();
    await fc.assert(
      fc.asyncProperty(hostilePrincipalIncident('IAMUser'), async (hostile) => {
        iamAnswers();
        const { ledger, ddb } = fakeLedger();
        const action = actionInput('quarantineUser', { incident: hostile, mode: 'auto' });
        seen.add(
          await writesOrRefuses(() =>
            quarantineUser(action, {
              iam: new IAMClient({}),
              ledger,
              actor: ACTOR,
              guards: GUARDS,
            }),
          ),
        );
        expect(iamMock.commandCalls(PutUserPolicyCommand)).toEqual([]);
        for (const call of iamMock.commandCalls(AttachUserPolicyCommand)) {
          expect(call.args[0].input.PolicyArn).toBe('arn:aws:iam::aws:policy/AWSDenyAll');
          expect(call.args[0].input.UserName).toMatch(IAM_NAME);
        }
        expectConstantExpressions(ddb);
      }),
      { numRuns: 60 },
    );
    expect(seen).toEqual(new Set(['wrote', 'refused']));
  });

  it('lock-secret adds only its own statement to the policy AWS returned, for a secret ARN of the account', async () => {
    const existing = JSON.stringify({
      Version: '2012-10-17',
      Statement: [
        { Sid: 'Owner', Effect: 'Allow', Principal: { AWS: ACCOUNT }, Action: '*', Resource: '*' },
      ],
    });
    const breakGlass = [`arn:aws:iam::${ACCOUNT}:role/break-glass-*`];
    const secretName = fc.oneof(
      fc
        .string({ unit: 'grapheme-ascii', minLength: 1, maxLength: 40 })
        .map((s) => s.replace(/[^\w/+=.@-]/g, '_')),
      hostileString,
    );
    const hostile = fc
      .record({ name: hostileString, arnName: secretName, findingType: hostileString })
      .map(({ name, arnName, findingType }) => ({
        ...secretIncident(
          { lockSecret: { mode: 'auto' } },
          {
            arn: `arn:aws:secretsmanager:us-east-1:${ACCOUNT}:secret:${arnName}`,
            name,
            rotationEnabled: false,
          },
        ),
        findingType,
      }));
    const seen = new Set<string>();
    await fc.assert(
      fc.asyncProperty(hostile, async (hostileIncident) => {
        secretsMock.reset();
        secretsMock.on(DescribeSecretCommand).resolves({});
        secretsMock.on(GetResourcePolicyCommand).resolves({ ResourcePolicy: existing });
        secretsMock.on(PutResourcePolicyCommand).resolves({});
        const { ledger, ddb } = fakeLedger();
        const action = actionInput('lockSecret', { incident: hostileIncident, mode: 'auto' });
        seen.add(
          await writesOrRefuses(() =>
            lockSecret(action, {
              secrets: new SecretsManagerClient({}),
              breakGlass,
              ledger,
              actor: ACTOR,
            }),
          ),
        );
        for (const call of secretsMock.commandCalls(PutResourcePolicyCommand)) {
          const { ResourcePolicy, SecretId } = call.args[0].input;
          expect(SecretId).toMatch(/^arn:aws:secretsmanager:us-east-1:\d{12}:secret:[\w/+=.@-]+$/);
          expect(ResourcePolicy).toBe(
            JSON.stringify({
              ...JSON.parse(existing),
              Statement: [...JSON.parse(existing).Statement, lockStatement(breakGlass)],
            }),
          );
        }
        expectConstantExpressions(ddb);
      }),
      { numRuns: 60 },
    );
    expect(seen).toEqual(new Set(['wrote', 'refused']));
  });
});

/**
 * The hub's side of a spoke session (functions/shared/spoke.ts): what it
 * asks STS for, how long a warm function keeps it, and that a role that
 * cannot be assumed fails the call, naming the account and role, instead
 * of falling back to the hub's own credentials. STS is played by a stub
 * that answers as STS does; the emulator runs (test/integration/organization.test.ts)
 * cover the same code against moto.
 */
import type { AssumeRoleCommand, AssumeRoleCommandOutput } from '@aws-sdk/client-sts';
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../../functions/shared/config-error.js';
import { ENV } from '../../../functions/shared/env-names.js';
import { ThrottledError } from '../../../functions/shared/errors.js';
import { externalIdFor, spokeRoleArn } from '../../../functions/shared/organization.js';
import {
  clientsAt,
  type Place,
  type PlaceConfig,
  placedClients,
  placeRefusal,
  SPOKE_CACHE_MAX,
  SPOKE_REFRESH_MARGIN_MS,
  SpokeSessions,
  type SpokeSts,
  SpokeUnavailableError,
} from '../../../functions/shared/spoke.js';

const DEPLOYMENT = '6f1c2b3a-4d5e-4f60-8a7b-9c0d1e2f3a4b';
const MEMBER = '222222222222';
const OTHER = '333333333333';
const INCIDENT = 'inc-0123456789abcdef0123';
const SECOND = 'inc-fedcba9876543210fedc';
const place = (account = MEMBER, incidentId = INCIDENT, region = 'eu-west-1'): Place => ({
  account,
  region,
  incidentId,
});

/** STS as a stub: each AssumeRole answers credentials expiring `lifetime` after `now()`. */
function stubSts(now: () => number, answer?: (command: AssumeRoleCommand) => unknown) {
  const calls: AssumeRoleCommand['input'][] = [];
  let issued = 0;
  const sts: SpokeSts = {
    async send(command) {
      calls.push(command.input);
      const custom = answer?.(command);
      if (custom instanceof Error) throw custom;
      if (custom !== undefined) return custom as AssumeRoleCommandOutput;
      issued += 1;
      return {
        $metadata: {},
        Credentials: {
          AccessKeyId: `ASIA${issued}`,
          SecretAccessKey: 'secret',
          SessionToken: 'token',
          Expiration: new Date(now() + 15 * 60 * 1000),
        },
      };
    },
  };
  return { sts, calls };
}

function sessions(sts: SpokeSts, now: () => number) {
  return new SpokeSessions({
    sts,
    organization: { partition: 'aws', deployment: DEPLOYMENT },
    fn: 'disable-access-key',
    now,
  });
}

const awsError = (name: string, status: number, message = name) =>
  Object.assign(new Error(message), { name, $metadata: { httpStatusCode: status } });

describe('a spoke session', () => {
  it("asks for the function's own spoke role in the account, with its external id, the incident as source identity and session name, for 15 minutes", async () => {
    const { sts, calls } = stubSts(() => 0);

    const credentials = await sessions(sts, () => 0).credentials(place());

    expect(calls).toEqual([
      {
        RoleArn: spokeRoleArn('aws', MEMBER, 'disable-access-key'),
        RoleSessionName: INCIDENT,
        ExternalId: externalIdFor(DEPLOYMENT, MEMBER),
        SourceIdentity: INCIDENT,
        DurationSeconds: 900,
      },
    ]);
    expect(credentials).toMatchObject({ accessKeyId: 'ASIA1', sessionToken: 'token' });
  });

  it('is reused for the same account and incident, shared by calls made at once, and replaced near its expiry', async () => {
    let t = 0;
    const { sts, calls } = stubSts(() => t);
    const spoke = sessions(sts, () => t);

    const [a, b] = await Promise.all([spoke.credentials(place()), spoke.credentials(place())]);
    t += 15 * 60 * 1000 - SPOKE_REFRESH_MARGIN_MS - 1;
    const c = await spoke.credentials(place('222222222222', INCIDENT, 'us-east-1'));
    t += 2;
    const d = await spoke.credentials(place());

    expect([a, b, c].map((x) => x.accessKeyId)).toEqual(['ASIA1', 'ASIA1', 'ASIA1']);
    expect(d.accessKeyId).toBe('ASIA2');
    expect(calls).toHaveLength(2);
  });

  it('is its own for each incident and each account: a session signs only its own incident in CloudTrail', async () => {
    const { sts, calls } = stubSts(() => 0);
    const spoke = sessions(sts, () => 0);

    await spoke.credentials(place(MEMBER, INCIDENT));
    await spoke.credentials(place(MEMBER, SECOND));
    await spoke.credentials(place(OTHER, INCIDENT));

    expect(calls.map((c) => [c.RoleArn, c.SourceIdentity, c.ExternalId])).toEqual([
      [
        spokeRoleArn('aws', MEMBER, 'disable-access-key'),
        INCIDENT,
        externalIdFor(DEPLOYMENT, MEMBER),
      ],
      [
        spokeRoleArn('aws', MEMBER, 'disable-access-key'),
        SECOND,
        externalIdFor(DEPLOYMENT, MEMBER),
      ],
      [
        spokeRoleArn('aws', OTHER, 'disable-access-key'),
        INCIDENT,
        externalIdFor(DEPLOYMENT, OTHER),
      ],
    ]);
  });

  it('keeps at most SPOKE_CACHE_MAX sessions, dropping the oldest first', async () => {
    const { sts, calls } = stubSts(() => 0);
    const spoke = sessions(sts, () => 0);
    const incident = (i: number) => `inc-${String(i).padStart(20, '0')}`;

    for (let i = 0; i <= SPOKE_CACHE_MAX; i += 1)
      await spoke.credentials(place(MEMBER, incident(i)));
    await spoke.credentials(place(MEMBER, incident(SPOKE_CACHE_MAX)));
    await spoke.credentials(place(MEMBER, incident(0)));

    expect(calls).toHaveLength(SPOKE_CACHE_MAX + 2);
  });

  it('refuses to assume for an input that is not an incident id (a source identity IAM would not match)', async () => {
    const { sts, calls } = stubSts(() => 0);

    await expect(
      sessions(sts, () => 0).credentials(place(MEMBER, 'inc-x/../admin')),
    ).rejects.toThrow(/not an incident id/);
    expect(calls).toEqual([]);
  });
});

describe('a spoke role that cannot be assumed', () => {
  it('fails with an error naming the account and role, and never with the hub credentials', async () => {
    const { sts } = stubSts(
      () => 0,
      () => awsError('AccessDenied', 403, 'not authorized'),
    );

    const failure = sessions(sts, () => 0).credentials(place());

    await expect(failure).rejects.toBeInstanceOf(SpokeUnavailableError);
    await expect(failure).rejects.toMatchObject({
      name: 'Cordon.SpokeUnavailable',
      retryable: false,
      message: expect.stringContaining(
        `cannot act in account ${MEMBER}: its spoke role ${spokeRoleArn('aws', MEMBER, 'disable-access-key')} could not be assumed`,
      ),
    });
  });

  it('is asked again on the next call: a failure is not kept (the StackSet may reach the account meanwhile)', async () => {
    let refuse = true;
    const { sts, calls } = stubSts(
      () => 0,
      () => (refuse ? awsError('AccessDenied', 403) : undefined),
    );
    const spoke = sessions(sts, () => 0);

    await expect(spoke.credentials(place())).rejects.toBeInstanceOf(SpokeUnavailableError);
    refuse = false;
    await expect(spoke.credentials(place())).resolves.toMatchObject({ accessKeyId: 'ASIA1' });
    expect(calls).toHaveLength(2);
  });

  it('is a retryable error when STS throttles', async () => {
    const { sts } = stubSts(
      () => 0,
      () => awsError('Throttling', 400),
    );

    await expect(sessions(sts, () => 0).credentials(place())).rejects.toBeInstanceOf(
      ThrottledError,
    );
  });

  it('fails when STS answers without credentials', async () => {
    const { sts } = stubSts(
      () => 0,
      () => ({ $metadata: {} }),
    );

    await expect(sessions(sts, () => 0).credentials(place())).rejects.toThrow(
      `STS returned no credentials for ${spokeRoleArn('aws', MEMBER, 'disable-access-key')}`,
    );
  });
});

describe('placeRefusal', () => {
  const organization = {
    partition: 'aws',
    deployment: DEPLOYMENT,
    organizationId: 'o-a1b2c3d4e5',
    accounts: [MEMBER],
    excludedAccounts: [],
    regions: ['eu-west-1'],
  };
  const home = { region: 'us-east-1' };

  it("accepts an account in scope, in the hub's region or a configured one", () => {
    expect(placeRefusal(organization, place(MEMBER, INCIDENT, 'eu-west-1'), home)).toBeUndefined();
    expect(placeRefusal(organization, place(MEMBER, INCIDENT, 'us-east-1'), home)).toBeUndefined();
  });

  it('turns away an account out of scope or excluded, and a region the hub does not act in', () => {
    expect(placeRefusal(organization, place(OTHER), home)).toMatch(/not in Cordon's scope/);
    expect(
      placeRefusal({ ...organization, accounts: '*', excludedAccounts: [MEMBER] }, place(), home),
    ).toMatch(/excluded/);
    expect(placeRefusal(organization, place(MEMBER, INCIDENT, 'ap-southeast-2'), home)).toBe(
      'region ap-southeast-2 is not one Cordon acts in (eu-west-1)',
    );
  });
});

describe('placed clients', () => {
  const ORGANIZATION = JSON.stringify({
    partition: 'aws',
    deployment: DEPLOYMENT,
    organizationId: 'o-a1b2c3d4e5',
    accounts: [MEMBER],
    excludedAccounts: [],
    regions: ['eu-west-1'],
  });

  it('single-account: one set per region, with the function’s own credentials, and no STS call', () => {
    const made: PlaceConfig[] = [];
    const { sts, calls } = stubSts(() => 0);
    const at = placedClients(
      {},
      'disable-access-key',
      (config) => {
        made.push(config);
        return { config };
      },
      sts,
    );

    const a = at(place(MEMBER, INCIDENT, 'eu-west-1'));
    const b = at(place(MEMBER, SECOND, 'eu-west-1'));
    at(place(MEMBER, INCIDENT, 'us-east-1'));

    expect(a).toBe(b);
    expect(made).toEqual([{ region: 'eu-west-1' }, { region: 'us-east-1' }]);
    expect(calls).toEqual([]);
  });

  it("organization-wide: one set per account, region and incident, signed with that place's spoke session", async () => {
    const made: PlaceConfig[] = [];
    const { sts, calls } = stubSts(() => Date.now());
    const at = placedClients(
      { [ENV.organization]: ORGANIZATION },
      'disable-access-key',
      (config) => {
        made.push(config);
        return { config };
      },
      sts,
    );

    const a = at(place());
    expect(at(place())).toBe(a);
    const other = at(place(MEMBER, SECOND));
    const identity = await a.config.credentials?.();
    await other.config.credentials?.();

    expect(made.map((m) => m.region)).toEqual(['eu-west-1', 'eu-west-1']);
    expect(identity?.accessKeyId).toBe('ASIA1');
    expect(calls.map((c) => c.SourceIdentity)).toEqual([INCIDENT, SECOND]);
  });

  it("organization-wide, acts in the hub's own account with the function's own role: no spoke is assumed there", async () => {
    const made: PlaceConfig[] = [];
    const { sts, calls } = stubSts(() => Date.now());
    const at = placedClients(
      {
        [ENV.organization]: ORGANIZATION,
        [ENV.actor]: `arn:aws:iam::${OTHER}:role/cordon/Cordon-DisableAccessKeyRole`,
      },
      'disable-access-key',
      (config) => {
        made.push(config);
        return { config };
      },
      sts,
    );

    at(place(OTHER));
    await at(place(MEMBER)).config.credentials?.();

    expect(made[0]).toEqual({ region: 'eu-west-1' });
    expect(calls.map((c) => c.RoleArn)).toEqual([
      spokeRoleArn('aws', MEMBER, 'disable-access-key'),
    ]);
  });

  it('tells, before any call, whether the spoke role can be assumed (and nothing is assumed at home or single-account)', async () => {
    const env = {
      [ENV.organization]: ORGANIZATION,
      [ENV.actor]: `arn:aws:iam::${OTHER}:role/cordon/Cordon-TriageRole`,
    };
    const refusing = stubSts(
      () => 0,
      () => awsError('AccessDenied', 403),
    );
    const at = placedClients(env, 'triage', (config) => ({ config }), refusing.sts);

    await expect(at.ready(place(MEMBER))).rejects.toBeInstanceOf(SpokeUnavailableError);
    await expect(at.ready(place(OTHER))).resolves.toBeUndefined();
    await expect(
      placedClients({}, 'triage', (config) => ({ config }), refusing.sts).ready(place(MEMBER)),
    ).resolves.toBeUndefined();
    expect(refusing.calls.map((c) => c.RoleArn)).toEqual([spokeRoleArn('aws', MEMBER, 'triage')]);
  });

  it('refuses at cold start an organization setting that does not parse', () => {
    expect(() =>
      placedClients({ [ENV.organization]: '{"partition":"aws"}' }, 'triage', () => ({})),
    ).toThrow(ConfigError);
  });

  it('takes fixed clients as they are (tests, and handlers given their clients)', () => {
    const fixed = { iam: 'fixed' };

    expect(clientsAt(fixed, place())).toBe(fixed);
  });
});

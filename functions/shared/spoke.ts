import { AssumeRoleCommand, type AssumeRoleCommandOutput, STSClient } from '@aws-sdk/client-sts';
import type { AwsCredentialIdentity, AwsCredentialIdentityProvider } from '@smithy/types';
import { clientOptions } from './aws.js';
import type { FunctionName } from './catalog.js';
import { type Environment, requireJsonEnv } from './env.js';
import { ENV } from './env-names.js';
import { CordonError, classifyAwsError } from './errors.js';
import { parseIamArn } from './iam-arn.js';
import {
  externalIdFor,
  type OrganizationRuntime,
  OrganizationRuntimeSchema,
  outOfScope,
  SPOKE_SESSION_SECONDS,
  sourceIdentityFor,
  spokeRoleArn,
} from './organization.js';

/**
 * Where a function makes its calls on what a finding names: the finding's
 * account and region, for one incident. In single-account mode that is the
 * function's own account, in the finding's region; organization-wide, the
 * finding's account through its spoke role for this function, the session
 * naming the incident (organization.ts).
 */
export interface Place {
  readonly account: string;
  readonly region: string;
  readonly incidentId: string;
}

/** Where an incident's calls are made: its finding's account and region. */
export function placeOf(incident: {
  readonly incidentId: string;
  readonly account: string;
  readonly region: string;
}): Place {
  return { account: incident.account, region: incident.region, incidentId: incident.incidentId };
}

/** What an SDK client is built with for one place: its region and, organization-wide, the spoke's credentials. */
export interface PlaceConfig {
  readonly region: string;
  readonly credentials?: AwsCredentialIdentityProvider;
}

/**
 * A function's clients for each place, and a way to know before any call
 * that its calls can be made there: organization-wide, that the place's
 * spoke role can be assumed (else SpokeUnavailableError).
 */
export type PlacedClients<C> = ((place: Place) => C) & {
  readonly ready: (place: Place) => Promise<void>;
};

/** A function's clients: fixed (tests), or built for each place. */
export type Clients<C> = C | ((place: Place) => C);

/** The clients for `place`. */
export function clientsAt<C extends object>(clients: Clients<C>, place: Place): C {
  return typeof clients === 'function' ? clients(place) : clients;
}

/** A spoke role could not be assumed: the step fails, naming the account and role; nothing falls back to the hub's own permissions. */
export class SpokeUnavailableError extends CordonError {
  override readonly name = 'Cordon.SpokeUnavailable';
  readonly retryable = false;
}

/**
 * Sessions are used until this long before they expire, then replaced: the
 * SDK's own margin (it asks its provider again within five minutes of expiry).
 */
export const SPOKE_REFRESH_MARGIN_MS = 5 * 60 * 1000;

/** At most this many sessions and client sets are kept in a warm function; the oldest go first. */
export const SPOKE_CACHE_MAX = 64;

/** The one STS call a hub function makes for its spokes. */
export interface SpokeSts {
  send(command: AssumeRoleCommand): Promise<AssumeRoleCommandOutput>;
}

interface Session {
  readonly identity: Promise<AwsCredentialIdentity>;
  /** When to stop using it: as asked for until STS's answer says. */
  expires: number;
}

/**
 * One function's sessions in the member accounts' spoke roles: each
 * assumed once per account and incident and reused by the warm function
 * until shortly before it expires. Per incident, not only per account,
 * because a session's source identity is fixed when it is assumed: a
 * session shared by two incidents would sign the second one's calls, in
 * the member's CloudTrail, with the first one's id.
 */
export class SpokeSessions {
  private readonly sessions = new Map<string, Session>();

  constructor(
    private readonly deps: {
      readonly sts: SpokeSts;
      readonly organization: Pick<OrganizationRuntime, 'partition' | 'deployment'>;
      readonly fn: FunctionName;
      readonly now?: () => number;
    },
  ) {}

  /** The spoke credentials for `place`, assumed on first use. */
  provider(place: Place): AwsCredentialIdentityProvider {
    return () => this.credentials(place);
  }

  credentials(place: Place): Promise<AwsCredentialIdentity> {
    const now = this.deps.now?.() ?? Date.now();
    const key = `${place.account}/${place.incidentId}`;
    const held = this.sessions.get(key);
    if (held !== undefined && held.expires - SPOKE_REFRESH_MARGIN_MS > now) return held.identity;
    // Until the answer says otherwise, a session lasts what was asked for.
    const session = { identity: this.assume(place), expires: now + SPOKE_SESSION_SECONDS * 1000 };
    this.sessions.delete(key);
    this.sessions.set(key, session);
    evictOldest(this.sessions);
    session.identity.then(
      (identity) => {
        if (identity.expiration !== undefined) session.expires = identity.expiration.getTime();
      },
      // A failed assumption is not kept: the next call asks STS again.
      () => {
        if (this.sessions.get(key) === session) this.sessions.delete(key);
      },
    );
    return session.identity;
  }

  private async assume(place: Place): Promise<AwsCredentialIdentity> {
    const { partition, deployment } = this.deps.organization;
    const roleArn = spokeRoleArn(partition, place.account, this.deps.fn);
    let answer: AssumeRoleCommandOutput;
    try {
      answer = await this.deps.sts.send(
        new AssumeRoleCommand({
          RoleArn: roleArn,
          RoleSessionName: place.incidentId,
          ExternalId: externalIdFor(deployment, place.account),
          SourceIdentity: sourceIdentityFor(place.incidentId),
          DurationSeconds: SPOKE_SESSION_SECONDS,
        }),
      );
    } catch (error) {
      const failure = classifyAwsError(error, `assuming ${roleArn}`);
      if (failure.retryable) throw failure;
      throw new SpokeUnavailableError(
        `cannot act in account ${place.account}: its spoke role ${roleArn} could not be assumed (${failure.message}); the spoke roles may not have reached that account yet, and Cordon never falls back to the hub's own permissions`,
        { cause: error },
      );
    }
    const credentials = answer.Credentials;
    if (
      credentials?.AccessKeyId === undefined ||
      credentials.SecretAccessKey === undefined ||
      credentials.SessionToken === undefined
    ) {
      throw new SpokeUnavailableError(`STS returned no credentials for ${roleArn}`);
    }
    return {
      accessKeyId: credentials.AccessKeyId,
      secretAccessKey: credentials.SecretAccessKey,
      sessionToken: credentials.SessionToken,
      ...(credentials.Expiration === undefined ? {} : { expiration: credentials.Expiration }),
    };
  }
}

/**
 * Why an action may not make calls at `place` at all, organization-wide, or
 * undefined: an account out of scope by configuration, or a region the hub
 * does not act in (`home`, its own region, or `regions`). Triage never
 * validates such an incident; this turns away a forged direct invocation
 * before its first read, instead of reading in any account or region the
 * caller names until the input check refuses it.
 */
export function placeRefusal(
  organization: OrganizationRuntime,
  place: Place,
  home: { readonly region: string | undefined },
): string | undefined {
  const scope = outOfScope(organization, place.account);
  if (scope !== undefined) return scope;
  return place.region === home.region || organization.regions.includes(place.region)
    ? undefined
    : `region ${place.region} is not one Cordon acts in (${organization.regions.join(', ')})`;
}

/** The function's organization settings (CORDON_ORGANIZATION), or undefined in single-account mode. */
export function organizationOf(env: Environment): OrganizationRuntime | undefined {
  return env[ENV.organization] === undefined
    ? undefined
    : requireJsonEnv(env, ENV.organization, OrganizationRuntimeSchema);
}

/**
 * A function's clients for each place, built by `make`: in single-account
 * mode with the function's own credentials, one set per region;
 * organization-wide (CORDON_ORGANIZATION set) with the place's spoke
 * session, one set per account, region and incident. Sets are reused by the
 * warm function (connections and all), at most SPOKE_CACHE_MAX of them.
 */
export function placedClients<C extends object>(
  env: Environment,
  fn: FunctionName,
  make: (config: PlaceConfig) => C,
  sts?: SpokeSts,
): PlacedClients<C> {
  const organization = organizationOf(env);
  const sets = new Map<string, C>();
  const cached = (key: string, build: () => C): C => {
    const held = sets.get(key);
    if (held !== undefined) return held;
    const built = build();
    sets.set(key, built);
    evictOldest(sets, destroy);
    return built;
  };
  const own = (place: Place) => cached(place.region, () => make({ region: place.region }));
  const nothingToAssume = async () => {};
  if (organization === undefined) return Object.assign(own, { ready: nothingToAssume });
  const sessions = new SpokeSessions({
    sts: sts ?? new STSClient(clientOptions),
    organization,
    fn,
  });
  // The hub's own account has no spoke roles: its own role acts there, fenced as single-account.
  const home = homeAccount(env);
  const at = (place: Place) =>
    place.account === home
      ? own(place)
      : cached(`${place.account}/${place.region}/${place.incidentId}`, () =>
          make({ region: place.region, credentials: sessions.provider(place) }),
        );
  return Object.assign(at, {
    ready: async (place: Place) => {
      if (place.account !== home) await sessions.credentials(place);
    },
  });
}

/** The account of the function's own role (CORDON_ACTOR_ARN), or undefined when it names none. */
function homeAccount(env: Environment): string | undefined {
  return parseIamArn(env[ENV.actor] ?? '')?.account;
}

/** Drops the oldest entries of `map` (insertion order) past SPOKE_CACHE_MAX. */
function evictOldest<V>(map: Map<string, V>, drop?: (value: V) => void): void {
  for (const [key, value] of map) {
    if (map.size <= SPOKE_CACHE_MAX) return;
    map.delete(key);
    drop?.(value);
  }
}

/** Closes the connections of a set of SDK clients. */
function destroy(clients: object): void {
  for (const client of Object.values(clients)) {
    if (typeof client === 'object' && client !== null && 'destroy' in client) {
      const close = client.destroy;
      if (typeof close === 'function') close.call(client);
    }
  }
}

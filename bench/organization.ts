/**
 * The organization burst: findings from many member accounts, delivered to
 * the hub (each once, plus repeats of the same deliveries), contained by
 * the hub's functions through each member's spoke roles, against moto,
 * which keeps a separate state per account and answers AssumeRole into any
 * role of an account with credentials for that account. The same burst,
 * its users in the hub, runs in single-account mode for comparison.
 *
 * Spoke sessions are counted as STS received them: the counting proxy
 * keeps every AssumeRole request's role, session name and source identity
 * (observe.ts). The engine hosts one warm instance of each function (one
 * container per function, rehearsal/functions.ts), so a function's requests
 * for one account and incident are what one warm container asked for.
 */

import { IAMClient, ListAccessKeysCommand } from '@aws-sdk/client-iam';
import { AssumeRoleCommand, STSClient } from '@aws-sdk/client-sts';
import type * as Scenario from '../demo/scenario.js';
import { SPOKE_ROLE_PATH } from '../functions/shared/organization.js';
import { SPOKE_CACHE_MAX } from '../functions/shared/spoke.js';
import type { RehearsalEngine } from '../rehearsal/engine.js';
import {
  type BurstFigures,
  type BurstFinding,
  findingId,
  hubFindings,
  pool,
  runBurst,
} from './burst.js';
import type { AssumeRoleRequest, CountingProxy } from './observe.js';

/** `count` member account ids, none of them `hub`: 21 then ten digits, in order. */
export function memberAccounts(count: number, hub: string): string[] {
  const accounts: string[] = [];
  for (let n = 0; accounts.length < count; n++) {
    const account = `21${n.toString().padStart(10, '0')}`;
    if (account !== hub) accounts.push(account);
  }
  return accounts;
}

/**
 * The `cordon` settings that scope `accounts` in `region` organization-wide:
 * the hub acts in those members only, through their spoke roles.
 */
export function organizationSettings(
  accounts: readonly string[],
  region: string,
): Record<string, unknown> {
  return {
    organization: {
      organizationId: 'o-cordonbench',
      accounts: [...accounts],
      organizationalUnits: ['ou-bnch-cordon01'],
      regions: [region],
    },
  };
}

/** Where a spoke role lives and whose it is, read from its ARN; undefined for any other role. */
function spokeRole(roleArn: string): { account: string; fn: string } | undefined {
  const path = SPOKE_ROLE_PATH.replace(/[/]/g, '\\/');
  const match = new RegExp(`^arn:[\\w-]+:iam::(\\d{12}):role${path}([\\w+=,.@-]+)$`).exec(roleArn);
  const [, account, fn] = match ?? [];
  return account === undefined || fn === undefined ? undefined : { account, fn };
}

export interface FunctionSessions {
  readonly fn: string;
  /** AssumeRole requests into this function's spoke roles. */
  readonly requests: number;
  /** Distinct (account, incident) sessions among them. */
  readonly sessions: number;
  readonly maxPerAccount: number;
  readonly maxPerAccountAndIncident: number;
}

export interface SpokeSessionFigures {
  /** AssumeRole requests into a spoke role (`/cordon/<function>`) of any account. */
  readonly total: number;
  /** Most requests for one (account, function): one per incident is expected. */
  readonly maxPerAccountAndFunction: number;
  /** Most requests for one (account, function, incident): 1 is expected. */
  readonly maxPerAccountFunctionAndIncident: number;
  /**
   * Requests for an (account, function, incident) session asked for before,
   * after at least SPOKE_CACHE_MAX other sessions of that function: the
   * warm function's bounded cache had let it go (spoke.ts).
   */
  readonly reassumedAfterEviction: number;
  /** Requests for a session asked for before, fewer than SPOKE_CACHE_MAX sessions ago: it should still have been held. */
  readonly reassumedWhileHeld: number;
  /** SPOKE_CACHE_MAX: the sessions a warm function holds at most. */
  readonly cacheBound: number;
  /** Requests into an account outside `members` (the hub's own among them). */
  readonly outsideScope: number;
  /** Requests whose session name or source identity is not the same incident id. */
  readonly unnamed: number;
  /** Incidents (session names) with a spoke session, per account: the most and the fewest. */
  readonly incidentsPerAccount: { readonly min: number; readonly max: number };
  readonly byFunction: readonly FunctionSessions[];
}

const max = (values: Iterable<number>): number => Math.max(0, ...values);

/** Counts the spoke sessions among `requests` (other AssumeRole requests are left out). */
export function spokeSessionFigures(
  requests: readonly AssumeRoleRequest[],
  members: readonly string[],
): SpokeSessionFigures {
  const scope = new Set(members);
  const perAccountFunction = new Map<string, number>();
  const perSession = new Map<string, number>();
  const incidents = new Map<string, Set<string>>();
  const byFunction = new Map<string, { requests: number; perAccount: Map<string, number> }>();
  /** Per function, its requests so far; per session, that count at its last request. */
  const asked = new Map<string, number>();
  const lastAsked = new Map<string, number>();
  let total = 0;
  let outsideScope = 0;
  let unnamed = 0;
  let reassumedAfterEviction = 0;
  let reassumedWhileHeld = 0;
  for (const request of requests) {
    const role = spokeRole(request.roleArn);
    if (role === undefined) continue;
    total++;
    const before = asked.get(role.fn) ?? 0;
    asked.set(role.fn, before + 1);
    if (!scope.has(role.account)) outsideScope++;
    if (request.sourceIdentity !== request.sessionName) unnamed++;
    const accountFunction = `${role.account}/${role.fn}`;
    perAccountFunction.set(accountFunction, (perAccountFunction.get(accountFunction) ?? 0) + 1);
    const session = `${accountFunction}/${request.sessionName}`;
    perSession.set(session, (perSession.get(session) ?? 0) + 1);
    const last = lastAsked.get(session);
    if (last !== undefined && before - last >= SPOKE_CACHE_MAX) reassumedAfterEviction++;
    else if (last !== undefined) reassumedWhileHeld++;
    // Counted after this request: the sessions asked for since are the ones that push it out.
    lastAsked.set(session, before + 1);
    const seen = incidents.get(role.account) ?? new Set<string>();
    seen.add(request.sessionName);
    incidents.set(role.account, seen);
    const fn = byFunction.get(role.fn) ?? { requests: 0, perAccount: new Map<string, number>() };
    fn.requests++;
    fn.perAccount.set(role.account, (fn.perAccount.get(role.account) ?? 0) + 1);
    byFunction.set(role.fn, fn);
  }
  const sessionsOf = (fn: string) =>
    [...perSession].filter(([key]) => spokeFunctionOf(key) === fn).map(([, n]) => n);
  const counts = [...incidents.values()].map((s) => s.size);
  return {
    total,
    maxPerAccountAndFunction: max(perAccountFunction.values()),
    maxPerAccountFunctionAndIncident: max(perSession.values()),
    reassumedAfterEviction,
    reassumedWhileHeld,
    cacheBound: SPOKE_CACHE_MAX,
    outsideScope,
    unnamed,
    incidentsPerAccount: {
      min: counts.length === 0 ? 0 : Math.min(...counts),
      max: max(counts),
    },
    byFunction: [...byFunction]
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([fn, f]) => ({
        fn,
        requests: f.requests,
        sessions: sessionsOf(fn).length,
        maxPerAccount: max(f.perAccount.values()),
        maxPerAccountAndIncident: max(sessionsOf(fn)),
      })),
  };
}

/** The function of a session key `<account>/<function>/<incident>`. */
function spokeFunctionOf(key: string): string | undefined {
  return /^\d{12}\/([^/]+)\//.exec(key)?.[1];
}

/** Deliveries per distinct finding: each once, the rest repeats drawn at random (burst.ts). */
export const DELIVERIES_PER_FINDING = 3;

export interface OrganizationBurstOptions {
  readonly scenario: typeof Scenario;
  readonly proxy: CountingProxy;
  readonly clientOptions: { readonly maxAttempts: number; readonly customUserAgent: string };
  readonly ledgerTable: string;
  /** The hub, in single-account mode (the comparison) and organization-wide. */
  readonly single: RehearsalEngine;
  readonly organization: RehearsalEngine;
  /** The members in the organization engine's scope. */
  readonly accounts: readonly string[];
  readonly findingsPerAccount: number;
  readonly concurrency: number;
  readonly log?: (line: string) => void;
}

export interface OrganizationBurstFigures {
  readonly accounts: number;
  readonly findingsPerAccount: number;
  readonly organization: BurstFigures;
  /** The same burst (as many findings and deliveries), its users in the hub, single-account. */
  readonly single: BurstFigures;
  readonly sessions: SpokeSessionFigures;
  /** Hub users named as the members' whose keys changed: 0 unless a call landed in the hub. */
  readonly hubTwinsTouched: number;
}

/** An IAM client acting in `account`, with moto's credentials for a role there. */
async function iamIn(
  account: string,
  partition: string,
  clientOptions: OrganizationBurstOptions['clientOptions'],
): Promise<IAMClient> {
  const sts = new STSClient(clientOptions);
  const { Credentials } = await sts.send(
    new AssumeRoleCommand({
      RoleArn: `arn:${partition}:iam::${account}:role/bench-setup`,
      RoleSessionName: 'bench-setup',
    }),
  );
  if (!Credentials?.AccessKeyId || !Credentials.SecretAccessKey) {
    throw new Error(`moto returned no credentials for account ${account}`);
  }
  return new IAMClient({
    ...clientOptions,
    credentials: {
      accessKeyId: Credentials.AccessKeyId,
      secretAccessKey: Credentials.SecretAccessKey,
      sessionToken: Credentials.SessionToken,
    },
  });
}

/**
 * Runs the burst single-account (users in the hub), then organization-wide
 * (as many users, `findingsPerAccount` in each member, delivered to the
 * hub, and a user of each name in the hub too, which must stay untouched).
 */
export async function runOrganizationBurst(
  options: OrganizationBurstOptions,
): Promise<OrganizationBurstFigures> {
  const log = options.log ?? (() => undefined);
  const { scenario, accounts, findingsPerAccount, concurrency } = options;
  const { account: hub, region, partition } = options.organization.values;
  const distinct = accounts.length * findingsPerAccount;
  const total = distinct * DELIVERIES_PER_FINDING;
  const hubIam = new IAMClient(options.clientOptions);
  const common = {
    proxy: options.proxy,
    clientOptions: options.clientOptions,
    ledgerTable: options.ledgerTable,
    total,
    concurrency,
  };

  // One finding through each engine first, so neither burst pays for importing the handlers.
  const warm = await scenario.seedCompromisedUser('bench-warm-up', hubIam);
  await options.single.rehearse(
    scenario.userKeyFinding(warm, { region, findingId: findingId('c', 0) }),
  );
  log(`organization burst: the same ${total} deliveries single-account first`);
  const single = await runBurst({
    ...common,
    engine: options.single,
    seed: hubFindings({
      scenario,
      iam: hubIam,
      distinct,
      concurrency,
      prefix: 'bench-single',
      idPrefix: 'a',
    }),
    log,
  });

  const names = Array.from({ length: findingsPerAccount }, (_, k) => `bench-org-${k}`);
  const twins = await Promise.all(names.map((name) => scenario.seedCompromisedUser(name, hubIam)));
  const seed = async (): Promise<BurstFinding[]> => {
    const findings: BurstFinding[] = new Array(distinct);
    await pool(accounts, concurrency, async (account, index) => {
      const iam = await iamIn(account, partition, options.clientOptions);
      for (const [k, name] of names.entries()) {
        const user = await scenario.seedCompromisedUser(name, iam);
        const event = scenario.userKeyFinding(user, {
          account,
          deliveredTo: hub,
          region,
          findingId: findingId('b', index * findingsPerAccount + k),
        });
        findings[index * findingsPerAccount + k] = { user, iam, event };
      }
    });
    return findings;
  };
  log(
    `organization burst: ${accounts.length} member accounts x ${findingsPerAccount} findings, ${total} deliveries`,
  );
  const [first] = accounts;
  if (first === undefined) throw new Error('the organization burst needs member accounts');
  const warmMember = await scenario.seedCompromisedUser(
    'bench-warm-up',
    await iamIn(first, partition, options.clientOptions),
  );
  await options.organization.rehearse(
    scenario.userKeyFinding(warmMember, {
      account: first,
      deliveredTo: hub,
      region,
      findingId: findingId('d', 0),
    }),
  );
  const from = options.proxy.assumeRoleRequests().length;
  const organization = await runBurst({ ...common, engine: options.organization, seed, log });
  const sessions = spokeSessionFigures(
    options.proxy.assumeRoleRequests().slice(from),
    options.accounts,
  );

  let hubTwinsTouched = 0;
  for (const twin of twins) {
    const keys = await hubIam.send(new ListAccessKeysCommand({ UserName: twin.userName }));
    if ((keys.AccessKeyMetadata ?? []).some((k) => k.Status !== 'Active')) hubTwinsTouched++;
  }
  return {
    accounts: accounts.length,
    findingsPerAccount,
    organization,
    single,
    sessions,
    hubTwinsTouched,
  };
}

import type { FunctionName } from './catalog.js';
import { INCIDENT_ID } from './incident-id.js';
import { CORDON_ROLE_PATH } from './runtime-config.js';
import { z } from './z.js';

/**
 * Organization-wide (hub and spokes): what the hub's functions and the
 * member accounts' spoke roles agree on. Infra builds the spoke roles and
 * their trust from these; the hub's functions build their AssumeRole calls
 * from the same values, so the two cannot drift. Nothing here calls AWS or
 * imports the CDK.
 */

/** The path of every spoke role in a member account: Cordon's own path. */
export const SPOKE_ROLE_PATH = CORDON_ROLE_PATH;

/**
 * A function's spoke role in every member account is named after the
 * function (`/cordon/disable-access-key`, `/cordon/rollback-lock-secret`,
 * `/cordon/triage`): the same name in every account, so the hub needs only
 * the account to name it.
 */
export function spokeRoleName(fn: FunctionName): string {
  return fn;
}

/** The ARN of `fn`'s spoke role in `account`. */
export function spokeRoleArn(partition: string, account: string, fn: FunctionName): string {
  return `arn:${partition}:iam::${account}:role${SPOKE_ROLE_PATH}${spokeRoleName(fn)}`;
}

/**
 * What a hub function asks for when it assumes a spoke role: 15 minutes,
 * STS's minimum, enough for one action's calls (an action's function
 * times out well within it).
 */
export const SPOKE_SESSION_SECONDS = 15 * 60;

/**
 * The longest session a spoke role allows: one hour, the least IAM accepts
 * for a role's MaxSessionDuration. The hub asks for SPOKE_SESSION_SECONDS.
 */
export const SPOKE_MAX_SESSION_SECONDS = 60 * 60;

/**
 * The external id a hub function passes to `account`'s spoke roles:
 * `cordon-<deployment>-<account>`, where `deployment` is the unique part of
 * the hub stack's id (`AWS::StackId`, a UUID CloudFormation draws when the
 * hub stack is created: nothing in this repository or its configuration
 * holds it, and a hub deleted and created again gets a new one).
 *
 * Why this and not a keyed hash of the organization, hub and member
 * accounts: the spoke roles reach every member through one StackSet, with
 * one template and one set of parameters for every account, and
 * CloudFormation has no function that hashes; the per-account part must
 * come from the member's own `AWS::AccountId`, which the template can join.
 *
 * What knowing it gives an attacker: nothing alone. AWS documents the
 * external id as a guard against the confused deputy, not a secret: a
 * member's administrators can read it in their spoke roles' trust policies.
 * The trust also requires the exact hub function role as the principal,
 * that principal inside the organization (`aws:PrincipalOrgID`), and a
 * source identity of the incident id's shape, so a principal that is not
 * that hub role cannot assume a spoke role with it. What it adds: a spoke
 * role answers only the hub deployment that made it (another Cordon hub in
 * the organization, or one redeployed from scratch, has another value), and
 * an id meant for one account cannot open another's roles.
 */
export function externalIdFor(deployment: string, account: string): string {
  return `${EXTERNAL_ID_PREFIX}${deployment}-${account}`;
}

/** What every external id starts with (`externalIdFor`). */
export const EXTERNAL_ID_PREFIX = 'cordon-';

/**
 * The deployment part of the external id, from the hub stack's id
 * (`arn:aws:cloudformation:<region>:<account>:stack/<name>/<uuid>`): its UUID.
 */
export function deploymentOf(stackId: string): string {
  const uuid = /\/([0-9a-f-]{36})$/.exec(stackId)?.[1];
  if (uuid === undefined) throw new Error(`not a CloudFormation stack id: ${stackId}`);
  return uuid;
}

/**
 * The source identity a hub function sets on every spoke session: the
 * incident id, so the member's CloudTrail names the incident on every call
 * the session makes (it persists and cannot be changed within the session).
 */
export function sourceIdentityFor(incidentId: string): string {
  if (!INCIDENT_ID.test(incidentId)) {
    throw new Error(`not an incident id, so not a source identity: ${incidentId}`);
  }
  return incidentId;
}

/**
 * The shape of a source identity as IAM can check it (`StringLike`): `inc-`
 * and 20 characters, the length of an incident id (INCIDENT_ID). IAM has no
 * character classes: the hub's own check (`sourceIdentityFor`) is stricter.
 */
export const SOURCE_IDENTITY_PATTERN = `inc-${'?'.repeat(20)}`;

const ACCOUNT = z.string().regex(/^\d{12}$/);

/**
 * What a hub function needs at run time, organization-wide: infra renders
 * it from the validated `organization` key into CORDON_ORGANIZATION. Its
 * presence is organization mode: without it a function acts in its own
 * account, as before.
 */
export const OrganizationRuntimeSchema = z.strictObject({
  /** The hub's partition: spoke role ARNs are built in it. */
  partition: z.string().regex(/^aws(-[a-z]+)*$/),
  /** The hub deployment's part of every external id (`externalIdFor`). */
  deployment: z.string().regex(/^[0-9a-f-]{36}$/),
  organizationId: z.string().regex(/^o-[a-z0-9]{10,32}$/),
  /** The accounts in scope, or `*`: every member of the organization. */
  accounts: z.union([z.literal('*'), z.array(ACCOUNT).min(1)]),
  excludedAccounts: z.array(ACCOUNT),
  regions: z.array(z.string().min(1)).min(1),
});
export type OrganizationRuntime = z.infer<typeof OrganizationRuntimeSchema>;

/**
 * Why `account` is out of scope by configuration alone, or undefined when it
 * is listed (or `*` and not excluded: Organizations then has the last word).
 */
export function outOfScope(organization: OrganizationRuntime, account: string): string | undefined {
  if (organization.excludedAccounts.includes(account)) {
    return `account ${account} is excluded from Cordon's scope (excludedAccounts)`;
  }
  const { accounts } = organization;
  if (accounts !== '*' && !accounts.includes(account)) {
    return `account ${account} is not in Cordon's scope (accounts: ${accounts.join(', ')})`;
  }
  return undefined;
}

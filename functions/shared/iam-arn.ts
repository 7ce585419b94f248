import { InvalidTaskInputError } from './errors.js';
import type { Incident } from './incident.js';
import { requirePrincipal } from './incident-require.js';
import type { LedgerEntry } from './ledger.js';

/**
 * IAM user and role ARNs: `arn:<partition>:iam::<account>:<user|role>/<path/><name>`.
 * The name is the last path segment; a path may hold any printable ASCII but `/`
 * inside a segment. STS session ARNs and other services are not parsed.
 */
export interface IamArn {
  readonly partition: string;
  readonly account: string;
  readonly resourceType: 'user' | 'role';
  /** `/` or `/a/b/`. */
  readonly path: string;
  readonly name: string;
}

/**
 * A long-term access key id (`AKIA...`): the only kind that can be disabled.
 * Temporary ones (`ASIA...`) end with their session, which is revoked instead.
 */
export const LONG_TERM_ACCESS_KEY_ID = /^AKIA[A-Z0-9]{12,124}$/;

export function isLongTermAccessKeyId(id: string | undefined): id is string {
  return id !== undefined && LONG_TERM_ACCESS_KEY_ID.test(id);
}

const IAM_PRINCIPAL_ARN =
  /^arn:(aws(?:-[a-z]+)*):iam::(\d{12}):(user|role)((?:\/[\x21-\x2e\x30-\x7e]+)*)\/([\w+=,.@-]{1,128})$/;

export function parseIamArn(arn: string): IamArn | undefined {
  const match = IAM_PRINCIPAL_ARN.exec(arn);
  if (!match) return undefined;
  const [, partition, account, resourceType, path, name] = match;
  if (partition === undefined || account === undefined || name === undefined) return undefined;
  if (resourceType !== 'user' && resourceType !== 'role') return undefined;
  return { partition, account, resourceType, path: `${path ?? ''}/`, name };
}

const STS_SESSION =
  /^arn:(aws(?:-[a-z]+)*):sts::(\d{12}):assumed-role\/([\w+=,.@-]{1,64})\/[\w+=,.@-]{1,64}$/;

/**
 * Who an IAM user, role or role session ARN is: partition, account, kind
 * and name, the name in lower case (IAM names are unique in an account
 * whatever their case or path). A role's sessions are the role. Undefined
 * for anything else (root, federated users, other services).
 */
export function principalIdentity(arn: string): string | undefined {
  const session = STS_SESSION.exec(arn);
  if (session) return `${session[1]}:${session[2]}:role:${session[3]?.toLowerCase()}`;
  const iam = parseIamArn(arn);
  return iam === undefined
    ? undefined
    : `${iam.partition}:${iam.account}:${iam.resourceType}:${iam.name.toLowerCase()}`;
}

/** True when `a` and `b` are the same IAM user or role (a session counts as its role). */
export function samePrincipal(a: string, b: string): boolean {
  const identity = principalIdentity(a);
  return identity !== undefined && identity === principalIdentity(b);
}

/**
 * The incident's principal as the IAM user or role an action may touch. Its
 * ARN must parse, be of the expected type, be in the incident's account and
 * name the principal triage verified; otherwise the task input is refused
 * (acting on a different principal than triage checked is never right).
 */
export function principalArn(
  incident: Incident,
  resourceType: IamArn['resourceType'],
  action: string,
): IamArn {
  const principal = requirePrincipal(incident, action);
  const arn = parseIamArn(principal.arn);
  if (
    !arn ||
    arn.resourceType !== resourceType ||
    arn.account !== incident.account ||
    (principal.name !== undefined && principal.name !== arn.name)
  ) {
    throw new InvalidTaskInputError(
      `${action}: principal ${JSON.stringify(principal.arn)} is not an IAM ${resourceType} of account ${incident.account} named ${JSON.stringify(principal.name ?? null)}`,
    );
  }
  return arn;
}

/**
 * The IAM user or role a CONTAINED ledger entry names as its target, of one
 * of `types`, or the rollback refuses the entry.
 */
export function recordedPrincipal(
  entry: Pick<LedgerEntry, 'targetArn'>,
  types: readonly IamArn['resourceType'][],
  action: string,
): IamArn & { readonly arn: string } {
  const arn = entry.targetArn === undefined ? undefined : parseIamArn(entry.targetArn);
  if (entry.targetArn === undefined || arn === undefined || !types.includes(arn.resourceType)) {
    throw new InvalidTaskInputError(
      `${action}: ${JSON.stringify(entry.targetArn ?? null)} is not an IAM ${types.join(' or ')} ARN`,
    );
  }
  return { ...arn, arn: entry.targetArn };
}

import {
  DescribeAccountCommand,
  type DescribeAccountCommandOutput,
} from '@aws-sdk/client-organizations';
import { classifyAwsError } from '../../shared/errors.js';
import type { OrganizationRuntime } from '../../shared/organization.js';

/** The one Organizations call triage makes. */
export interface OrganizationsReader {
  send(command: DescribeAccountCommand): Promise<DescribeAccountCommandOutput>;
}

/** How long triage trusts that an account is an active member. */
export const MEMBERSHIP_TTL_MS = 10 * 60 * 1000;

/** Organizations' answer when the account is not in the caller's organization. */
const NOT_A_MEMBER = new Set(['AccountNotFoundException']);

/**
 * For `"accounts": "*"`: whether a finding's account is an active member of
 * the hub's organization, asked of Organizations (DescribeAccount, which
 * answers only for accounts of the caller's own organization) and cached
 * for MEMBERSHIP_TTL_MS. Only a yes is cached: an account that just joined
 * is asked about again. Fails closed: an account Organizations does not
 * name as an active member of this very organization is out of scope, and
 * so is every account when Organizations refuses to answer (the hub is not
 * the management account or a delegated administrator). A throttled or
 * failed call is Cordon's retryable error, not a refusal.
 */
export class OrganizationMembers {
  private readonly members = new Map<string, number>();

  constructor(
    private readonly deps: {
      readonly organizations: OrganizationsReader;
      readonly organizationId: string;
      readonly now?: () => number;
    },
  ) {}

  async refusal(account: string): Promise<string | undefined> {
    const now = this.deps.now?.() ?? Date.now();
    const until = this.members.get(account);
    if (until !== undefined && until > now) return undefined;
    let answer: DescribeAccountCommandOutput;
    try {
      answer = await this.deps.organizations.send(
        new DescribeAccountCommand({ AccountId: account }),
      );
    } catch (error) {
      const name = error instanceof Error ? error.name : '';
      if (NOT_A_MEMBER.has(name)) {
        return `account: ${account} is not a member of organization ${this.deps.organizationId}`;
      }
      const failure = classifyAwsError(error, `Organizations DescribeAccount ${account}`);
      if (failure.retryable) throw failure;
      return `account: whether ${account} is a member of organization ${this.deps.organizationId} is unknown (${failure.message}); nothing is acted on in an account not known to be in scope`;
    }
    const found = answer.Account;
    // arn:aws:organizations::<management>:account/<organization>/<account>
    const organization = found?.Arn?.split(':')[5]?.split('/')[1];
    if (found?.Id !== account || organization !== this.deps.organizationId) {
      return `account: Organizations does not name ${account} as a member of organization ${this.deps.organizationId}`;
    }
    const state = found.State ?? found.Status;
    if (state !== 'ACTIVE') {
      return `account: ${account} is ${state ?? 'in an unknown state'} in organization ${this.deps.organizationId}, not ACTIVE`;
    }
    this.members.set(account, now + MEMBERSHIP_TTL_MS);
    return undefined;
  }
}

/**
 * Organization-wide with `"accounts": "*"`, why `account` is out of scope
 * (Organizations does not have it as an active member, or triage cannot ask);
 * undefined when it is in, and whenever the scope lists its accounts.
 */
export async function membershipRefusal(
  account: string,
  organization: Pick<OrganizationRuntime, 'accounts'> | undefined,
  members: Pick<OrganizationMembers, 'refusal'> | undefined,
): Promise<string | undefined> {
  if (organization?.accounts !== '*') return undefined;
  if (members === undefined) {
    return `account: ${account} cannot be checked against the organization: triage has no Organizations reader`;
  }
  return members.refusal(account);
}

/**
 * With `"accounts": "*"`, triage asks Organizations whether a finding's
 * account is an active member of the hub's organization
 * (triage/guardrails/membership.ts). Organizations is played by a stub
 * answering as DescribeAccount does (moto's Organizations draws random
 * account ids, so an account of our choosing cannot be made a member).
 */
import type {
  DescribeAccountCommand,
  DescribeAccountCommandOutput,
} from '@aws-sdk/client-organizations';
import { describe, expect, it } from 'vitest';
import { ThrottledError } from '../../../../functions/shared/errors.js';
import {
  MEMBERSHIP_TTL_MS,
  OrganizationMembers,
  type OrganizationsReader,
} from '../../../../functions/triage/guardrails/membership.js';

const ORGANIZATION = 'o-a1b2c3d4e5';
const MEMBER = '222222222222';

const account = (id: string, organization = ORGANIZATION, state = 'ACTIVE') => ({
  $metadata: {},
  Account: {
    Id: id,
    Arn: `arn:aws:organizations::111111111111:account/${organization}/${id}`,
    State: state as 'ACTIVE',
  },
});

function organizations(answer: (id: string) => DescribeAccountCommandOutput | Error) {
  const asked: string[] = [];
  const reader: OrganizationsReader = {
    async send(command: DescribeAccountCommand) {
      const id = command.input.AccountId ?? '';
      asked.push(id);
      const result = answer(id);
      if (result instanceof Error) throw result;
      return result;
    },
  };
  return { reader, asked };
}

const awsError = (name: string, status: number) =>
  Object.assign(new Error(name), { name, $metadata: { httpStatusCode: status } });

describe('membership of the organization', () => {
  it('accepts an active member, and trusts the answer for a while', async () => {
    let t = 0;
    const { reader, asked } = organizations((id) => account(id));
    const members = new OrganizationMembers({
      organizations: reader,
      organizationId: ORGANIZATION,
      now: () => t,
    });

    expect(await members.refusal(MEMBER)).toBeUndefined();
    t += MEMBERSHIP_TTL_MS - 1;
    expect(await members.refusal(MEMBER)).toBeUndefined();
    t += 2;
    expect(await members.refusal(MEMBER)).toBeUndefined();
    expect(asked).toEqual([MEMBER, MEMBER]);
  });

  it('refuses an account Organizations does not know, and asks again next time (it may join)', async () => {
    const { reader, asked } = organizations(() => awsError('AccountNotFoundException', 400));
    const members = new OrganizationMembers({
      organizations: reader,
      organizationId: ORGANIZATION,
    });

    expect(await members.refusal(MEMBER)).toBe(
      `account: ${MEMBER} is not a member of organization ${ORGANIZATION}`,
    );
    await members.refusal(MEMBER);
    expect(asked).toHaveLength(2);
  });

  it('refuses an account Organizations places in another organization, or names as another account', async () => {
    const elsewhere = new OrganizationMembers({
      organizations: organizations((id) => account(id, 'o-zzzzzzzzzz')).reader,
      organizationId: ORGANIZATION,
    });
    const mismatched = new OrganizationMembers({
      organizations: organizations(() => account('444444444444')).reader,
      organizationId: ORGANIZATION,
    });

    expect(await elsewhere.refusal(MEMBER)).toMatch(/does not name 222222222222 as a member/);
    expect(await mismatched.refusal(MEMBER)).toMatch(/does not name 222222222222 as a member/);
  });

  it('refuses a suspended or closing member', async () => {
    const members = new OrganizationMembers({
      organizations: organizations((id) => account(id, ORGANIZATION, 'SUSPENDED')).reader,
      organizationId: ORGANIZATION,
    });

    expect(await members.refusal(MEMBER)).toBe(
      `account: ${MEMBER} is SUSPENDED in organization ${ORGANIZATION}, not ACTIVE`,
    );
  });

  it('fails closed when Organizations will not answer (the hub is not allowed to ask)', async () => {
    const members = new OrganizationMembers({
      organizations: organizations(() => awsError('AccessDeniedException', 400)).reader,
      organizationId: ORGANIZATION,
    });

    expect(await members.refusal(MEMBER)).toMatch(
      /^account: whether 222222222222 is a member of organization o-a1b2c3d4e5 is unknown \(.*AccessDeniedException.*\); nothing is acted on/,
    );
  });

  it('throws a retryable error when Organizations throttles, rather than refusing a real member', async () => {
    const members = new OrganizationMembers({
      organizations: organizations(() => awsError('TooManyRequestsException', 400)).reader,
      organizationId: ORGANIZATION,
    });

    await expect(members.refusal(MEMBER)).rejects.toBeInstanceOf(ThrottledError);
  });
});

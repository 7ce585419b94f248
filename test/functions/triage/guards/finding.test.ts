import 'aws-sdk-client-mock-vitest/extend';
import { PutCommand } from '@aws-sdk/lib-dynamodb';
import { describe, expect, it } from 'vitest';
import { SpokeUnavailableError } from '../../../../functions/shared/spoke.js';
import {
  ACCOUNT,
  ASFF_RESOURCE,
  ddbMock,
  fixture,
  iamMock,
  ROLE_ARN,
  roleExists,
  setup,
  USER_ARN,
  userExists,
  withValue,
} from '../helpers.js';
import { runTriage } from '../run.js';

const SH = ['detail', 'findings', 0] as const;

/** Each guard refuses, claims the refusal (so a repeat is a no-op), and leaves every step off. */
async function expectRefused(event: unknown, reason: string | RegExp, deps = setup()) {
  const result = await runTriage(event, deps);
  expect(result.decision).toBe('REFUSED');
  if (typeof reason === 'string') expect(result.reason).toBe(reason);
  else expect(result.reason).toMatch(reason);
  expect(Object.values(result.incident.plan).every((step) => step.mode === 'off')).toBe(true);
  expect(ddbMock).toHaveReceivedCommandWith(PutCommand, {
    Item: expect.objectContaining({ outcome: 'REFUSED', summary: result.reason }),
  });
  return result;
}

describe('guard 1: sample findings', () => {
  it('refuses a GuardDuty sample finding without asking IAM', async () => {
    const deps = setup();

    await expectRefused(
      fixture('guardduty-sample'),
      'sample: the finding is a sample finding',
      deps,
    );
    expect(iamMock).not.toHaveReceivedAnyCommand();
  });

  it('refuses a Security Hub finding marked Sample', async () => {
    const event = withValue(fixture('securityhub-iam-access-key'), [...SH, 'Sample'], true);

    await expectRefused(event, 'sample: the finding is a sample finding');
  });
});

describe('archived and posture findings', () => {
  it('refuses an archived GuardDuty finding without asking IAM', async () => {
    const deps = setup();
    const event = withValue(fixture('guardduty-iam-user'), ['detail', 'service', 'archived'], true);

    await expectRefused(event, 'archived: the finding is archived (suppressed)', deps);
    expect(iamMock).not.toHaveReceivedAnyCommand();
  });

  it('refuses a Security Hub configuration check on an IAM user', async () => {
    const check = [
      'Software and Configuration Checks/Industry and Regulatory Standards/AWS-Foundational-Security-Best-Practices',
    ];
    const event = withValue(
      withValue(fixture('securityhub-iam-access-key'), [...SH, 'Types'], check),
      [...SH, 'FindingProviderFields', 'Types'],
      check,
    );

    await expectRefused(event, /^posture: a configuration check/);
  });

  it('refuses a configuration check whose top-level types someone edited into a threat', async () => {
    // BatchUpdateFindings may add `TTPs/...` at the top level; the provider's types stay a check.
    const event = withValue(
      withValue(
        fixture('securityhub-iam-access-key'),
        [...SH, 'Types'],
        ['TTPs/Credential Access/Leaked Access Key'],
      ),
      [...SH, 'FindingProviderFields', 'Types'],
      ['Software and Configuration Checks/AWS Security Best Practices/IAM.3'],
    );

    await expectRefused(event, /^posture: a configuration check/);
  });

  it('acts on a finding that is both a check and a threat type', async () => {
    const deps = setup();
    userExists();
    const event = withValue(
      fixture('securityhub-iam-access-key'),
      [...SH, 'Types'],
      [
        'Software and Configuration Checks/Vulnerabilities',
        'TTPs/Credential Access/Leaked Access Key',
      ],
    );

    const result = await runTriage(event, deps);

    expect(result.decision).toBe('PROCEED');
  });
});

describe('guard 2: GuardDuty findings through Security Hub', () => {
  it('refuses a Security Hub finding whose product is GuardDuty', async () => {
    await expectRefused(
      fixture('securityhub-from-guardduty'),
      'product: Security Hub finding from GuardDuty; the GuardDuty rule handles it',
    );
  });

  it('refuses by product name alone', async () => {
    const event = withValue(
      fixture('securityhub-iam-access-key'),
      [...SH, 'ProductName'],
      'GuardDuty',
    );

    await expectRefused(event, /^product: /);
  });
});

describe('guard 3: Security Hub workflow and record state', () => {
  it('refuses a finding whose workflow status is not NEW', async () => {
    const event = withValue(
      fixture('securityhub-iam-access-key'),
      [...SH, 'Workflow', 'Status'],
      'NOTIFIED',
    );

    await expectRefused(event, 'workflow: Security Hub workflow status is NOTIFIED, not NEW');
  });

  it('refuses an archived finding', async () => {
    const event = withValue(
      fixture('securityhub-iam-access-key'),
      [...SH, 'RecordState'],
      'ARCHIVED',
    );

    await expectRefused(event, 'workflow: Security Hub record state is ARCHIVED, not ACTIVE');
  });
});

describe('guard 4: account', () => {
  it('refuses a GuardDuty finding for another account', async () => {
    const event = withValue(fixture('guardduty-iam-user'), ['detail', 'accountId'], '210987654321');

    await expectRefused(
      event,
      `account: the finding is for account 210987654321, not home account ${ACCOUNT}`,
    );
  });

  it('refuses when the event envelope came from another account', async () => {
    const event = withValue(fixture('guardduty-iam-user'), ['account'], '210987654321');

    await expectRefused(
      event,
      `account: the event came from account 210987654321, not home account ${ACCOUNT}`,
    );
  });

  it('refuses a Security Hub finding for another account', async () => {
    const event = withValue(
      fixture('securityhub-iam-access-key'),
      [...SH, 'AwsAccountId'],
      '210987654321',
    );

    await expectRefused(event, /^account: the finding is for account 210987654321/);
  });

  it('refuses a Security Hub user resource whose ARN is in another account', async () => {
    const event = withValue(fixture('securityhub-iam-access-key'), [...ASFF_RESOURCE], {
      Type: 'AwsIamUser',
      Id: 'arn:aws:iam::210987654321:user/compromised-user',
    });

    await expectRefused(
      event,
      /^account: the principal arn:aws:iam::210987654321:user\/compromised-user is in account 210987654321/,
    );
  });
});

describe('guard 4, organization-wide: the scope', () => {
  const MEMBER = '222222222222';
  const OUTSIDER = '210987654321';
  const MEMBER_USER = `arn:aws:iam::${MEMBER}:user/staff/compromised-user`;
  const organization = (accounts: string[] | '*', excludedAccounts: string[] = []) => ({
    partition: 'aws',
    deployment: '6f1c2b3a-4d5e-4f60-8a7b-9c0d1e2f3a4b',
    organizationId: 'o-a1b2c3d4e5',
    accounts,
    excludedAccounts,
    regions: ['us-east-1'],
  });
  /** A member's finding as the hub receives it: the member in the detail, the hub on the envelope. */
  const memberFinding = (account = MEMBER) =>
    withValue(fixture('guardduty-iam-user'), ['detail', 'accountId'], account);
  /** Organizations as a stub: the accounts it names as active members. */
  const members = (active: string[]) => {
    const asked: string[] = [];
    return {
      asked,
      refusal: async (account: string) => {
        asked.push(account);
        return active.includes(account)
          ? undefined
          : `account: ${account} is not a member of organization o-a1b2c3d4e5`;
      },
    };
  };

  it("acts on a listed member's finding, delivered through the hub", async () => {
    const deps = { ...setup(), organization: organization([MEMBER]) };
    userExists({ arn: MEMBER_USER });

    const result = await runTriage(memberFinding(), deps);

    expect(result.decision, result.reason).toBe('PROCEED');
    expect(result.incident.account).toBe(MEMBER);
  });

  it('refuses an account not listed, without asking IAM there', async () => {
    const deps = { ...setup(), organization: organization([MEMBER]) };

    await expectRefused(
      memberFinding(OUTSIDER),
      `account: account ${OUTSIDER} is not in Cordon's scope (accounts: ${MEMBER})`,
      deps,
    );
    expect(iamMock).not.toHaveReceivedAnyCommand();
  });

  it('refuses an excluded account even when every member is in scope, without asking Organizations', async () => {
    const organizations = members([MEMBER]);
    const deps = {
      ...setup(),
      organization: organization('*', [MEMBER]),
      members: organizations,
    };

    await expectRefused(
      memberFinding(),
      `account: account ${MEMBER} is excluded from Cordon's scope (excludedAccounts)`,
      deps,
    );
    expect(organizations.asked).toEqual([]);
  });

  it('with every member in scope, acts only on an account Organizations names as an active member', async () => {
    const organizations = members([MEMBER]);
    const deps = { ...setup(), organization: organization('*'), members: organizations };
    userExists({ arn: MEMBER_USER });

    await expectRefused(
      memberFinding(OUTSIDER),
      `account: ${OUTSIDER} is not a member of organization o-a1b2c3d4e5`,
      deps,
    );
    expect(iamMock).not.toHaveReceivedAnyCommand();
    const result = await runTriage(memberFinding(), deps);
    expect(result.decision, result.reason).toBe('PROCEED');
    expect(organizations.asked).toEqual([OUTSIDER, MEMBER]);
  });

  it('with every member in scope and no way to ask Organizations, acts on nothing', async () => {
    const deps = { ...setup(), organization: organization('*') };

    await expectRefused(
      memberFinding(),
      /^account: 222222222222 cannot be checked against the organization/,
      deps,
    );
  });

  it("refuses a member's finding that names a principal of the hub or of another member", async () => {
    // A member's own administrator can import findings about anything into Security Hub; the
    // ARN they name must be in the member's own account.
    const deps = { ...setup(), organization: organization([MEMBER, OUTSIDER]) };
    const event = withValue(
      withValue(fixture('securityhub-iam-access-key'), [...SH, 'AwsAccountId'], MEMBER),
      [...ASFF_RESOURCE],
      { Type: 'AwsIamUser', Id: `arn:aws:iam::${OUTSIDER}:user/compromised-user` },
    );

    await expectRefused(
      event,
      `account: the principal arn:aws:iam::${OUTSIDER}:user/compromised-user is in account ${OUTSIDER}, not the finding's account ${MEMBER}`,
      deps,
    );
  });

  it("refuses a member's finding whose event did not come through the hub", async () => {
    const deps = { ...setup(), organization: organization([MEMBER]) };

    await expectRefused(
      withValue(memberFinding(), ['account'], MEMBER),
      `account: the event came from account ${MEMBER}, not home account ${ACCOUNT}`,
      deps,
    );
  });

  it("fails, claiming nothing, when the member's spoke role for triage cannot be assumed", async () => {
    // The StackSet has not reached the account, or its administrators deleted the role:
    // triage fails (recorded and notified by the playbook) instead of claiming an
    // unverified subject, whose claim would hold the finding's later emissions.
    const { iam, ec2, secretsManager, lambda, s3, ...base } = setup();
    const refused = new SpokeUnavailableError(
      `cannot act in account ${MEMBER}: its spoke role arn:aws:iam::${MEMBER}:role/cordon/triage could not be assumed`,
    );
    const targets = Object.assign(() => ({ iam, ec2, secretsManager, lambda, s3 }), {
      ready: async () => {
        throw refused;
      },
    });
    const deps = { ...base, targets, organization: organization([MEMBER]) };

    await expect(runTriage(memberFinding(), deps)).rejects.toBe(refused);
    expect(iamMock).not.toHaveReceivedAnyCommand();
    expect(ddbMock).not.toHaveReceivedCommand(PutCommand);
  });

  it("refuses a member's finding from a region outside the organization's regions", async () => {
    const deps = { ...setup(), organization: organization([MEMBER]) };

    await expectRefused(
      withValue(memberFinding(), ['detail', 'region'], 'eu-west-1'),
      'region: eu-west-1 is not an allowed region (us-east-1)',
      deps,
    );
  });
});

describe('guard 5: region', () => {
  it('refuses a finding from a region outside the allowed ones', async () => {
    const event = withValue(fixture('guardduty-iam-user'), ['detail', 'region'], 'ap-southeast-2');

    await expectRefused(
      event,
      'region: ap-southeast-2 is not an allowed region (us-east-1, eu-west-1)',
    );
  });

  it('refuses a Security Hub finding from a region outside the allowed ones', async () => {
    const event = withValue(fixture('securityhub-iam-access-key'), [...SH, 'Region'], 'sa-east-1');

    await expectRefused(event, /^region: sa-east-1 /);
  });
});

describe('guard 6: severity', () => {
  it('refuses a GuardDuty finding below the threshold', async () => {
    await expectRefused(fixture('guardduty-low-severity'), 'severity: 2 is below the threshold 7');
  });

  it('acts on a GuardDuty finding exactly at the threshold', async () => {
    const deps = setup({ severityThreshold: 8 });
    userExists();

    const result = await runTriage(fixture('guardduty-iam-user'), deps);

    expect(result.decision).toBe('PROCEED');
  });

  it('refuses a Security Hub finding whose label is not acted on', async () => {
    const event = withValue(
      withValue(fixture('securityhub-iam-access-key'), [...SH, 'Severity'], {
        Label: 'MEDIUM',
        Normalized: 40,
      }),
      [...SH, 'FindingProviderFields', 'Severity', 'Label'],
      'MEDIUM',
    );

    await expectRefused(event, 'severity: MEDIUM is not an acted-on label (HIGH, CRITICAL)');
  });

  it("refuses a LOW finding someone relabelled CRITICAL: the provider's label decides", async () => {
    const event = withValue(
      withValue(fixture('securityhub-iam-access-key'), [...SH, 'Severity'], {
        Label: 'CRITICAL',
        Normalized: 99,
      }),
      [...SH, 'FindingProviderFields', 'Severity', 'Label'],
      'LOW',
    );

    await expectRefused(event, 'severity: LOW is not an acted-on label (HIGH, CRITICAL)');
  });
});

describe('guard 7: protected principals', () => {
  it('refuses a principal matching a configured pattern', async () => {
    const deps = setup({ protectedPrincipalPatterns: ['arn:aws:iam::*:user/staff/*'] });
    userExists();

    await expectRefused(
      fixture('guardduty-iam-user'),
      `protected: ${USER_ARN} matches protected arn:aws:iam::*:user/staff/*`,
      deps,
    );
  });

  it("protects Cordon's own roles by exact identity, even when the patterns omit them", async () => {
    const own = `arn:aws:iam::${ACCOUNT}:role/cordon/exfiltrated-role`;
    const deps = setup({ protectedPrincipalPatterns: [], cordonRoleArns: [own] });
    roleExists({ arn: own });

    await expectRefused(
      fixture('guardduty-assumed-role'),
      `protected: ${own} is Cordon's own role ${own}`,
      deps,
    );
  });

  it('contains a user its creator put under the /cordon/ path (iam:CreateUser chooses paths)', async () => {
    const deps = setup({ protectedPrincipalPatterns: [] });
    const lookalike = `arn:aws:iam::${ACCOUNT}:user/cordon/compromised-user`;
    userExists({ arn: lookalike });

    const result = await runTriage(fixture('guardduty-iam-user'), deps);

    expect(result.decision).toBe('PROCEED');
    expect(result.incident.principal?.arn).toBe(lookalike);
    expect(result.incident.plan.disableAccessKey?.mode).toBe('auto');
  });

  it("contains a role named like Cordon's in another path: only the exact role is Cordon's", async () => {
    const deps = setup({
      protectedPrincipalPatterns: [],
      cordonRoleArns: [`arn:aws:iam::${ACCOUNT}:role/cordon/Cordon-Triage-ABC123`],
    });
    roleExists();

    const result = await runTriage(fixture('guardduty-assumed-role'), deps);

    expect(result.decision).toBe('PROCEED');
  });

  it('does not protect a principal no pattern matches', async () => {
    const deps = setup({ protectedPrincipalPatterns: ['arn:aws:iam::*:role/break-glass-*'] });
    roleExists();

    const result = await runTriage(fixture('guardduty-assumed-role'), deps);

    expect(result.decision).toBe('PROCEED');
    expect(result.incident.principal?.arn).toBe(ROLE_ARN);
  });
});

describe('guard 8: exempt tag', () => {
  it('still contains a user that tagged itself exempt (iam:TagUser on itself), with a responder', async () => {
    const deps = setup();
    userExists({ tags: [{ Key: 'cordon:exempt', Value: 'true' }] });

    const result = await runTriage(fixture('guardduty-iam-user'), deps);

    const why = `exempt: ${USER_ARN} is tagged cordon:exempt=true`;
    expect(result.decision).toBe('PROCEED');
    expect(result.reason).toBe(`claimed; automatic steps need approval: ${why}`);
    expect(result.incident.plan).toMatchObject({
      disableAccessKey: { mode: 'approve', reason: why },
      revokeUserSessions: { mode: 'approve', reason: why },
      quarantineUser: { mode: 'approve' },
    });
  });

  it('acts when the exempt tag has another value', async () => {
    const deps = setup();
    userExists({ tags: [{ Key: 'cordon:exempt', Value: 'false' }] });

    const result = await runTriage(fixture('guardduty-iam-user'), deps);

    expect(result.decision).toBe('PROCEED');
  });
});

describe('guard order', () => {
  it('reports the first guard that refuses', async () => {
    const event = withValue(fixture('guardduty-sample'), ['detail', 'accountId'], '210987654321');

    await expectRefused(event, /^sample: /);
  });
});

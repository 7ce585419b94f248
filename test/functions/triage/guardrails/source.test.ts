import {
  GetFindingsCommand as GetGuardDutyFindings,
  GuardDutyClient,
  type Finding as GuardDutyFinding,
  ListDetectorsCommand,
} from '@aws-sdk/client-guardduty';
import {
  GetFindingsV2Command,
  type GetFindingsV2Response,
  GetFindingsCommand as GetSecurityHubFindings,
  SecurityHubClient,
} from '@aws-sdk/client-securityhub';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { deciderFor } from '../../../../functions/triage/deciders/index.js';
import {
  HubDetectors,
  productAllowed,
  verifyAtSource,
} from '../../../../functions/triage/guardrails/source.js';
import type { Finding } from '../../../../functions/triage/parse/finding.js';
import { parseFindingEvent } from '../../../../functions/triage/parse/index.js';
import { parseConfig } from '../../../../infra/config.js';
import {
  ACCOUNT,
  fixture,
  OCSF,
  ocsfBucketControl,
  ocsfEvent,
  PUBLIC_BUCKET,
  valueAt,
  withValue,
} from '../helpers.js';

const gdMock = mockClient(GuardDutyClient);
const shMock = mockClient(SecurityHubClient);
const clients = {
  guardDuty: new GuardDutyClient({ region: 'us-east-1' }),
  securityHub: new SecurityHubClient({ region: 'us-east-1' }),
};
/** The default allow-list: AWS's own products, in both forms. */
const AWS_PRODUCTS = parseConfig({}).securityHubProductAllowList;

function findingOf(name: Parameters<typeof fixture>[0]) {
  const parsed = parseFindingEvent(fixture(name));
  if (parsed.status !== 'finding') throw new Error(`${name} is not a finding`);
  return parsed.finding;
}

/** The GuardDuty fixture's finding as GetFindings returns it (the SDK's shape). */
function guardDutySays(overrides: Record<string, unknown> = {}): GuardDutyFinding {
  return {
    Arn: 'arn:aws:guardduty:us-east-1:123456789012:detector/d/finding/f',
    CreatedAt: '2026-01-01T00:00:00Z',
    UpdatedAt: '2026-01-01T00:00:00Z',
    Region: 'us-east-1',
    SchemaVersion: '2.0',
    Severity: 8,
    Id: 'f',
    Type: 'UnauthorizedAccess:IAMUser/InstanceCredentialExfiltration.OutsideAWS',
    AccountId: '123456789012',
    Resource: {
      ResourceType: 'AccessKey',
      AccessKeyDetails: { AccessKeyId: 'AKIAIOSFODNN7EXAMPLE', UserName: 'alice' },
    },
    ...overrides,
  } as GuardDutyFinding;
}

/** What triage asks the source to name: the finding's decider says. */
const identifierOf = (finding: Finding) => deciderFor(finding).sourceIdentifier();

beforeEach(() => {
  gdMock.reset();
  shMock.reset();
});

describe('GuardDuty findings', () => {
  it('are verified when GuardDuty holds the same type, account and key', async () => {
    const finding = findingOf('guardduty-iam-user');
    gdMock.on(GetGuardDutyFindings).resolves({
      Findings: [guardDutySays({ Type: finding.findingType, AccountId: finding.account })],
    });

    expect(await verifyAtSource(finding, identifierOf(finding), clients, AWS_PRODUCTS)).toEqual({
      status: 'verified',
    });
    expect(gdMock.commandCalls(GetGuardDutyFindings)[0]?.args[0].input).toEqual({
      DetectorId: finding.detectorId,
      FindingIds: [finding.findingId],
    });
  });

  it('are not verified when GuardDuty names another type, account or key', async () => {
    const finding = findingOf('guardduty-iam-user');
    gdMock.on(GetGuardDutyFindings).resolves({
      Findings: [
        guardDutySays({
          Type: 'Recon:IAMUser/UserPermissions',
          AccountId: '210987654321',
          Resource: { AccessKeyDetails: { AccessKeyId: 'AKIAOTHERKEY00000000' } },
        }),
      ],
    });

    const check = await verifyAtSource(finding, identifierOf(finding), clients, AWS_PRODUCTS);

    expect(check.status).toBe('unverified');
    expect(check.status === 'unverified' ? check.reason : '').toBe(
      `the source's finding differs from the event: type "Recon:IAMUser/UserPermissions", account "210987654321", no resource "${'principal' in finding ? finding.principal.accessKeyId : ''}"`,
    );
  });

  it('are not verified when GuardDuty has no such finding, or cannot be asked', async () => {
    const finding = findingOf('guardduty-iam-user');
    gdMock
      .on(GetGuardDutyFindings)
      .resolvesOnce({ Findings: [] })
      .rejects(Object.assign(new Error('denied'), { name: 'AccessDeniedException' }));

    const missing = await verifyAtSource(finding, identifierOf(finding), clients, AWS_PRODUCTS);
    const failed = await verifyAtSource(finding, identifierOf(finding), clients, AWS_PRODUCTS);

    expect(missing).toEqual({
      status: 'unverified',
      reason: `GuardDuty detector ${finding.detectorId} has no such finding`,
    });
    expect(failed).toEqual({
      status: 'unverified',
      reason: 'GuardDuty GetFindings failed (AccessDeniedException)',
    });
  });

  it('are not verified when the event names no detector', async () => {
    const finding = { ...findingOf('guardduty-iam-user'), detectorId: undefined };

    const check = await verifyAtSource(finding, identifierOf(finding), clients, AWS_PRODUCTS);

    expect(check).toEqual({
      status: 'unverified',
      reason: 'the GuardDuty event names no detector, so the finding cannot be re-read',
    });
    expect(gdMock.commandCalls(GetGuardDutyFindings)).toHaveLength(0);
  });
});

describe('GuardDuty findings re-sent with a raised severity', () => {
  it('are not verified when GuardDuty holds the finding at a lower severity than the event claims', async () => {
    // Someone who may invoke triage directly re-sends a real low finding as high.
    const finding = findingOf('guardduty-iam-user');
    const stored = { Type: finding.findingType, AccountId: finding.account };
    gdMock.on(GetGuardDutyFindings).resolves({
      Findings: [guardDutySays({ ...stored, Severity: finding.severity - 5 })],
    });

    const check = await verifyAtSource(finding, identifierOf(finding), clients, AWS_PRODUCTS);

    expect(check.status === 'unverified' && check.reason).toContain(
      `severity ${finding.severity - 5}, below the event's ${finding.severity}`,
    );
    gdMock.on(GetGuardDutyFindings).resolves({
      Findings: [guardDutySays({ ...stored, Severity: finding.severity })],
    });
    expect(await verifyAtSource(finding, identifierOf(finding), clients, AWS_PRODUCTS)).toEqual({
      status: 'verified',
    });
  });
});

describe("GuardDuty findings, organization-wide (through the administrator's detector)", () => {
  const HUB_DETECTOR = 'a0b1c2d3e4f5a6b7c8d9e0f1a2b3c4d5';
  /** A member's finding: its own detector on the event, the member in the detail. */
  const memberFinding = () => findingOf('guardduty-iam-user');

  it("re-reads a member's finding through the hub's own detector, not the member's the event names", async () => {
    const finding = memberFinding();
    gdMock.on(GetGuardDutyFindings).resolves({
      Findings: [guardDutySays({ Type: finding.findingType, AccountId: finding.account })],
    });

    const check = await verifyAtSource(
      finding,
      identifierOf(finding),
      { ...clients, administratorDetector: async () => HUB_DETECTOR },
      AWS_PRODUCTS,
    );

    expect(check).toEqual({ status: 'verified' });
    expect(gdMock.commandCalls(GetGuardDutyFindings)[0]?.args[0].input.DetectorId).toBe(
      HUB_DETECTOR,
    );
    expect(HUB_DETECTOR).not.toBe(finding.detectorId);
  });

  it("is not verified when the hub's detector is unknown", async () => {
    const finding = memberFinding();

    const check = await verifyAtSource(
      finding,
      identifierOf(finding),
      {
        ...clients,
        administratorDetector: async () => {
          throw new Error('ListDetectors in us-east-1 returned 0 detectors, not one');
        },
      },
      AWS_PRODUCTS,
    );

    expect(check).toEqual({
      status: 'unverified',
      reason:
        "the hub's GuardDuty detector in us-east-1 is unknown (ListDetectors in us-east-1 returned 0 detectors, not one)",
    });
    expect(gdMock.commandCalls(GetGuardDutyFindings)).toHaveLength(0);
  });

  it("asks each region once for the hub's detector, again after a failure, and refuses none or several", async () => {
    const asked: string[] = [];
    let answer: string[] | Error = [HUB_DETECTOR];
    gdMock.on(ListDetectorsCommand).callsFake(async () => {
      if (answer instanceof Error) throw answer;
      return { DetectorIds: answer };
    });
    const detectors = new HubDetectors((region) => {
      asked.push(region);
      return clients.guardDuty;
    });

    expect(await detectors.of('us-east-1')).toBe(HUB_DETECTOR);
    expect(await detectors.of('us-east-1')).toBe(HUB_DETECTOR);
    answer = new Error('throttled');
    await expect(detectors.of('eu-west-1')).rejects.toThrow('throttled');
    answer = [];
    await expect(detectors.of('eu-west-1')).rejects.toThrow(/returned 0 detectors/);
    answer = [HUB_DETECTOR, 'b0b1c2d3e4f5a6b7c8d9e0f1a2b3c4d5'];
    await expect(detectors.of('eu-west-1')).rejects.toThrow(/returned 2 detectors/);
    expect(asked).toEqual(['us-east-1', 'eu-west-1', 'eu-west-1', 'eu-west-1']);
  });
});

describe('Security Hub findings', () => {
  it('from a product not on the allow-list are not verified, and Security Hub is not asked', async () => {
    const finding = findingOf('securityhub-iam-access-key');

    const check = await verifyAtSource(finding, identifierOf(finding), clients, AWS_PRODUCTS);

    expect(check.status).toBe('unverified');
    expect(check.status === 'unverified' ? check.reason : '').toContain(
      'is not on the Security Hub product allow-list',
    );
    expect(shMock.commandCalls(GetSecurityHubFindings)).toHaveLength(0);
  });

  it('from an allowed product are re-read by Id and ProductArn and compared', async () => {
    const finding = findingOf('securityhub-iam-access-key');
    const event = fixture('securityhub-iam-access-key') as {
      detail: { findings: Record<string, unknown>[] };
    };
    shMock.on(GetSecurityHubFindings).resolves({ Findings: event.detail.findings as never });

    const check = await verifyAtSource(finding, identifierOf(finding), clients, [
      finding.productArn ?? '',
    ]);

    expect(check).toEqual({ status: 'verified' });
    expect(shMock.commandCalls(GetSecurityHubFindings)[0]?.args[0].input.Filters).toEqual({
      Id: [{ Value: finding.findingId, Comparison: 'EQUALS' }],
      ProductArn: [{ Value: finding.productArn, Comparison: 'EQUALS' }],
    });
  });

  it('are not verified when someone raised the top-level severity after import, and Security Hub is not asked', async () => {
    // A BatchUpdateFindings caller relabels a finding CRITICAL; the provider said HIGH.
    const event = fixture('securityhub-iam-access-key') as {
      detail: { findings: { Severity: Record<string, unknown> }[] };
    };
    const [raised] = event.detail.findings;
    if (raised) raised.Severity = { Label: 'CRITICAL', Normalized: 99 };
    const parsed = parseFindingEvent(event);
    if (parsed.status !== 'finding') throw new Error('not a finding');
    const { finding } = parsed;

    const check = await verifyAtSource(finding, identifierOf(finding), clients, [
      finding.productArn ?? '',
    ]);

    expect(check).toEqual({
      status: 'unverified',
      reason:
        "the finding is not as its product filed it: its severity was raised from the provider's HIGH to CRITICAL after import",
    });
    expect(shMock.commandCalls(GetSecurityHubFindings)).toHaveLength(0);
  });

  it("compare the source's provider types, whatever its top-level types were edited to", async () => {
    const finding = findingOf('securityhub-iam-access-key');
    const event = fixture('securityhub-iam-access-key') as {
      detail: { findings: Record<string, unknown>[] };
    };
    const stored = event.detail.findings.map((f) => ({
      ...f,
      Types: ['Unusual Behaviors/Edited'],
    }));
    shMock.on(GetSecurityHubFindings).resolves({ Findings: stored as never });

    const allowed = [finding.productArn ?? ''];
    expect(await verifyAtSource(finding, identifierOf(finding), clients, allowed)).toEqual({
      status: 'verified',
    });

    const otherProduct = stored.map((f) => ({
      ...f,
      FindingProviderFields: { Types: ['Unusual Behaviors/Another finding'] },
    }));
    shMock.on(GetSecurityHubFindings).resolves({ Findings: otherProduct as never });
    expect(await verifyAtSource(finding, identifierOf(finding), clients, allowed)).toMatchObject({
      status: 'unverified',
    });
  });
});

/**
 * Security Hub OCSF findings. No emulator serves GetFindingsV2: its answers
 * here are aws-sdk-client-mock's, shaped as the API reference gives them
 * (`Findings`, a list of OCSF documents).
 */
describe('Security Hub OCSF findings', () => {
  function ocsfFinding(event: unknown = ocsfEvent()) {
    const parsed = parseFindingEvent(event);
    if (parsed.status !== 'finding') throw new Error('not a finding');
    return parsed.finding;
  }
  type Stored = NonNullable<GetFindingsV2Response['Findings']>[number];
  /** The event's finding as GetFindingsV2 returns it (a JSON document). */
  const asStored = (event: unknown = ocsfEvent()): Stored =>
    JSON.parse(JSON.stringify(valueAt(event, OCSF)));

  it('from an allowed product are re-read with GetFindingsV2 by uid, product and account, and compared', async () => {
    const finding = ocsfFinding();
    shMock.on(GetFindingsV2Command).resolves({ Findings: [asStored()] });

    expect(await verifyAtSource(finding, identifierOf(finding), clients, AWS_PRODUCTS)).toEqual({
      status: 'verified',
    });
    const [call] = shMock.commandCalls(GetFindingsV2Command);
    const filters = call?.args[0].input.Filters?.CompositeFilters?.flatMap(
      (c) => c.StringFilters ?? [],
    );
    expect(filters).toEqual([
      { FieldName: 'finding_info.uid', Filter: { Value: finding.findingId, Comparison: 'EQUALS' } },
      {
        FieldName: 'metadata.product.uid',
        Filter: { Value: finding.productArn, Comparison: 'EQUALS' },
      },
      { FieldName: 'cloud.account.uid', Filter: { Value: finding.account, Comparison: 'EQUALS' } },
    ]);
    expect(shMock.commandCalls(GetSecurityHubFindings)).toHaveLength(0);
  });

  it('are not verified when the stored finding names another key, type or account', async () => {
    const finding = ocsfFinding();
    const otherKey = withValue(
      ocsfEvent(),
      [...OCSF, 'resources', 0, 'data', 'access_key_id'],
      'AKIAOTHERKEY00000000',
    );
    const otherKeyBoth = withValue(
      otherKey,
      [...OCSF, 'resources', 0, 'uid'],
      'AKIAOTHERKEY00000000',
    );
    shMock.on(GetFindingsV2Command).resolves({ Findings: [asStored(otherKeyBoth)] });

    const check = await verifyAtSource(finding, identifierOf(finding), clients, AWS_PRODUCTS);

    expect(check).toMatchObject({ status: 'unverified' });
    expect(check.status === 'unverified' && check.reason).toMatch(
      /no resource "AKIAIOSFODNN7EXAMPLE"/,
    );
    shMock.on(GetFindingsV2Command).resolves({
      Findings: [asStored(withValue(ocsfEvent(), [...OCSF, 'finding_info', 'types'], ['Other']))],
    });
    expect(
      await verifyAtSource(finding, identifierOf(finding), clients, AWS_PRODUCTS),
    ).toMatchObject({
      status: 'unverified',
    });
  });

  it('are not verified when what Security Hub returns is not a finding Cordon can read', async () => {
    const finding = ocsfFinding();

    for (const odd of [null, 'a string', { finding_info: { types: 'not a list' } }]) {
      shMock.on(GetFindingsV2Command).resolves({ Findings: [odd as never] });
      expect(await verifyAtSource(finding, identifierOf(finding), clients, AWS_PRODUCTS)).toEqual({
        status: 'unverified',
        reason: 'Security Hub returned a finding Cordon cannot read',
      });
    }
  });

  it('are not verified when Security Hub has no such finding, or cannot be asked', async () => {
    const finding = ocsfFinding();
    shMock.on(GetFindingsV2Command).resolves({ Findings: [] });
    expect(await verifyAtSource(finding, identifierOf(finding), clients, AWS_PRODUCTS)).toEqual({
      status: 'unverified',
      reason: 'Security Hub has no such finding',
    });
    shMock
      .on(GetFindingsV2Command)
      .rejects(Object.assign(new Error('no'), { name: 'AccessDeniedException' }));
    expect(await verifyAtSource(finding, identifierOf(finding), clients, AWS_PRODUCTS)).toEqual({
      status: 'unverified',
      reason: 'Security Hub GetFindingsV2 failed (AccessDeniedException)',
    });
  });

  it("a forger's import into the account's productv2 default is not verified, and Security Hub is not asked", async () => {
    const forged = ocsfFinding(
      withValue(
        ocsfEvent(),
        [...OCSF, 'metadata', 'product', 'uid'],
        'arn:aws:securityhub:us-east-1:123456789012:productv2/123456789012/default',
      ),
    );
    shMock.on(GetFindingsV2Command).resolves({ Findings: [asStored()] });

    const check = await verifyAtSource(forged, identifierOf(forged), clients, AWS_PRODUCTS);

    expect(check).toMatchObject({ status: 'unverified' });
    expect(check.status === 'unverified' && check.reason).toMatch(
      /not on the Security Hub product allow-list/,
    );
    expect(shMock.commandCalls(GetFindingsV2Command)).toHaveLength(0);
  });

  it("an editor who raised severity_id above the provider's gets no unattended step, and Security Hub is not asked", async () => {
    const raised = ocsfFinding(
      withValue(
        withValue(ocsfEvent(), [...OCSF, 'severity_id'], 5),
        [...OCSF, 'vendor_attributes', 'severity_id'],
        4,
      ),
    );

    const check = await verifyAtSource(raised, identifierOf(raised), clients, AWS_PRODUCTS);

    expect(check.status === 'unverified' && check.reason).toMatch(
      /raised from the provider's HIGH to CRITICAL/,
    );
    expect(shMock.commandCalls(GetFindingsV2Command)).toHaveLength(0);
  });
});

/** A public-bucket control failing on a bucket, in OCSF: the guards ASFF's get. */
describe('Security Hub OCSF public-bucket control findings', () => {
  function bucketFinding(event: unknown) {
    const parsed = parseFindingEvent(event);
    if (parsed.status !== 'finding') throw new Error('not a finding');
    return parsed.finding;
  }
  const asStored = (event: unknown) => JSON.parse(JSON.stringify(valueAt(event, OCSF)));

  it('are verified when GetFindingsV2 returns the same control on the same bucket, and not on another bucket', async () => {
    const finding = bucketFinding(ocsfBucketControl());
    expect(identifierOf(finding)).toBe(PUBLIC_BUCKET);
    shMock.on(GetFindingsV2Command).resolves({ Findings: [asStored(ocsfBucketControl())] });

    expect(await verifyAtSource(finding, identifierOf(finding), clients, AWS_PRODUCTS)).toEqual({
      status: 'verified',
    });

    const otherBucket = withValue(
      ocsfBucketControl(),
      [...OCSF, 'resources', 0, 'uid'],
      'arn:aws:s3:::another-bucket',
    );
    shMock.on(GetFindingsV2Command).resolves({ Findings: [asStored(otherBucket)] });
    const check = await verifyAtSource(finding, identifierOf(finding), clients, AWS_PRODUCTS);
    expect(check.status === 'unverified' && check.reason).toMatch(
      new RegExp(`no resource "${PUBLIC_BUCKET}"`),
    );
  });

  it("a forger's control finding in the account's productv2 default is not verified, and Security Hub is not asked", async () => {
    const forged = bucketFinding(
      withValue(
        ocsfBucketControl(),
        [...OCSF, 'metadata', 'product', 'uid'],
        `arn:aws:securityhub:us-east-1:${ACCOUNT}:productv2/${ACCOUNT}/default`,
      ),
    );
    shMock.on(GetFindingsV2Command).resolves({ Findings: [asStored(ocsfBucketControl())] });

    const check = await verifyAtSource(forged, identifierOf(forged), clients, AWS_PRODUCTS);

    expect(check.status === 'unverified' && check.reason).toMatch(
      /not on the Security Hub product allow-list/,
    );
    expect(shMock.commandCalls(GetFindingsV2Command)).toHaveLength(0);
  });

  it('a control whose severity an editor raised gets no unattended step', async () => {
    const raised = bucketFinding(
      withValue(
        withValue(ocsfBucketControl(), [...OCSF, 'severity_id'], 5),
        [...OCSF, 'vendor_attributes', 'severity_id'],
        3,
      ),
    );

    const check = await verifyAtSource(raised, identifierOf(raised), clients, AWS_PRODUCTS);

    expect(check.status === 'unverified' && check.reason).toMatch(
      /raised from the provider's MEDIUM to CRITICAL/,
    );
    expect(shMock.commandCalls(GetFindingsV2Command)).toHaveLength(0);
  });
});

describe('productAllowed', () => {
  it.each([
    ['arn:aws:securityhub:us-east-1::product/aws/inspector', true],
    ['arn:aws:securityhub:us-east-1::productv2/aws/inspector', true],
    ['arn:aws:securityhub:us-east-1:123456789012:product/123456789012/default', false],
    // The forgery path in either form: an import into the account's own default product.
    ['arn:aws:securityhub:us-east-1:123456789012:productv2/123456789012/default', false],
    ['arn:aws:securityhub:us-east-1::product/crowdstrike/crowdstrike-falcon', false],
    ['arn:aws:securityhub:us-east-1::productv2/crowdstrike/crowdstrike-falcon', false],
  ])('%s: %s by default', (arn, allowed) => {
    expect(productAllowed(arn, AWS_PRODUCTS)).toBe(allowed);
  });

  it('allows no product of an importer who put /cordon/ in its name, with an empty allow-list', () => {
    const forged = 'arn:aws:securityhub:us-east-1:123456789012:product/123456789012/cordon/x';

    expect(productAllowed(forged, [])).toBe(false);
    expect(productAllowed(forged, AWS_PRODUCTS)).toBe(false);
  });

  it('matches the allow-list as written: another case is another product', () => {
    expect(
      productAllowed('arn:aws:securityhub:us-east-1::product/AWS/inspector', AWS_PRODUCTS),
    ).toBe(false);
  });
});

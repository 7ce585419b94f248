/**
 * Findings as AWS and others published them (test/fixtures/real, each with
 * its provenance in SOURCES.md): every one parses (a real finding is never
 * refused for a field Cordon can derive), and each goes where the README's
 * routing says. Rules are the synthesized ones, with every severity acted
 * on, so routing is shown whatever the finding's severity (most published
 * examples are samples at Low or Medium). Triage's finding guards then say
 * what would happen to one that parses, in an account and region the
 * finding names.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { PLAYBOOK_NAMES, type PlaybookName } from '../../../../functions/shared/catalog.js';
import { deciderFor } from '../../../../functions/triage/deciders/index.js';
import { findingRefusal } from '../../../../functions/triage/guards/finding.js';
import { parseFindingEvent } from '../../../../functions/triage/parse/index.js';
import { matchesEventPattern } from '../../../../rehearsal/event-pattern.js';
import {
  findingKinds,
  GUARDDUTY_TYPES_PATH,
  GuardDutyTypesSchema,
  type PlaybookRule,
  playbookRules,
  routeOf,
} from '../../../../scripts/routing/guardduty.js';
import { buildTestApp } from '../../../support/template.js';
import { config } from '../helpers.js';

const CORPUS = new URL('../../../fixtures/real/', import.meta.url);

interface Expected {
  /** The playbooks whose rules match the event. */
  readonly rules: readonly PlaybookName[];
  /** What parsing without a playbook gives: the playbook, or why none. */
  readonly parse: PlaybookName | `unhandled: ${string}`;
  /** The first finding guard that refuses it, or undefined: it goes on to its decider. */
  readonly guard?: RegExp;
  /**
   * Stored without a part GuardDuty emits (an attack sequence's
   * `service.detection.sequence`): routed unlike its type in the routing
   * table, which is by the finding as GuardDuty emits it.
   */
  readonly stripped?: true;
}

const SAMPLE = /^sample: /;
const GUARDDUTY_VIA_SECURITY_HUB = /^product: Security Hub finding from GuardDuty/;
/** Wrapped in a documentation event example: the envelope's account is the example's, not the finding's. */
const FOREIGN_ENVELOPE = /^account: the event came from account 111122223333/;

const EXPECTED: Readonly<Record<string, Expected>> = {
  // GuardDuty's own format.
  // Stored without the sequence itself (SOURCES.md): the rule asks for one, so nothing starts.
  'guardduty-attack-sequence-iam-compromised-credentials': {
    rules: [],
    parse: 'unhandled: unhandled-resource',
    stripped: true,
  },
  'guardduty-attack-sequence-s3-compromised-data': {
    rules: [],
    parse: 'unhandled: unhandled-resource',
    stripped: true,
  },
  'guardduty-backdoor-ec2-c-and-c-activity-b-dns': {
    rules: ['ec2-instance'],
    parse: 'ec2-instance',
    guard: SAMPLE,
  },
  'guardduty-unauthorized-access-ec2-rdp-brute-force': {
    rules: ['ec2-instance'],
    parse: 'ec2-instance',
    guard: SAMPLE,
  },
  'guardduty-unauthorized-access-ec2-ssh-brute-force': {
    rules: ['ec2-instance'],
    parse: 'ec2-instance',
    guard: FOREIGN_ENVELOPE,
  },
  'guardduty-unauthorized-access-iam-user-tor-ip-caller': {
    rules: ['iam-credentials'],
    parse: 'iam-credentials',
    guard: SAMPLE,
  },
  // Security Hub: the public-bucket findings go to s3-exposure.
  'securityhub-control-s3-2-failed': { rules: ['s3-exposure'], parse: 's3-exposure' },
  'securityhub-control-s3-8': {
    rules: ['s3-exposure'],
    parse: 's3-exposure',
    guard: FOREIGN_ENVELOPE,
  },
  // A PASSED S3.2 or S3.3 files its result under Effects/Data Exposure too: not an exposure.
  'securityhub-control-s3-2': { rules: [], parse: 'unhandled: unhandled-resource' },
  'securityhub-control-s3-3': { rules: [], parse: 'unhandled: unhandled-resource' },
  // The Access Analyzer user guide's example predates FindingProviderFields, which Security Hub
  // now sets on every import: parsed, but no rule matches it as published.
  'securityhub-access-analyzer-external-access': { rules: [], parse: 's3-exposure' },
  // Every other control result and configuration rule: no playbook, dropped by the rules.
  'securityhub-control-s3-1': { rules: [], parse: 'unhandled: unhandled-resource' },
  'securityhub-control-s3-6': { rules: [], parse: 'unhandled: unhandled-resource' },
  'securityhub-control-ec2-7': { rules: [], parse: 'unhandled: unhandled-resource' },
  'securityhub-control-ec2-8': { rules: [], parse: 'unhandled: unhandled-resource' },
  'securityhub-control-ec2-19': { rules: [], parse: 'unhandled: unhandled-resource' },
  'securityhub-control-iam-3': { rules: [], parse: 'unhandled: unhandled-resource' },
  'securityhub-control-iam-7': { rules: [], parse: 'unhandled: unhandled-resource' },
  'securityhub-control-iam-8': { rules: [], parse: 'unhandled: unhandled-resource' },
  'securityhub-control-cloudtrail-2': { rules: [], parse: 'unhandled: unhandled-resource' },
  'securityhub-control-pci-config-1': { rules: [], parse: 'unhandled: unhandled-resource' },
  'securityhub-config-rule': { rules: [], parse: 'unhandled: unhandled-resource' },
  'securityhub-inspector-ecr-container-image-cve': {
    rules: [],
    parse: 'unhandled: unhandled-resource',
  },
  'securityhub-inspector-ecr-container-image-cve-critical': {
    rules: [],
    parse: 'unhandled: unhandled-resource',
  },
  // Custom actions are a responder's request, not a finding being imported.
  'securityhub-custom-action-cis-2-2': { rules: [], parse: 'unhandled: unhandled-detail-type' },
  'securityhub-custom-action-cis-2-3': { rules: [], parse: 'unhandled: unhandled-detail-type' },
  'securityhub-custom-action-control-iam-6': {
    rules: [],
    parse: 'unhandled: unhandled-detail-type',
  },
  'securityhub-custom-action-guardduty-unauthorized-access-iam-user-console-login': {
    rules: [],
    parse: 'unhandled: unhandled-detail-type',
  },
  // GuardDuty's findings imported into Security Hub: the GuardDuty rule handles them, once.
  'securityhub-guardduty-policy-s3-bucket-block-public-access-disabled': {
    rules: [],
    parse: 'unhandled: guardduty-through-security-hub',
  },
  'securityhub-guardduty-unauthorized-access-ec2-ssh-brute-force': {
    rules: [],
    parse: 'unhandled: guardduty-through-security-hub',
  },
  'securityhub-guardduty-recon-iam-user-resource-permissions': {
    rules: [],
    parse: 'iam-credentials',
    guard: GUARDDUTY_VIA_SECURITY_HUB,
  },
  'securityhub-guardduty-recon-iam-user-user-permissions': {
    rules: [],
    parse: 'iam-credentials',
    guard: GUARDDUTY_VIA_SECURITY_HUB,
  },
  'securityhub-guardduty-stealth-iam-user-cloudtrail-logging-disabled': {
    rules: [],
    parse: 'iam-credentials',
    guard: GUARDDUTY_VIA_SECURITY_HUB,
  },
  // Security Hub's OCSF form ("Findings Imported V2"). GuardDuty's findings come through the
  // GuardDuty rule only, as in ASFF; a control other than the public-bucket ones is a setting.
  'securityhub-v2-guardduty-stealth-iam-user-cloudtrail-logging-disabled': {
    rules: [],
    parse: 'unhandled: guardduty-through-security-hub',
  },
  'securityhub-v2-control-sqs-1': { rules: [], parse: 'unhandled: unhandled-resource' },
  // A temporary key (ASIA...) under only a UserName: never taken for a user to contain.
  'securityhub-guardduty-recon-iam-user-resource-permissions-temporary-key': {
    rules: [],
    parse: 'unhandled: unhandled-resource',
  },
};

const KINDS = findingKinds(
  GuardDutyTypesSchema.parse(
    JSON.parse(
      readFileSync(new URL(`../../../../${GUARDDUTY_TYPES_PATH}`, import.meta.url), 'utf8'),
    ),
  ).types,
);

const ALL_LABELS = ['INFORMATIONAL', 'LOW', 'MEDIUM', 'HIGH', 'CRITICAL'] as const;

let rules: PlaybookRule[];

beforeAll(() => {
  const { app, stackName } = buildTestApp({
    overrides: { severityThreshold: 1, securityHubSeverityLabels: [...ALL_LABELS] },
  });
  // Each rule takes only its own account's events (test/infra/state-machines.test.ts):
  // routing here is by the finding itself, as a Cordon in the event's account would see it.
  rules = playbookRules(app.synth().getStackByName(stackName).template).map((rule) => {
    const { account: _account, ...pattern } = z
      .looseObject({ account: z.unknown() })
      .parse(rule.pattern);
    return { ...rule, pattern };
  });
});

const files = readdirSync(CORPUS)
  .filter((f) => f.endsWith('.json'))
  .map((f) => f.slice(0, -'.json'.length))
  .sort();

describe('the real corpus', () => {
  it('has an expectation for every file, and a file for every expectation', () => {
    expect(files.length).toBeGreaterThanOrEqual(30);
    expect(files).toEqual(Object.keys(EXPECTED).sort());
  });

  it.each(files)('%s parses and routes as the README says', (name) => {
    const event: unknown = JSON.parse(readFileSync(new URL(`${name}.json`, CORPUS), 'utf8'));
    const expected = EXPECTED[name];
    if (!expected) throw new Error(`no expectation for ${name}`);

    const matched = PLAYBOOK_NAMES.filter((p) =>
      rules.some((r) => r.playbook === p && matchesEventPattern(r.pattern, event)),
    );
    expect(matched).toEqual(expected.rules);

    const parsed = parseFindingEvent(event);
    const got =
      parsed.status === 'unhandled' ? `unhandled: ${parsed.reason}` : parsed.finding.playbook;
    expect(got).toBe(expected.parse);

    // A GuardDuty finding goes where the README's routing table says its type goes.
    const detail = z
      .object({
        source: z.literal('aws.guardduty'),
        detail: z.object({ type: z.string(), resource: z.object({ resourceType: z.string() }) }),
      })
      .safeParse(event);
    if (detail.success && expected.stripped === undefined) {
      const { type, resource } = detail.data.detail;
      const kind = KINDS.find((k) => k.type === type && k.resourceType === resource.resourceType);
      if (!kind) throw new Error(`${type} on ${resource.resourceType} is not in GuardDuty's list`);
      expect(matched).toEqual(routeOf(kind, rules).matched);
    }

    // Each rule that matches hands triage a finding for its own playbook.
    for (const playbook of matched) {
      expect(parseFindingEvent(event, playbook)).toMatchObject({ status: 'finding' });
    }
    if (parsed.status !== 'finding') return;
    const { finding } = parsed;
    const runtime = config({
      homeAccount: finding.account,
      allowedRegions: [finding.region],
      severityThreshold: 1,
      securityHubSeverityLabels: [...ALL_LABELS],
    });
    const refusal = findingRefusal(finding, runtime, deciderFor(finding));
    if (expected.guard === undefined) expect(refusal).toBeUndefined();
    else expect(refusal).toMatch(expected.guard);
  });
});

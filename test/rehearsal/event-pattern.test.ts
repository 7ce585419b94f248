import { describe, expect, it } from 'vitest';
import {
  compileEventPattern,
  EventPatternError,
  matchesEventPattern,
} from '../../rehearsal/event-pattern.js';

const m = matchesEventPattern;

describe('exact values', () => {
  it('matches strings, numbers, booleans and null by type and value', () => {
    const event = { s: 'a', n: 5, b: true, z: null };
    expect(m({ s: ['a'] }, event)).toBe(true);
    expect(m({ s: ['b', 'a'] }, event)).toBe(true);
    expect(m({ s: ['A'] }, event)).toBe(false);
    expect(m({ n: [5] }, event)).toBe(true);
    expect(m({ n: [5.0] }, event)).toBe(true);
    expect(m({ n: ['5'] }, event)).toBe(false);
    expect(m({ s: [5] }, { s: '5' })).toBe(false);
    expect(m({ b: [true] }, event)).toBe(true);
    expect(m({ b: ['true'] }, event)).toBe(false);
    expect(m({ b: [false] }, event)).toBe(false);
    expect(m({ z: [null] }, event)).toBe(true);
    expect(m({ z: [''] }, event)).toBe(false);
    expect(m({ e: [''] }, { e: '' })).toBe(true);
    expect(m({ e: [null] }, { e: '' })).toBe(false);
  });

  it('requires every pattern key (AND) and ignores event fields the pattern does not name', () => {
    const event = { source: 'aws.guardduty', 'detail-type': 'GuardDuty Finding', extra: 1 };
    expect(m({ source: ['aws.guardduty'], 'detail-type': ['GuardDuty Finding'] }, event)).toBe(
      true,
    );
    expect(m({ source: ['aws.guardduty'], 'detail-type': ['Other'] }, event)).toBe(false);
    expect(m({ missing: ['x'] }, event)).toBe(false);
    expect(m({}, event)).toBe(true);
  });

  it('matches an event array if any element matches', () => {
    const event = { resources: ['arn:a', 'arn:b'], nested: [['x'], ['y']] };
    expect(m({ resources: ['arn:b'] }, event)).toBe(true);
    expect(m({ resources: ['arn:c'] }, event)).toBe(false);
    expect(m({ nested: ['y'] }, event)).toBe(true);
    expect(m({ resources: ['arn:a'] }, { resources: [] })).toBe(false);
  });

  it('does not treat an object as a leaf value', () => {
    expect(m({ detail: ['x'] }, { detail: { x: 1 } })).toBe(false);
  });
});

describe('nested objects', () => {
  it('matches nested keys and fails when the parent is missing or not an object', () => {
    const pattern = { detail: { state: ['running'] } };
    expect(m(pattern, { detail: { state: 'running' } })).toBe(true);
    expect(m(pattern, { detail: { state: 'stopped' } })).toBe(false);
    expect(m(pattern, {})).toBe(false);
    expect(m(pattern, { detail: 'running' })).toBe(false);
    expect(m(pattern, { detail: null })).toBe(false);
  });

  it('matches keys of an array of objects per field, not per element', () => {
    const pattern = { items: { a: ['x'], b: ['y'] } };
    expect(m(pattern, { items: [{ a: 'x', b: 'y' }] })).toBe(true);
    // No single element has a=x and b=y, yet EventBridge matches each key on
    // its own across the elements: triage must re-check each element.
    expect(
      m(pattern, {
        items: [
          { a: 'x', b: 'n' },
          { a: 'n', b: 'y' },
        ],
      }),
    ).toBe(true);
    expect(
      m(pattern, {
        items: [
          { a: 'x', b: 'n' },
          { a: 'n', b: 'n' },
        ],
      }),
    ).toBe(false);
  });
});

describe('prefix and suffix', () => {
  it('prefix matches the start of strings only', () => {
    expect(m({ time: [{ prefix: '2026-01' }] }, { time: '2026-01-02T00:00:00Z' })).toBe(true);
    expect(m({ time: [{ prefix: '2026-02' }] }, { time: '2026-01-02T00:00:00Z' })).toBe(false);
    expect(m({ n: [{ prefix: '12' }] }, { n: 123 })).toBe(false);
    expect(m({ s: [{ prefix: 'x' }] }, {})).toBe(false);
  });

  it('prefix with equals-ignore-case', () => {
    const pattern = { service: [{ prefix: { 'equals-ignore-case': 'EventB' } }] };
    expect(m(pattern, { service: 'eventbridge' })).toBe(true);
    expect(m(pattern, { service: 'EVENTBRIDGE' })).toBe(true);
    expect(m(pattern, { service: 'lambda' })).toBe(false);
  });

  it('suffix matches the end of strings, optionally ignoring case', () => {
    expect(m({ f: [{ suffix: '.png' }] }, { f: 'a.png' })).toBe(true);
    expect(m({ f: [{ suffix: '.png' }] }, { f: 'a.PNG' })).toBe(false);
    expect(m({ f: [{ suffix: { 'equals-ignore-case': '.png' } }] }, { f: 'a.PNG' })).toBe(true);
    expect(m({ f: [{ suffix: '.png' }] }, { f: 'a.jpg' })).toBe(false);
  });
});

describe('anything-but', () => {
  it('excludes a scalar, and matches values of another type', () => {
    const pattern = { state: [{ 'anything-but': 'initializing' }] };
    expect(m(pattern, { state: 'running' })).toBe(true);
    expect(m(pattern, { state: 'initializing' })).toBe(false);
    expect(m(pattern, { state: 5 })).toBe(true);
    expect(m(pattern, { state: null })).toBe(true);
    expect(m({ n: [{ 'anything-but': 123 }] }, { n: 123 })).toBe(false);
    expect(m({ n: [{ 'anything-but': 123 }] }, { n: '123' })).toBe(true);
  });

  it('does not match a missing field', () => {
    expect(m({ state: [{ 'anything-but': 'x' }] }, {})).toBe(false);
    expect(m({ state: [{ 'anything-but': 'x' }] }, { state: [] })).toBe(false);
  });

  it('excludes a list', () => {
    const pattern = { state: [{ 'anything-but': ['stopped', 'overloaded'] }] };
    expect(m(pattern, { state: 'running' })).toBe(true);
    expect(m(pattern, { state: 'stopped' })).toBe(false);
    expect(m(pattern, { state: 'overloaded' })).toBe(false);
  });

  it('matches an event array if any element is not excluded', () => {
    const pattern = { tags: [{ 'anything-but': 'a' }] };
    expect(m(pattern, { tags: ['a', 'b'] })).toBe(true);
    expect(m(pattern, { tags: ['a', 'a'] })).toBe(false);
  });

  it('excludes by prefix, suffix, equals-ignore-case and wildcard', () => {
    const notUs = { region: [{ 'anything-but': { prefix: 'us-' } }] };
    expect(m(notUs, { region: 'eu-west-1' })).toBe(true);
    expect(m(notUs, { region: 'us-east-1' })).toBe(false);
    expect(m(notUs, { region: 7 })).toBe(true);
    const notPng = { f: [{ 'anything-but': { suffix: '.png' } }] };
    expect(m(notPng, { f: 'a.jpg' })).toBe(true);
    expect(m(notPng, { f: 'a.png' })).toBe(false);
    const notInit = { s: [{ 'anything-but': { 'equals-ignore-case': ['init', 'boot'] } }] };
    expect(m(notInit, { s: 'INIT' })).toBe(false);
    expect(m(notInit, { s: 'Boot' })).toBe(false);
    expect(m(notInit, { s: 'running' })).toBe(true);
    const notLib = { p: [{ 'anything-but': { wildcard: '*/lib/*' } }] };
    expect(m(notLib, { p: '/usr/lib/x' })).toBe(false);
    expect(m(notLib, { p: '/usr/bin/x' })).toBe(true);
  });
});

describe('numeric', () => {
  it('compares with one operator', () => {
    const atLeast7 = { severity: [{ numeric: ['>=', 7] }] };
    expect(m(atLeast7, { severity: 7 })).toBe(true);
    expect(m(atLeast7, { severity: 8.5 })).toBe(true);
    expect(m(atLeast7, { severity: 6.9 })).toBe(false);
    expect(m({ n: [{ numeric: ['=', 5] }] }, { n: 5 })).toBe(true);
    expect(m({ n: [{ numeric: ['=', 5] }] }, { n: 5.1 })).toBe(false);
    expect(m({ n: [{ numeric: ['<', 0] }] }, { n: -1 })).toBe(true);
    expect(m({ n: [{ numeric: ['<=', 0] }] }, { n: 1 })).toBe(false);
  });

  it('compares within a range', () => {
    const range = { c: [{ numeric: ['>', 0, '<=', 5] }] };
    expect(m(range, { c: 5 })).toBe(true);
    expect(m(range, { c: 0.1 })).toBe(true);
    expect(m(range, { c: 0 })).toBe(false);
    expect(m(range, { c: 5.01 })).toBe(false);
  });

  it('matches JSON numbers only', () => {
    const pattern = { n: [{ numeric: ['>', 0] }] };
    expect(m(pattern, { n: '8' })).toBe(false);
    expect(m(pattern, { n: true })).toBe(false);
    expect(m(pattern, { n: null })).toBe(false);
    expect(m(pattern, {})).toBe(false);
    expect(m(pattern, { n: [-1, 3] })).toBe(true);
  });
});

describe('exists', () => {
  it('exists: true matches a present leaf, including null', () => {
    const pattern = { detail: { key: [{ exists: true }] } };
    expect(m(pattern, { detail: { key: 'x' } })).toBe(true);
    expect(m(pattern, { detail: { key: null } })).toBe(true);
    expect(m(pattern, { detail: { key: 0 } })).toBe(true);
    expect(m(pattern, { detail: {} })).toBe(false);
    expect(m(pattern, { detail: { key: [] } })).toBe(false);
    expect(m(pattern, { detail: { key: { inner: 1 } } })).toBe(false);
  });

  it('exists: false matches a missing field, even under a missing parent', () => {
    const pattern = { detail: { key: [{ exists: false }] } };
    expect(m(pattern, { detail: {} })).toBe(true);
    expect(m(pattern, {})).toBe(true);
    expect(m(pattern, { detail: { key: null } })).toBe(false);
    expect(m(pattern, { detail: { key: 'x' } })).toBe(false);
  });
});

describe('equals-ignore-case', () => {
  it('matches strings regardless of case', () => {
    const pattern = { name: [{ 'equals-ignore-case': 'alice' }] };
    expect(m(pattern, { name: 'ALICE' })).toBe(true);
    expect(m(pattern, { name: 'Alice' })).toBe(true);
    expect(m(pattern, { name: 'alicia' })).toBe(false);
    expect(m(pattern, { name: ['bob', 'aLiCe'] })).toBe(true);
  });
});

describe('wildcard', () => {
  it('* matches any run of characters, including none', () => {
    const pattern = { arn: [{ wildcard: 'arn:aws:iam::*:role/cordon-*' }] };
    expect(m(pattern, { arn: 'arn:aws:iam::123456789012:role/cordon-triage' })).toBe(true);
    expect(m(pattern, { arn: 'arn:aws:iam:::role/cordon-' })).toBe(true);
    expect(m(pattern, { arn: 'arn:aws:iam::123456789012:role/other' })).toBe(false);
    expect(m(pattern, { arn: 7 })).toBe(false);
  });

  it('treats regex characters literally and supports \\* escapes', () => {
    expect(m({ f: [{ wildcard: 'a.b' }] }, { f: 'a.b' })).toBe(true);
    expect(m({ f: [{ wildcard: 'a.b' }] }, { f: 'axb' })).toBe(false);
    expect(m({ f: [{ wildcard: 'a\\*b' }] }, { f: 'a*b' })).toBe(true);
    expect(m({ f: [{ wildcard: 'a\\*b' }] }, { f: 'axb' })).toBe(false);
  });
});

describe('$or', () => {
  it('matches if any alternative matches, alongside the other keys', () => {
    const pattern = {
      source: ['aws.guardduty'],
      $or: [
        { detail: { severity: [{ numeric: ['>=', 7] }] } },
        { detail: { type: [{ prefix: 'UnauthorizedAccess:' }] } },
      ],
    };
    expect(m(pattern, { source: 'aws.guardduty', detail: { severity: 8 } })).toBe(true);
    expect(
      m(pattern, {
        source: 'aws.guardduty',
        detail: { severity: 2, type: 'UnauthorizedAccess:IAMUser/X' },
      }),
    ).toBe(true);
    expect(m(pattern, { source: 'aws.guardduty', detail: { severity: 2, type: 'Recon:X' } })).toBe(
      false,
    );
    expect(m(pattern, { source: 'aws.other', detail: { severity: 8 } })).toBe(false);
  });

  it('works inside nested objects', () => {
    const pattern = { detail: { $or: [{ a: ['1'] }, { b: ['2'] }] } };
    expect(m(pattern, { detail: { b: '2' } })).toBe(true);
    expect(m(pattern, { detail: { a: '2' } })).toBe(false);
  });
});

describe('pattern validation', () => {
  const invalid: Array<[string, unknown, RegExp]> = [
    ['a non-object pattern', ['x'], /a pattern is a JSON object/],
    ['a leaf that is not an array', { source: 'aws.guardduty' }, /at source: expected an array/],
    ['an empty leaf array', { source: [] }, /at source: an empty array/],
    ['an unknown operator', { ip: [{ cidr: '10.0.0.0/8' }] }, /unsupported operator "cidr"/],
    ['a typo operator', { s: [{ prefx: 'a' }] }, /unsupported operator "prefx"/],
    ['two operators in one object', { s: [{ prefix: 'a', suffix: 'b' }] }, /exactly one key/],
    ['a nested array in a leaf', { s: [['a']] }, /expected a value or an operator/],
    [
      'a bad numeric operator',
      { n: [{ numeric: ['!=', 1] }] },
      /unsupported numeric operator "!="/,
    ],
    ['a non-number bound', { n: [{ numeric: ['>', '1'] }] }, /expected a number/],
    ['a reversed range', { n: [{ numeric: ['<', 5, '>', 1] }] }, /lower bound/],
    ['a bad exists', { n: [{ exists: 'yes' }] }, /exists takes true or false/],
    ['$or with one branch', { $or: [{ a: ['x'] }] }, /at least two/],
    [
      'numeric inside anything-but',
      { n: [{ 'anything-but': { numeric: ['>', 1] } }] },
      /not allowed inside anything-but/,
    ],
    [
      'an unknown operator inside anything-but',
      { n: [{ 'anything-but': { cidr: 'x' } }] },
      /unsupported operator "cidr"/,
    ],
    ['a bad wildcard escape', { f: [{ wildcard: 'a\\b' }] }, /may only escape/],
  ];

  it.each(invalid)('rejects %s', (_name, pattern, message) => {
    expect(() => m(pattern, {})).toThrow(EventPatternError);
    expect(() => m(pattern, {})).toThrow(message);
  });

  it('validates every branch before looking at the event', () => {
    // The first key already fails for this event; the bad operator must still be reported.
    const pattern = { source: ['nope'], detail: { x: [{ bogus: 1 }] } };
    expect(() => m(pattern, { source: 'aws.guardduty' })).toThrow(/unsupported operator "bogus"/);
    expect(() => compileEventPattern(pattern)).toThrow(EventPatternError);
  });
});

describe('Cordon rule patterns', () => {
  const guardDutyAccessKeys = {
    source: ['aws.guardduty'],
    'detail-type': ['GuardDuty Finding'],
    detail: { resource: { resourceType: ['AccessKey'] }, severity: [{ numeric: ['>=', 7] }] },
  };
  const guardDutyEvent = (resourceType: string, severity: unknown) => ({
    version: '0',
    id: 'c8c4daa7-a20c-2f03-0070-b7393dd542ad',
    'detail-type': 'GuardDuty Finding',
    source: 'aws.guardduty',
    account: '123456789012',
    time: '2026-01-01T00:00:00Z',
    region: 'us-east-1',
    resources: [],
    detail: {
      schemaVersion: '2.0',
      accountId: '123456789012',
      region: 'us-east-1',
      id: '16afba5c5c43e07c9e3e5e2e544e95df',
      type: 'UnauthorizedAccess:IAMUser/InstanceCredentialExfiltration.OutsideAWS',
      resource: {
        resourceType,
        accessKeyDetails: {
          accessKeyId: 'AKIAEXAMPLE',
          principalId: 'AIDAEXAMPLE',
          userType: 'IAMUser',
          userName: 'alice',
        },
      },
      severity,
      service: { additionalInfo: { sample: false }, count: 1 },
    },
  });

  it('GuardDuty: high-severity access key findings match', () => {
    expect(m(guardDutyAccessKeys, guardDutyEvent('AccessKey', 8))).toBe(true);
    expect(m(guardDutyAccessKeys, guardDutyEvent('AccessKey', 7))).toBe(true);
  });

  it('GuardDuty: low severity, other resources, string severities and other sources do not', () => {
    expect(m(guardDutyAccessKeys, guardDutyEvent('AccessKey', 5))).toBe(false);
    expect(m(guardDutyAccessKeys, guardDutyEvent('Instance', 8))).toBe(false);
    expect(m(guardDutyAccessKeys, guardDutyEvent('AccessKey', '8'))).toBe(false);
    expect(
      m(guardDutyAccessKeys, { ...guardDutyEvent('AccessKey', 8), source: 'aws.securityhub' }),
    ).toBe(false);
    const { resource: _dropped, ...detailWithoutResource } = guardDutyEvent('AccessKey', 8).detail;
    expect(
      m(guardDutyAccessKeys, { ...guardDutyEvent('AccessKey', 8), detail: detailWithoutResource }),
    ).toBe(false);
  });

  const securityHubIam = {
    source: ['aws.securityhub'],
    'detail-type': ['Security Hub Findings - Imported'],
    detail: {
      findings: {
        ProductName: [{ 'anything-but': ['GuardDuty'] }],
        Severity: { Label: ['HIGH', 'CRITICAL'] },
        Resources: { Type: ['AwsIamAccessKey', 'AwsIamUser', 'AwsIamRole'] },
      },
    },
  };
  const finding = (ProductName: string, Label: string, Type = 'AwsIamAccessKey') => ({
    SchemaVersion: '2018-10-08',
    Id: `arn:aws:securityhub:us-east-1:123456789012:finding/${ProductName}-${Label}`,
    ProductName,
    AwsAccountId: '123456789012',
    Severity: { Label, Normalized: 70 },
    Resources: [{ Type, Id: 'AKIAEXAMPLE', Region: 'us-east-1' }],
    Workflow: { Status: 'NEW' },
  });
  const securityHubEvent = (...findings: unknown[]) => ({
    version: '0',
    id: '8e5622f9-d81c-4d81-612a-9319e7ee2506',
    'detail-type': 'Security Hub Findings - Imported',
    source: 'aws.securityhub',
    account: '123456789012',
    time: '2026-01-01T00:00:00Z',
    region: 'us-east-1',
    resources: [],
    detail: { findings },
  });

  it('Security Hub: high or critical IAM findings from products other than GuardDuty match', () => {
    expect(m(securityHubIam, securityHubEvent(finding('IAM Access Analyzer', 'HIGH')))).toBe(true);
    expect(
      m(securityHubIam, securityHubEvent(finding('Security Hub', 'CRITICAL', 'AwsIamRole'))),
    ).toBe(true);
  });

  it('Security Hub: GuardDuty-sourced, low-severity and non-IAM findings do not', () => {
    expect(m(securityHubIam, securityHubEvent(finding('GuardDuty', 'HIGH')))).toBe(false);
    expect(m(securityHubIam, securityHubEvent(finding('Security Hub', 'LOW')))).toBe(false);
    expect(
      m(securityHubIam, securityHubEvent(finding('Security Hub', 'HIGH', 'AwsS3Bucket'))),
    ).toBe(false);
    expect(m(securityHubIam, securityHubEvent())).toBe(false);
  });

  it('Security Hub: across several findings, each key is matched on its own (triage re-checks)', () => {
    // Neither finding satisfies the whole pattern, but each key is satisfied by one of them.
    const mixed = securityHubEvent(finding('GuardDuty', 'HIGH'), finding('Inspector', 'LOW'));
    expect(m(securityHubIam, mixed)).toBe(true);
  });
});

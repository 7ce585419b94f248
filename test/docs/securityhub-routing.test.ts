import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { playbookRules } from '../../scripts/routing/guardduty.js';
import {
  SECURITYHUB_ROUTING_BEGIN,
  SECURITYHUB_ROUTING_END,
  securityHubRoutingTable,
  UNDOCUMENTED_OCSF,
} from '../../scripts/routing/securityhub.js';
import { defaultTemplate } from '../support/template.js';

/**
 * The README's Security Hub routing table is generated from the synthesized
 * rules and triage's parser, each kind of finding in both forms Security Hub
 * sends (ASFF and OCSF); these tests keep it current and hold the routing to
 * what the README says of the two forms.
 */

const root = new URL('../../', import.meta.url);
const rules = playbookRules(defaultTemplate().json);
const generated = securityHubRoutingTable(rules);
const rows = generated
  .trim()
  .split('\n')
  .slice(2)
  .map((line) => line.split(' | ').map((cell) => cell.replace(/^\| |\s\|$/g, '').trim()));

describe("the README's Security Hub routing table", () => {
  it('is what the code routes', () => {
    const readme = readFileSync(new URL('README.md', root), 'utf8');
    const section = readme.slice(
      readme.indexOf(SECURITYHUB_ROUTING_BEGIN) + SECURITYHUB_ROUTING_BEGIN.length + 1,
      readme.indexOf(SECURITYHUB_ROUTING_END),
    );
    expect(
      section === generated,
      'The README Security Hub routing table is stale: run `npm run diagrams` and commit the result.',
    ).toBe(true);
  });

  it('routes every kind of finding the same way in ASFF and in OCSF, where its OCSF form is documented', () => {
    expect(rows.length).toBeGreaterThanOrEqual(15);
    for (const [finding, , asff, , ocsf] of rows) {
      if (ocsf !== UNDOCUMENTED_OCSF) expect(ocsf, finding).toBe(asff);
    }
  });

  it('says which public-bucket findings ASFF routes and OCSF does not, for want of a documented OCSF form', () => {
    const gaps = rows
      .filter(([, , , , ocsf]) => ocsf === UNDOCUMENTED_OCSF)
      .map(([finding, , asff]) => [finding, asff]);
    expect(gaps).toEqual([
      ['control S3.19 failing on an access point', 's3-exposure'],
      ['IAM Access Analyzer: external access to a bucket', 's3-exposure'],
      ['Macie policy finding: a public bucket', 's3-exposure'],
    ]);
  });

  it('routes every public-bucket control to s3-exposure in both forms', () => {
    for (const id of ['S3.2', 'S3.3', 'S3.8']) {
      const row = rows.find(([finding]) => finding === `control ${id} failing on a bucket`);
      expect(row, id).toEqual([
        expect.any(String),
        '`AwsS3Bucket`',
        's3-exposure',
        '`AWS::S3::Bucket`',
        's3-exposure',
      ]);
    }
  });

  it('sends each playbook its detections in both forms, and no triage refuses what a rule sent', () => {
    const routed = rows.map(([, , asff]) => asff);
    for (const playbook of [
      'iam-credentials',
      'ec2-instance',
      'secret-exposure',
      'integration-quarantine',
      's3-exposure',
    ]) {
      expect(routed).toContain(playbook);
    }
    expect(generated).not.toContain('triage refuses');
  });

  it("leaves GuardDuty's own findings, settings and vulnerabilities to no playbook, in either form", () => {
    const none = rows.filter(([, , asff]) => asff === 'no playbook').map(([finding]) => finding);
    expect(none).toEqual([
      'control EC2.8 failing on an instance',
      'vulnerability on an instance (Inspector; OCSF class 2002)',
      'control S3.6 failing on a bucket',
      "GuardDuty's detection on a long-term access key",
      "GuardDuty's attack sequence (its own finding starts attack-sequence)",
    ]);
  });
});

/**
 * Layer 2 (infra): cdk-nag organization-wide, on the hub as it synthesizes
 * with an `organization` key (its StackSet and its hub roles' STS grants)
 * and on the member stack (the spoke roles), each in a synthesis of its own
 * with both packs and CDK's CloudFormation validation on. Every finding
 * accepted is acknowledged where it arises, with a reason.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { App, Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { CordonMemberStack } from '../../infra/member-stack.js';
import { type Report, synthWithPacks, violationsOf } from '../support/nag.js';
import { buildTestApp } from '../support/template.js';

const outdirs: string[] = [];
let hub: { report: Report; error: unknown };
let member: { report: Report; error: unknown };
let memberApp: App;

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'cordon-org-nag-'));
  outdirs.push(dir);
  return dir;
}

beforeAll(() => {
  const hubDir = tempDir();
  const { app } = buildTestApp({
    outdir: hubDir,
    builtinValidation: true,
    overrides: {
      organization: {
        organizationId: 'o-abcdefghij',
        accounts: '*',
        organizationalUnits: ['r-ab12'],
        excludedAccounts: ['999999999999'],
        regions: ['eu-west-1'],
      },
    },
  });
  hub = synthWithPacks(app, hubDir);
  const memberDir = tempDir();
  memberApp = new App({ outdir: memberDir });
  new CordonMemberStack(memberApp, 'CordonMember', {
    regions: ['us-east-1', 'eu-west-1'],
    breakGlassPrincipalArns: ['arn:aws:iam::222222222222:role/BreakGlass'],
  });
  member = synthWithPacks(memberApp, memberDir);
});

afterAll(() => {
  for (const dir of outdirs) rmSync(dir, { recursive: true, force: true });
});

describe('cdk-nag, organization-wide', () => {
  it('passes the hub with its StackSet and STS grants, nothing unacknowledged', () => {
    expect(hub.error === undefined ? '' : String(hub.error)).toBe('');
    expect(violationsOf(hub.report)).toEqual([]);
  });

  it('passes the member stack, nothing unacknowledged', () => {
    expect(member.error === undefined ? '' : String(member.error)).toBe('');
    expect(violationsOf(member.report)).toEqual([]);
  });

  it('acknowledges on a spoke role only IAM5 wildcard findings, each with a reason', () => {
    const acks = memberApp.node
      .findAll()
      .filter((c) => c instanceof iam.Role)
      .flatMap((c) =>
        c.node.metadata
          .filter((m) => m.type === Validations.ACKNOWLEDGED_RULES_METADATA_KEY)
          .flatMap((m) => Object.entries(z.record(z.string(), z.string()).parse(m.data))),
      );

    expect(acks.length).toBeGreaterThan(10);
    for (const [id, reason] of acks) {
      expect(id).toMatch(/^(Annotation::)?AwsSolutions-IAM5\[Resource::.+\]$/);
      expect(reason.length, id).toBeGreaterThanOrEqual(30);
    }
  });
});

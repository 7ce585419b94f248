/**
 * Layer 2 (infra): cdk-nag on the default Cordon stack.
 *
 * Proves the stack passes the AwsSolutions and Serverless packs with no
 * unacknowledged error or warning. The packs run as CDK validation plugins
 * (`Validations.of(app).addPlugins(...)`, cdk-nag 3), so they need their own
 * synthesis: it runs once for this file (bundling skipped). Every accepted
 * finding is acknowledged in infra/ next to its resource, with a reason; a
 * function's role may only have IAM5 findings acknowledged. A tiny
 * non-compliant canary app proves the packs run and the report is read.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { App, type CfnElement, Stack, Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import type { IConstruct } from 'constructs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { FUNCTION_NAMES } from '../../functions/registry.js';
import type { FunctionName } from '../../functions/shared/catalog.js';
import { BASELINE_UNSCOPED } from '../../functions/shared/iam.js';
import { loadManifests } from '../support/manifests.js';
import { type Report, synthWithPacks, violationsOf } from '../support/nag.js';
import {
  actionFunctions,
  buildTestApp,
  type CfnTemplate,
  policyDocuments,
  renderArn,
  resourcesOf,
} from '../support/template.js';

interface Acknowledgement {
  readonly construct: IConstruct;
  readonly path: string;
  readonly id: string;
  readonly reason: string;
}

const outdirs: string[] = [];
let synthError: unknown;
let report: Report;
let template: CfnTemplate;
let packs: string[];
let acknowledgements: Acknowledgement[];
let canaryReport: Report;

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'cordon-nag-'));
  outdirs.push(dir);
  return dir;
}

beforeAll(() => {
  const outdir = tempDir();
  // Built-in CloudFormation validation stays on: its findings land in the same report.
  const { app, stackName } = buildTestApp({ outdir, builtinValidation: true });
  acknowledgements = app.node.findAll().flatMap((c) =>
    c.node.metadata
      .filter((m) => m.type === Validations.ACKNOWLEDGED_RULES_METADATA_KEY)
      .flatMap((m) =>
        Object.entries(z.record(z.string(), z.string()).parse(m.data)).map(([id, reason]) => ({
          construct: c,
          path: c.node.path,
          id,
          reason,
        })),
      ),
  );
  ({ report, error: synthError, packs } = synthWithPacks(app, outdir));
  template = z
    .looseObject({ Resources: z.record(z.string(), z.looseObject({ Type: z.string() })) })
    .parse(JSON.parse(readFileSync(join(outdir, `${stackName}.template.json`), 'utf8')));

  // A canary the packs must flag, so a silent plugin or a changed report
  // format cannot make "no findings" pass: a queue without TLS enforcement
  // and a role with an unacknowledged wildcard resource.
  const canaryDir = tempDir();
  const canary = new App({ outdir: canaryDir, builtinCloudFormationValidation: false });
  const stack = new Stack(canary, 'NagCanary');
  new sqs.Queue(stack, 'Queue');
  const role = new iam.Role(stack, 'Role', {
    assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
  });
  role.addToPolicy(
    new iam.PolicyStatement({
      actions: ['ec2:CreateTags'],
      resources: [stack.formatArn({ service: 'ec2', resource: 'instance', resourceName: '*' })],
    }),
  );
  canaryReport = synthWithPacks(canary, canaryDir).report;
});

afterAll(() => {
  for (const dir of outdirs) rmSync(dir, { recursive: true, force: true });
});

/** The resources a role's identity policies name, as cdk-nag renders them. */
function resourcesOfRole(role: IConstruct): Set<string> {
  const cfn = role.node.defaultChild;
  const roleId = cfn ? Stack.of(role).getLogicalId(cfn as CfnElement) : '';
  return new Set(
    policyDocuments(template)
      .filter((site) => site.roles.includes(roleId))
      .flatMap((site) => site.statements.flatMap((s) => resourcesOf(s).map(renderArn))),
  );
}

describe('cdk-nag', () => {
  it('runs the AwsSolutions and Serverless packs', () => {
    expect(packs).toEqual(['AwsSolutions', 'Serverless']);
  });

  it('acknowledges findings on the resources themselves, each with a specific reason', () => {
    expect(acknowledgements.length).toBeGreaterThan(0);
    for (const ack of acknowledgements) {
      // Below the Cordon construct: never on the app or the whole stack.
      expect(ack.path, ack.id).toMatch(/^Cordon\/Cordon\/[^/]+/);
      expect(ack.reason.length, ack.id).toBeGreaterThanOrEqual(30);
      // IAM5 is acknowledged per finding (`IAM5[Resource::...]`), never wholesale.
      if (ack.id.includes('IAM5')) expect(ack.id).toMatch(/IAM5\[(Resource|Action)::.+\]$/);
    }
  });

  it('synthesizes with no unacknowledged error', () => {
    expect(synthError === undefined ? '' : String(synthError)).toBe('');
  });

  it('reports no unacknowledged error or warning', () => {
    expect(violationsOf(report)).toEqual([]);
  });

  it('reports the findings of a non-compliant canary (the packs really run)', () => {
    expect(violationsOf(canaryReport)).toEqual(
      expect.arrayContaining([
        'error AwsSolutions-SQS4 at NagCanary/Queue/Resource',
        'error Serverless-SQSRedrivePolicy at NagCanary/Queue/Resource',
        // The id form ActionFunction renders for its acknowledgements.
        'error AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:ec2:<AWS::Region>:<AWS::AccountId>:instance/*] at NagCanary/Role/DefaultPolicy/Resource',
      ]),
    );
  });

  it('checks every function and its own role (the packs saw all of them)', () => {
    const fns = actionFunctions(template);
    expect(fns.map((f) => f.action).sort()).toEqual([...FUNCTION_NAMES].sort());
    expect(new Set(fns.map((f) => f.roleId)).size).toBe(FUNCTION_NAMES.length);
    for (const fn of fns) expect(template.Resources[fn.roleId]?.Type).toBe('AWS::IAM::Role');
  });

  it("acknowledges on a function's role only IAM5 wildcard findings, never another rule", () => {
    const roleIds = new Set(actionFunctions(template).map((f) => f.roleId));
    const onFunctionRoles = acknowledgements.filter((a) => {
      if (!(a.construct instanceof iam.Role)) return false;
      const cfn = a.construct.node.defaultChild;
      return (
        cfn !== undefined && roleIds.has(Stack.of(a.construct).getLogicalId(cfn as CfnElement))
      );
    });
    expect(onFunctionRoles.length).toBeGreaterThanOrEqual(FUNCTION_NAMES.length);
    for (const ack of onFunctionRoles)
      expect(ack.id, ack.path).toMatch(/^(Annotation::)?AwsSolutions-IAM5\[/);
  });

  it('acknowledges each role\'s Resource "*" with the reasons its declaration gives, and only those', () => {
    const manifests = loadManifests();
    const roleOf = new Map(
      actionFunctions(template).map((f) => [f.roleId, f.action as FunctionName]),
    );
    const stars = acknowledgements.filter(
      (a) => a.construct instanceof iam.Role && /IAM5\[Resource::\*\]$/.test(a.id),
    );
    const seen = new Set<string>();
    for (const ack of stars) {
      const cfn = ack.construct.node.defaultChild as CfnElement | undefined;
      const action = cfn && roleOf.get(Stack.of(ack.construct).getLogicalId(cfn));
      if (action === undefined) continue;
      seen.add(action);
      const declared = manifests.get(action)?.unscoped ?? {};
      expect(ack.reason, action).toMatch(
        /^Resource "\*" only for calls IAM scopes to nothing narrower/,
      );
      const expected = { ...declared, ...BASELINE_UNSCOPED };
      for (const [call, why] of Object.entries(expected)) {
        expect(ack.reason, `${action} ${call}`).toContain(call);
        expect(ack.reason, `${action} ${call}`).toContain(why);
      }
      // Only those: every call the reason names is one the declaration or the baseline gives.
      const named = ack.reason.match(/\b[a-z0-9-]+:[A-Z][A-Za-z0-9]+\b/g) ?? [];
      expect(new Set(named), action).toEqual(new Set(Object.keys(expected)));
    }
    expect([...seen].sort()).toEqual([...FUNCTION_NAMES].sort());
  });

  it('acknowledges on each role only wildcard resources that role is granted', () => {
    const onRoles = acknowledgements.filter((a) => a.construct instanceof iam.Role);
    const resourceAcks = onRoles.filter((a) => /IAM5\[Resource::/.test(a.id));
    expect(resourceAcks.length).toBeGreaterThan(20);
    for (const ack of resourceAcks) {
      const resource = ack.id.match(/IAM5\[Resource::(.+)\]$/)?.[1] ?? '';
      expect(resource, `${ack.path} ${ack.id}`).toContain('*');
      expect(resourcesOfRole(ack.construct), `${ack.path} ${ack.id}`).toContain(resource);
    }
  });
});

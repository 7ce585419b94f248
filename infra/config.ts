import { z } from 'zod';
import { MODES, type Mode, PLAYBOOKS, type PlaybookName } from '../functions/shared/catalog.js';
import { parseIamArn } from '../functions/shared/iam-arn.js';
import { SEVERITY_LABELS } from '../functions/shared/runtime-config.js';

/**
 * Cordon's settings, read from the `cordon` key of the CDK context
 * (`cdk.json`, or `-c cordon='{...}'`). Validated strictly: a misspelled key
 * or a bad value fails synth with a message naming the key and the values
 * it accepts.
 */

const ModeSchema = z.enum(MODES);

const ModesSchema = z
  .record(z.string(), z.record(z.string(), ModeSchema))
  .superRefine((modes, ctx) => {
    for (const [playbook, steps] of Object.entries(modes)) {
      const spec = (PLAYBOOKS as Record<string, { steps: Record<string, unknown> }>)[playbook];
      if (!spec) {
        ctx.addIssue({
          code: 'custom',
          path: [playbook],
          message: `unknown playbook; allowed: ${Object.keys(PLAYBOOKS).join(', ')}`,
        });
        continue;
      }
      for (const step of Object.keys(steps)) {
        if (!(step in spec.steps)) {
          ctx.addIssue({
            code: 'custom',
            path: [playbook, step],
            message: `unknown step; allowed: ${Object.keys(spec.steps).join(', ')}`,
          });
        }
      }
    }
  });

const ACCOUNT_ID = z.string().regex(/^\d{12}$/, 'must be a 12-digit account id');
/** A region's name, as AWS writes it: eu-west-1, us-gov-west-1, ap-southeast-5. */
export const REGION_NAME = /^[a-z]{2}(-[a-z]+)+-\d$/;
const REGION = z.string().regex(REGION_NAME, 'must be a region name such as eu-west-1');

/** How the hub's StackSet calls CloudFormation: as a delegated administrator, or as the management account. */
export const STACK_SET_CALLERS = ['DELEGATED_ADMIN', 'SELF'] as const;

/**
 * Organization-wide: which member accounts and regions the hub acts in, and
 * where its StackSet puts the spoke roles. No key: single-account mode.
 */
const OrganizationSchema = z
  .strictObject({
    /** The hub's organization: every spoke role trusts only principals of it. */
    organizationId: z
      .string()
      .regex(
        /^o-[a-z0-9]{10,32}$/,
        'must be an organization id: o- and 10 to 32 lowercase letters or digits',
      ),
    /** Member accounts whose findings are acted on, or "*" for every member of the organization. */
    accounts: z.union(
      [z.literal('*'), z.array(ACCOUNT_ID).min(1, 'must be "*" or list an account')],
      {
        error: 'must be "*" or a list of 12-digit account ids',
      },
    ),
    /** Where the StackSet deploys the spoke roles: organizational unit ids, or the root id. */
    organizationalUnits: z
      .array(
        z
          .string()
          .regex(
            /^(ou-[a-z0-9]{4,32}-[a-z0-9]{8,32}|r-[a-z0-9]{4,32})$/,
            'must be an organizational unit id (ou-...) or the root id (r-...)',
          ),
      )
      .min(1),
    /** Accounts never acted on, and given no spoke roles, even inside `accounts` or the units. */
    excludedAccounts: z.array(ACCOUNT_ID).default([]),
    /** Regions of member findings that are acted on. */
    regions: z.array(REGION).min(1),
    /** DELEGATED_ADMIN when the hub is the StackSets delegated administrator; SELF in the management account. */
    callAs: z.enum(STACK_SET_CALLERS).default('DELEGATED_ADMIN'),
  })
  .superRefine((organization, ctx) => {
    const { accounts, excludedAccounts } = organization;
    if (accounts === '*') return;
    for (const account of excludedAccounts.filter((a) => accounts.includes(a))) {
      ctx.addIssue({
        code: 'custom',
        path: ['excludedAccounts'],
        message: `${account} is also in accounts; list it in one of the two`,
      });
    }
  });

/** The `organization` key, validated, defaults filled in. */
export type OrganizationConfig = z.infer<typeof OrganizationSchema>;

export const CordonConfigSchema = z
  .strictObject({
    /** Account to deploy to and act in. Default: the CLI's account (CDK_DEFAULT_ACCOUNT). */
    account: z
      .string()
      .regex(/^\d{12}$/, 'must be a 12-digit account id')
      .optional(),
    /** Region to deploy to. Default: the CLI's region (CDK_DEFAULT_REGION). */
    region: REGION.optional(),
    /** GuardDuty severity (0-10) at or above which a finding is acted on. */
    severityThreshold: z.number().min(1).max(10).default(7),
    /** Security Hub severity labels that are acted on. */
    securityHubSeverityLabels: z
      .array(z.enum(SEVERITY_LABELS))
      .min(1)
      .default(['HIGH', 'CRITICAL']),
    /** Mode per playbook and step; unset steps keep their default. */
    modes: ModesSchema.default({}),
    /**
     * ARN patterns (`*`, `?`) of principals and resources never acted on.
     * Cordon's own roles are protected by their exact ARNs, always.
     */
    protectedPrincipalPatterns: z.array(z.string().startsWith('arn:')).default([]),
    /**
     * Principals (ARN patterns) that keep reading a secret Cordon locks, and
     * that Cordon never contains: your break-glass roles.
     */
    breakGlassPrincipalArns: z.array(z.string().startsWith('arn:')).default([]),
    /**
     * Principals and resources tagged `key` = `value` are not contained
     * unattended: their automatic steps wait for a responder. (Not a
     * protection: whoever may tag a resource can set it.)
     */
    exemptTag: z
      .strictObject({ key: z.string().min(1).max(128), value: z.string().max(256) })
      .default({ key: 'cordon:exempt', value: 'true' }),
    /** Regions whose findings are acted on. Default: the deployment region. */
    allowedRegions: z.array(REGION).min(1).optional(),
    /** How long an approval waits before the step is recorded as not acted on. */
    approvalTimeoutMinutes: z
      .number()
      .int()
      .min(1)
      .max(7 * 24 * 60)
      .default(60),
    /**
     * IAM users and roles (exact ARNs) allowed to approve and reject steps
     * through the approval endpoint. Empty: nobody can decide, so every
     * approval times out and is not acted on.
     */
    responderPrincipalArns: z
      .array(
        z
          .string()
          .refine(
            (arn) => parseIamArn(arn) !== undefined,
            'must be an IAM user or role ARN (arn:aws:iam::<account>:user/<name> or :role/<name>), without wildcards',
          ),
      )
      .default([]),
    /**
     * IAM users and roles (exact ARNs) that may read Cordon's execution
     * data (the Step Functions console, GetExecutionHistory,
     * DescribeExecution): the execution key's policy denies it to everyone
     * else, administrators included. Each also needs `kms:Decrypt` on the key
     * in its own policy. Whoever reads it sees waiting steps' task tokens,
     * which cannot make a step act (an approval must carry a record only the
     * responder API can make) but can end a wait early.
     */
    executionReaderPrincipalArns: z
      .array(
        z
          .string()
          .refine(
            (arn) => parseIamArn(arn) !== undefined,
            'must be an IAM user or role ARN (arn:aws:iam::<account>:user/<name> or :role/<name>), without wildcards',
          ),
      )
      .default([]),
    /** Steps that need two different responders to approve, by playbook: `{ "ec2-instance": ["isolate"] }`. */
    twoPersonRule: z.record(z.string(), z.array(z.string())).default({}),
    /**
     * Security Hub product ARN patterns (`*`, `?`) whose findings may act
     * unattended; findings of any other product (a custom import into your
     * account's default product, say) wait for approval. GuardDuty findings
     * are handled by the GuardDuty rule, not through Security Hub.
     */
    securityHubProductAllowList: z
      .array(z.string().startsWith('arn:'))
      .default(['arn:aws:securityhub:*::product/aws/*', 'arn:aws:securityhub:*::productv2/aws/*']),
    /**
     * SSM parameter holding the runtime mode (auto, approve-all, dry-run,
     * off): operators stop or slow Cordon without a deploy. Cordon creates it.
     */
    runtimeModeParameterName: z
      .string()
      .regex(/^\/[\w.\-/]{1,1010}$/, 'must be an SSM parameter name starting with /')
      .default('/cordon/mode'),
    /** More than `maxContainments` automatic containments within `windowMinutes` trip the breaker. */
    circuitBreaker: z
      .strictObject({
        maxContainments: z.number().int().min(1).max(100_000).default(20),
        windowMinutes: z
          .number()
          .int()
          .min(1)
          .max(7 * 24 * 60)
          .default(60),
      })
      .default({ maxContainments: 20, windowMinutes: 60 }),
    /** Email addresses subscribed to the notification topic (confirmation needed). */
    notificationEmails: z.array(z.email()).default([]),
    /**
     * Days each ledger anchor is kept under Object Lock in compliance mode:
     * until then nobody (the root user included) can delete or overwrite it,
     * and `cordon ledger verify` can show a cut-off tail or a deleted
     * incident anchored within that time. Longer than a year by default, to
     * outlast an annual audit.
     */
    ledgerAnchorRetentionDays: z
      .number()
      .int()
      .min(1)
      .max(100 * 365)
      .default(400),
    /**
     * Organization-wide (hub and spokes): the member accounts and regions
     * acted on, and the organizational units the spoke roles deploy to.
     * Absent: single-account mode, acting in this stack's account only.
     */
    organization: OrganizationSchema.optional(),
  })
  .superRefine((config, ctx) => {
    for (const [playbook, steps] of Object.entries(config.twoPersonRule)) {
      const spec = (PLAYBOOKS as Record<string, { steps: Record<string, unknown> }>)[playbook];
      const path = ['twoPersonRule', playbook];
      if (!spec) {
        ctx.addIssue({
          code: 'custom',
          path,
          message: `unknown playbook; allowed: ${Object.keys(PLAYBOOKS).join(', ')}`,
        });
        continue;
      }
      for (const step of steps.filter((s) => !(s in spec.steps))) {
        ctx.addIssue({
          code: 'custom',
          path,
          message: `unknown step "${step}"; allowed: ${Object.keys(spec.steps).join(', ')}`,
        });
      }
    }
    // Isolation's IAM is conditioned on the incident tag that preserveEvidence
    // sets: without that step acting, isolation could only fail.
    const spec = PLAYBOOKS['ec2-instance'].steps;
    const modes = config.modes['ec2-instance'] ?? {};
    const isolate = modes.isolate ?? spec.isolate.defaultMode;
    const evidence = modes.preserveEvidence ?? spec.preserveEvidence.defaultMode;
    if (
      (isolate === 'auto' || isolate === 'approve') &&
      (evidence === 'off' || evidence === 'dry-run')
    ) {
      ctx.addIssue({
        code: 'custom',
        path: ['modes', 'ec2-instance', 'preserveEvidence'],
        message: `must be auto or approve while isolate is ${isolate}: isolation may only touch resources preserveEvidence has tagged`,
      });
    }
  });

/** Validated settings, every default filled in (`parseConfig`'s result). */
export type CordonConfig = z.infer<typeof CordonConfigSchema>;

/** Settings as written (cdk.json's `cordon` context, `CordonProps.config`): any key may be left out. */
export type CordonSettings = z.input<typeof CordonConfigSchema>;

export class ConfigValidationError extends Error {
  override readonly name = 'ConfigValidationError';
}

/** Validates raw context, or throws one message listing every bad key. */
export function parseConfig(raw: unknown): CordonConfig {
  // `cdk -c cordon='{...}'` passes context as a string.
  let value = raw ?? {};
  if (typeof value === 'string') {
    try {
      value = JSON.parse(value);
    } catch {
      throw new ConfigValidationError('invalid Cordon configuration: cordon: not valid JSON');
    }
  }
  const result = CordonConfigSchema.safeParse(value);
  if (result.success) return result.data;
  const lines = result.error.issues.map((issue) => {
    const key = ['cordon', ...issue.path.map(String)].join('.');
    if (issue.code === 'unrecognized_keys') {
      const allowed = allowedKeysAt(issue.path.map(String));
      return `${key}: unknown key ${issue.keys.map((k) => `"${k}"`).join(', ')}; allowed: ${allowed}`;
    }
    if (issue.code === 'invalid_value') {
      return `${key}: ${issue.message}; allowed: ${issue.values.map(String).join(', ')}`;
    }
    return `${key}: ${issue.message}`;
  });
  throw new ConfigValidationError(`invalid Cordon configuration:\n  ${lines.join('\n  ')}`);
}

function allowedKeysAt(path: string[]): string {
  if (path.length === 0) return Object.keys(CordonConfigSchema.shape).join(', ');
  if (path[0] === 'exemptTag') return 'key, value';
  if (path[0] === 'circuitBreaker') return 'maxContainments, windowMinutes';
  if (path[0] === 'organization') return Object.keys(OrganizationSchema.shape).join(', ');
  return '(see README)';
}

/** The effective mode of every step of a playbook: configured, else default. */
export function modesFor(config: CordonConfig, playbook: PlaybookName): Record<string, Mode> {
  const configured = config.modes[playbook] ?? {};
  return Object.fromEntries(
    Object.entries(PLAYBOOKS[playbook].steps).map(([step, spec]) => [
      step,
      configured[step] ?? spec.defaultMode,
    ]),
  );
}

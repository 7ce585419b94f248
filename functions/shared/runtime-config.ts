import { MODES } from './catalog.js';
import { z } from './z.js';

/**
 * The guard settings triage needs at run time, rendered by infra from the
 * validated `cdk.json` context into the CORDON_CONFIG environment variable.
 * Every value is resolved: no defaults are applied here.
 */
export const SEVERITY_LABELS = ['INFORMATIONAL', 'LOW', 'MEDIUM', 'HIGH', 'CRITICAL'] as const;

export const RuntimeConfigSchema = z.strictObject({
  /** The only account whose resources Cordon acts on. */
  homeAccount: z.string().regex(/^\d{12}$/),
  /** Regions whose findings Cordon acts on. */
  allowedRegions: z.array(z.string().min(1)).min(1),
  /** GuardDuty severity (0-10) at or above which a finding is acted on. */
  severityThreshold: z.number().min(0).max(10),
  /** Security Hub severity labels that are acted on. */
  securityHubSeverityLabels: z.array(z.enum(SEVERITY_LABELS)).min(1),
  /**
   * ARN patterns (`*` matches any run of characters, `?` one) of principals
   * and resources never acted on, the break-glass principals among them.
   */
  protectedPrincipalPatterns: z.array(z.string().min(1)),
  /**
   * Every role Cordon's stack creates, by exact ARN: never acted on, and
   * neither is a function running as one of them.
   */
  cordonRoleArns: z.array(z.string().startsWith('arn:')),
  /** Subjects carrying this tag with this value are not contained unattended. */
  exemptTag: z.strictObject({ key: z.string().min(1), value: z.string() }),
  /** Configured mode of every step of every playbook. */
  modes: z.record(z.string(), z.record(z.string(), z.enum(MODES))),
  /** Security Hub product ARN patterns whose findings may act unattended. */
  securityHubProductAllowList: z.array(z.string().min(1)),
  /** SSM parameter holding the runtime mode: auto, approve-all, dry-run or off. */
  runtimeModeParameter: z.string().startsWith('/'),
  /** More than `maxContainments` automatic containments within the window trip the breaker. */
  circuitBreaker: z.strictObject({
    maxContainments: z.number().int().min(1),
    windowSeconds: z.number().int().min(60),
  }),
});
export type RuntimeConfig = z.infer<typeof RuntimeConfigSchema>;

/** IAM path of every role Cordon creates: where to find them (protection is by exact ARN). */
export const CORDON_ROLE_PATH = '/cordon/';

export { ENV } from './env-names.js';

import { principalIdentity, samePrincipal } from './iam-arn.js';
import { type RuntimeConfig, RuntimeConfigSchema } from './runtime-config.js';

/**
 * What is never acted on, and what is not acted on unattended: triage
 * checks it on the subject it verified, and the actions on IAM principals
 * check it again just before they change anything. Protection is
 * configuration and absolute: the protected patterns, the break-glass
 * principals and Cordon's own roles (by exact identity) are never acted
 * on. The exempt tag is not: anyone allowed to tag a resource can apply
 * it, the contained principal included, so it only makes the automatic
 * steps wait for a responder.
 */

export const ProtectionConfigSchema = RuntimeConfigSchema.pick({
  protectedPrincipalPatterns: true,
  cordonRoleArns: true,
  exemptTag: true,
});
export type ProtectionConfig = Pick<
  RuntimeConfig,
  'protectedPrincipalPatterns' | 'cordonRoleArns' | 'exemptTag'
>;

/**
 * The Cordon role `arn` is (or is a session of), or undefined: the same
 * role by account and name, whatever the path or case (IAM role names are
 * unique in an account).
 */
export function cordonRole(arn: string, cordonRoleArns: ReadonlyArray<string>): string | undefined {
  return principalIdentity(arn)?.includes(':role:')
    ? cordonRoleArns.find((own) => samePrincipal(arn, own))
    : undefined;
}

/** Why `arn` is never acted on, or undefined. */
export function protectedGuard(arn: string, config: ProtectionConfig): string | undefined {
  const own = cordonRole(arn, config.cordonRoleArns);
  if (own !== undefined) return `protected: ${arn} is Cordon's own role ${own}`;
  const pattern = protectingPattern(arn, config.protectedPrincipalPatterns);
  return pattern === undefined ? undefined : `protected: ${arn} matches protected ${pattern}`;
}

/** An IAM or EC2 tag: both SDKs type `Key` and `Value` as optional strings. */
export interface ResourceTag {
  readonly Key?: string | undefined;
  readonly Value?: string | undefined;
}

/**
 * Why the automatic steps on a tagged subject wait for a responder, or
 * undefined. Tag keys compare without case (IAM keeps one key per
 * spelling; on EC2 this errs towards asking more); values exactly.
 */
export function exemptReason(
  arn: string,
  tags: ReadonlyArray<ResourceTag>,
  config: ProtectionConfig,
): string | undefined {
  const { key, value } = config.exemptTag;
  const exempt = tags.some((t) => t.Key?.toLowerCase() === key.toLowerCase() && t.Value === value);
  return exempt ? `exempt: ${arn} is tagged ${key}=${value}` : undefined;
}

/**
 * Configured ARN patterns: `*` matches any run of characters (including
 * `/`), `?` exactly one; everything else is literal. A pattern is
 * configuration, never something a finding or a tag can add to.
 */
export function globToRegExp(pattern: string, options: { readonly ignoreCase: boolean }): RegExp {
  const body = [...pattern]
    .map((ch) => {
      if (ch === '*') return '.*';
      if (ch === '?') return '.';
      return ch.replace(/[.+^${}()|[\]\\/-]/g, '\\$&');
    })
    .join('');
  return new RegExp(`^${body}$`, options.ignoreCase ? 'is' : 's');
}

/**
 * The protected-principal pattern that matches `arn`, or undefined. Matching
 * ignores case because IAM names are unique regardless of case, so
 * `*break-glass*` must also protect `Break-Glass`; erring this way only
 * protects more.
 */
export function protectingPattern(
  arn: string,
  patterns: ReadonlyArray<string>,
): string | undefined {
  return patterns.find((pattern) => globToRegExp(pattern, { ignoreCase: true }).test(arn));
}

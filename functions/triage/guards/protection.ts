import { principalIdentity, samePrincipal } from '../../shared/iam-arn.js';
import type { RuntimeConfig } from '../../shared/runtime-config.js';
import { protectingPattern } from './patterns.js';

/**
 * The guards on the subject as AWS reports it (after the finding guards).
 * Protection is configuration and absolute: the protected patterns, the
 * break-glass principals and Cordon's own roles (by exact identity) are
 * never acted on. The exempt tag is not: anyone allowed to tag a resource
 * can apply it, the contained principal included, so it only makes the
 * automatic steps wait for a responder.
 */

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

/** What the guards make of a subject triage has read: refused, or needing a responder. */
export interface Protection {
  /** Protected: the incident is refused. */
  readonly refusal?: string;
  /** Exempt-tagged: automatic steps wait for a responder. */
  readonly approval?: string;
}

/**
 * Both guards on a subject: its ARN, and its tags when they could be read
 * (unread tags are neither: the decider fails closed on them instead).
 */
export function protectionOf(
  arn: string,
  resolution: { readonly status: string; readonly tags?: ReadonlyArray<ResourceTag> },
  config: ProtectionConfig,
): Protection {
  const refusal = protectedGuard(arn, config);
  if (refusal !== undefined) return { refusal };
  const approval =
    resolution.status === 'verified' && resolution.tags !== undefined
      ? exemptReason(arn, resolution.tags, config)
      : undefined;
  return approval === undefined ? {} : { approval };
}
